/**
 * The Producer: validates and serialises records on the main thread, picks their partition, accounts for their
 * bytes, hands them to the worker that owns the partition through a SharedArrayBuffer ring, and settles each
 * caller from the workers' completions (one per batch).
 *
 * Every path settles every promise (invariant 2, docs/invariants.md): a send ends resolved, or rejected with an error whose
 * `delivery` says whether the record may still reach the broker; flush and close always end; a crashed worker's
 * records are failed and the worker is replaced.
 */
import { EventEmitter } from 'node:events';
import type { MessagePort } from 'node:worker_threads';
import { ByteBudget } from './byte-budget.js';
import type { OutcomeSink } from './delivery-table.js';
import { Deliveries } from './deliveries.js';
import { BatchSink, DetachedSink, SingleSink } from './outcome-sinks.js';
import { SendTracker } from './send-tracker.js';
import { NO_PRODUCER_ID, initProducerId, type ProducerIdentity } from './producer-id.js';
import { AdmissionQueue, type Admission } from './admission-queue.js';
import { BudgetRuns } from './budget-runs.js';
import { resolveOptions, type ProducerOptions, type ResolvedOptions } from './options.js';
import { StickyPartitioner, choosePartition } from './partitioner.js';
import { prepareRecord, type PreparedRecord, type ProducerRecord } from './serialize.js';
import { TopicRegistry, type TopicInfo } from './topic-registry.js';
import { WorkerPool } from './worker-pool.js';
import { WorkerSlot } from './worker-slot.js';
import type { CloseOptions, ProducerMetrics, RecordMetadata, SendOptions } from './types.js';
import { createControlBlock } from '../shared/control-block.js';
import { workerSettings } from './worker-settings.js';
import { untilDeadline, withDeadline } from './deadlines.js';
import { MAX_RECORD_ENTRY } from './worker-slot.js';
import { RECORD_HEADER_BYTES } from '../shared/record-entry.js';
import { sumWorkerStats } from '../shared/worker-stats.js';
import {
  AbortError, AuthenticationError, ProducerClosedError, RecordTooLargeError, WorkerCrashedError, WorkerStartError,
} from '../shared/producer-errors.js';
import { OAuthTokens } from './oauth-tokens.js';
import type { SaslCredentials } from '../net/sasl.js';
import type { TokenMessage, TokenRequest } from '../shared/worker-protocol.js';

/** A send waiting for the connection or its topic's metadata. */
interface WaitingSend extends Admission {
  readonly prepared: PreparedRecord;
  readonly seq: number;
  readonly sink: OutcomeSink;
  readonly slot: number;
  readonly deadline: number;
}

/** A sendBatch record that waits for buffer space with the rest of its slice (budget-runs.ts). */
interface GrantedSend {
  readonly prepared: PreparedRecord;
  readonly topic: TopicInfo;
  readonly partition: number;
  readonly seq: number;
  readonly slot: number;
}

/**
 * Slices of a sendBatch that waits for buffer space: an eighth of the budget (so several are in flight while the
 * next one waits), at most 1 MiB and 4096 records.
 */
const SLICES_PER_BUDGET = 8;
const SLICE_MAX_BYTES = 1024 * 1024;
const SLICE_MAX_RECORDS = 4096;

/** Records settled per turn of the event loop before the completion loop yields (about 2–5 ms of work). */
const SETTLE_SLICE_RECORDS = 4096;

/** How often the delivery-timeout sweep runs; its timer is also what keeps the process alive while work is pending. */
const SWEEP_INTERVAL_MS = 100;

export class Producer extends EventEmitter {
  readonly #options: ResolvedOptions;
  readonly #control = createControlBlock();
  readonly #budget: ByteBudget;
  readonly #deliveries: Deliveries;
  readonly #registry: TopicRegistry;
  readonly #sticky: StickyPartitioner;
  readonly #detached = new DetachedSink((error) => this.emit('deliveryError', error));
  /**
   * Sends waiting for the connection or their topic's metadata, one FIFO per topic: order matters within a
   * partition, and a topic whose metadata never comes must not hold up the others for bufferTimeoutMs.
   */
  readonly #admissions = new Map<string, AdmissionQueue<WaitingSend>>();
  #pool: WorkerPool | undefined;
  #slots: WorkerSlot[] = [];
  #connecting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #closed = false;
  readonly #stopLoop = new AbortController();
  #sweepTimer: NodeJS.Timeout | undefined;
  readonly #sends = new SendTracker();
  /** OAUTHBEARER only: the token cache both the metadata connection and the workers draw from. */
  readonly #tokens: OAuthTokens | undefined;

