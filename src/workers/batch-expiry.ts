/**
 * A worker's delivery deadlines: every batch past its deadline (expiresAt in ./batch.ts) that is not in flight and
 * was never ambiguously sent fails, wherever it waits, including behind batches in flight, which the pump's pass
 * does not look at (a stalled broker fills the partition's window). No broker wrote such a batch (it never left, or
 * every attempt was refused or never reached a broker): its records fail `'not-sent'`, with what held the batch back,
 * before the main thread's sweep would release them as `'unknown'` (invariant 5, docs/invariants.md). A batch that
 * holds no sequence numbers leaves no gap, and one that holds them gives them to the batches after it
 * (delivery-policy.ts, abandon). Worker thread only; the producer worker runs it at the start of every pump, and
 * `abandonUnsent` at close's send cut-off.
 */
import { ClientErrorCode } from '../shared/completion-entry.js';
import { DELETED_TOPIC_AFTER_MS } from '../shared/deleted-topic.js';
import { UnsupportedVersionError } from '../shared/errors.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { Accumulator } from './accumulator.js';
import type { Batch } from './batch.js';
import type { BatchOutcomes } from './batch-outcomes.js';
import type { ClusterView } from './cluster-view.js';
import type { PartitionState } from './partition-state.js';
import type { Sink } from './sink.js';

/** The worker's parts a deadline reads or acts through. */
export interface ExpiryParts {
  readonly batches: Pick<Accumulator, 'sending'>;
  readonly view: Pick<ClusterView, 'topic' | 'isUnknownTopic' | 'describeTopicError' | 'unknownFor'>;
  readonly outcomes: Pick<BatchOutcomes, 'abandon'>;
  /** The sink to a broker, when the worker has one. */
  sinkOf(nodeId: number): Sink | undefined;
}

/** How long every Metadata answer must have said a topic does not exist before an ambiguous batch of it is given up (#expireAfterLoss). */
export const DELETED_AFTER_MS = DELETED_TOPIC_AFTER_MS;

/**
 * Whether no broker may hold the batch, so that it can fail `'not-sent'`: not in flight, never ambiguously sent, and
 * encoded (one still encoding is left to the pump its `encoded` hook runs).
 */
function certainlyUnsent(batch: Batch): boolean {
  return !batch.inFlight && !batch.ambiguous && batch.bytes !== undefined;
}

export class BatchExpiry {
  readonly #parts: ExpiryParts;

  constructor(parts: ExpiryParts) {
    this.#parts = parts;
  }

  /**
   * Fails every batch due at `now` (see the file comment). Returns the earliest deadline among the batches left that
   * could expire, for the worker to wake at: nothing else may turn its loop while a broker is away.
   */
  expireDue(now: number): number {
    let next = Infinity;
    for (const p of this.#parts.batches.sending) {
      const sealed = p.sealed;
      for (let i = 0; i < sealed.length; ) {
        const batch = sealed[i]!;
        const lost = batch.ambiguous && !batch.inFlight ? this.#lossReason(p, batch, now) : undefined;
        if (lost !== undefined) {
          // Past its deadline, and once what says so has held for DELETED_AFTER_MS when it is the view's word alone.
          const at = batch.lostSince < 0 ? batch.deadline : Math.max(batch.deadline, batch.lostSince + DELETED_AFTER_MS);
          if (now >= at) this.#expireAfterLoss(p, batch, lost); // leaves `sealed`
          else {
            if (at < next) next = at;
            i++;
          }
        } else if (!certainlyUnsent(batch)) i++; // still encoding (bytes undefined): its `encoded` hook pumps
        else if (now < batch.deadline) {
          // A partition's deadlines come in the order of its batches (expiresAt): none behind this one is due. So
          // a pass costs about the batches in flight, not every batch a stalled partition has queued.
          if (batch.deadline < next) next = batch.deadline;
          break;
        } else this.#expire(p, batch); // leaves `sealed`
      }
    }
    return next;
  }

  /**
   * Close's send cut-off (the close message's `sendUntil`): every batch no broker may hold (certainlyUnsent) fails
   * now with `errorCode`, wherever it waits, so that its report reaches the main thread before close's deadline.
   */
  abandonUnsent(errorCode: number, message: string): void {
    for (const p of this.#parts.batches.sending) {
      const sealed = p.sealed;
      for (let i = 0; i < sealed.length; ) {
        const batch = sealed[i]!;
        if (!certainlyUnsent(batch)) i++;
        else this.#parts.outcomes.abandon(p, batch, errorCode, message); // leaves `sealed`
      }
    }
  }

