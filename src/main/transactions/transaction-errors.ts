/**
 * The error a transactional producer raises for a Kafka error code, by its KIP-1050 category
 * (`transactionErrorCategory` in src/protocol/error-codes.ts, which follows the Java client's TransactionManager):
 * fatal ones end the producer (ProducerFencedError when another producer took the transactional id over),
 * abortable ones the open transaction, and retriable ones that outlived the coordinator calls' retries may be tried
 * again by the caller.
 */
import { ErrorCode, errorInfo, transactionErrorCategory, type TransactionErrorOrigin } from '../../protocol/error-codes.js';
import { BrokerError } from '../../shared/errors.js';
import {
  ProducerFencedError, TransactionAbortableError, TransactionFatalError, TransactionRetriableError,
} from '../../shared/transaction-errors.js';

export type TransactionFailure = TransactionAbortableError | TransactionFatalError;

/** The error `code` means for the transaction, naming the call it answered. */
export function transactionError(
  code: number, what: string, detail?: string | null, origin: TransactionErrorOrigin = 'coordinator',
): TransactionFailure | TransactionRetriableError {
  const message = `${what}: ${errorInfo(code).name}${detail ? ` (${detail})` : ''}`;
  // PRODUCER_FENCED anywhere, and INVALID_PRODUCER_EPOCH from a coordinator: a newer producer holds the id (KIP-588).
  if (code === ErrorCode.PRODUCER_FENCED || (code === ErrorCode.INVALID_PRODUCER_EPOCH && origin === 'coordinator')) {
    return new ProducerFencedError(code, `${message}; another producer with the same transactionalId took over`);
  }
  switch (transactionErrorCategory(code, origin)) {
    case 'fatal':
      return new TransactionFatalError(code, message);
    case 'abortable':
      return new TransactionAbortableError(code, message);
    default:
      return new TransactionRetriableError(code, message);
  }
}

/**
 * What a record's failure means for its transaction: fatal when a Produce answer's code is (the producer fenced, not
 * authorised), abortable otherwise: the record is not in the log, so the transaction must not commit.
 */
export function recordFailure(error: unknown): TransactionFailure {
  if (error instanceof TransactionAbortableError || error instanceof TransactionFatalError) return error;
  if (error instanceof BrokerError && error.errorCode !== ErrorCode.NONE && transactionErrorCategory(error.errorCode, 'produce') === 'fatal') {
    return transactionError(error.errorCode, 'a record of the transaction failed', null, 'produce') as TransactionFatalError;
  }
  const code = error instanceof BrokerError ? error.errorCode : -1;
  const reason = error instanceof Error ? error.message : String(error);
  return new TransactionAbortableError(code, `a record of the transaction failed, so it must abort: ${reason}`, { cause: error });
}

/** What a sendOffsets that did not complete means: whatever the reason, its offsets are not in the transaction for sure. */
export function offsetsFailure(error: unknown, groupId: string): TransactionFailure {
  if (error instanceof TransactionAbortableError || error instanceof TransactionFatalError) return error;
  return new TransactionAbortableError(-1, `sendOffsets for group ${groupId} did not complete, so the transaction must abort`, { cause: error });
}