  constructor(options?: ProducerOptions) {
    super();
    this.#options = resolveOptions(options);
    const { maxBufferedBytes, maxBufferedRecords, batchMaxBytes } = this.#options;
    this.#budget = new ByteBudget(this.#control, {
      maxBytes: maxBufferedBytes,
      maxRecords: maxBufferedRecords,
      // Workers stop lingering while anyone waits; one asleep in a long linger must be woken to notice.
      onWaiting: () => this.#wakeWorkers(),
    });
    const { sasl } = this.#options;
    let credentials: SaslCredentials | null = null;
    if (sasl?.mechanism === 'oauthbearer') {
      const tokens = new OAuthTokens(sasl.token, this.#options.requestTimeoutMs);
      this.#tokens = tokens;
      credentials = { mechanism: 'oauthbearer', extensions: sasl.extensions, token: () => tokens.get() };
      // Each refreshed token goes to every worker before its connections need one.
      tokens.onRefresh(({ value, expiresAt }) => {
        for (const slot of this.#slots) slot.running?.port.postMessage({ type: 'token', value, expiresAt } satisfies TokenMessage);
      });
    } else {
      credentials = sasl;
    }
    this.#registry = new TopicRegistry({ ...this.#options, sasl: credentials });
    this.#deliveries = new Deliveries(maxBufferedRecords, {
      budget: this.#budget,
      registry: this.#registry,
      sends: this.#sends,
      deliveryTimeoutMs: this.#options.deliveryTimeoutMs,
      slots: () => this.#slots,
      emit: (event, payload) => this.emit(event, payload),
    });
    this.#sticky = new StickyPartitioner({ batchMaxBytes });
  }

  /** Connects to the cluster, obtains a producer id (idempotence) and starts the workers. `send` calls it too. */
  connect(): Promise<void> {
    // While closing, sends made before close may still need the connection that is under way; nothing new starts.
    if (this.#closed && this.#connecting === undefined) return Promise.reject(new ProducerClosedError('not-sent', 'the producer is closed'));
    this.#connecting ??= this.#start().catch((error: unknown) => {
      this.#connecting = undefined; // a later call may try again
      // Every send waiting now waited for this attempt: it fails with it, rather than each start its own.
      if (error instanceof WorkerStartError || error instanceof AuthenticationError) {
        for (const queue of this.#admissions.values()) queue.failAll(error);
      }
      throw error;
    });
    return this.#connecting;
  }

  /**
   * The pool and slots are published only once every worker loop runs: until then sends wait for the connection,
   * so a start that fails leaves no record behind in a ring nobody reads. A failed start stops the threads that
   * did start, so nothing is left running.
   */
  async #start(): Promise<void> {
    const { producerId, producerEpoch } = await this.#initProducerId();
    const count = this.#options.workers;
    const pool = new WorkerPool(count);
    const slots = Array.from({ length: count }, (_, i) => this.#newSlot(i));
    try {
      await Promise.all(slots.map((slot) => this.#run(slot, producerId, producerEpoch, pool)));
    } catch (error) {
      await pool.destroy().catch(() => undefined); // the start's error is the one to report
      throw error;
    }
    this.#pool = pool;
    this.#slots = slots;
    void this.#completionLoop();
  }

  #newSlot(index: number): WorkerSlot {
    return new WorkerSlot(index, {
      topicName: (topicIndex) => this.#registry.byIndex(topicIndex)!.name,
      written: (recordId) => this.#deliveries.written(recordId),
      discarded: (recordId) => this.#deliveries.forget(recordId, true),
    });
  }

  #initProducerId(): Promise<ProducerIdentity> {
    if (!this.#options.idempotent) return Promise.resolve(NO_PRODUCER_ID);
    return initProducerId(this.#registry, this.#options, () => this.#closed);
  }

  /** Starts the worker loop of `slot`; resolves when it runs, rejects with WorkerStartError if it never does. */
  #run(slot: WorkerSlot, producerId: bigint, producerEpoch: number, pool = this.#pool!): Promise<void> {
    const running = pool.start({
      workerIndex: slot.index,
      workerCount: this.#options.workers,
      producerId,
      producerEpoch,
      control: this.#control.buffer,
      recordStates: this.#deliveries.states.buffer as SharedArrayBuffer,
      recordRing: slot.recordRing,
      completionRing: slot.completionRing,
      stats: slot.statsBuffer,
      settings: workerSettings(this.#options),
    });
    slot.running = running;
    if (this.#tokens !== undefined) this.#serveTokens(running.port, this.#tokens);
    // Only a worker that ran and died is a crash; one that never started is reported through `started`.
    running.done.catch((error: unknown) => running.started.then(() => this.#onWorkerCrash(slot, error), () => undefined));
    return running.started;
  }

  /** Answers a worker's token requests from the shared cache (the provider cannot run in a worker). */
  #serveTokens(port: MessagePort, tokens: OAuthTokens): void {
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

  /** Sends one record; resolves with where it landed. */
  send(record: ProducerRecord, options: SendOptions = {}): Promise<RecordMetadata> {
    const sink = new SingleSink();
    this.#submit(record, options.signal, sink, 0, Date.now());
    return sink.promise;
  }

  /** Sends many records; one settled result per record, in order. Costs one promise, not one per record. */
  sendBatch(records: readonly ProducerRecord[], options: SendOptions = {}): Promise<PromiseSettledResult<RecordMetadata>[]> {
    const sink = new BatchSink(records.length);
    // One clock read for the whole call: every record of a sendBatch is sent at the same moment.
    const now = Date.now();
    const { signal } = options;
    const { maxBufferedBytes, maxBufferedRecords, bufferTimeoutMs } = this.#options;
    const runs = new BudgetRuns<GrantedSend>({
      budget: this.#budget,
      sliceBytes: Math.max(1, Math.min(SLICE_MAX_BYTES, Math.floor(maxBufferedBytes / SLICES_PER_BUDGET))),
      sliceRecords: Math.max(1, Math.min(SLICE_MAX_RECORDS, Math.floor(maxBufferedRecords / SLICES_PER_BUDGET))),
      deadline: now + bufferTimeoutMs,
      signal,
      accept: (g, acceptedAt) => this.#deliveries.accept(g.prepared, g.topic, g.partition, g.seq, sink, g.slot, signal, acceptedAt),
      fail: (g, error) => {
        this.#endSend(g.seq);
        sink.reject(g.slot, error);
      },
    });
    for (let i = 0; i < records.length; i++) this.#submit(records[i]!, signal, sink, i, now, runs);
    runs.flush();
    return sink.promise;
  }

  /**
   * Accepts the record only if that needs no waiting: the producer is connected, the topic's metadata is known
   * and the buffer has room. Returns false otherwise (starting the connection or the metadata fetch, so a later
   * call may succeed). Bad input throws; a delivery failure is emitted as 'deliveryError'.
   */
  trySend(record: ProducerRecord): boolean {
    if (this.#closed) return false;
    const now = Date.now();
    const prepared = prepareRecord(record, this.#options.serializer, now);
    this.#checkSize(prepared);
    if (this.#pool === undefined) {
      this.connect().catch(() => undefined);
      return false;
    }
    if (this.#admissions.get(prepared.topic)?.isEmpty === false) return false; // never overtake earlier sends
    const topic = this.#registry.get(prepared.topic);
    if (topic === undefined) {
      this.#registry.load(prepared.topic, { timeoutMs: this.#options.bufferTimeoutMs }).catch(() => undefined);
      return false;
    }
    const partition = this.#partition(prepared, topic);
    if (!this.#budget.tryAcquire(prepared.size)) return false;
    this.#deliveries.accept(prepared, topic, partition, this.#beginSend(), this.#detached, 0, undefined, now);
    return true;
  }

  /** Checks the record, then takes the fast path (connected, topic known, room in the budget) or the waiting one. */
  #submit(
    record: ProducerRecord, signal: AbortSignal | undefined, sink: OutcomeSink, slot: number, now: number,
    runs?: BudgetRuns<GrantedSend>,
  ): void {
    let prepared: PreparedRecord;
    try {
      if (this.#closed) throw new ProducerClosedError('not-sent', 'the producer is closed');
      if (signal?.aborted) throw new AbortError('not-sent', 'aborted before send', { cause: signal.reason });
      prepared = prepareRecord(record, this.#options.serializer, now);
      this.#checkSize(prepared);
    } catch (error) {
      sink.reject(slot, error as Error);
      return;
    }
    const seq = this.#beginSend();
    // Most of the time no send waits for metadata at all: skip the per-topic lookup then.
    const queued = this.#admissions.size > 0 && this.#admissions.get(prepared.topic)?.isEmpty === false;
    const topic = this.#pool === undefined || queued ? undefined : this.#registry.get(prepared.topic);
    if (topic !== undefined) {
      let partition: number;
      try {
        partition = this.#partition(prepared, topic);
      } catch (error) {
        this.#endSend(seq);
        sink.reject(slot, error as Error);
        return;
      }
      if (runs?.active !== true && this.#budget.tryAcquire(prepared.size)) {
        this.#deliveries.accept(prepared, topic, partition, seq, sink, slot, signal, now);
        return;
      }
      if (runs !== undefined) {
        runs.add({ prepared, topic, partition, seq, slot }, prepared.size);
        return;
      }
      // Join the budget's queue now, not after an await: a send made right after this one must find it queued.
      void this.#waitForBudget(prepared, topic, partition, now + this.#options.bufferTimeoutMs, seq, sink, slot, signal);
      return;
    }
    let queue = this.#admissions.get(prepared.topic);
    if (queue === undefined) {
      queue = new AdmissionQueue<WaitingSend>(
        (entry) => this.#admit(entry),
        (entry, error) => {
          this.#endSend(entry.seq);
          entry.sink.reject(entry.slot, error);
        },
      );
      this.#admissions.set(prepared.topic, queue);
    }
    queue.push({ prepared, seq, sink, slot, signal, deadline: now + this.#options.bufferTimeoutMs, settled: false, onAbort: undefined });
  }

  /**
   * Admits a send that had to wait for the connection or its topic's metadata, in call order, within
   * bufferTimeoutMs. It ends accepted or queued for buffer space (the budget keeps order from there).
   */
  async #admit(entry: WaitingSend): Promise<void> {
    // Each waiting send keeps its own bufferTimeoutMs: a failed connection attempt is not retried past it.
    if (this.#pool === undefined) await withDeadline(this.connect(), entry.deadline, 'the connection');
    const { prepared } = entry;
    const topic =
      this.#registry.get(prepared.topic) ??
      (await this.#registry.load(prepared.topic, { timeoutMs: Math.max(0, entry.deadline - Date.now()) }));
    if (entry.settled) return; // aborted meanwhile
    const partition = this.#partition(prepared, topic);
    // Settled from here by the budget wait (grant, timeout or abort), not by the admission queue.
    entry.settled = true;
    if (entry.onAbort !== undefined) entry.signal?.removeEventListener('abort', entry.onAbort);
    if (this.#budget.tryAcquire(prepared.size)) this.#deliveries.accept(prepared, topic, partition, entry.seq, entry.sink, entry.slot, entry.signal, Date.now());
    else void this.#waitForBudget(prepared, topic, partition, entry.deadline, entry.seq, entry.sink, entry.slot, entry.signal);
  }

  /** Queues for buffer space; the record is accepted inside the grant, so nothing can slip into the ring first. */
  async #waitForBudget(
    prepared: PreparedRecord,
    topic: TopicInfo,
    partition: number,
    deadline: number,
    seq: number,
    sink: OutcomeSink,
    slot: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    try {
      await this.#budget.acquire(prepared.size, {
        timeoutMs: Math.max(0, deadline - Date.now()),
        signal,
        onGranted: () => this.#deliveries.accept(prepared, topic, partition, seq, sink, slot, signal, Date.now()),
      });
    } catch (error) {
      this.#endSend(seq);
      sink.reject(slot, error as Error);
    }
  }

  #checkSize(prepared: PreparedRecord): void {
    const size = prepared.size;
    const limit = Math.min(this.#options.maxBufferedBytes, this.#options.maxRequestBytes);
    if (size > limit) {
      throw new RecordTooLargeError(`record of ${size} bytes exceeds ${size > this.#options.maxBufferedBytes ? 'maxBufferedBytes' : 'maxRequestBytes'} (${limit})`);
    }
    // A record travels to its worker as one ring entry, at most half the ring (whatever maxRequestBytes says).
    if (size + RECORD_HEADER_BYTES + 8 * prepared.headers.length > MAX_RECORD_ENTRY) {
      throw new RecordTooLargeError(`record of ${size} bytes exceeds the ${MAX_RECORD_ENTRY}-byte limit of a worker's record ring`);
    }
  }

  #partition(prepared: PreparedRecord, topic: TopicInfo): number {
    return choosePartition(prepared, topic.partitionCount, this.#options.partitioner, this.#sticky, topic.available);
  }

  async #completionLoop(): Promise<void> {
    const control = this.#control;
    // The main thread's side of the completion signal (steps of test/shared/models/completion-signal.pml).
    while (!this.#stopLoop.signal.aborted) {
      const seen = control.completionSeq; // M1 (`snapshot`)
      // Settling is sliced: after a slice, timers and I/O run before the next one (the loop stays free).
      if (this.#deliveries.drain(SETTLE_SLICE_RECORDS)) await new Promise((resolve) => setImmediate(resolve)); // M2 (`drain`)
      else await control.waitForCompletion(seen, { signal: this.#stopLoop.signal }); // M3–M6
    }
  }

  #beginSend(): number {
    this.#ensureSweep();
    return this.#sends.begin();
  }

  #endSend(seq: number): void {
    this.#sends.end(seq);
  }

  /** The sweep timer runs only while work is pending: it keeps the process alive then, and never when idle. */
  #ensureSweep(): void {
    this.#sweepTimer ??= setInterval(() => this.#sweep(), SWEEP_INTERVAL_MS);
  }

  #sweep(): void {
    this.#deliveries.expire(Date.now());
    if (this.#sends.open === 0 && this.#deliveries.count === 0 && !this.#sends.flushing) {
      clearInterval(this.#sweepTimer);
      this.#sweepTimer = undefined;
    }
  }

  #wakeWorkers(): void {
    for (const slot of this.#slots) slot.wake();
  }

  /** Resolves when every `send` made before it has its result. Workers stop lingering meanwhile. */
  async flush(options: SendOptions = {}): Promise<void> {
    const { signal } = options;
    if (signal?.aborted) throw new AbortError('not-sent', 'flush aborted', { cause: signal.reason });
    if (this.#sends.open === 0) return;
    this.#control.beginFlush();
    this.#wakeWorkers();
    try {
      await this.#sends.flushed(signal);
    } finally {
      this.#control.endFlush();
    }
  }

  /**
   * Sends what is buffered and waits for it, then releases workers, sockets and timers so the process can exit.
   * With `timeoutMs` or `signal`, whatever has no result by then fails with ProducerClosedError.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.#closing === undefined) this.#closing = this.#shutdown(options);
    else this.#hurryClose(options); // a later close may only bring the deadline forward
    return this.#closing;
  }

  /** Tells the workers a close deadline (they keep the earliest they were given), now or when `signal` aborts. */
  #hurryClose({ timeoutMs, signal }: CloseOptions): void {
    const tell = (deadline: number): void => {
      for (const slot of this.#slots) slot.running?.port.postMessage({ type: 'close', deadline });
    };
    if (timeoutMs !== undefined) tell(Date.now() + timeoutMs);
    if (signal?.aborted) tell(0);
    else signal?.addEventListener('abort', () => tell(0), { once: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #shutdown({ timeoutMs, signal }: CloseOptions): Promise<void> {
    this.#closed = true; // no new sends from here
    this.#control.setClosing();
    const deadline = timeoutMs === undefined ? Number.MAX_SAFE_INTEGER : Date.now() + timeoutMs;
    // Close flushes first: every send made before it — waiting for metadata, for buffer space or for its
    // answer — gets its result, within the deadline and unless the signal aborts. Only then is anything failed.
    await untilDeadline(this.flush().catch(() => undefined), deadline, signal);
    this.#budget.failAll(new ProducerClosedError('not-sent', 'the producer closed while the record waited for buffer space'));
    const closedError = new ProducerClosedError('not-sent', 'the producer closed while the record waited for its topic');
    for (const queue of this.#admissions.values()) queue.failAll(closedError);
    const connecting = this.#connecting?.catch(() => undefined);
    await connecting;
    const giveUp = (): void => {
      for (const slot of this.#slots) slot.running?.port.postMessage({ type: 'close', deadline: 0 });
    };
    signal?.addEventListener('abort', giveUp, { once: true });
    try {
      // Records accepted but still queued for ring space are sent too: the workers read their rings until told
      // to close, so the queues drain first (within the deadline, and unless the signal aborts).
      await untilDeadline(Promise.all(this.#slots.map((slot) => slot.drained())), deadline, signal);
      for (const slot of this.#slots) {
        // Ref'd while close waits for the worker's 'closed' message: nothing else may keep the loop alive now.
        slot.running?.port.ref();
        slot.running?.port.postMessage({ type: 'close', deadline: signal?.aborted ? 0 : deadline });
      }
      this.#wakeWorkers();
      // Bounded like everything else in close: a worker that cannot finish by the deadline (blocked, frozen, its
      // completion ring never drained) is not waited for. Its records fail below, and destroy() ends its thread.
      await untilDeadline(Promise.allSettled(this.#slots.map((slot) => slot.running?.done)), deadline, signal);
      for (const slot of this.#slots) slot.running?.port.unref();
    } finally {
      signal?.removeEventListener('abort', giveUp);
    }
    this.#deliveries.drain();
    // Anything still unsettled (records queued for a full ring, a worker gone) fails now.
    for (const slot of this.#slots) this.#deliveries.failQueued(slot, new ProducerClosedError('not-sent', 'the producer closed before the record was sent'));
    this.#deliveries.failLive(undefined, (delivery) => new ProducerClosedError(delivery, 'the producer closed before the record had a result'));
    this.#stopLoop.abort();
    clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
    await this.#pool?.destroy();
    this.#tokens?.close();
    await this.#registry.close();
  }

  /** A worker thread died: its records fail (honestly: sealed ones may have been written), and it is replaced. */
  async #onWorkerCrash(slot: WorkerSlot, error: unknown): Promise<void> {
    if (this.#closed) return;
    this.emit('workerCrash', error, slot.index);
    this.#deliveries.drain();
    const message = `worker ${slot.index} crashed: ${String(error)}`;
    this.#deliveries.failQueued(slot, new WorkerCrashedError('not-sent', message, { cause: error }));
    this.#deliveries.failLive(slot.index, (delivery) => new WorkerCrashedError(delivery, message, { cause: error }));
    const replacement = this.#newSlot(slot.index);
    this.#slots[slot.index] = replacement;
    // A fresh producer id: the dead worker's sequence numbers died with it, and reusing them would be refused.
    // Records for its partitions wait in the new ring until it runs; retried until it does or the producer closes.
    for (let attempt = 0; !this.#closed; attempt++) {
      try {
        const { producerId, producerEpoch } = await this.#initProducerId();
        if (!this.#closed) await this.#run(replacement, producerId, producerEpoch);
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, this.#options.retryBackoffMaxMs));
      }
    }
  }

  metrics(): ProducerMetrics {
    return {
      bufferedBytes: this.#budget.bufferedBytes,
      bufferedRecords: this.#budget.bufferedRecords,
      waiters: this.#budget.waiting,
      recordsSent: this.#deliveries.recordsSent,
      bytesSent: this.#deliveries.bytesSent,
      batches: this.#deliveries.batches,
      recordsFailed: this.#deliveries.recordsFailed,
      ...sumWorkerStats(this.#slots.map((slot) => slot.stats)),
      workers: this.#slots.length,
    };
  }
}
