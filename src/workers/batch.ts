/**
 * A sealed batch on its way to the broker: its record ids (for the completion) and its encoded bytes, which are
 * sent, retried byte for byte, split, or failed. The records themselves live only inside `bytes`.
 */
export interface Batch {
  readonly recordIds: Uint32Array;
  /** Encoded RecordBatch v2; set once encoding (compression) finished. Sequence fields are patched at first send. */
  bytes: Buffer | undefined;
  encoding: Promise<void> | undefined;
  /** Idempotent base sequence, assigned when the batch is sent (-1 before, and again when its numbers are taken back). */
  baseSequence: number;
  attempts: number;
  /** Sent and not answered yet. */
  inFlight: boolean;
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

export function newBatch(recordIds: Uint32Array, deadline: number): Batch {
  return { recordIds, bytes: undefined, encoding: undefined, baseSequence: -1, attempts: 0, inFlight: false, retryAt: 0, deadline, ambiguous: false };
}