  /** Fails a batch that was not sent before its delivery deadline, saying why it was not. */
  #expire(p: PartitionState, batch: Batch): void {
    const { view, outcomes } = this.#parts;
    const topic = p.topic.name;
    if (view.isUnknownTopic(topic)) {
      outcomes.abandon(p, batch, ClientErrorCode.unknownTopic, `topic ${topic}: ${view.describeTopicError(topic)}`);
    } else outcomes.abandon(p, batch, ClientErrorCode.deliveryTimeout, `not written by any broker: ${this.#whyNotSent(p, batch)}`);
  }

  /**
   * An ambiguous batch (an earlier attempt unanswered: the broker may hold it) is retried past its deadline, as no
   * report can say it was not written, until a broker answers. It is failed past its deadline as possibly written
   * when no retry can ever be answered (#lossReason), with `why`.
   */
  #expireAfterLoss(p: PartitionState, batch: Batch, why: string): void {
    this.#parts.outcomes.abandon(p, batch, ClientErrorCode.expiredAfterLoss, `${why}, and an earlier attempt of ${p.topic.name}-${p.partition} went unanswered`);
  }

  /**
   * Why no retry of an ambiguous batch can ever be answered, or undefined while one may be. Each of these left the
   * partition blocked behind the batch for as long as the worker ran (and a transaction's commit unsettled), the
   * worker asking for metadata all the while:
   * - its last attempt could not be sent (batch.unsendable: the broker offers no Produce version this producer can
   *   write), or the leader's last connection failed in the handshake with no version this producer speaks
   *   (ApiVersions, SaslHandshake), before any Produce request could be made;
   * - every answer for DELETED_AFTER_MS said its topic does not exist (deleted): a topic created again under the
   *   name would otherwise have taken the batch long after its callers were told 'unknown';
   * - the topic is refused to this producer (not authorised, or invalid): no leader is named while that holds;
   * - the topic has no such partition (created again with fewer).
   * The last two for DELETED_AFTER_MS in a row (batch.lostSince), as the deletion's.
   */
  #lossReason(p: PartitionState, batch: Batch, now: number): string | undefined {
    const certain = this.#certainLoss(p, batch, now);
    if (certain !== undefined) {
      batch.lostSince = -1; // given up at its deadline, whatever the metadata said before
      return certain;
    }
    // The others are the view's word, which one answer of a lagging broker gives for a moment (one that has not
    // applied an ACL or a partition increase yet): held since `lostSince`, and only given up once that is
    // DELETED_AFTER_MS ago (expireDue).
    const why = this.#topicSaysLost(p);
    if (why === undefined) batch.lostSince = -1;
    else if (batch.lostSince < 0) batch.lostSince = now;
    return why;
  }

  /** The first three reasons of #lossReason's. */
  #certainLoss(p: PartitionState, batch: Batch, now: number): string | undefined {
    if (batch.unsendable) return `its last attempt could not be sent (${batch.lastError ?? 'no usable Produce version'})`;
    const { view } = this.#parts;
    const topic = p.topic.name;
    if (view.unknownFor(topic, now) >= DELETED_AFTER_MS) return `topic ${topic}: ${view.describeTopicError(topic)}`;
    const layout = view.topic(topic);
    const leader = layout?.leaders[p.partition] ?? -1;
    const failure = leader < 0 ? undefined : this.#parts.sinkOf(leader)?.connectFailure;
    return failure instanceof UnsupportedVersionError ? `no connection to its leader could be opened (${failure.message})` : undefined;
  }

  /** The topic is refused to the producer, or has no such partition, as the worker's metadata says now. */
  #topicSaysLost(p: PartitionState): string | undefined {
    const { view } = this.#parts;
    const topic = p.topic.name;
    const layout = view.topic(topic);
    if (layout === undefined) return undefined;
    if (layout.errorCode === ErrorCode.TOPIC_AUTHORIZATION_FAILED || layout.errorCode === ErrorCode.INVALID_TOPIC_EXCEPTION) {
      return `topic ${topic}: ${view.describeTopicError(topic)}`;
    }
    if (layout.errorCode === ErrorCode.NONE && p.partition >= layout.leaders.length) {
      return `topic ${topic} has ${layout.leaders.length} partition(s) now, so no partition ${p.partition}`;
    }
    return undefined;
  }

  /** What held a batch back, as far as the worker can tell: what it waited for, or its last attempt's error. */
  #whyNotSent(p: PartitionState, batch: Batch): string {
    const name = `${p.topic.name}-${p.partition}`;
    const lastAttempt = batch.lastError === undefined ? undefined : `its last attempt (of ${batch.attempts}) failed: ${batch.lastError}`;
    const also = lastAttempt === undefined ? '' : `; ${lastAttempt}`;
    const layout = this.#parts.view.topic(p.topic.name);
    // A topic deleted and created again with fewer partitions (or by this producer's own send, with the broker's
    // default count): "no leader" sent its callers looking for a broker fault.
    if (layout !== undefined && layout.errorCode === ErrorCode.NONE && p.partition >= layout.leaders.length) {
      return `topic ${p.topic.name} has ${layout.leaders.length} partition(s) now, so no partition ${p.partition} (deleted and created again?)${also}`;
    }
    const leader = layout?.leaders[p.partition] ?? -1;
    if (leader < 0) return `${name} had no leader known to the producer${also}`;
    // In flight, or backing off after an attempt that may have been written: either way unanswered, and ahead.
    let unanswered = 0;
    for (const ahead of p.sealed) {
      if (ahead === batch) break;
      if (ahead.inFlight || ahead.ambiguous) unanswered++;
    }
    if (unanswered > 0) return `${unanswered} earlier batch(es) of ${name} were unanswered (in flight, or to be retried)`;
    const sink = this.#parts.sinkOf(leader);
    // Waiting for a connection (Sink.connect): none came within the deadline, or every attempt failed.
    if (sink !== undefined && !sink.isConnected) {
      const failure = sink.connectFailure;
      return `no connection to broker ${leader} was open${failure === undefined ? '' : `; the last attempt to connect failed: ${failure.message}`}${also}`;
    }
    if (lastAttempt !== undefined) return lastAttempt;
    if (sink?.canSend(Date.now()) === false) return `broker ${leader} had no room for another request (in flight, or throttling)`;
    return `waiting to be sent to broker ${leader}`;
  }
}
