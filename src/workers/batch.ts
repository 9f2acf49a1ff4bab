/**
 * A sealed batch on its way to the broker: its record ids (for the completion) and its encoded bytes, which are
 * sent, retried byte for byte, split, or failed. The records themselves live only inside `bytes`.
 */
import { REPORT_LEAD_MAX_MS, reportLead } from '../shared/report-lead.js';

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
  /**
   * Epoch ms from which a batch that is not in flight and was never ambiguously sent fails with a delivery timeout
   * (expiresAt).
   */
  readonly deadline: number;
  /** Why its last attempt failed (a broker error, or the connection's), for the delivery timeout's message. */
  lastError: string | undefined;
  /**
   * True once an attempt ended without a definitive answer (connection lost, request timed out): the broker may
   * have written it, so it is retried until the broker answers and its sequence is never reused.
   */
  ambiguous: boolean;
  /**
   * Its last attempt could not be sent: the broker's ApiVersions answer offers no Produce version this producer
   * can write. An ambiguous batch is retried until a broker answers; one that no connection will carry is given
   * up past its deadline instead (batch-expiry.ts), or it held its partition, and a transaction's commit, for ever.
   */
  unsendable: boolean;
  /**
   * Since when (epoch ms) the worker's metadata has said that no retry of this ambiguous batch can be answered (its
   * topic refused, or without its partition: batch-expiry.ts); -1 while it does not. One answer of a lagging broker
   * says so too, for a moment: the batch is given up only once it has held for a while.
   */
  lostSince: number;
  /**
   * A later batch of the partition was acknowledged in this epoch while this one held its sequence: the broker, which
   * refuses sequence gaps, wrote this one. A refusal of its sequence then means the broker forgot it, not our state.
   */
  overtaken: boolean;
}

export function newBatch(recordIds: Uint32Array, deadline: number): Batch {
  return {
    recordIds, bytes: undefined, encoding: undefined, baseSequence: -1, attempts: 0, inFlight: false, retryAt: 0, deadline,
    lastError: undefined, ambiguous: false, unsendable: false, lostSince: -1, overtaken: false,
  };
}

/**
 * The two halves of a batch the broker found too large (MESSAGE_TOO_LARGE), records in order, each to be encoded
 * anew. They keep its deadline, and its ambiguity: an earlier attempt of the whole may have been written, so
 * neither half may be reported as certainly not sent.
 */
export function splitBatch(batch: Batch): [Batch, Batch] {
  const half = Math.ceil(batch.recordIds.length / 2);
  const first = newBatch(batch.recordIds.slice(0, half), batch.deadline);
  const second = newBatch(batch.recordIds.slice(half), batch.deadline);
  first.ambiguous = second.ambiguous = batch.ambiguous;
  return [first, second];
}

/** The most a batch's delivery deadline comes before its first record's (see expiresAt). */
export const EXPIRY_LEAD_MAX_MS = REPORT_LEAD_MAX_MS;

/**
 * The delivery deadline of a batch whose first record opened it at `openedAt` (epoch ms): deliveryTimeoutMs from
 * then, less a lead, so that the worker fails a batch that was never sent before the main thread's sweep releases
 * its records at their own acceptance + deliveryTimeoutMs. The worker knows whether a batch left; the main thread
 * only sees that it was sealed, and would say `'unknown'` of records that were certainly not sent, which a caller
 * may resend with no risk of a duplicate (invariant 5, docs/invariants.md). The lead covers the time between the
 * main thread's acceptance and the worker's read of the first record (its ring wait), and a late timer on a busy
 * worker; it is at most an eighth of deliveryTimeoutMs. Counted from the batch's first record, like Java's batch
 * expiry from the batch's creation: the records after it expire as much earlier as they came later, a linger at most.
 * So a partition's batches have deadlines in the order they were sealed (halves keep their whole's).
 */
export function expiresAt(openedAt: number, deliveryTimeoutMs: number): number {
  return openedAt + deliveryTimeoutMs - reportLead(deliveryTimeoutMs);
}
