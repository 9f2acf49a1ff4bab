/**
 * One sink per broker a worker talks to: it turns ready batches of many partitions into one Produce request
 * (exactly one batch per partition, a broker rule), keeps at most `maxInFlight` requests on its connection, and
 * owns that connection's throttle deadline (KIP-219: from Produce v6 the broker answers at once with
 * throttle_time_ms and then mutes the connection, so nothing is sent before now + throttle_time_ms; the deadline
 * never moves backwards, and its timer is cleared on close — invariant 4, docs/invariants.md). The connection holds
 * its own writes for the same deadline, whatever the API; the sink's keeps throttled batches in the accumulator,
 * where they can still grow and expire, rather than queued on a muted connection.
 */
import { ThrottleDeadline } from './throttle-deadline.js';
import { BY_REFERENCE_MIN_BYTES } from '../protocol/writer.js';
import {
  Produce, type ProducePartitionResponse, type ProduceRecordError, type ProduceRequest, type ProduceResponse,
  type ProduceTopicData, type Acks,
} from '../protocol/apis/produce.js';
import type { ClusterView } from './cluster-view.js';
import { ProtocolError, RequestNotSentError, UnsupportedVersionError } from '../shared/errors.js';
import type { Batch } from './batch.js';

/** A batch on its way, with where it goes. */
export interface Outgoing {
  readonly topic: string;
  readonly topicId: Uint8Array;
  readonly partition: number;
  readonly batch: Batch;
}

export interface PartitionOutcome {
  readonly errorCode: number;
  readonly baseOffset: number;
  readonly logAppendTimeMs: number;
  /** The partition's log start offset as answered (Produce v5+), -1 when the answer has none. */
  readonly logStartOffset: number;
  readonly errorMessage: string | null;
  /**
   * The records of the batch the broker refused by name (KIP-467), by index in the batch; empty when it named none,
   * or when the answer named more than the decoder keeps (MAX_RECORD_ERRORS_KEPT): the batch then fails as a whole.
   */
  readonly recordErrors: readonly ProduceRecordError[];
}

export interface SinkEvents {
  /** The broker answered for this batch (errorCode 0 or a Kafka error). */
  answered(outgoing: Outgoing, outcome: PartitionOutcome): void;
  /**
   * No definitive answer. `written` is false when no connection could be opened, so the request never left;
   * true when it may have reached the broker (connection lost, request timed out).
   */
  lost(outgoing: Outgoing, error: Error, written: boolean): void;
  /** The sink can take more: in-flight slot freed, throttle over, or its connection opened. */
  ready(): void;
  /**
   * A connection attempt that batches waited for failed (`connect`): they are still unsent, and the broker may have
   * left the cluster or lost its leadership, so the worker's metadata is worth refreshing.
   */
  unreachable(error: Error): void;
  throttled(ms: number): void;
  /** A request went out (+1) or got its answer or failed (-1). */
  inFlight(delta: 1 | -1): void;
}

export interface SinkSettings {
  readonly acks: Acks;
  readonly requestTimeoutMs: number;
  readonly maxInFlight: number;
  /** A transactional producer's id, sent with every request; null otherwise. */
  readonly transactionalId: string | null;
  /** The highest Produce version to send (WorkerSettings.maxProduceVersion). */
  readonly maxProduceVersion: number;
}

const MAX_OFFSET = BigInt(Number.MAX_SAFE_INTEGER);

/** What acks=0 knows of a batch once written: nothing but that. */
const ACKS_0_ANSWER: PartitionOutcome = {
  errorCode: 0, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, errorMessage: null, recordErrors: [],
};

/**
 * Why a decoded Produce answer cannot be true, or undefined: a success must carry an offset (0..2^53, so it is
 * reported exactly), and a timestamp and a log start offset of -1 or 0..2^53; a throttle time is never negative;
 * Kafka's error codes are -1 and up. Below -1 are the producer's own codes (ClientErrorCode): passed on, a broker's
 * -1005 read as "the producer closed" and failed a batch 'not-sent' that an earlier, unanswered attempt may have
 * written, so a caller's resend could write it twice.
 */
