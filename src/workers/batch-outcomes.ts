/**
 * What becomes of a batch once the broker answered it, its request was lost, or the worker gives up on it. The
 * delivery policy (./delivery-policy.ts) decides; this carries the verdict out — a completion for the main thread, a
 * backoff, a split, a metadata refresh — and tells the main thread's diagnostics channel of retries and epoch bumps.
 * The producer worker (./producer-worker.ts) owns the loop that sends; its sinks report here. Worker thread only.
 */
import type { MessagePort } from 'node:worker_threads';
import { ClientErrorCode, CompletionKind } from '../shared/completion-entry.js';
import { WorkerStat, type WorkerStats } from '../shared/worker-stats.js';
import type { MetadataStale, WorkerEvent, WorkerInit } from '../shared/worker-protocol.js';
import { UnsupportedVersionError } from '../shared/errors.js';
import { AuthenticationError } from '../shared/producer-errors.js';
import { backoffMs } from '../shared/backoff.js';
import { encodeRecordBatch } from '../protocol/record-batch.js';
import { decodeRecordBatches, type DecodedRecord } from '../protocol/record-batch-decoder.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES } from '../protocol/compression.js';
import { errorInfo } from '../protocol/error-codes.js';
import type { Accumulator } from './accumulator.js';
import { AppendTimes } from './append-times.js';
import type { BatchBufferPool } from './batch-buffers.js';
import type { ClusterView } from './cluster-view.js';
import type { CompletionWriter } from './completion-writer.js';
import { splitBatch, type Batch } from './batch.js';
import type { PartitionState } from './partition-state.js';
import type { Outgoing, PartitionOutcome } from './sink.js';
import type { ProduceRecordError } from '../protocol/apis/produce.js';
import { recordFailures } from './record-errors.js';
import * as policy from './delivery-policy.js';

/** The worker's parts an outcome touches. */
export interface OutcomeParts {
  readonly settings: WorkerInit['settings'];
  readonly completions: CompletionWriter;
  readonly stats: WorkerStats;
  readonly port: MessagePort;
  readonly view: ClusterView;
  readonly batches: Accumulator;
  readonly buffers: BatchBufferPool;
}

/** What the worker's loop does for an outcome. */
export interface OutcomeHooks {
  /** Refreshes the worker's metadata (and pumps once it is in). */
  refresh(): void;
  /** Pumps again at `at` (ms since the epoch), unless a pump is due sooner. */
  retryLater(at: number): void;
  /** Sends what can go now: a failed batch may let the one behind it go. */
  pump(): void;
  /** The close deadline in ms since the epoch: later than any clock reading until close sets one. */
  closeDeadline(): number;
}

type CompletionKindValue = (typeof CompletionKind)[keyof typeof CompletionKind];

/**
 * The records of a batch this worker encoded, to split it. Bounded by what such a batch can hold (batchMaxBytes of
 * entries, each at least as large as its record), not by the decoder's default for answers from outside: with
 * `batchMaxBytes` over 64 MiB a compressed batch refused MESSAGE_TOO_LARGE could decompress past that default, and
 * every record failed "encoding failed" instead of being split.
 */
export async function recordsOfOwnBatch(bytes: Uint8Array, batchMaxBytes: number): Promise<DecodedRecord[]> {
  const maxBytes = Math.max(DEFAULT_MAX_DECOMPRESSED_BYTES, 2 * batchMaxBytes);
  const [decoded] = await decodeRecordBatches(bytes, { maxBytes });
  return decoded!.records;
}

export class BatchOutcomes {
  readonly #parts: OutcomeParts;
  readonly #hooks: OutcomeHooks;
  readonly #appendTimes = new AppendTimes();
  /** When the main thread was last told its metadata may be stale. */
  #staleToldAt = -Infinity;

  constructor(parts: OutcomeParts, hooks: OutcomeHooks) {
    this.#parts = parts;
    this.#hooks = hooks;
  }

