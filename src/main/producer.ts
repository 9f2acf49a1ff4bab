/**
 * The Producer: validates and serialises records on the main thread, picks their partition, accounts for their
 * bytes, hands them to the worker that owns the partition through a SharedArrayBuffer ring, and settles each
 * caller from the workers' completions (one per batch).
 *
 * Every path settles every promise (DESIGN invariant 2): a send ends resolved, or rejected with an error whose
 * `delivery` says whether the record may still reach the broker; flush and close always end; a crashed worker's
 * records are failed and the worker is replaced.
 */
import { EventEmitter } from 'node:events';
import { ByteBudget } from './byte-budget.js';
import { DeliveryTable, type OutcomeSink } from './delivery-table.js';
import { BatchSink, DetachedSink, SingleSink } from './outcome-sinks.js';
import { SignalWatch } from './signal-watch.js';
import { AdmissionQueue, type Admission } from './admission-queue.js';
import { resolveOptions, type ProducerOptions, type ResolvedOptions } from './options.js';
import { StickyPartitioner, choosePartition } from './partitioner.js';
import { prepareRecord, type PreparedRecord, type ProducerRecord } from './serialize.js';
import { TopicRegistry, type TopicInfo } from './topic-registry.js';
import { WorkerPool } from './worker-pool.js';
import { WorkerSlot } from './worker-slot.js';
import { failureFor, releasedError, type ReleaseReason } from './outcomes.js';
import type { CloseOptions, ProducerMetrics, RecordMetadata, SendOptions } from './types.js';
import { createControlBlock } from '../shared/control-block.js';
import { CompletionKind, readCompletion, type Completion } from '../shared/completion-entry.js';
import { RecordState, cancel, createRecordStates } from '../shared/record-states.js';
import { ownerOf } from '../shared/worker-protocol.js';
import { WorkerStat } from '../shared/worker-stats.js';
import { AbortError, ProducerClosedError, RecordTooLargeError, WorkerCrashedError } from '../shared/producer-errors.js';
import { InitProducerId } from '../protocol/apis/init-producer-id.js';
import { Codec } from '../protocol/compression.js';
import { brokerError } from '../protocol/error-codes.js';
import { KafkaProducerError } from '../shared/errors.js';

/** A send waiting for the connection or its topic's metadata. */
interface WaitingSend extends Admission {
  readonly prepared: PreparedRecord;
  readonly seq: number;
  readonly sink: OutcomeSink;
  readonly slot: number;
  readonly deadline: number;
}

/** How often the delivery-timeout sweep runs; its timer is also what keeps the process alive while work is pending. */
const SWEEP_INTERVAL_MS = 100;

