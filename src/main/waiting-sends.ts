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
 */
import { AdmissionQueue, type Admission } from './admission-queue.js';
import { withDeadline } from './deadlines.js';
import type { PreparedRecord } from './serialize.js';
import type { Settler } from './settlers.js';
import type { TopicInfo, TopicRegistry } from './topic-registry.js';
import type { TransactionManager } from './transactions/transaction-manager.js';
import type { WorkerGroup } from './worker-group.js';

/** A checked send waiting here, with what it keeps from its call. */
export interface WaitingSend extends Admission {
  readonly prepared: PreparedRecord;
  readonly seq: number;
  readonly settler: Settler;
  readonly position: number;
  /** Its bufferTimeoutMs from the call, epoch ms: every wait of this send, buffer space included, ends by then. */
  readonly deadline: number;
}

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
  readonly #queues = new Map<string, AdmissionQueue<WaitingSend>>();

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

  /** Queues a send behind its topic's earlier waiting sends. */
  push(waiting: WaitingSend): void {
    const topic = waiting.prepared.topic;
    (this.#queues.get(topic) ?? this.#newQueue(topic)).push(waiting);
  }

  /** A topic's queue, in the map until it drains: kept longer, it would cost every later send a lookup in `has`. */
  #newQueue(topic: string): AdmissionQueue<WaitingSend> {
    const queue: AdmissionQueue<WaitingSend> = new AdmissionQueue<WaitingSend>(
      (next) => this.#admit(next),
      (next, error) => this.#context.failed(next, error),
      () => {
        if (this.#queues.get(topic) === queue && queue.isEmpty) this.#queues.delete(topic);
      },
    );
    this.#queues.set(topic, queue);
    return queue;
  }

  /** Every waiting send fails with `error` (a worker failed to start, the credentials, the producer closed). */
  failAll(error: Error): void {
    for (const queue of this.#queues.values()) queue.failAll(error);
  }

  async #admit(waiting: WaitingSend): Promise<void> {
    const { workers, registry, transactions } = this.#context;
    // Each waiting send keeps its own bufferTimeoutMs: a failed connection attempt is not retried past it.
    if (!workers.started) await withDeadline(this.#context.connect(), waiting.deadline, 'the connection');
    const { prepared } = waiting;
    const topic =
      registry.get(prepared.topic) ??
      (await registry.load(prepared.topic, { timeoutMs: Math.max(0, waiting.deadline - Date.now()) }));
    if (waiting.settled) return; // aborted meanwhile
    const partition = this.#context.partition(prepared, topic);
    await transactions?.addPartition(prepared.topic, partition);
    if (waiting.settled) return;
    // Settled from here by the intake (accepted, or by its wait for buffer space), not by the admission queue.
    waiting.settled = true;
    waiting.stopListening?.();
    this.#context.admitted(waiting, topic, partition);
  }
}
