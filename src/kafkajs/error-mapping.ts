/**
 * ringkafka's errors → KafkaJS's. The class chosen is the one KafkaJS raises for the same situation, so its
 * `retriable` flag is KafkaJS's too; the ringkafka error stays reachable as `cause` (its `code` and `delivery`
 * say more than KafkaJS's classes can).
 */
import { BrokerError, ConfigError, ConnectionError, KafkaProducerError, RequestTimeoutError } from '../shared/errors.js';
import {
  AuthenticationError, BufferTimeoutError, DeliveryTimeoutError, RecordTooLargeError, UnknownTopicError,
} from '../shared/producer-errors.js';
import { ErrorCode, errorInfo } from '../protocol/error-codes.js';
import { TransactionAbortableError, TransactionFatalError, TransactionRetriableError } from '../shared/transaction-errors.js';
import {
  KafkaJSConnectionError, KafkaJSError, KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError,
  KafkaJSRequestTimeoutError, KafkaJSSASLAuthenticationError, KafkaJSTimeout,
} from './errors.js';

/** A protocol error for a Kafka error code ringkafka raises under its own class (a missing topic, a record too large). */
function protocolError(error: Error, type: keyof typeof ErrorCode, retriable: boolean): KafkaJSProtocolError {
  return new KafkaJSProtocolError(error.message, { type, code: ErrorCode[type], retriable, cause: error });
}

/**
 * KafkaJS's connection error names the broker (`host:port`) and the socket's error code (`ECONNREFUSED`), as
 * KafkaJS's own does: both come from the first error in `error`'s cause chain that is not ringkafka's (the
 * socket's). Its cause is `reported`: the ringkafka error the caller got.
 */
function connectionError(error: ConnectionError, reported: Error = error): KafkaJSConnectionError {
  let cause: unknown = error.cause;
  for (let depth = 0; depth < 4 && cause instanceof Error; depth++, cause = cause.cause) {
    if (cause instanceof KafkaProducerError) continue; // ringkafka's own codes ('ERR_CONNECTION') are not the socket's
    const { code, address, port } = cause as Error & { code?: unknown; address?: unknown; port?: unknown };
    if (typeof code === 'string') {
      const broker = typeof address === 'string' && typeof port === 'number' ? `${address}:${port}` : undefined;
      return new KafkaJSConnectionError(error.message, { cause: reported, code, ...(broker === undefined ? {} : { broker }) });
    }
  }
  return new KafkaJSConnectionError(error.message, { cause: reported });
}

/** The KafkaJS error for `error`; KafkaJS errors pass through unchanged. */
export function toKafkaJSError(error: unknown): Error {
  if (error instanceof KafkaJSError) return error;
  if (!(error instanceof Error)) return new KafkaJSNonRetriableError(String(error), { cause: error });
  if (error instanceof BrokerError) {
    return new KafkaJSProtocolError(error.message, { type: error.errorName, code: error.errorCode, retriable: error.retriable, cause: error });
  }
  // A transaction error with a Kafka code behind it (PRODUCER_FENCED, TRANSACTION_ABORTABLE, …) is what KafkaJS
  // reports as that code's protocol error: code that handles fencing tests `type`.
  if ((error instanceof TransactionAbortableError || error instanceof TransactionFatalError || error instanceof TransactionRetriableError) && error.errorCode > 0) {
    return new KafkaJSProtocolError(error.message, { type: errorInfo(error.errorCode).name, code: error.errorCode, retriable: error.retriable, cause: error });
  }
  if (error instanceof ConnectionError) return connectionError(error);
  if (error instanceof RequestTimeoutError) return new KafkaJSRequestTimeoutError(error.message, { cause: error });
  // ringkafka retries until the delivery timeout, where KafkaJS counts retries: both mean "retrying gave up".
  if (error instanceof DeliveryTimeoutError) return new KafkaJSNumberOfRetriesExceeded(error.message, { cause: error });
  if (error instanceof BufferTimeoutError) return new KafkaJSTimeout(error.message, { cause: error });
  if (error instanceof UnknownTopicError) {
    // Not allowed, or a name Kafka refuses: KafkaJS reports each by its own type, not retriable. Retrying an ACL
    // failure as a missing topic never ends.
    if (error.errorCode === ErrorCode.TOPIC_AUTHORIZATION_FAILED) return protocolError(error, 'TOPIC_AUTHORIZATION_FAILED', false);
    if (error.errorCode === ErrorCode.INVALID_TOPIC_EXCEPTION) return protocolError(error, 'INVALID_TOPIC_EXCEPTION', false);
    // No broker answered (the cluster out of reach): KafkaJS's retrier gives up on the connection error, not
    // retriable. Reported as a missing topic, code that creates topics or resends on that type acted on an outage.
    // The UnknownTopicError stays in the chain, under the KafkaJS error for its cause: its `topic` and `delivery`.
    if (error.errorCode === 0 && error.cause instanceof ConnectionError) {
      return new KafkaJSNumberOfRetriesExceeded(error.message, { cause: connectionError(error.cause, error) });
    }
    if (error.errorCode === 0 && error.cause instanceof RequestTimeoutError) {
      return new KafkaJSNumberOfRetriesExceeded(error.message, { cause: new KafkaJSRequestTimeoutError(error.cause.message, { cause: error }) });
    }
    return protocolError(error, 'UNKNOWN_TOPIC_OR_PARTITION', true);
  }
  if (error instanceof RecordTooLargeError) return protocolError(error, 'MESSAGE_TOO_LARGE', false);
  if (error instanceof AuthenticationError) return new KafkaJSSASLAuthenticationError(error.message, { cause: error });
  if (error instanceof ConfigError) return new KafkaJSNonRetriableError(error.message, { cause: error });
  if (error instanceof KafkaProducerError && error.retriable) return new KafkaJSError(error.message, { cause: error });
  return new KafkaJSNonRetriableError(error.message, { cause: error });
}

/** Runs `fn`, rethrowing what it throws as a KafkaJS error. */
export async function asKafkaJS<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toKafkaJSError(error);
  }
}