export class Producer extends EventEmitter {
  readonly #options: ResolvedOptions;
  readonly #control = createControlBlock();
  readonly #budget: ByteBudget;
  readonly #states: Uint8Array;
  readonly #table: DeliveryTable;
  readonly #registry: TopicRegistry;
  readonly #sticky: StickyPartitioner;
  readonly #signals = new SignalWatch((ids, reason) => {
    for (const id of ids) this.#release(id, 'abort', reason);
  });
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
  #sendSeq = 0;
  #openSends = 0;
  #flushes: { target: number; remaining: number; resolve: () => void }[] = [];
  #recordsSent = 0;
  #bytesSent = 0;
  #batches = 0;
  #recordsFailed = 0;

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
    this.#states = createRecordStates(maxBufferedRecords);
    this.#table = new DeliveryTable(maxBufferedRecords);
    this.#registry = new TopicRegistry(this.#options);
    this.#sticky = new StickyPartitioner({ batchMaxBytes });
  }

  /** Connects to the cluster, obtains a producer id (idempotence) and starts the workers. `send` calls it too. */
  connect(): Promise<void> {
    if (this.#closed) return Promise.reject(new ProducerClosedError('not-sent', 'the producer is closed'));
    this.#connecting ??= this.#start().catch((error: unknown) => {
      this.#connecting = undefined; // a later call may try again
      throw error;
    });
    return this.#connecting;
  }

  async #start(): Promise<void> {
    const { producerId, producerEpoch } = await this.#initProducerId();
    const count = this.#options.workers;
    this.#pool = new WorkerPool(count);
    this.#slots = Array.from({ length: count }, (_, i) => this.#newSlot(i));
    for (const slot of this.#slots) this.#run(slot, producerId, producerEpoch);
    void this.#completionLoop();
  }

  #newSlot(index: number): WorkerSlot {
    return new WorkerSlot(index, {
      topicName: (topicIndex) => this.#registry.byIndex(topicIndex)!.name,
      written: (recordId) => (this.#table.inRing[recordId] = 1),
      discarded: (recordId) => this.#forget(recordId, false),
    });
  }

  async #initProducerId(): Promise<{ producerId: bigint; producerEpoch: number }> {
    if (!this.#options.idempotent) return { producerId: -1n, producerEpoch: -1 };
    // A freshly started cluster answers COORDINATOR_LOAD_IN_PROGRESS / NOT_AVAILABLE for a while: retriable errors
    // and lost connections are retried with backoff for up to bufferTimeoutMs (Java's max.block.ms).
    const deadline = Date.now() + this.#options.bufferTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      let failure: KafkaProducerError;
      try {
        const connection = await this.#registry.connection();
        const response = await connection.request(InitProducerId, { transactionalId: null, transactionTimeoutMs: 60_000 });
        if (response.errorCode === 0) return { producerId: response.producerId, producerEpoch: response.producerEpoch };
        failure = brokerError(response.errorCode, 'InitProducerId failed');
      } catch (error) {
        if (!(error instanceof KafkaProducerError)) throw error;
        failure = error;
      }
      const wait = Math.min(this.#options.retryBackoffMaxMs, this.#options.retryBackoffMs * 2 ** Math.min(attempt, 10));
      if (!failure.retriable || this.#closed || Date.now() + wait > deadline) throw failure;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  #run(slot: WorkerSlot, producerId: bigint, producerEpoch: number): void {
    const o = this.#options;
    slot.running = this.#pool!.start({
      workerIndex: slot.index,
      workerCount: this.#slots.length,
      producerId,
      producerEpoch,
      control: this.#control.buffer,
      recordStates: this.#states.buffer as SharedArrayBuffer,
      recordRing: slot.recordRing,
      completionRing: slot.completionRing,
      stats: slot.statsBuffer,
      settings: {
        brokers: o.brokers.map(({ host, port }) => `${host}:${port}`),
        clientId: o.clientId,
        acks: o.acks,
        idempotent: o.idempotent,
        codec: Codec[o.compression],
        lingerMs: o.lingerMs,
        batchMaxBytes: o.batchMaxBytes,
        maxRequestBytes: o.maxRequestBytes,
        requestTimeoutMs: o.requestTimeoutMs,
        deliveryTimeoutMs: o.deliveryTimeoutMs,
        maxInFlight: o.maxInFlight,
        retryBackoffMs: o.retryBackoffMs,
        retryBackoffMaxMs: o.retryBackoffMaxMs,
        connectTimeoutMs: o.connectTimeoutMs,
      },
    });
    slot.running.done.catch((error: unknown) => this.#onWorkerCrash(slot, error));
  }

  /** Sends one record; resolves with where it landed. */
  send(record: ProducerRecord, options: SendOptions = {}): Promise<RecordMetadata> {
    const sink = new SingleSink();
    this.#submit(record, options.signal, sink, 0);
    return sink.promise;
  }

  /** Sends many records; one settled result per record, in order. Costs one promise, not one per record. */
  sendBatch(records: readonly ProducerRecord[], options: SendOptions = {}): Promise<PromiseSettledResult<RecordMetadata>[]> {
    const sink = new BatchSink(records.length);
    for (let i = 0; i < records.length; i++) this.#submit(records[i]!, options.signal, sink, i);
    return sink.promise;
  }

  /**
   * Accepts the record only if that needs no waiting: the producer is connected, the topic's metadata is known
   * and the buffer has room. Returns false otherwise (starting the connection or the metadata fetch, so a later
   * call may succeed). Bad input throws; a delivery failure is emitted as 'deliveryError'.
   */
  trySend(record: ProducerRecord): boolean {
    if (this.#closed) return false;
    const prepared = prepareRecord(record, this.#options.serializer, Date.now());
    this.#checkSize(prepared.size);
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
    this.#accept(prepared, topic, partition, this.#beginSend(), this.#detached, 0, undefined);
    return true;
  }

  /** Checks the record, then takes the fast path (connected, topic known, room in the budget) or the waiting one. */
  #submit(record: ProducerRecord, signal: AbortSignal | undefined, sink: OutcomeSink, slot: number): void {
    let prepared: PreparedRecord;
    try {
      if (this.#closed) throw new ProducerClosedError('not-sent', 'the producer is closed');
      if (signal?.aborted) throw new AbortError('not-sent', 'aborted before send', { cause: signal.reason });
      prepared = prepareRecord(record, this.#options.serializer, Date.now());
      this.#checkSize(prepared.size);
    } catch (error) {
      sink.reject(slot, error as Error);
      return;
    }
    const seq = this.#beginSend();
    const queued = this.#admissions.get(prepared.topic)?.isEmpty === false;
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
      if (this.#budget.tryAcquire(prepared.size)) {
        this.#accept(prepared, topic, partition, seq, sink, slot, signal);
        return;
      }
      // Join the budget's queue now, not after an await: a send made right after this one must find it queued.
      void this.#waitForBudget(prepared, topic, partition, Date.now() + this.#options.bufferTimeoutMs, seq, sink, slot, signal);
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
    queue.push({ prepared, seq, sink, slot, signal, deadline: Date.now() + this.#options.bufferTimeoutMs, settled: false, onAbort: undefined });
  }

  /**
   * Admits a send that had to wait for the connection or its topic's metadata, in call order, within
   * bufferTimeoutMs. It ends accepted or queued for buffer space (the budget keeps order from there).
   */
  async #admit(entry: WaitingSend): Promise<void> {
    await this.connect();
    const { prepared } = entry;
    const topic =
      this.#registry.get(prepared.topic) ??
      (await this.#registry.load(prepared.topic, { timeoutMs: Math.max(0, entry.deadline - Date.now()) }));
    if (entry.settled) return; // aborted meanwhile
    if (this.#closed) throw new ProducerClosedError('not-sent', 'the producer closed while the record waited for its topic');
    const partition = this.#partition(prepared, topic);
    // Settled from here by the budget wait (grant, timeout or abort), not by the admission queue.
    entry.settled = true;
    if (entry.onAbort !== undefined) entry.signal?.removeEventListener('abort', entry.onAbort);
    if (this.#budget.tryAcquire(prepared.size)) this.#accept(prepared, topic, partition, entry.seq, entry.sink, entry.slot, entry.signal);
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
        onGranted: () => this.#accept(prepared, topic, partition, seq, sink, slot, signal),
      });
    } catch (error) {
      this.#endSend(seq);
      sink.reject(slot, error as Error);
    }
  }

  #checkSize(size: number): void {
    const limit = Math.min(this.#options.maxBufferedBytes, this.#options.maxRequestBytes);
    if (size > limit) {
      throw new RecordTooLargeError(`record of ${size} bytes exceeds ${size > this.#options.maxBufferedBytes ? 'maxBufferedBytes' : 'maxRequestBytes'} (${limit})`);
    }
  }

  #partition(prepared: PreparedRecord, topic: TopicInfo): number {
    return choosePartition(prepared, topic.partitionCount, this.#options.partitioner, this.#sticky, topic.available);
  }

  /** The record has its bytes in the budget: give it an id and hand it to its partition's worker. */
  #accept(prepared: PreparedRecord, topic: TopicInfo, partition: number, seq: number, sink: OutcomeSink, slot: number, signal: AbortSignal | undefined): void {
    const t = this.#table;
    const id = t.allocate();
    const worker = ownerOf(topic.index, partition, this.#slots.length);
    t.size[id] = prepared.size;
    t.partition[id] = partition;
    t.topicIndex[id] = topic.index;
    t.worker[id] = worker;
    t.timestamp[id] = prepared.timestamp;
    t.deadline[id] = Date.now() + this.#options.deliveryTimeoutMs;
    t.sendSeq[id] = seq;
    t.sink[id] = sink;
    t.slot[id] = slot;
    t.signal[id] = signal;
    t.track(id);
    Atomics.store(this.#states, id, RecordState.buffered);
    if (signal !== undefined) this.#signals.watch(signal, id);
    this.#ensureSweep();
    t.inRing[id] = this.#slots[worker]!.write(id, topic.index, partition, prepared) ? 1 : 0;
  }

  /**
   * Releases a caller before its record's outcome is known (abort, delivery timeout, close), saying honestly
   * what happened to the record (DESIGN invariant 5). A record the worker has not sealed is taken back with a CAS
   * and never sent; a sealed one is in a request: the caller hears 'unknown' and the outcome comes as 'lateOutcome'.
   */
  #release(id: number, reason: ReleaseReason, cause?: unknown): void {
    const t = this.#table;
    if (t.sink[id] === undefined) return;
    if (t.inRing[id] === 0) {
      // Still queued for ring space: never reaches the worker. Its bytes go back now; its id once the queue has
      // passed it (WorkerSlot calls `discarded`), so the id cannot be reused while the queue still holds it.
      this.#slots[t.worker[id]!]!.unqueue(id);
      this.#settleFailed(id, releasedError(reason, 'not-sent', cause));
      this.#budget.release(t.size[id]!, 1);
      t.size[id] = 0;
      return;
    }
    const delivery = cancel(this.#states, id) ? 'not-sent' : 'unknown';
    // Bytes stay counted until the worker reports the record (dropped or its outcome): memory stays bounded.
    this.#settleFailed(id, releasedError(reason, delivery, cause));
  }

  /** Detaches the caller of record `id` (returns its sink and slot), or undefined when it was settled already. */
  #detach(id: number): OutcomeSink | undefined {
    const t = this.#table;
    const sink = t.sink[id];
    if (sink === undefined) return undefined;
    t.sink[id] = undefined;
    const signal = t.signal[id];
    if (signal !== undefined) this.#signals.unwatch(signal, id);
    this.#endSend(t.sendSeq[id]!);
    return sink;
  }

  #settleFailed(id: number, error: Error): void {
    const sink = this.#detach(id);
    if (sink === undefined) {
      this.emit('lateOutcome', { error, topic: this.#registry.byIndex(this.#table.topicIndex[id]!)?.name, partition: this.#table.partition[id] });
      return;
    }
    this.#recordsFailed++;
    sink.reject(this.#table.slot[id]!, error);
  }

  /** Forgets a reported record: its id is free again, and optionally its bytes go back to the budget at once. */
  #forget(id: number, releaseBytes: boolean): void {
    const size = this.#table.size[id]!;
    this.#table.free(id);
    Atomics.store(this.#states, id, RecordState.free);
    if (releaseBytes) this.#budget.release(size, 1);
  }

  async #completionLoop(): Promise<void> {
    const control = this.#control;
    while (!this.#stopLoop.signal.aborted) {
      const seen = control.completionSeq;
      this.#drainCompletions();
      await control.waitForCompletion(seen, { signal: this.#stopLoop.signal });
    }
  }

  #drainCompletions(): void {
    for (const slot of this.#slots) {
      const reader = slot.reader;
      for (let n; (n = reader.read()) >= 0; ) this.#complete(readCompletion(reader.data, reader.offset));
      reader.release();
    }
  }

  /** One batch's outcome: settle its callers, then give its bytes back in one release (one wake-up per batch). */
  #complete(completion: Completion): void {
    const ids = completion.recordIds;
    const t = this.#table;
    const delivered = completion.kind === CompletionKind.delivered;
    const failure = completion.kind === CompletionKind.failed ? failureFor(completion) : undefined;
    const topic = this.#registry.byIndex(completion.topicIndex)?.name ?? '';
    let bytes = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      bytes += t.size[id]!;
      if (delivered) {
        const metadata: RecordMetadata = {
          topic,
          partition: completion.partition,
          offset: completion.baseOffset < 0 ? -1 : completion.baseOffset + i,
          timestamp: completion.timestamp >= 0 ? completion.timestamp : t.timestamp[id]!,
        };
        const sink = this.#detach(id);
        if (sink !== undefined) sink.resolve(t.slot[id]!, metadata);
        else this.emit('lateOutcome', { metadata, topic, partition: completion.partition });
      } else if (failure !== undefined) this.#settleFailed(id, failure);
      this.#forget(id, false);
    }
    if (delivered) {
      this.#batches++;
      this.#recordsSent += ids.length;
      this.#bytesSent += bytes;
    }
    if (ids.length > 0) this.#budget.release(bytes, ids.length);
  }

  #beginSend(): number {
    this.#openSends++;
    this.#ensureSweep();
    return ++this.#sendSeq;
  }

  #endSend(seq: number): void {
    this.#openSends--;
    for (let i = 0; i < this.#flushes.length; i++) {
      const flush = this.#flushes[i]!;
      if (seq <= flush.target && --flush.remaining === 0) {
        this.#flushes.splice(i--, 1);
        flush.resolve();
      }
    }
  }

  /** The sweep timer runs only while work is pending: it keeps the process alive then, and never when idle. */
  #ensureSweep(): void {
    this.#sweepTimer ??= setInterval(() => this.#sweep(), SWEEP_INTERVAL_MS);
  }

  #sweep(): void {
    const expired: number[] = [];
    this.#table.expired(Date.now(), expired);
    for (const id of expired) this.#release(id, 'timeout');
    if (this.#openSends === 0 && this.#table.count === 0 && this.#flushes.length === 0) {
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
    if (this.#openSends === 0) return;
    this.#control.beginFlush();
    this.#wakeWorkers();
    let onAbort: (() => void) | undefined;
    const flush = { target: this.#sendSeq, remaining: this.#openSends, resolve: () => {} };
    try {
      await new Promise<void>((resolve, reject) => {
        flush.resolve = resolve;
        this.#flushes.push(flush);
        if (signal !== undefined) {
          onAbort = () => reject(new AbortError('not-sent', 'flush aborted; the records it waited for go on', { cause: signal.reason }));
          signal.addEventListener('abort', onAbort, { once: true });
        }
      });
    } finally {
      const at = this.#flushes.indexOf(flush);
      if (at >= 0) this.#flushes.splice(at, 1);
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
      this.#control.endFlush();
    }
  }

  /**
   * Sends what is buffered and waits for it, then releases workers, sockets and timers so the process can exit.
   * With `timeoutMs` or `signal`, whatever has no result by then fails with ProducerClosedError.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#shutdown(options);
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #shutdown({ timeoutMs, signal }: CloseOptions): Promise<void> {
    this.#closed = true;
    this.#control.setClosing();
    this.#budget.failAll(new ProducerClosedError('not-sent', 'the producer closed while the record waited for buffer space'));
    const closedError = new ProducerClosedError('not-sent', 'the producer closed while the record waited for its topic');
    for (const queue of this.#admissions.values()) queue.failAll(closedError);
    const deadline = timeoutMs === undefined ? Number.MAX_SAFE_INTEGER : Date.now() + timeoutMs;
    const connecting = this.#connecting?.catch(() => undefined);
    await connecting;
    const giveUp = (): void => {
      for (const slot of this.#slots) slot.running?.port.postMessage({ type: 'close', deadline: 0 });
    };
    signal?.addEventListener('abort', giveUp, { once: true });
    try {
      for (const slot of this.#slots) {
        // Ref'd while close waits for the worker's 'closed' message: nothing else may keep the loop alive now.
        slot.running?.port.ref();
        slot.running?.port.postMessage({ type: 'close', deadline: signal?.aborted ? 0 : deadline });
      }
      this.#wakeWorkers();
      await Promise.allSettled(this.#slots.map((slot) => slot.running?.done));
      for (const slot of this.#slots) slot.running?.port.unref();
    } finally {
      signal?.removeEventListener('abort', giveUp);
    }
    this.#drainCompletions();
    // Anything still unsettled (records queued for a full ring, a worker gone) fails now.
    for (const slot of this.#slots) this.#failQueued(slot, new ProducerClosedError('not-sent', 'the producer closed before the record was sent'));
    this.#failLive(() => true, (delivery) => new ProducerClosedError(delivery, 'the producer closed before the record had a result'));
    this.#stopLoop.abort();
    clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
    await this.#pool?.destroy();
    await this.#registry.close();
  }

  /** Stops a slot's queue and fails the records still waiting in it for ring space: they never reached a worker. */
  #failQueued(slot: WorkerSlot, error: Error): void {
    slot.stop();
    for (const id of slot.takeQueued()) {
      this.#settleFailed(id, error);
      this.#forget(id, true);
    }
  }

  /** Fails every live record `which` selects; sealed ones may have been written ('unknown'), others were not. */
  #failLive(which: (id: number) => boolean, error: (delivery: 'not-sent' | 'unknown') => Error): void {
    for (const id of this.#table.live()) {
      if (!which(id)) continue;
      this.#settleFailed(id, error(Atomics.load(this.#states, id) === RecordState.sealed ? 'unknown' : 'not-sent'));
      this.#forget(id, true);
    }
  }

  /** A worker thread died: its records fail (honestly: sealed ones may have been written), and it is replaced. */
  async #onWorkerCrash(slot: WorkerSlot, error: unknown): Promise<void> {
    if (this.#closed) return;
    this.emit('workerCrash', error, slot.index);
    this.#drainCompletions();
    const message = `worker ${slot.index} crashed: ${String(error)}`;
    this.#failQueued(slot, new WorkerCrashedError('not-sent', message, { cause: error }));
    this.#failLive(
      (id) => this.#table.worker[id] === slot.index,
      (delivery) => new WorkerCrashedError(delivery, message, { cause: error }),
    );
    const replacement = this.#newSlot(slot.index);
    this.#slots[slot.index] = replacement;
    // A fresh producer id: the dead worker's sequence numbers died with it, and reusing them would be refused.
    // Records for its partitions wait in the new ring until it runs; retried until it does or the producer closes.
    for (let attempt = 0; !this.#closed; attempt++) {
      try {
        const { producerId, producerEpoch } = await this.#initProducerId();
        if (!this.#closed) this.#run(replacement, producerId, producerEpoch);
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, this.#options.retryBackoffMaxMs));
      }
    }
  }

  metrics(): ProducerMetrics {
    let requestsInFlight = 0;
    let requests = 0;
    let retries = 0;
    let errors = 0;
    let throttleTimeMs = 0;
    for (const { stats } of this.#slots) {
      requestsInFlight += stats.get(WorkerStat.REQUESTS_IN_FLIGHT);
      requests += stats.get(WorkerStat.REQUESTS);
      retries += stats.get(WorkerStat.RETRIES);
      errors += stats.get(WorkerStat.ERRORS);
      throttleTimeMs += stats.get(WorkerStat.THROTTLE_MS);
    }
    return {
      bufferedBytes: this.#budget.bufferedBytes,
      bufferedRecords: this.#budget.bufferedRecords,
      waiters: this.#budget.waiting,
      recordsSent: this.#recordsSent,
      bytesSent: this.#bytesSent,
      batches: this.#batches,
      recordsFailed: this.#recordsFailed,
      requests,
      requestsInFlight,
      retries,
      batchErrors: errors,
      throttleTimeMs,
      workers: this.#slots.length,
    };
  }
}
