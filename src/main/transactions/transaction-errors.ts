/**
 * Which of KIP-1050's categories a Kafka error code falls in for a transactional producer, following the Java
 * client's TransactionManager handlers (what each one treats as fatal) and KIP-1050's table: everything not fatal
 * and not retried by the coordinator calls (coordinators.ts) is abortable.
 */
import { ErrorCode, errorInfo } from '../../protocol/error-codes.js';
import { KafkaProducerError } from '../../shared/errors.js';
import { BrokerError } from '../../shared/errors.js';
import {
  ProducerFencedError, TransactionAbortableError, TransactionFatalError, type TransactionErrorCategory,
} from '../../shared/transaction-errors.js';

/** A newer incarnation of the transactional id holds the epoch now. */
const FENCED = new Set<number>([ErrorCode.PRODUCER_FENCED, ErrorCode.INVALID_PRODUCER_EPOCH]);

/** Nothing more can succeed with this producer: it must be closed. */
const FATAL = new Set<number>([
  ...FENCED,
  ErrorCode.TRANSACTION_COORDINATOR_FENCED,
  ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
  ErrorCode.INVALID_PRODUCER_ID_MAPPING,
  ErrorCode.INVALID_TXN_STATE,
  ErrorCode.INVALID_TRANSACTION_TIMEOUT,
  ErrorCode.UNSUPPORTED_VERSION,
  ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
]);

export function categoryOf(code: number): TransactionErrorCategory {
  return FATAL.has(code) ? 'fatal' : 'abortable';
}

/** The error a broker's code means for the transaction, naming the call it answered. */
export function transactionError(code: number, what: string, detail?: string | null): TransactionAbortableError | TransactionFatalError {
  const message = `${what}: ${errorInfo(code).name}${detail ? ` (${detail})` : ''}`;
  if (FENCED.has(code)) return new ProducerFencedError(code, `${message}; another producer with the same transactionalId took over`);
  if (FATAL.has(code)) return new TransactionFatalError(code, message);
  return new TransactionAbortableError(code, message);
}

/**
 * What a record's failure means for its transaction: fatal when the broker fenced the producer, abortable
 * otherwise (the record is not in the log, so the transaction must not commit).
 */
export function recordFailure(error: unknown): TransactionAbortableError | TransactionFatalError {
  if (error instanceof TransactionAbortableError || error instanceof TransactionFatalError) return error;
  if (error instanceof BrokerError && FATAL.has(error.errorCode)) return transactionError(error.errorCode, 'a record of the transaction failed', error.message);
  const code = error instanceof BrokerError ? error.errorCode : -1;
  const reason = error instanceof KafkaProducerError || error instanceof Error ? error.message : String(error);
  return new TransactionAbortableError(code, `a record of the transaction failed, so it must abort: ${reason}`, { cause: error });
}
