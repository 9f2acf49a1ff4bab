/**
 * The delivery policy: for one partition, which batch may go next, and what a broker answer, a lost answer or a
 * passed deadline does to the partition's batches and sequences. No I/O and no clock: the worker passes the time in,
 * carries out the returned verdict (report, back off, split, refresh metadata) and stamps sequences into the bytes.
 *
 * Pipelining (up to `window` batches of a partition on the wire, as the Java client and franz-go do with
 * idempotence): batches are sent in order and the ones in flight are always a prefix of `sealed`. Anything but a
 * success stops the partition (`recovering`) until every batch it has in flight is answered; then pending
 * renumbering or an epoch bump applies, and sending resumes from the oldest batch, each one resent byte for byte with
 * the sequence it already has. The rules that keep sequences exact (docs/kafka-protocol.md):
 * - A batch that definitively failed was not written, so nothing after it was either (the broker refuses a sequence
 *   gap): the batches after it lose their sequences and take new ones from the failed batch's base, in order.
 * - OUT_OF_ORDER_SEQUENCE_NUMBER for a batch with an older batch still unacknowledged, or whose sequence was just
 *   taken back, is the consequence of that older batch: it is retried. Only for the oldest batch with its own
 *   sequence is it a real gap (the broker lost our state): the partition moves to the next epoch, sequences from 0.
 * - An ambiguous batch (sent, no answer) keeps its sequence for ever: the broker may hold it.
 * - The broker refuses a gap only once it holds state for the producer on that partition. Without state (a new
 *   producer id, a partition it never wrote to, an epoch bumped because the broker lost the state) it accepts any
 *   sequence: if it refused the first batch before looking at sequences (NOT_ENOUGH_REPLICAS, INVALID_TIMESTAMP,
 *   INVALID_RECORD) and a batch behind it was already on the wire, that one would be written first, and numbers
 *   taken back would later be reused for other records, which the broker then drops as duplicates of those it
 *   holds. So a partition sends one batch at a time until one is acknowledged in its epoch.
 */
import { ErrorCode, errorInfo } from '../protocol/error-codes.js';
import { ClientErrorCode } from '../shared/completion-entry.js';
import type { Batch } from './batch.js';
import { addSequence, type PartitionState } from './partition-state.js';

export interface PolicySettings {
  readonly idempotent: boolean;
  /**
   * Set for a transactional producer: its epoch is the transaction coordinator's, so a lost sequence state is never
   * answered with a local epoch bump; the batch fails and the transaction must abort (KIP-1050's abortable errors).
   */
  readonly transactionalId?: string | null | undefined;
  /** The producer's acks (-1: all); left out, as -1 were not. */
  readonly acks?: number | undefined;
}

