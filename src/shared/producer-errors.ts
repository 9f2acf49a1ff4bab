/**
 * The producer's own failure modes: buffer limits, cancellation, delivery deadlines, shutdown and worker crashes.
 * Kept apart from errors.ts (the base class and the protocol/connection errors) so each file stays one concern.
 *
 * The `retriable` flag answers "may the same `send` succeed if the caller tries again?". Errors that carry a
 * `delivery` say what happened to the record when the caller was released early (invariant 5, docs/invariants.md): a caller
 * that retries after `'unknown'` may write the record twice.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import { KafkaProducerError, type Delivery, type KafkaProducerErrorOptions } from './errors.js';

/** `send` waited `bufferTimeoutMs` for buffer space (Java `max.block.ms`) and took no bytes. */
export class BufferTimeoutError extends KafkaProducerError {
  /** Always `'not-sent'`: the record never got buffer space (or a connection), so resending it cannot duplicate it. */
  override readonly delivery: Delivery = 'not-sent';

  constructor(message: string, options: KafkaProducerErrorOptions = {}) {
    super('ERR_BUFFER_TIMEOUT', message, { retriable: true, ...options });
  }
}

/**
 * A record that can never fit: larger than `maxBufferedBytes`, than a ring entry, or than the broker's limit.
 * Raised at once, never after a wait, and never retriable: the same record fails the same way again.
 */
export class RecordTooLargeError extends KafkaProducerError {
  constructor(message: string, options: KafkaProducerErrorOptions = {}) {
    super('ERR_RECORD_TOO_LARGE', message, { ...options, retriable: false });
  }
}

/** The caller's `AbortSignal` fired; `delivery` says whether the record may still reach the broker. */
export class AbortError extends KafkaProducerError {
  override readonly delivery: Delivery;

  constructor(delivery: Delivery, message: string, options: KafkaProducerErrorOptions = {}) {
    super('ERR_ABORTED', message, { ...options, retriable: false });
    this.delivery = delivery;
  }
}

/**
 * No result within `deliveryTimeoutMs` of `send`. `'not-sent'` when no broker wrote the record: it was still buffered,
 * or its batch never left its worker, or every attempt was refused (the message says what held it back).
 * `'unknown'` when it was sealed into a batch that may have been written (the outcome then comes as a
 * `'lateOutcome'` event).
 */
export class DeliveryTimeoutError extends KafkaProducerError {
  override readonly delivery: Delivery;

  constructor(delivery: Delivery, message: string, options: KafkaProducerErrorOptions = {}) {
    super('ERR_DELIVERY_TIMEOUT', message, { retriable: true, ...options });
    this.delivery = delivery;
  }
}

/** The producer is closing or closed; records it had not sent are failed with `'not-sent'`. */
export class ProducerClosedError extends KafkaProducerError {
  override readonly delivery: Delivery;

  constructor(delivery: Delivery, message: string, options: KafkaProducerErrorOptions = {}) {
    super('ERR_PRODUCER_CLOSED', message, { ...options, retriable: false });
    this.delivery = delivery;
  }
}

/** The topic (or partition) does not exist in the cluster's metadata within `bufferTimeoutMs`. */
export class UnknownTopicError extends KafkaProducerError {
  readonly topic: string;
  /**
   * The error code the last Metadata answer gave for the topic (UNKNOWN_TOPIC_OR_PARTITION 3, INVALID_TOPIC_EXCEPTION
   * 17, TOPIC_AUTHORIZATION_FAILED 29, …); 0 when no answer named it.
   */
  readonly errorCode: number;
  /**
   * Always `'not-sent'`: the record waited for the topic's metadata, or its batch never left its worker before its
   * delivery deadline (BatchExpiry, certainlyUnsent).
   */
  override readonly delivery: Delivery = 'not-sent';

  constructor(topic: string, message: string, options: KafkaProducerErrorOptions = {}, errorCode = 0) {
    // Retriable as in Java: the topic may be created (or its metadata may propagate) a moment later. Not when the
    // name is invalid or the topic not allowed: waiting changes neither (Java's InvalidTopicException and
    // TopicAuthorizationException are not retriable either).
    const waitingHelps = errorCode !== ErrorCode.INVALID_TOPIC_EXCEPTION && errorCode !== ErrorCode.TOPIC_AUTHORIZATION_FAILED;
    super('ERR_UNKNOWN_TOPIC', message, { retriable: waitingHelps, ...options });
    this.topic = topic;
    this.errorCode = errorCode;
  }
}

/** SASL or TLS authentication failed; trying again with the same credentials fails the same way. */
export class AuthenticationError extends KafkaProducerError {
  /**
   * For a record's failure: `'not-sent'`, or `'unknown'` when an earlier attempt of its batch went unanswered before
   * authentication was refused, so the broker may have written it. Undefined when no record is concerned (connect).
   */
  override readonly delivery: Delivery | undefined;

  constructor(message: string, options: KafkaProducerErrorOptions = {}, delivery?: Delivery) {
    super('ERR_AUTHENTICATION', message, { ...options, retriable: false });
    this.delivery = delivery;
  }
}

/**
 * The broker refused the record's whole batch because of other records in it, which it named (KIP-467): those fail
 * with its error (a `BrokerError`, INVALID_RECORD or INVALID_TIMESTAMP, the message saying why). The broker wrote none
 * of the batch, and found nothing wrong with this record: sending it again may succeed. `'unknown'` only when an
 * earlier attempt of the batch went unanswered, so the broker may hold that attempt.
 */
export class RejectedWithBatchError extends KafkaProducerError {
  override readonly delivery: Delivery;

  constructor(delivery: Delivery, message: string, options: KafkaProducerErrorOptions = {}) {
    super('ERR_REJECTED_WITH_BATCH', message, { retriable: delivery === 'not-sent', ...options });
    this.delivery = delivery;
  }
}

/**
 * The worker thread that owned the record's partition died. `'not-sent'` records may be sent again safely;
 * `'unknown'` ones were sealed into a batch, which may have been in a request the broker wrote.
 */
export class WorkerCrashedError extends KafkaProducerError {
  override readonly delivery: Delivery;

  constructor(delivery: Delivery, message: string, options: KafkaProducerErrorOptions = {}) {
    super('ERR_WORKER_CRASHED', message, { retriable: delivery === 'not-sent', ...options });
    this.delivery = delivery;
  }
}

/**
 * A worker thread could not start: Node refused its flags, a preload hook (`--import`, `--require`) threw in the
 * thread, its entry module failed to load, or the thread could not be created. `connect()` and the sends waiting
 * for it fail with this; `cause` is what Node or piscina reported. Not retriable: these causes fail the same way
 * again (a later `connect()` still tries again).
 */
export class WorkerStartError extends KafkaProducerError {
  constructor(message: string, options: KafkaProducerErrorOptions = {}) {
    super('ERR_WORKER_START', message, { ...options, retriable: false });
  }
}
