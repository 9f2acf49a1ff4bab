/** The errors a caller receives, built from a worker's completion or from why it was released early. */
import type { Completion } from '../shared/completion-entry.js';
import { ClientErrorCode } from '../shared/completion-entry.js';
import { KafkaProducerError, ProtocolError, type Delivery } from '../shared/errors.js';
import {
  AbortError,
  AuthenticationError,
  DeliveryTimeoutError,
  ProducerClosedError,
  RejectedWithBatchError,
  UnknownTopicError,
} from '../shared/producer-errors.js';
import { brokerError } from '../protocol/error-codes.js';

export type ReleaseReason = 'abort' | 'timeout' | 'close';

/** One 'not-sent' copy per error, so records that failed together still share one error object. */
const notSentCopies = new WeakMap<Error, Error>();

/**
 * The error for a record that never reached the delivery table (refused, or failed while it waited): it never left,
 * so an error that does not say so (a connection attempt's AuthenticationError, BrokerError, ProtocolError or
 * WorkerStartError, a transaction's failure, a bad record's) is told as a copy of itself, same class, with
 * `delivery: 'not-sent'`. The original (connect()'s, the transaction's) is left as it is.
 */
export function notSent(error: Error): Error {
  if (!(error instanceof KafkaProducerError) || (error as { delivery?: Delivery }).delivery !== undefined) return error;
  let copy = notSentCopies.get(error);
  if (copy === undefined) {
    // A real error of the same class (its constructor not run again: each takes other arguments), so that
    // `util.types.isNativeError` and structuredClone treat it as the original, with the original's own fields.
    copy = Reflect.construct(Error, [error.message], error.constructor) as Error;
    Object.defineProperties(copy, Object.getOwnPropertyDescriptors(error));
    // By value: on Node 22+ `stack` is an accessor that reads the stack of the object it is called on (the copy's own).
    Object.defineProperty(copy, 'stack', { value: error.stack, writable: true, configurable: true, enumerable: false });
    Object.defineProperty(copy, 'delivery', { value: 'not-sent', enumerable: true });
    notSentCopies.set(error, copy);
  }
  return copy;
}

export function releasedError(reason: ReleaseReason, delivery: Delivery, cause?: unknown): Error {
  // 'unknown' is decided by the record's state byte: sealed into a batch, which may be in a request or about to be
  // (a batch waiting for a leader that never came is sealed too). "It was in a request" claimed more than is known.
  const what = delivery === 'not-sent'
    ? 'the record was not sent'
    : 'the record was sealed into a batch, which may have been sent; the broker may have written it';
  const options = cause === undefined ? {} : { cause };
  switch (reason) {
    case 'abort':
      return new AbortError(delivery, `aborted: ${what}`, options);
    case 'timeout':
      return new DeliveryTimeoutError(delivery, `no result within deliveryTimeoutMs: ${what}`, options);
    case 'close':
      return new ProducerClosedError(delivery, `the producer closed: ${what}`, options);
  }
}

/**
 * One error per kind of delivery for records released together (a signal's abort, one sweep's timeouts, a close, a
 * worker's crash), made on first use and shared by them all, as the Java client hands one exception to every
 * callback of a batch. An error of its own per record was most of the cost of a release: an interrupted
 * `ringkafka perf` with 662,000 records buffered spent 4.7 s making errors (their stack traces) and 2.6 s collecting
 * them before it could exit (`--cpu-prof`, 100 B records, default 64 MiB buffer).
 */
export function sharedErrors(make: (delivery: Delivery) => Error): (delivery: Delivery) => Error {
  let notSent: Error | undefined;
  let unknown: Error | undefined;
  return (delivery) => delivery === 'not-sent' ? (notSent ??= make(delivery)) : (unknown ??= make(delivery));
}

/**
 * A failed batch of `topic`: a broker error, or one of the worker's own reasons (closedInFlight: it may have been
 * written).
 */
export function failureFor(completion: Completion, topic: string): Error {
  const { errorCode, message } = completion;
  switch (errorCode) {
    case ClientErrorCode.deliveryTimeout:
      return new DeliveryTimeoutError('not-sent', `no result within deliveryTimeoutMs: ${message}`);
    case ClientErrorCode.expiredAfterLoss:
      return new DeliveryTimeoutError('unknown', `no result within deliveryTimeoutMs: ${message}`);
    case ClientErrorCode.closed:
      return new ProducerClosedError('not-sent', message || 'the producer closed before the record was sent');
    case ClientErrorCode.closedInFlight:
      return new ProducerClosedError('unknown', message || 'the producer closed before the broker answered');
    case ClientErrorCode.protocol:
      return completion.mayBeWritten === true
        ? new ProtocolError(`${message} (an earlier attempt of its batch went unanswered: the broker may have written it)`, {}, 'unknown')
        : new ProtocolError(message, {}, 'not-sent');
    case ClientErrorCode.unknownTopic:
      // Named, as the main thread's UnknownTopicError is: a caller reading `error.topic` found ''.
      return new UnknownTopicError(topic, message);
    case ClientErrorCode.authentication:
      return new AuthenticationError(message, {}, 'not-sent');
    case ClientErrorCode.rejectedWithBatch:
      return completion.mayBeWritten === true
        ? new RejectedWithBatchError('unknown', `${message} (an earlier attempt of its batch went unanswered: the broker may have written it)`)
        : new RejectedWithBatchError('not-sent', message);
    case ClientErrorCode.authenticationAfterLoss:
      return new AuthenticationError(`${message} (an earlier attempt went unanswered: the broker may have written it)`, {}, 'unknown');
    default: {
      // Named, as every other failure of a batch is (and as Java's TopicAuthorizationException names its topic): a
      // caller that sent to several partitions could not tell which one the broker refused.
      const where = `partition ${topic}-${completion.partition}`;
      return brokerError(errorCode, message ? `${message} (${where})` : where, completion.mayBeWritten === true ? 'unknown' : 'not-sent');
    }
  }
}
