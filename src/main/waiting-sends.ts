/**
 * Sends that wait for what placing them needs first: the connection, their topic's metadata, or (transaction
 * protocol v1) their partition's place in the transaction. The rare path: once connected and warm, no send waits
 * here, and the intake's check for it (`has`) costs one size test: a topic's queue is dropped once it drains, so
 * the map is empty again after the first sends of a producer's life have waited for the connection.
 *
 * One FIFO per topic (admission-queue.ts): order matters within a partition, and a topic whose metadata never comes
 * must not hold up the others for bufferTimeoutMs. Each send is admitted in call order, within its own
 * bufferTimeoutMs, up to the point where its topic and partition are known; then it is handed back to the intake
 * (`admitted`), which accepts it or queues it for buffer space, where the byte budget keeps the order.
 *
 * A sendBatch's records to a topic whose metadata is not known yet wait as one run of their call's positions
 * (`WaitingRun`), kept in the call's columns, rather than as an object per record: a service whose first calls come
 * before the first metadata answer, or whose cluster does not answer for a new topic, holds up to bufferTimeoutMs of
 * such calls. As objects they cost 268 bytes a record, 242 of them on the heap; as a run, 81 (33 on the heap): the
 * call's columns, which every sendBatch record has until it is placed, and 4 bytes of position (500,000 records of
 * 100 B waiting for the connection, bench/waiting-memory.ts).
 */
import { KafkaProducerError } from '../shared/errors.js';
import { BufferTimeoutError, ProducerClosedError, UnknownTopicError } from '../shared/producer-errors.js';
import { AdmissionQueue, type Admission } from './admission-queue.js';
import { expiredError, untilDeadline, withDeadline, withReason } from './deadlines.js';
import type { PreparedRecord } from './serialize.js';
import type { Settler } from './settlers.js';
import type { TopicInfo, TopicRegistry } from './topic-registry.js';
import type { TransactionManager } from './transactions/transaction-manager.js';
import type { WaitingSlice } from './waiting-slice.js';
import type { WorkerGroup } from './worker-group.js';

/** A checked send waiting here, with what it keeps from its call. */
export interface WaitingSend extends Admission {
  readonly prepared: PreparedRecord;
  readonly seq: number;
  readonly settler: Settler;
  readonly position: number;
  /** Its bufferTimeoutMs from the call, epoch ms: every wait of this send, buffer space included, ends by then. */
  readonly deadline: number;
  /** When its call was made, epoch ms: a refresh for its partition must have begun since. */
  readonly calledAt: number;
}

/**
 * Records of one sendBatch to one topic, waiting for the connection or the topic's metadata: their positions in the
 * call's columns, in call order. Admitted together once the topic is known (`place`), then placed one by one as the
 * call's other records are. Only for a producer without transactions: there a partition new to the transaction is
 * added during the admission, record by record (WaitingSend).
 */
export interface WaitingRun extends Admission {
  readonly topic: string;
  /** The positions, and the call whose they are. */
  readonly records: WaitingSlice;
  /** As WaitingSend's: the call's bufferTimeoutMs, epoch ms. */
  readonly deadline: number;
  /** As WaitingSend's: when the call was made, epoch ms. */
  readonly calledAt: number;
  /** Whether a record of the run asks for a partition that `topic`'s view does not have. */
  asksBeyond(topic: TopicInfo): boolean;
  /**
   * The topic is known: the intake places every record of the run. A record asking for a partition beyond `topic`
   * is refused then, as a waiting send's is: the view is from a refresh begun since the call (#admit).
   */
  place(topic: TopicInfo): void;
  /** The run failed or was aborted while it waited: every record of it fails with `error`. */
  fail(error: Error): void;
}

type Waiting = WaitingSend | WaitingRun;

/** The pause between connection attempts a waiting send makes after one gave up before the send's deadline. */
const CONNECT_RETRY_PAUSE_MS = 100;

const topicOf = (waiting: Waiting): string => ('prepared' in waiting ? waiting.prepared.topic : waiting.topic);

export interface WaitingSendsContext {
  /** Whether every worker runs; `connect` starts them (one attempt shared by every caller). */
  readonly workers: Pick<WorkerGroup, 'started'>;
  connect(): Promise<void>;
  readonly registry: TopicRegistry;
  /** A transactional producer's transaction state; undefined otherwise. */
  readonly transactions: TransactionManager | undefined;
  partition(prepared: PreparedRecord, topic: TopicInfo): number;
  /** The send is through: its topic and partition are known, and it is no longer this queue's to settle. */
  admitted(waiting: WaitingSend, topic: TopicInfo, partition: number): void;
  /** The send failed or was aborted while it waited here. */
  failed(waiting: WaitingSend, error: Error): void;
}

