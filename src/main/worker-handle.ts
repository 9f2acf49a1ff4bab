/**
 * The main thread's one owner of one worker: its shared memory (record ring, completion ring, statistics counters),
 * the feed that writes its record ring, the reader of its completion ring, its MessagePort (token requests and
 * pushes, close) and its thread's lifecycle (start, close, and a fresh incarnation after a crash).
 *
 * It decides nothing about records: which records to fail when the thread dies is the delivery settlement's policy
 * (deliveries.ts), and when to replace a thread is the worker group's (worker-group.ts). Both call down into this
 * class; it calls nothing above it.
 */
import type { MessagePort } from 'node:worker_threads';
import { RingReader } from '../shared/ring.js';
import { WorkerStats } from '../shared/worker-stats.js';
import type { ControlMessage, MetadataStale, TokenMessage, TokenRequest, WorkerEvent, WorkerInit } from '../shared/worker-protocol.js';
import { channels } from './tracing.js';
import type { OAuthTokens } from './oauth-tokens.js';
import { RecordFeed } from './record-feed.js';
import type { TopicRef } from './overflow-queue.js';
import { allocateWorkerMemory } from './shared-memory.js';
import type { PreparedRecord } from './serialize.js';
import type { RunningWorker, WorkerPool } from './worker-pool.js';

/** Where a worker's OAUTHBEARER tokens come from (the producer's OAuthTokens cache). */
export type TokenSource = Pick<OAuthTokens, 'get'>;

/** What every worker is started with besides its own memory and index. */
export type WorkerLaunch = Omit<WorkerInit, 'port' | 'workerIndex' | 'recordRing' | 'completionRing' | 'stats'>;

/** One thread's worth of memory and the ends of it the main thread holds. */
class Incarnation {
  readonly memory = allocateWorkerMemory();
  readonly feed = new RecordFeed(this.memory.recordRing);
  readonly completions = new RingReader(this.memory.completionRing);
  readonly stats = new WorkerStats(this.memory.stats);
  running: RunningWorker | undefined;
}

export class WorkerHandle {
  readonly index: number;
  /** Undefined until the first renew(); replaced after a crash. */
  #current: Incarnation | undefined;

  constructor(index: number) {
    this.index = index;
  }

  /**
   * Fresh memory for a new thread: at the first start, and after a crash (the dead thread's rings may hold
   * entries half read or half written). Records written from now on wait in the new ring until a thread runs.
   * Call stopFeed() on the old incarnation first.
   */
  renew(): void {
    const previous = this.#current;
    this.#current = new Incarnation();
    if (previous !== undefined) this.#current.stats.carryFrom(previous.stats);
  }

  /** Starts a thread on the current memory; `running.started` resolves when its loop runs. */
  start(pool: Pick<WorkerPool, 'start'>, launch: WorkerLaunch, tokens: TokenSource | undefined, onMetadataStale?: () => void): RunningWorker {
    const current = this.#current!;
    const { recordRing, completionRing, stats } = current.memory;
    const running = pool.start({ ...launch, workerIndex: this.index, recordRing, completionRing, stats });
    current.running = running;
    if (tokens !== undefined) serveTokens(running.port, tokens);
    if (onMetadataStale !== undefined) {
      running.port.on('message', (message: MetadataStale | WorkerEvent | { type?: string }) => {
        if (message.type === 'metadata-stale') onMetadataStale();
        else if (message.type === 'event' && channels.worker.hasSubscribers) {
          const { type: _type, ...event } = message as WorkerEvent;
          channels.worker.publish({ worker: this.index, ...event });
        }
      });
      // Listening must not keep the process alive.
      running.port.unref();
    }
    return running;
  }

  /** Writes a record into the ring, or queues it for ring space (hot path; RecordFeed.write). */
  write(recordId: number, topic: TopicRef, partition: number, record: PreparedRecord, copyIfQueued: boolean): void {
    this.#current!.feed.write(recordId, topic, partition, record, copyIfQueued);
  }

  /** Takes back a record still queued for ring space: true when it was (it never reaches the worker). */
  unqueue(recordId: number): boolean {
    return this.#current?.feed.unqueue(recordId) ?? false;
  }

  /** Stops writing the ring (crash, close) and hands back the ids of records still queued for ring space. */
  stopFeed(): number[] {
    return this.#current?.feed.stop() ?? [];
  }

  /** Resolves once no record waits for ring space. */
  whenFeedEmpty(): Promise<void> {
    return this.#current?.feed.whenEmpty() ?? Promise.resolve();
  }

  /** The completion ring's reading end; undefined before the first start. */
  get completions(): RingReader | undefined {
    return this.#current?.completions;
  }

  get stats(): WorkerStats | undefined {
    return this.#current?.stats;
  }

  /** Fulfilled when the thread finished after close, rejected when it died; undefined when none was started. */
  get done(): Promise<void> | undefined {
    return this.#current?.running?.done;
  }

  /** `kick`: the worker re-reads the control block (someone waits, flushes or closes). */
  wake(): void {
    this.#current?.feed.wake();
  }

  /** Pushes a refreshed OAUTHBEARER token, before the worker's connections need it. */
  sendToken(value: string, expiresAt: number): void {
    this.#post({ type: 'token', value, expiresAt });
  }

  /**
   * Tells the worker to close by `deadline` (epoch ms; 0: give up now), sending nothing new from `sendUntil` on.
   * It keeps the earliest of each it was given. With `hold`, the port keeps the process alive until the worker
   * answers 'closed' or release() is called.
   */
  close(deadline: number, hold = false, sendUntil = deadline): void {
    const port = this.#current?.running?.port;
    if (hold) port?.ref();
    this.#post({ type: 'close', deadline, sendUntil });
  }

  /**
   * Tells the worker close's cut-off when close begins: from `sendUntil` on it sends nothing new (the 'cut-off'
   * message); and a later close's `deadline`, when given, which ends it once passed.
   */
  cutOff(sendUntil: number, deadline?: number): void {
    this.#post(deadline === undefined ? { type: 'cut-off', sendUntil } : { type: 'cut-off', sendUntil, deadline });
  }

  /** Close is over (answered or given up on): the port no longer keeps the process alive. */
  release(): void {
    this.#current?.running?.port.unref();
  }

  #post(message: ControlMessage): void {
    this.#current?.running?.port.postMessage(message);
  }
}

/** Answers a worker's token requests from the shared cache (the provider cannot run in a worker). */
function serveTokens(port: MessagePort, tokens: TokenSource): void {
  port.on('message', (message: TokenRequest | { type?: string }) => {
    if (message.type !== 'token-request') return;
    tokens.get().then(
      ({ value, expiresAt }) => port.postMessage({ type: 'token', value, expiresAt } satisfies TokenMessage),
      (error: unknown) => port.postMessage({ type: 'token-error', message: error instanceof Error ? error.message : 'no token' } satisfies TokenMessage),
    );
  });
  // Listening must not keep the process alive (worker-pool.ts unrefs the port for the same reason).
  port.unref();
}
