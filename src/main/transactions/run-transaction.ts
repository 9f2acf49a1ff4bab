/**
 * `producer.transaction(fn)` and the pieces the Producer's sends use inside a transaction, kept apart from the
 * Producer so it stays about sending: running a function in a transaction (commit, or abort on any failure), the `tx`
 * bound to one transaction, and the signal and failure bookkeeping of a send in a transaction.
 */
import { AbortError, ProducerClosedError } from '../../shared/producer-errors.js';
import { TransactionStateError } from '../../shared/transaction-errors.js';
import { untilAborted } from '../../shared/until-aborted.js';
import type { ProducerRecord } from '../serialize.js';
import type { RecordMetadata, SendBatchFailures, SendBatchOptions, SendBatchResult, SendOptions } from '../types.js';
import type { OffsetsToCommit } from './offsets.js';
import type { Transaction } from './transaction.js';
import type { TransactionManager } from './transaction-manager.js';

/** What running a transaction needs of the producer: its transactional calls. */
export interface TransactionalCalls {
  send(record: ProducerRecord, options?: SendOptions): Promise<RecordMetadata>;
  sendBatch(records: readonly ProducerRecord[], options: SendBatchOptions & { readonly results: 'failures' }): Promise<SendBatchFailures>;
  sendBatch(records: readonly ProducerRecord[], options?: SendBatchOptions & { readonly results?: 'all' | undefined }): Promise<PromiseSettledResult<RecordMetadata>[]>;
  sendBatch(records: readonly ProducerRecord[], options?: SendBatchOptions): Promise<SendBatchResult>;
  sendOffsets(request: OffsetsToCommit, options?: SendOptions): Promise<void>;
  commitTransaction(options?: SendOptions): Promise<void>;
  abortTransaction(options?: SendOptions): Promise<void>;
}

/**
 * Runs `fn` in the transaction just begun: commits when it resolves; when it throws, `signal` aborts or the commit
 * fails, aborts and rethrows (without waiting for the abort when `signal` aborted) — unless a commit may have been
 * applied ('committing': only commitTransaction() again can end it) or the producer is fatal (then the fatal failure
 * is what the caller hears).
 */
export async function runTransaction<T>(
  producer: TransactionalCalls, transactions: TransactionManager, fn: (tx: Transaction) => Promise<T>, signal: AbortSignal | undefined,
): Promise<T> {
  const tx = transactionHandle(producer, transactions);
  let result: T;
  try {
    // The signal may have aborted while the transaction began (the connection, InitProducerId): fn never runs then.
    if (signal?.aborted) throw new AbortError('not-sent', 'the transaction was aborted', { cause: signal.reason });
    result = await untilAborted(Promise.resolve().then(() => fn(tx)), signal, 'the transaction was aborted');
    await producer.commitTransaction({ signal });
  } catch (error) {
    if (transactions.state === 'open' || transactions.state === 'abortable') {
      const aborting = producer.abortTransaction().catch(() => undefined);
      // Aborted by its signal, the caller is released at once (invariant 5): the abort waits for every batch in
      // flight to be answered, which lasts as long as a broker does not answer. It goes on; the next begin waits for it.
      if (signal?.aborted !== true) await aborting;
    }
    if (transactions.state === 'fatal') throw transactions.failure!;
    throw error;
  }
  return result;
}

/**
 * The `tx` of the open transaction: its calls are refused once that transaction has ended, whether another is open
 * or none is (a tx used after its transaction aborted was told "call transaction() or beginTransaction() first").
 * Once close() has begun (which aborts a transaction still open), they are told so as the producer's own calls are,
 * with a ProducerClosedError: code that handles a closing producer's refusals did not recognise the
 * TransactionStateError they got.
 */
function transactionHandle(producer: TransactionalCalls, transactions: TransactionManager): Transaction {
  const generation = transactions.generation;
  const ended = (): Error => transactions.closing
    ? new ProducerClosedError('not-sent', 'the producer is closing, and this transaction has ended: its tx can no longer be used')
    : new TransactionStateError('this transaction has ended; its tx can no longer be used');
  const bound = <A extends unknown[], R>(method: (...args: A) => Promise<R>) => (...args: A): Promise<R> =>
    transactions.generation === generation && transactions.state !== 'ready' ? method(...args) : Promise.reject(ended());
  return {
    send: bound((record: ProducerRecord, options?: SendOptions) => producer.send(record, options)),
    // The overloads' implementation: the result's form follows options.results, as the producer's own.
    sendBatch: bound((records: readonly ProducerRecord[], options?: SendBatchOptions) => producer.sendBatch(records, options)) as Transaction['sendBatch'],
    sendOffsets: bound((request: OffsetsToCommit, options?: SendOptions) => producer.sendOffsets(request, options)),
    signal: transactions.signal,
  };
}

/** A send in a transaction listens to the transaction's signal too, so aborting the transaction drops it if unsent. */
export function inTransaction(signal: AbortSignal | undefined, transactions: Pick<TransactionManager, 'signalFor'>): AbortSignal {
  return transactions.signalFor(signal);
}

/** The first failed record of a sendBatch (either form of its results), for the transaction's bookkeeping. */
export function firstRejection(results: SendBatchResult): unknown {
  if (!Array.isArray(results)) return results.failures[0]?.reason;
  for (const result of results) if (result.status === 'rejected') return result.reason as unknown;
  return undefined;
}
