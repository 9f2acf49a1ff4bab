/**
 * A transactional producer's errors, by what the caller must do next (KIP-1050's categories):
 * - TransactionStateError: the call does not fit the producer's state (a send with no open transaction, a second
 *   beginTransaction); nothing changed, the producer goes on.
 * - TransactionRetriableError: the coordinator could not be reached or stayed busy past the deadline; the same call
 *   may be made again (a commit that timed out is retried, or the transaction aborted).
 * - TransactionAbortableError: this transaction cannot commit (a record failed, the broker said
 *   TRANSACTION_ABORTABLE); abort it, and the producer goes on with the next one.
 * - TransactionFatalError (ProducerFencedError among them): the producer can do nothing more but close; another
 *   producer with the same transactionalId took over, or the id is not authorised.
 * `errorCode` is the Kafka error code behind it, or -1 when the client decided on its own.
 */
import { KafkaProducerError, type KafkaProducerErrorOptions } from './errors.js';

export type TransactionErrorCategory = 'retriable' | 'abortable' | 'fatal';

export class TransactionStateError extends KafkaProducerError {
  constructor(message: string) {
    super('ERR_TRANSACTION_STATE', message);
  }
}

export class TransactionRetriableError extends KafkaProducerError {
  readonly category: TransactionErrorCategory = 'retriable';
  readonly errorCode: number;

  constructor(errorCode: number, message: string, options: KafkaProducerErrorOptions = {}) {
    super('ERR_TRANSACTION_RETRIABLE', message, { ...options, retriable: true });
    this.errorCode = errorCode;
  }
}

export class TransactionAbortableError extends KafkaProducerError {
  readonly category: TransactionErrorCategory = 'abortable';
  readonly errorCode: number;

  constructor(errorCode: number, message: string, options: KafkaProducerErrorOptions = {}) {
    super('ERR_TRANSACTION_ABORTABLE', message, options);
    this.errorCode = errorCode;
  }
}

export class TransactionFatalError extends KafkaProducerError {
  readonly category: TransactionErrorCategory = 'fatal';
  readonly errorCode: number;

  constructor(errorCode: number, message: string, options: KafkaProducerErrorOptions & { code?: string } = {}) {
    super(options.code ?? 'ERR_TRANSACTION_FATAL', message, options);
    this.errorCode = errorCode;
  }
}

/** A newer producer with the same transactionalId took over (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH). */
export class ProducerFencedError extends TransactionFatalError {
  constructor(errorCode: number, message: string, options: KafkaProducerErrorOptions = {}) {
    super(errorCode, message, { ...options, code: 'ERR_PRODUCER_FENCED' });
  }
}
