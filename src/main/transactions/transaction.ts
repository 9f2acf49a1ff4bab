/**
 * What the function given to `producer.transaction(fn)` works with: the producer's sends and sendOffsets, bound to
 * the transaction, and the signal that aborts when the transaction does (so work the function does for it can stop).
 */
import type { ProducerRecord } from '../serialize.js';
import type { RecordMetadata, SendBatchFailures, SendBatchOptions, SendBatchResult, SendOptions } from '../types.js';
import type { OffsetsToCommit } from './offsets.js';

export interface Transaction {
  /** Sends one record in this transaction; resolves when the broker acknowledged it (visible only once committed). */
  send(record: ProducerRecord, options?: SendOptions): Promise<RecordMetadata>;
  /**
   * Sends many records in this transaction; one settled result per record, in order, or with `results: 'failures'`
   * only the failed records (as the producer's sendBatch).
   */
  sendBatch(records: readonly ProducerRecord[], options: SendBatchOptions & { readonly results: 'failures' }): Promise<SendBatchFailures>;
  sendBatch(records: readonly ProducerRecord[], options?: SendBatchOptions & { readonly results?: 'all' | undefined }): Promise<PromiseSettledResult<RecordMetadata>[]>;
  sendBatch(records: readonly ProducerRecord[], options?: SendBatchOptions): Promise<SendBatchResult>;
  /** Commits the consumed offsets with this transaction (consume-transform-produce). */
  sendOffsets(request: OffsetsToCommit, options?: SendOptions): Promise<void>;
  /** Aborts when the transaction aborts (the caller's signal fired, the function threw, or close). */
  readonly signal: AbortSignal;
}

/** The `transaction()` options. */
export interface TransactionOptions {
  /** Aborting it aborts the transaction: unsent records are dropped, and `transaction()` rejects with an AbortError. */
  readonly signal?: AbortSignal | undefined;
}