  /** The broker answered for `outgoing`'s partition (sent to broker `from`). */
  answered(outgoing: Outgoing, outcome: PartitionOutcome, from: number): void {
    const { settings, completions, buffers, stats } = this.#parts;
    const p = this.#partitionOf(outgoing);
    const batch = outgoing.batch;
    const epoch = p.epoch;
    batch.unsendable = false; // sent: the broker takes a version of ours
    const verdict = policy.answered(p, batch, outcome, settings, Date.now(), this.#hooks.closeDeadline());
    this.#reportDecision(p, batch, verdict, epoch, outcome.errorCode);
    if (verdict.action === 'retry') {
      const name = errorInfo(outcome.errorCode).name;
      batch.lastError = outcome.errorMessage ? `${name} (${outcome.errorMessage}) from broker ${from}` : `${name} from broker ${from}`;
    }
    if (verdict.action === 'deliver') {
      completions.publish(
        {
          ...this.#head(p, CompletionKind.delivered, 0),
          baseOffset: outcome.baseOffset,
          timestamp: this.#appendTimes.forDelivered(p.topic.name, batch, outcome.logAppendTimeMs, outcome.errorCode),
          logStartOffset: outcome.logStartOffset,
        },
        batch.recordIds,
      );
      // Answered, so written in full: no socket holds the bytes any more (with acks=0 nothing tells us that).
      if (settings.acks !== 0) {
        buffers.give(batch.bytes!);
        batch.bytes = undefined;
      }
    } else if (verdict.action === 'retry' && verdict.refreshMetadata && this.#movedAway(p, from)) {
      // KIP-951: the answer named the new leader and the view took it: resend there at once, no backoff and no
      // Metadata round trip.
      stats.add(WorkerStat.RETRIES);
      batch.retryAt = 0;
      this.metadataStale();
    } else if (verdict.action === 'fail' && outcome.recordErrors.length > 0) {
      this.#failByRecord(p, batch, verdict.errorCode, verdict.message, outcome.recordErrors);
    } else this.#carryOut(p, batch, verdict);
  }

  /** No answer for a batch (see `lost` in ./delivery-policy.ts); a refused authentication fails it at once. */
  lost(outgoing: Outgoing, error: Error, written: boolean): void {
    const p = this.#partitionOf(outgoing);
    const refusal = error instanceof AuthenticationError ? error.message : undefined;
    outgoing.batch.unsendable = error instanceof UnsupportedVersionError;
    const epoch = p.epoch;
    const verdict = policy.lost(p, outgoing.batch, written, refusal, this.#parts.settings);
    this.#reportDecision(p, outgoing.batch, verdict, epoch, -1);
    if (verdict.action === 'retry') outgoing.batch.lastError = error.message;
    this.#carryOut(p, outgoing.batch, verdict);
    if (verdict.action === 'fail') this.#hooks.pump();
  }

  /** Fails a batch that is not in flight and will not be sent; the policy hands its sequences on. */
  abandon(p: PartitionState, batch: Batch, errorCode: number, message: string): void {
    policy.abandon(p, batch, this.#parts.settings);
    this.fail(p, batch, errorCode, message);
  }

  /** Tells the main thread that the batch's records failed with `errorCode`. */
  fail(p: PartitionState, batch: Batch, errorCode: number, message: string): void {
    this.#parts.stats.add(WorkerStat.ERRORS);
    this.#publishFailure(p, batch, errorCode, message, batch.recordIds);
  }

  /** A refusal that names the records at fault (KIP-467): each group of records gets its own outcome. */
  #failByRecord(p: PartitionState, batch: Batch, errorCode: number, message: string, recordErrors: readonly ProduceRecordError[]): void {
    const groups = recordFailures(batch.recordIds, errorCode, message || null, recordErrors);
    if (groups === undefined) {
      this.fail(p, batch, errorCode, message);
      return;
    }
    this.#parts.stats.add(WorkerStat.ERRORS);
    for (const group of groups) this.#publishFailure(p, batch, group.errorCode, group.message, group.recordIds);
  }

  #publishFailure(p: PartitionState, batch: Batch, errorCode: number, message: string, recordIds: Uint32Array): void {
    const head = this.#head(p, CompletionKind.failed, errorCode);
    // A broker's refusal of an ambiguous batch says nothing of its earlier attempt: its records may be in the log,
    // and a caller told 'not-sent' (as every broker error implied) would write them twice by sending them again.
    // The producer's own codes say their delivery themselves, but for those that pass a broker's refusal on.
    const mayBeWritten = batch.ambiguous
      && (errorCode >= -1 || errorCode === ClientErrorCode.protocol || errorCode === ClientErrorCode.rejectedWithBatch);
    this.#parts.completions.publish(mayBeWritten ? { ...head, mayBeWritten } : head, recordIds, message);
  }

  /** Tells the main thread that records of `p` were dropped before they joined a batch. */
  dropped(p: PartitionState, ids: readonly number[]): void {
    this.#parts.completions.publish(this.#head(p, CompletionKind.dropped, 0), ids);
  }

  #head(p: PartitionState, kind: CompletionKindValue, errorCode: number) {
    return { kind, topicIndex: p.topic.index, partition: p.partition, errorCode, baseOffset: -1, timestamp: -1, logStartOffset: -1 };
  }