function impossibleAnswer(response: ProduceResponse): string | undefined {
  if (response.throttleTimeMs < 0) return `negative throttle_time_ms ${response.throttleTimeMs}`;
  for (const topic of response.responses) {
    for (const p of topic.partitionResponses) {
      if (p.errorCode < -1) return `partition ${p.index} has error_code ${p.errorCode}`;
      if (p.errorCode !== 0) continue;
      if (p.baseOffset < 0n || p.baseOffset > MAX_OFFSET) return `partition ${p.index} succeeded at base_offset ${p.baseOffset}`;
      if (p.logAppendTimeMs < -1n || p.logAppendTimeMs > MAX_OFFSET) return `partition ${p.index} has log_append_time_ms ${p.logAppendTimeMs}`;
      if (p.logStartOffset < -1n || p.logStartOffset > MAX_OFFSET) return `partition ${p.index} has log_start_offset ${p.logStartOffset}`;
    }
  }
  return undefined;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

export class Sink {
  readonly nodeId: number;
  readonly #view: ClusterView;
  readonly #settings: SinkSettings;
  readonly #events: SinkEvents;
  #inFlight = 0;
  readonly #throttle: ThrottleDeadline;
  #closed = false;
  /** A connection attempt of `connect`'s is under way. */
  #connecting = false;
  /** Why the last attempt to connect failed, until one succeeds. */
  #connectFailure: Error | undefined;

  constructor(nodeId: number, view: ClusterView, settings: SinkSettings, events: SinkEvents) {
    this.nodeId = nodeId;
    this.#view = view;
    this.#settings = settings;
    this.#events = events;
    this.#throttle = new ThrottleDeadline(() => this.#events.ready());
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Nothing in flight and no connection attempt under way: closing it now leaves nothing unanswered. */
  get isIdle(): boolean {
    return this.#inFlight === 0 && !this.#connecting;
  }

  /** True when a request may be sent now: a free in-flight slot and no throttle deadline ahead. */
  canSend(now: number): boolean {
    return !this.#closed && this.#inFlight < this.#settings.maxInFlight && this.#throttle.isOver(now);
  }

  /** Whether its connection is open now. */
  get isConnected(): boolean {
    return this.#view.isConnected(this.nodeId);
  }

  /** Why the last attempt to connect to this broker failed; undefined once one succeeded, or before any failed. */
  get connectFailure(): Error | undefined {
    return this.#connectFailure;
  }

  /**
   * Opens a connection to the broker unless one is open or being opened (one attempt at a time; the view backs off
   * between failed attempts), and says `ready` or `unreachable` when the attempt ends. The pump sends a batch only on
   * an open connection and leaves it waiting, unsent, meanwhile: marked sent while it waited, a batch was in flight
   * for as long as a connection took, against a broker that drops packets a connect timeout or a handshake's request
   * timeout per attempt, so at its delivery deadline a batch that never left was reported `'unknown'` rather than
   * `'not-sent'` (invariant 5, docs/invariants.md).
   */
  connect(): void {
    if (this.#connecting || this.#closed || this.isConnected) return;
    this.#connecting = true;
    this.#view.connection(this.nodeId).then(
      () => {
        this.#connecting = false;
        this.#connectFailure = undefined;
        if (!this.#closed) this.#events.ready();
      },
      (error: unknown) => {
        this.#connecting = false;
        this.#connectFailure = error instanceof Error ? error : new Error(String(error));
        if (!this.#closed) this.#events.unreachable(this.#connectFailure);
      },
    );
  }

  /** Sends one Produce request with these batches (one per partition). Outcomes arrive through SinkEvents. */
  send(outgoing: readonly Outgoing[]): void {
    this.#inFlight++;
    this.#events.inFlight(1);
    // #exchange reports every outcome through the events; a throw in one of them must not become an unhandled
    // rejection, which would end the worker thread. The batches are then reported lost (ignored if settled).
    void this.#exchange(outgoing).catch((error: unknown) => {
      for (const item of outgoing) this.#events.lost(item, error instanceof Error ? error : new Error(String(error)), true);
    }).catch(() => undefined).finally(() => {
      this.#inFlight--;
      this.#events.inFlight(-1);
      this.#events.ready();
    });
  }

  async #exchange(outgoing: readonly Outgoing[]): Promise<void> {
    const request = this.#request(outgoing);
    let response: ProduceResponse;
    let connection: Awaited<ReturnType<ClusterView['connection']>>;
    try {
      // Open already: the pump sends only on an open connection (see connect).
      connection = await this.#view.connection(this.nodeId);
    } catch (error) {
      for (const item of outgoing) this.#events.lost(item, error as Error, false);
      return;
    }
    try {
      // The frame's own bytes: a batch from BY_REFERENCE_MIN_BYTES on is written by reference, not into the frame.
      let sizeHint = 0;
      for (const item of outgoing) {
        const length = item.batch.bytes!.length;
        sizeHint += 64 + (length < BY_REFERENCE_MIN_BYTES ? length : 0);
      }
      const maxVersion = this.#settings.maxProduceVersion;
      if (this.#settings.acks === 0) {
        // acks=0: the broker sends no response at all; written is all we will ever know.
        await connection.send(Produce, request, { sizeHint, maxVersion });
        for (const item of outgoing) this.#events.answered(item, ACKS_0_ANSWER);
        return;
      }
      response = await connection.request(Produce, request, { sizeHint, maxVersion });
    } catch (error) {
      // A request that never left (queued when its connection went, or refused before it was written) is not
      // ambiguous: taken as written, its batch was retried with no regard for its delivery timeout.
      const written = !(error instanceof RequestNotSentError || error instanceof UnsupportedVersionError);
      for (const item of outgoing) this.#events.lost(item, error as Error, written);
      return;
    }
    const impossible = impossibleAnswer(response);
    if (impossible !== undefined) {
      // Not an acknowledgement anyone can report: the connection is dropped and the batches retried, like a
      // lost answer (an idempotent retry is answered with the original offset).
      const error = new ProtocolError(`Produce answer from broker ${this.nodeId}: ${impossible}`);
      await connection.close();
      for (const item of outgoing) this.#events.lost(item, error, true);
      return;
    }
    if (response.throttleTimeMs > 0) {
      this.#events.throttled(response.throttleTimeMs);
      // Before v6 the broker has already held its answer back for the throttle time (KIP-219 moved the wait to the
      // client), so waiting again would double it; Java throttles on its side only from v6 as well.
      if (connection.versionFor(Produce, this.#settings.maxProduceVersion) >= Produce.clientThrottlesFrom!) this.#throttle.extend(response.throttleTimeMs);
    }
    this.#settle(outgoing, response);
  }

  #request(outgoing: readonly Outgoing[]): ProduceRequest {
    const byTopic = new Map<string, { name: string; topicId: Uint8Array; partitionData: { index: number; records: Uint8Array }[] }>();
    for (const item of outgoing) {
      let topic = byTopic.get(item.topic);
      if (topic === undefined) {
        topic = { name: item.topic, topicId: item.topicId, partitionData: [] };
        byTopic.set(item.topic, topic);
      }
      topic.partitionData.push({ index: item.partition, records: item.batch.bytes! });
    }
    const topicData: ProduceTopicData[] = [...byTopic.values()];
    return { transactionalId: this.#settings.transactionalId, acks: this.#settings.acks, timeoutMs: this.#settings.requestTimeoutMs, topicData };
  }

  #settle(outgoing: readonly Outgoing[], response: ProduceResponse): void {
    // Responses name topics (up to v12) or carry topic ids (v13); match on both.
    const answers = new Map<string, ProducePartitionResponse>();
    for (const topic of response.responses) {
      const key = topic.name ?? (topic.topicId ? hex(topic.topicId) : '');
      for (const p of topic.partitionResponses) answers.set(`${key}:${p.index}`, p);
    }
    for (const item of outgoing) {
      const p = answers.get(`${item.topic}:${item.partition}`) ?? answers.get(`${hex(item.topicId)}:${item.partition}`);
      if (p === undefined) {
        this.#events.lost(item, new Error(`the Produce response has no answer for ${item.topic}-${item.partition}`), true);
        continue;
      }
      // KIP-951: the new leader is learnt before the outcome is reported, so the retry already goes there.
      if (p.currentLeader !== null) this.#view.applyLeaderHint(item.topic, item.partition, p.currentLeader, response.nodeEndpoints);
      this.#events.answered(item, {
        errorCode: p.errorCode,
        baseOffset: Number(p.baseOffset),
        logAppendTimeMs: Number(p.logAppendTimeMs),
        logStartOffset: Number(p.logStartOffset),
        errorMessage: p.errorMessage,
        recordErrors: p.recordErrorsCut === 0 ? p.recordErrors : [],
      });
    }
  }

  close(): void {
    this.#closed = true;
    this.#throttle.close();
  }
}
