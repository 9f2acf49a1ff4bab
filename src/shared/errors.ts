/**
 * Every error ringkafka raises. One base class with a stable string `code` and a `retriable` flag, so callers can
 * branch on `err.code` and errors can cross the thread boundary as plain data and be rebuilt on the main side.
 */

/**
 * What happened to a record whose caller was released early, or that timed out (invariant 5, docs/invariants.md):
 * `'not-sent'`, no broker wrote it and none will, so sending it again cannot duplicate it; `'unknown'`, it was sealed
 * into a batch that may have been written.
 */
export type Delivery = 'not-sent' | 'unknown';

export interface KafkaProducerErrorOptions {
  readonly retriable?: boolean;
  readonly cause?: unknown;
}

export class KafkaProducerError extends Error {
  /** A stable identifier: safe to compare, never reworded. */
  readonly code: string;
  /** True when the same operation may succeed if tried again. */
  readonly retriable: boolean;
  /**
   * What became of the record, on the errors that settle one (`'not-sent'` or `'unknown'`, see Delivery); undefined
   * on the others. Declared here, set by the subclasses, so `error instanceof KafkaProducerError && error.delivery`
   * reads without a cast.
   */
  declare readonly delivery?: Delivery | undefined;

  constructor(code: string, message: string, options: KafkaProducerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = options.retriable ?? false;
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/**
 * Bytes from a broker (or anything claiming to be one) that do not follow the Kafka protocol, or a batch the worker
 * could not encode.
 */
export class ProtocolError extends KafkaProducerError {
  /**
   * For a record's failure (its batch could not be encoded): `'not-sent'`, or `'unknown'` when an earlier attempt of
   * its batch went unanswered. Undefined when no record is concerned (a connection's answer). Without it a caller
   * that resends only 'not-sent' records could not tell that resending one was safe.
   */
  override readonly delivery: Delivery | undefined;

  constructor(message: string, options: KafkaProducerErrorOptions = {}, delivery?: Delivery) {
    super('ERR_PROTOCOL', message, options);
    this.delivery = delivery;
  }
}

/** A bad option or a bad argument; the message names the field and what was expected. */
export class ConfigError extends KafkaProducerError {
  constructor(message: string, options: KafkaProducerErrorOptions = {}) {
    super('ERR_CONFIG', message, options);
  }
}

/** The broker answered with a Kafka error code. */
export class BrokerError extends KafkaProducerError {
  readonly errorCode: number;
  readonly errorName: string;
  /**
   * For a record's failure: `'not-sent'` when the broker refused every attempt of its batch, `'unknown'` when an
   * attempt may have been written all the same (an earlier one went unanswered, or this code comes after the
   * append, as REQUEST_TIMED_OUT does): sending the record again may then write it twice. Undefined when no record
   * is concerned (a metadata or coordinator answer).
   */
  override readonly delivery: Delivery | undefined;

  constructor(errorCode: number, errorName: string, retriable: boolean, detail?: string | null, delivery?: Delivery) {
    const maybe = delivery === 'unknown' ? ' (an attempt of its batch may have been written all the same)' : '';
    super('ERR_BROKER', `broker error ${errorCode} ${errorName}${detail ? `: ${detail}` : ''}${maybe}`, { retriable });
    this.errorCode = errorCode;
    this.errorName = errorName;
    this.delivery = delivery;
  }
}

/** The TCP (or TLS) connection failed, closed, or a request on it timed out. */
export class ConnectionError extends KafkaProducerError {
  constructor(message: string, options: KafkaProducerErrorOptions = {}) {
    super('ERR_CONNECTION', message, { retriable: true, ...options });
  }
}

/**
 * A request that never left: its connection failed or was closed while the request waited in its queue, or was
 * already closed when it was made. Nothing of it reached the broker, so it may be sent elsewhere as if new.
 */
export class RequestNotSentError extends ConnectionError {}

/** A request got no answer within its timeout. */
export class RequestTimeoutError extends KafkaProducerError {
  constructor(message: string) {
    super('ERR_REQUEST_TIMEOUT', message, { retriable: true });
  }
}

/** The broker supports no version of an API that ringkafka can speak. */
export class UnsupportedVersionError extends KafkaProducerError {
  constructor(message: string) {
    super('ERR_UNSUPPORTED_VERSION', message);
  }
}