  #partitionOf(outgoing: Outgoing): PartitionState {
    for (const topic of this.#parts.batches.topics.values()) {
      if (topic.name === outgoing.topic) return topic.partitions.get(outgoing.partition)!;
    }
    throw new Error(`no state for ${outgoing.topic}-${outgoing.partition}`);
  }

  /** Whether the view now leads this partition somewhere other than `from` (a leader hint already applied). */
  #movedAway(p: PartitionState, from: number): boolean {
    const leader = this.#parts.view.topic(p.topic.name)?.leaders[p.partition] ?? -1;
    return leader >= 0 && leader !== from;
  }

  /** Tells the main thread's diagnostics channel of a retry or an epoch bump (rare: never for a success). */
  #reportDecision(p: PartitionState, batch: Batch, verdict: policy.Verdict, epochBefore: number, errorCode: number): void {
    const topic = p.topic.name;
    if (verdict.action === 'retry') this.#tell({ type: 'event', event: 'retry', topic, partition: p.partition, errorCode, attempt: batch.attempts });
    if (p.epoch !== epochBefore) this.#tell({ type: 'event', event: 'epoch-bump', topic, partition: p.partition, epoch: p.epoch });
  }

  #tell(event: WorkerEvent): void {
    this.#parts.port.postMessage(event);
  }

  /** Does what the policy decided for a batch that did not succeed. */
  #carryOut(p: PartitionState, batch: Batch, verdict: policy.Verdict): void {
    switch (verdict.action) {
      case 'retry':
        if (verdict.refreshMetadata) {
          this.#hooks.refresh();
          this.metadataStale();
        }
        this.#backOff(batch);
        return;
      case 'split':
        this.#split(p, batch, verdict.index);
        return;
      case 'fail':
        this.fail(p, batch, verdict.errorCode, verdict.message);
        return;
      default:
        return;
    }
  }

  /**
   * The main thread's metadata may be stale too (its partitioner would keep choosing a partition without a
   * leader): it is told, at most once per retryBackoffMaxMs, and refreshes its own view. Called for an answer
   * that says the leader moved, and by the worker's pump for a batch whose partition its own metadata gives no
   * leader (the worker may learn that from a refresh of its own, with no answer to say it).
   */
  metadataStale(): void {
    const now = Date.now();
    if (now - this.#staleToldAt < this.#parts.settings.retryBackoffMaxMs) return;
    this.#staleToldAt = now;
    this.#parts.port.postMessage({ type: 'metadata-stale' } satisfies MetadataStale);
  }

  /**
   * MESSAGE_TOO_LARGE for a multi-record batch: split it in two, in its place. Rare, so the records are recovered by
   * decoding the batch rather than kept around for every batch.
   */
  #split(p: PartitionState, batch: Batch, index: number): void {
    const { batches } = this.#parts;
    const [first, second] = splitBatch(batch);
    const half = first.recordIds.length;
    p.sealed.splice(index, 1, first, second);
    const decoded = recordsOfOwnBatch(batch.bytes!, this.#parts.settings.batchMaxBytes);
    batches.attach(p, first, decoded.then((records) => encodeRecordBatch(records.slice(0, half), batches.batchHeader())));
    batches.attach(p, second, decoded.then((records) => encodeRecordBatch(records.slice(half), batches.batchHeader())));
  }

  #backOff(batch: Batch): void {
    this.#parts.stats.add(WorkerStat.RETRIES);
    // Jittered, so partitions that failed together do not retry in lockstep.
    batch.retryAt = Date.now() + backoffMs(batch.attempts - 1, this.#parts.settings);
    this.#hooks.retryLater(batch.retryAt);
  }
}