/** A broker's answer for one batch. */
export interface Answer {
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

export type Verdict =
  /** Already reported (close gave up on it): nothing to do. */
  | { readonly action: 'ignore' }
  /** Report the batch delivered; it has left `sealed`. */
  | { readonly action: 'deliver' }
  /** Back off, then resend the batch (still in `sealed`); refresh metadata first when asked. */
  | { readonly action: 'retry'; readonly refreshMetadata: boolean }
  /** Replace the batch by its two halves at `index` in `sealed` (MESSAGE_TOO_LARGE). */
  | { readonly action: 'split'; readonly index: number }
  /** Report the batch failed with this code; it has left `sealed`. */
  | { readonly action: 'fail'; readonly errorCode: number; readonly message: string };

const IGNORE: Verdict = { action: 'ignore' };
const DELIVER: Verdict = { action: 'deliver' };
const RETRY: Verdict = { action: 'retry', refreshMetadata: false };
const RETRY_REFRESH: Verdict = { action: 'retry', refreshMetadata: true };

/** The highest producer epoch (int16); a partition at it cannot bump. */
export const MAX_EPOCH = 32767;

/** How many batches of one partition may be on the wire at once: `maxInFlight` with idempotence, else one. */
export function partitionWindow(idempotent: boolean, maxInFlight: number): number {
  // Without sequence numbers the broker cannot refuse a reordering retry: one batch at a time keeps the order.
  return idempotent ? maxInFlight : 1;
}

/**
 * The batch that may be sent next, or undefined: the oldest one not in flight, when the partition is not recovering,
 * its window has room and the batch is encoded. Whether its backoff or deadline allows it is the caller's to check.
 */
export function nextToSend(p: PartitionState, window: number): Batch | undefined {
  if (p.recovering || p.inFlight >= (p.acknowledgedInEpoch ? window : 1)) return undefined;
  const sealed = p.sealed;
  for (let i = 0; i < sealed.length; i++) {
    const batch = sealed[i]!;
    if (!batch.inFlight) return batch.bytes === undefined ? undefined : batch;
  }
  return undefined;
}

/**
 * The batch goes out now. Returns true when it needs a new sequence stamped into its bytes (its first attempt in
 * this epoch, or its old numbers were taken back): `batch.baseSequence` and `p.epoch` are then the values to write.
 */
export function markSent(p: PartitionState, batch: Batch, settings: PolicySettings): boolean {
  batch.inFlight = true;
  batch.attempts++;
  p.inFlight++;
  if (!settings.idempotent || batch.baseSequence >= 0) return false;
  batch.baseSequence = p.nextSequence;
  p.nextSequence = addSequence(p.nextSequence, batch.recordIds.length);
  return true;
}

/** The broker answered for `batch`. `now` and `closeDeadline` are epoch ms. */
export function answered(p: PartitionState, batch: Batch, answer: Answer, settings: PolicySettings, now: number, closeDeadline: number): Verdict {
  const index = landed(p, batch);
  if (index < 0) return IGNORE;
  const code = answer.errorCode;
  if (code === ErrorCode.NONE || code === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) {
    // DUPLICATE_SEQUENCE_NUMBER: the broker already holds this batch (an earlier attempt was written): delivered.
    // The older batches still unacknowledged hold lower sequences of this epoch: the broker, which refuses gaps,
    // appended them before this one. They are in the log whatever their own answers said (overtaken), so their
    // numbers are never handed on, and none of them may be reported as not written (ambiguous).
    if (batch.baseSequence >= 0) {
      for (let i = 0; i < index; i++) {
        const older = p.sealed[i]!;
        if (older.baseSequence < 0) continue;
        older.overtaken = true;
        older.ambiguous = true;
      }
    }
    p.sealed.splice(index, 1);
    p.acknowledgedInEpoch = true;
    endRecovery(p);
    return DELIVER;
  }
  p.recovering = true;
  if (settings.idempotent && (code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER || code === ErrorCode.UNKNOWN_PRODUCER_ID)) {
    if (index > 0 || batch.baseSequence < 0) {
      // An older batch failed or is still unanswered: this one could not be appended after a gap. Not a lost state.
      endRecovery(p);
      return RETRY;
    }
    if (batch.overtaken) {
      // A later batch of this epoch was acknowledged, so the broker wrote this one before it; it no longer counts it
      // among the last 5 batches it deduplicates. Neither a retry nor a new epoch may write it again (Java retries
      // it, never bumping, as its base is not lastAckedSequence + 1): it fails as possibly written, numbers kept.
      return failAt(p, index, batch, code, answer.errorMessage ?? '', settings);
    }
    if (!settings.transactionalId && p.epoch < MAX_EPOCH) {
      p.bumpPending = true;
      endRecovery(p);
      return RETRY;
    }
  }
  if (code === ErrorCode.MESSAGE_TOO_LARGE && batch.recordIds.length > 1) {
    // The halves take the whole's numbers, in order (as the Java client's splitAndReenqueue), even for an ambiguous
    // batch: a size refusal depends only on its bytes and the topic's max.message.bytes, so an earlier unanswered
    // attempt of these same bytes was refused the same way. Kept back, its numbers left a gap the halves (numbered
    // after every later batch) and those later batches could never fill: each answered OUT_OF_ORDER_SEQUENCE_NUMBER,
    // which fails a transactional producer's batches for good.
    takeBackSequences(p, index, batch, settings, true);
    endRecovery(p);
    return { action: 'split', index };
  }
  // The leader may have appended the batch before failing these: treat them like a lost answer. With acks=-1 that
  // includes NOT_LEADER_OR_FOLLOWER: a leader that appended the batch and lost its leadership while it waited for
  // the replicas answers with it, and a follower that fetched the batch may lead now. Taken as not written, an
  // expired batch was failed 'not-sent' and its numbers went to the next batch, which a new leader holding the
  // first could take for a duplicate of it (delivered, its records never written).
  if (
    code === ErrorCode.REQUEST_TIMED_OUT || code === ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND || code === ErrorCode.KAFKA_STORAGE_ERROR
    || (code === ErrorCode.NOT_LEADER_OR_FOLLOWER && settings.acks === -1)
  ) {
    batch.ambiguous = true;
  }
  const info = errorInfo(code);
  if (info.retriable && (batch.ambiguous || now < batch.deadline) && now < closeDeadline) {
    endRecovery(p);
    return info.refreshMetadata ? RETRY_REFRESH : RETRY;
  }
  return failAt(p, index, batch, code, answer.errorMessage ?? '', settings);
}

/**
 * No answer for `batch`. `written` false: no connection could be opened, so the request never left and the batch
 * stays unambiguous; then `refusal` (authentication refused the connection, which a retry would meet again) fails
 * it. Otherwise the broker may have written it: it is retried with its sequence until the broker answers.
 */
export function lost(p: PartitionState, batch: Batch, written: boolean, refusal: string | undefined, settings: PolicySettings): Verdict {
  const index = landed(p, batch);
  if (index < 0) return IGNORE;
  p.recovering = true;
  if (refusal !== undefined && !written) return failAt(p, index, batch, authenticationFailure(batch), refusal, settings);
  if (written) batch.ambiguous = true;
  endRecovery(p);
  return RETRY_REFRESH;
}

/**
 * The code for a batch failed because authentication was refused: an ambiguous one (an earlier attempt unanswered)
 * may have been written, and its callers must be told so.
 */
export function authenticationFailure(batch: Batch): number {
  return batch.ambiguous ? ClientErrorCode.authenticationAfterLoss : ClientErrorCode.authentication;
}

/**
 * Fails a batch that is not in flight and will not be sent (its deadline passed, close's deadline passed, its topic
 * cannot be produced to): it leaves `sealed`, and its sequences go to the batches after it.
 */
export function abandon(p: PartitionState, batch: Batch, settings: PolicySettings): void {
  const index = p.sealed.indexOf(batch);
  if (index < 0 || batch.inFlight) return;
  takeBackSequences(p, index, batch, settings);
  p.sealed.splice(index, 1);
}

/**
 * A transactional producer's id or epoch moved on between transactions (published by the main thread): the partition
 * takes them once nothing of it is in flight, and its sequences restart at 0 (the broker's rule for a new epoch, and
 * for a new producer id). Both are compared: when the epoch runs out the coordinator hands out a new producer id at
 * epoch 0 (KIP-890's EndTxn, or KIP-360's InitProducerId), and a partition idle since the old id held that same epoch
 * would otherwise keep the old id's sequences.
 * Returns whether it did. Nothing of an earlier transaction is left by then: the main thread ends a transaction only
 * once every one of its records was reported by its worker (src/main/transactions/outstanding-work.ts), so the
 * batches renumbered here are the next transaction's.
 */
export function adoptEpoch(p: PartitionState, producerId: bigint, epoch: number): boolean {
  if (p.epoch === epoch && p.producerId === producerId) return true;
  if (p.inFlight > 0) return false;
  p.producerId = producerId;
  p.epoch = epoch;
  p.nextSequence = 0;
  p.acknowledgedInEpoch = false;
  p.recovering = false;
  p.bumpPending = false;
  for (const queued of p.sealed) {
    queued.baseSequence = -1;
    queued.overtaken = false;
  }
  return true;
}

/** Close's deadline passed: every batch leaves, in flight or not, and later answers for them are ignored. */
export function abandonAll(p: PartitionState): Batch[] {
  const all = p.sealed.splice(0);
  for (const batch of all) batch.inFlight = false;
  p.inFlight = 0;
  p.recovering = false;
  p.bumpPending = false;
  return all;
}

/** Takes the batch out of flight; its index in `sealed`, or -1 when it was already reported. */
function landed(p: PartitionState, batch: Batch): number {
  if (!batch.inFlight) return -1;
  const index = p.sealed.indexOf(batch);
  if (index < 0) return -1;
  batch.inFlight = false;
  p.inFlight--;
  return index;
}

function failAt(p: PartitionState, index: number, batch: Batch, errorCode: number, message: string, settings: PolicySettings): Verdict {
  takeBackSequences(p, index, batch, settings);
  p.sealed.splice(index, 1);
  endRecovery(p);
  return { action: 'fail', errorCode, message };
}

/**
 * `batch` (at `index`) was definitively not written, so neither was anything after it: the next batch takes its base
 * sequence, and every batch after it gives up its numbers for new ones in order (those still in flight will come
 * back OUT_OF_ORDER_SEQUENCE_NUMBER and be retried). Not for an ambiguous batch, the broker may hold its numbers,
 * unless `evenIfAmbiguous` (a size refusal: see the split in `answered`).
 */
function takeBackSequences(p: PartitionState, index: number, batch: Batch, settings: PolicySettings, evenIfAmbiguous = false): void {
  if (!settings.idempotent || batch.baseSequence < 0 || (batch.ambiguous && !evenIfAmbiguous)) return;
  p.nextSequence = batch.baseSequence;
  const sealed = p.sealed;
  for (let i = index + 1; i < sealed.length; i++) {
    sealed[i]!.baseSequence = -1;
    sealed[i]!.overtaken = false;
  }
}

/** Once nothing of a recovering partition is in flight: a pending epoch bump applies and sending resumes. */
function endRecovery(p: PartitionState): void {
  if (!p.recovering || p.inFlight > 0) return;
  p.recovering = false;
  if (!p.bumpPending) return;
  // The broker lost our sequence state: the next epoch, sequences from 0, every unacknowledged batch renumbered.
  p.bumpPending = false;
  p.epoch++;
  p.nextSequence = 0;
  p.acknowledgedInEpoch = false;
  for (const queued of p.sealed) {
    queued.baseSequence = -1;
    queued.overtaken = false;
  }
}
