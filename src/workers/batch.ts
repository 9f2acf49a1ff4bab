/**
 * A partition's records on their way to the broker, from the open (still filling) list to the sealed, encoded
 * batch that may be sent, retried byte for byte, split, or failed.
 */
import type { BatchRecord } from '../protocol/record-batch.js';

export interface QueuedRecord extends BatchRecord {
  readonly recordId: number;
}

export interface Batch {
  readonly records: QueuedRecord[];
  /** Encoded RecordBatch v2; resolved asynchronously when compressing. Sequence fields are patched at first send. */
  bytes: Buffer | undefined;
  encoding: Promise<void> | undefined;
  /** Idempotent base sequence, assigned when the batch is first sent (-1 before). */
  baseSequence: number;
  attempts: number;
  /** Not before this time (retry backoff), epoch ms. */
  retryAt: number;
  /** Epoch ms after which a batch that was never ambiguously sent fails with a delivery timeout. */
  readonly deadline: number;
  /**
   * True once an attempt ended without a definitive answer (connection lost, request timed out): the broker may
   * have written it, so it is retried until the broker answers and its sequence is never reused.
   */
  ambiguous: boolean;
}

export function newBatch(records: QueuedRecord[], deadline: number): Batch {
  return { records, bytes: undefined, encoding: undefined, baseSequence: -1, attempts: 0, retryAt: 0, deadline, ambiguous: false };
}