export class WaitingSends {
  readonly #context: WaitingSendsContext;
  readonly #queues = new Map<string, AdmissionQueue<Waiting>>();
  /**
   * By topic, while its queue holds sends: the metadata failure the last send admitted from it met. A send behind
   * it whose deadline passed meanwhile fails with it too, without a fetch of its own: the shared fetch ended at the
   * latest deadline, and each such send started another, a Metadata request per send.
   */
  readonly #lastFailure = new Map<string, UnknownTopicError>();

  constructor(context: WaitingSendsContext) {
    this.#context = context;
  }

  /**
   * Whether sends to `topic` wait here, so that a new one must queue behind them rather than overtake. Most of the
   * time none waits at all, and the per-topic lookup is skipped.
   */
  has(topic: string): boolean {
    return this.#queues.size > 0 && this.#queues.get(topic)?.isEmpty === false;
  }

  /** Topics with a queue, drained or not: for tests. */
  get queuedTopics(): number {
    return this.#queues.size;
  }

  /** Sends and runs waiting, in every topic's queue: for tests. */
  get waiting(): number {
    let count = 0;
    for (const queue of this.#queues.values()) count += queue.length;
    return count;
  }

  /**
   * Queues a send, or a run of a call's records, behind its topic's earlier waiting sends. Its deadline goes to the
   * topic's fetch at once (a no-op for a known topic): only the queue's head waits on the fetch, and a fetch that
   * ended at the head's deadline was started again by each send after it, one Metadata request per send.
   */
  push(waiting: Waiting): void {
    const topic = topicOf(waiting);
    this.#context.registry.prefetch(topic, waiting.deadline);
    (this.#queues.get(topic) ?? this.#newQueue(topic)).push(waiting);
  }

  /**
   * The last waiting entry of `topic` when it is a run of `records`' call still open to more of its records: the
   * call's next record to that topic joins it, keeping call order, since nothing of the topic was queued after it.
   */
  openRun(topic: string, call: WaitingSlice['call']): WaitingRun | undefined {
    const last = this.#queues.get(topic)?.last;
    if (last === undefined || 'prepared' in last || last.settled || last.records.call !== call) return undefined;
    return last;
  }

  /** A topic's queue, in the map until it drains: kept longer, it would cost every later send a lookup in `has`. */
  #newQueue(topic: string): AdmissionQueue<Waiting> {
    const queue: AdmissionQueue<Waiting> = new AdmissionQueue<Waiting>(
      (next) => this.#admit(next),
      (next, error) => ('prepared' in next ? this.#context.failed(next, error) : next.fail(error)),
      () => {
        if (this.#queues.get(topic) !== queue || !queue.isEmpty) return;
        this.#queues.delete(topic);
        this.#lastFailure.delete(topic);
      },
      () => this.#whyWaiting(topic),
    );
    this.#queues.set(topic, queue);
    return queue;
  }

  /**
   * Why sends to `topic` still wait, for an aborted send's error: the last failed attempt to connect while the
   * producer has no connection, else the last failed attempt at the topic's metadata.
   */
  #whyWaiting(topic: string): string | undefined {
    const registry = this.#context.registry;
    if (!this.#context.workers.started) return registry.reconnectReason();
    // Known: what holds the queue up is not its metadata (a partition's place in the transaction, say).
    if (registry.get(topic) !== undefined) return undefined;
    return registry.fetchReason(topic) ?? this.#lastFailure.get(topic)?.message;
  }

  /**
   * Every waiting send fails with `error` (a worker failed to start, the credentials), or with the error `error`
   * makes of why its topic's sends still wait (the producer closed: #whyWaiting, as an aborted send is told).
   */
  failAll(error: Error | ((why: string | undefined) => Error)): void {
    for (const [topic, queue] of this.#queues) queue.failAll(typeof error === 'function' ? error(this.#whyWaiting(topic)) : error);
  }

  /** The topic's metadata for a send due by `deadline`; a send already past it fails as the one before it did. */
  async #load(name: string, deadline: number): Promise<TopicInfo> {
    const failed = this.#lastFailure.get(name);
    if (failed !== undefined && deadline <= Date.now()) throw failed;
    try {
      const topic = await this.#context.registry.load(name, { timeoutMs: Math.max(0, deadline - Date.now()) });
      this.#lastFailure.delete(name); // found since: an aborted send behind must not be told of that failure
      return topic;
    } catch (error) {
      if (error instanceof UnknownTopicError) this.#lastFailure.set(name, error);
      throw error;
    }
  }

  /**
   * The topic's view, refreshed first when the send asks for a partition beyond its partition count: partitions
   * added to the topic since the last refresh were refused at once, for up to metadataMaxAgeMs (five minutes). The
   * view of a refresh begun since the send was made, within its deadline; a partition still missing then is refused
   * (context.partition).
   */
  async #withPartition(waiting: WaitingSend, topic: TopicInfo): Promise<TopicInfo> {
    if (!askedBeyond(waiting.prepared.partition, topic)) return topic;
    return this.#refreshedView(topic, waiting.calledAt, waiting.deadline);
  }

  /** The topic's view from a refresh begun since `calledAt`, or the latest one once `deadline` passes. */
  async #refreshedView(topic: TopicInfo, calledAt: number, deadline: number): Promise<TopicInfo> {
    const { registry } = this.#context;
    await untilDeadline(registry.refreshedSince(calledAt, deadline), deadline, undefined);
    return registry.get(topic.name) ?? topic;
  }

  /**
   * The connection, within the send's own deadline. An attempt lasts bufferTimeoutMs from when the send that began
   * it was made, and one this send joined late gave up before this send's deadline: the send failed with it, with no
   * `delivery`, a moment after it was made. After such a retriable failure it waits for another attempt, a short
   * pause apart (an attempt with little time left may give up at once), and past its deadline it fails as a send
   * that waited out the connection does.
   */
  async #connectBy(waiting: Waiting): Promise<void> {
    const { deadline } = waiting;
    const lastFailure = (): string | undefined => this.#context.registry.reconnectReason();
    while (!waiting.settled) {
      try {
        await withDeadline(this.#context.connect(), deadline, 'the connection', lastFailure);
        return;
      } catch (error) {
        // The producer began to close while this send waited, and starts no new attempt: the send fails as closed,
        // with why the attempt it waited for failed, not as a call made after close ("the producer is closed").
        if (error instanceof ProducerClosedError) {
          throw new ProducerClosedError('not-sent', withReason('the producer closed while the record waited for the connection', lastFailure()), { cause: error });
        }
        if (!(error instanceof KafkaProducerError && error.retriable) || error instanceof BufferTimeoutError) throw error;
        const pauseMs = Math.min(CONNECT_RETRY_PAUSE_MS, deadline - Date.now());
        if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
        if (Date.now() >= deadline) throw expiredError('the connection', lastFailure);
      }
    }
  }

  async #admit(waiting: Waiting): Promise<void> {
    const { workers, registry, transactions } = this.#context;
    // Each waiting send keeps its own bufferTimeoutMs: a failed connection attempt is not retried past it.
    // Past the deadline the error says why the last attempt failed: only the send at the head when an attempt
    // failed heard its error, and the sends behind it, waiting out the reconnect backoff, failed without a reason.
    if (!workers.started) {
      await this.#connectBy(waiting);
      if (waiting.settled) return; // aborted meanwhile
    }
    const name = topicOf(waiting);
    const topic = registry.get(name) ?? (await this.#load(name, waiting.deadline));
    if (waiting.settled) return; // aborted meanwhile
    if (!('prepared' in waiting)) {
      // A record asking for a partition the view lacks waits for a refresh, as a waiting send does (#withPartition).
      // Placed with the old view, it was queued again at the tail of its topic's queue, behind sends called after
      // it, which then reached its partition first (invariant 1), and with a bufferTimeoutMs counted afresh.
      const view = waiting.asksBeyond(topic) ? await this.#refreshedView(topic, waiting.calledAt, waiting.deadline) : topic;
      if (waiting.settled) return; // aborted meanwhile
      // Settled here, as an admitted send is below: from now on its records are the intake's to place (and to fail,
      // whatever the signal does next), and a later record of its call to this topic starts a run of its own.
      waiting.settled = true;
      waiting.stopListening?.();
      waiting.place(view);
      return;
    }
    const { prepared } = waiting;
    const view = await this.#withPartition(waiting, topic);
    const partition = this.#context.partition(prepared, view);
    // Within the send's own deadline, as its other waits (bufferTimeoutMs, Java's max.block.ms): the add's coordinator
    // call waits out requestTimeoutMs on an attempt already sent, and a later add joining it moves its deadline on.
    // The add goes on for the transaction (commit and abort wait for it).
    if (transactions !== undefined) {
      await withDeadline(transactions.addPartition(prepared.topic, partition), waiting.deadline, `the partition's place in the transaction (AddPartitionsToTxn for ${prepared.topic}-${partition})`);
    }
    if (waiting.settled) return;
    // Settled from here by the intake (accepted, or by its wait for buffer space), not by the admission queue.
    waiting.settled = true;
    waiting.stopListening?.();
    this.#context.admitted(waiting, view, partition);
  }
}

/** Whether a send asks for a partition the topic's view does not have (yet): it waits here for a refresh. */
export function askedBeyond(partition: number | undefined, topic: TopicInfo): boolean {
  return partition !== undefined && Number.isInteger(partition) && partition >= topic.partitionCount;
}
