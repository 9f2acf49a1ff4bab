/**
 * The Producer, the public façade: validates and serialises records on the main thread, picks their partition,
 * accounts for their bytes, and admits them in call order. From acceptance on, a record belongs to the delivery
 * settlement (deliveries.ts), which hands it to its worker's handle (worker-handle.ts) and settles its caller from
 * the workers' completions; the workers' threads belong to the worker group (worker-group.ts).
 *
 * Every path settles every promise (invariant 2, docs/invariants.md): a send ends resolved, or rejected with an error whose
 * `delivery` says whether the record may still reach the broker; flush and close always end; a crashed worker's
 * records are failed and the worker is replaced.
 */
import { EventEmitter } from 'node:events';
import { ByteBudget } from './byte-budget.js';
import { Deliveries } from './deliveries.js';
import { BatchSettler, DetachedSettler, FailureSettler, SendSettler, type Settler } from './settlers.js';
import { SendTracker } from './send-tracker.js';
import { AdmissionQueue, type Admission } from './admission-queue.js';
import { BudgetRuns } from './budget-runs.js';
import { SubmitBacklog, pendingRecords } from './submit-backlog.js';
import { resolveOptions, type ProducerOptions, type ResolvedOptions } from './options.js';
import { StickyPartitioner, choosePartition } from './partitioner.js';
import { prepareRecord, type PreparedRecord, type ProducerRecord } from './serialize.js';
import { TopicRegistry, type TopicInfo } from './topic-registry.js';
import { WorkerGroup } from './worker-group.js';
import { WorkerHandle } from './worker-handle.js';
import type { CloseOptions, ProducerMetrics, RecordMetadata, SendBatchFailures, SendBatchOptions, SendBatchResult, SendOptions } from './types.js';
import { MAX_RECORD_ENTRY, allocateProducerMemory } from './shared-memory.js';
import type { ControlBlock } from '../shared/control-block.js';
import { workerSettings } from './worker-settings.js';
import { untilAborted, untilDeadline, withDeadline } from './deadlines.js';
import { MAX_VALUE_PAD, RECORD_HEADER_BYTES } from '../shared/record-entry.js';
import { sumWorkerStats } from '../shared/worker-stats.js';
import { AbortError, AuthenticationError, ProducerClosedError, RecordTooLargeError, WorkerStartError } from '../shared/producer-errors.js';
import { ConfigError } from '../shared/errors.js';
import { OAuthTokens } from './oauth-tokens.js';
import type { SaslCredentials } from '../net/sasl.js';
import { channels, type SendBatchContext, type SendContext } from './tracing.js';
import { RecordWritable, type WritableOptions } from './record-writable.js';
import { ProducerIdentityView } from '../shared/producer-identity.js';
import { TransactionStateError } from '../shared/transaction-errors.js';
import { Coordinators } from './transactions/coordinators.js';
import { TransactionManager } from './transactions/transaction-manager.js';
import { checkOffsetsRequest, type OffsetsToCommit } from './transactions/offsets.js';
import type { Transaction, TransactionOptions } from './transactions/transaction.js';
import { firstRejection, inTransaction, runTransaction } from './transactions/run-transaction.js';

/** A send waiting for the connection or its topic's metadata. */
interface WaitingSend extends Admission {
  readonly prepared: PreparedRecord;
  readonly seq: number;
  readonly settler: Settler;
  readonly position: number;
  readonly deadline: number;
}

/** A sendBatch record that waits for buffer space with the rest of its slice (budget-runs.ts). */
interface GrantedSend {
  readonly prepared: PreparedRecord;
  readonly topic: TopicInfo;
  readonly partition: number;
  readonly seq: number;
  readonly position: number;
}

/**
 * Slices of a sendBatch that waits for buffer space: an eighth of the budget (so several are in flight while the
 * next one waits), at most 1 MiB and 4096 records.
 */
const SLICES_PER_BUDGET = 8;
const SLICE_MAX_BYTES = 1024 * 1024;
const SLICE_MAX_RECORDS = 4096;

/**
 * Records of one call submitted at once, and per turn of the event loop after that (submit-backlog.ts): about
 * 1–2 ms of main-thread work, so a large sendBatch leaves room for timers and I/O between its slices.
 */
const SUBMIT_SLICE_RECORDS = 2048;

/** How often the delivery-timeout sweep runs; its timer is also what keeps the process alive while work is pending. */
const SWEEP_INTERVAL_MS = 100;

export class Producer extends EventEmitter {
  readonly #options: ResolvedOptions;
  readonly #control: ControlBlock;
  readonly #budget: ByteBudget;
  readonly #deliveries: Deliveries;
  readonly #workers: WorkerGroup;
  readonly #registry: TopicRegistry;
  readonly #sticky: StickyPartitioner;
  readonly #detached = new DetachedSettler((error) => this.emit('deliveryError', error));
  /**
   * Sends waiting for the connection or their topic's metadata, one FIFO per topic: order matters within a
   * partition, and a topic whose metadata never comes must not hold up the others for bufferTimeoutMs.
   */
  readonly #admissions = new Map<string, AdmissionQueue<WaitingSend>>();
  #connecting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #closed = false;
  readonly #stopLoop = new AbortController();
  #sweepTimer: NodeJS.Timeout | undefined;
  readonly #sends = new SendTracker();
  /** Calls whose records are still being submitted, a slice per turn; later calls queue behind them. */
  readonly #backlog = new SubmitBacklog(SUBMIT_SLICE_RECORDS);
  /** OAUTHBEARER only: the token cache both the metadata connection and the workers draw from. */
  readonly #tokens: OAuthTokens | undefined;
  /** A transactional producer's transaction state (docs/transactions.md); undefined otherwise. */
  readonly #transactions: TransactionManager | undefined;
  readonly #coordinators: Coordinators | undefined;

  constructor(options?: ProducerOptions) {
    super();
    const resolved = (this.#options = resolveOptions(options));
    const { maxBufferedBytes, maxBufferedRecords, batchMaxBytes, sasl, transactionalId } = resolved;
    const { control, recordStates, identity } = allocateProducerMemory(maxBufferedRecords, transactionalId !== null);
    this.#control = control;
    this.#budget = new ByteBudget(control, {
      maxBytes: maxBufferedBytes,
      maxRecords: maxBufferedRecords,
      // Workers stop lingering while anyone waits; one asleep in a long linger must be woken to notice.
      onWaiting: () => this.#workers.wake(),
    });
    let credentials: SaslCredentials | null;
    if (sasl?.mechanism === 'oauthbearer') {
      const tokens = (this.#tokens = new OAuthTokens(sasl.token, resolved.requestTimeoutMs));
      credentials = { mechanism: 'oauthbearer', extensions: sasl.extensions, token: () => tokens.get() };
    } else credentials = sasl;
    const registry = (this.#registry = new TopicRegistry({ ...resolved, sasl: credentials }));
    if (transactionalId !== null && identity !== null) {
      const coordinators = (this.#coordinators = new Coordinators(registry, resolved));
      this.#transactions = new TransactionManager(
        { transactionalId, transactionTimeoutMs: resolved.transactionTimeoutMs, blockMs: resolved.bufferTimeoutMs },
        coordinators, new ProducerIdentityView(identity), () => this.#deliveries.whenEmpty(),
      );
    }
    // One handle per worker for the producer's whole life; the settlement and the group both hold them.
    const handles = Array.from({ length: resolved.workers }, (_, index) => new WorkerHandle(index));
    const deliveries = (this.#deliveries = new Deliveries({
      budget: this.#budget, registry, sends: this.#sends, deliveryTimeoutMs: resolved.deliveryTimeoutMs, recordStates, handles,
      emit: (event, payload) => this.emit(event, payload),
    }));
    this.#workers = new WorkerGroup({
      handles, deliveries, registry, options: resolved, tokens: this.#tokens, transactions: this.#transactions,
      launch: { workerCount: resolved.workers, control: control.buffer, recordStates, identity, settings: workerSettings(resolved) },
      emit: (event, error, index) => this.emit(event, error, index),
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

  /** Starts the workers (the group is usable only once every worker loop runs), then settles their reports. */
  async #start(): Promise<void> {
    await this.#workers.start();
    void this.#deliveries.settleLoop(this.#control, this.#stopLoop.signal);
  }

  /** Sends one record; resolves with where it landed. */
  send(record: ProducerRecord, options: SendOptions = {}): Promise<RecordMetadata> {
    // Checked here, before any closure or context exists: tracing costs nothing while nobody listens.
    if (channels.send.hasSubscribers) {
      const traced: SendContext = { record };
      return channels.send.tracePromise(() => this.#send(traced.record, options), traced);
    }
    return this.#send(record, options);
  }

  #send(record: ProducerRecord, options: SendOptions): Promise<RecordMetadata> {
    const settler = new SendSettler();
    const transactions = this.#transactions;
    if (transactions === undefined) {
      this.#submitOne(record, options.signal, settler, 0);
      return settler.promise;
    }
    try {
      transactions.checkSend();
    } catch (error) {
      return Promise.reject(error as Error);
    }
    this.#submitOne(record, inTransaction(options.signal, transactions), settler, 0);
    transactions.track(settler.promise, () => undefined);
    return settler.promise;
  }

  /**
   * Sends many records; one settled result per record, in order, or with `results: 'failures'` only the failed
   * records (SendBatchOptions). Costs one promise, not one per record. Every record is checked and serialised
   * during the call; beyond the first 2,048 they are placed in later turns of the event loop, a slice per turn, so a
   * large call does not hold the loop (later calls keep their place behind it).
   */
  sendBatch(records: readonly ProducerRecord[], options: SendBatchOptions & { readonly results: 'failures' }): Promise<SendBatchFailures>;
  sendBatch(records: readonly ProducerRecord[], options?: SendBatchOptions & { readonly results?: 'all' | undefined }): Promise<PromiseSettledResult<RecordMetadata>[]>;
  sendBatch(records: readonly ProducerRecord[], options?: SendBatchOptions): Promise<SendBatchResult>;
  sendBatch(records: readonly ProducerRecord[], options: SendBatchOptions = {}): Promise<SendBatchResult> {
    if (channels.sendBatch.hasSubscribers) {
      const traced: SendBatchContext = { records };
      return channels.sendBatch.tracePromise(() => this.#sendBatch(traced.records, options), traced);
    }
    return this.#sendBatch(records, options);
  }

  #sendBatch(records: readonly ProducerRecord[], options: SendBatchOptions): Promise<SendBatchResult> {
    const results = options.results;
    if (results !== undefined && results !== 'all' && results !== 'failures') {
      return Promise.reject(new ConfigError(`sendBatch options.results must be 'all' or 'failures', got ${typeof results === 'string' ? JSON.stringify(results) : String(results)}`));
    }
    const transactions = this.#transactions;
    let signal = options.signal;
    if (transactions !== undefined) {
      try {
        transactions.checkSend();
      } catch (error) {
        return Promise.reject(error as Error);
      }
      signal = inTransaction(signal, transactions);
    }
    const settler = results === 'failures' ? new FailureSettler(records.length) : new BatchSettler(records.length);
    // One clock read for the whole call: every record of a sendBatch is sent at the same moment.
    const now = Date.now();
    const { maxBufferedBytes, maxBufferedRecords, bufferTimeoutMs } = this.#options;
    const runs = new BudgetRuns<GrantedSend>({
      budget: this.#budget,
      sliceBytes: Math.max(1, Math.min(SLICE_MAX_BYTES, Math.floor(maxBufferedBytes / SLICES_PER_BUDGET))),
      sliceRecords: Math.max(1, Math.min(SLICE_MAX_RECORDS, Math.floor(maxBufferedRecords / SLICES_PER_BUDGET))),
      deadline: now + bufferTimeoutMs,
      signal,
      accept: (g, acceptedAt) => this.#deliveries.accept(g.prepared, g.topic, g.partition, g.seq, settler, g.position, signal, acceptedAt),
      fail: (g, error) => this.#fail(g.seq, settler, g.position, error),
    });
    // Every record is checked and serialised now (the caller may reuse its objects once this returns); beyond the
    // first slice, or behind an earlier call still being submitted, they are placed in later turns.
    let placed = 0;
    if (this.#backlog.isEmpty) {
      placed = Math.min(records.length, this.#backlog.sliceRecords);
      for (let i = 0; i < placed; i++) this.#submit(records[i]!, signal, settler, i, now, runs);
      runs.flush();
    }
    if (placed < records.length) this.#submitRestBehind(records, placed, signal, settler, now, runs);
    transactions?.track(settler.promise, firstRejection);
    return settler.promise;
  }

  /**
   * Checks and serialises `records[first…]` now and queues them to be placed a slice per turn, behind the calls
   * still being submitted (apart from #sendBatch so that its loop does not read its variables from a closure's
   * context).
   */
  #submitRestBehind(
    records: readonly ProducerRecord[], first: number, signal: AbortSignal | undefined, settler: Settler, now: number,
    runs: BudgetRuns<GrantedSend>,
  ): void {
    const prepared = new Array<PreparedRecord | undefined>(records.length - first);
    for (let i = first; i < records.length; i++) prepared[i - first] = this.#prepare(records[i]!, signal, settler, i, now);
    this.#backlog.push(pendingRecords(
      prepared, first,
      (record, position) => this.#place(record, signal, settler, position, now, runs),
      (position, error) => settler.reject(position, error),
      () => runs.flush(),
    ));
  }

  /**
   * Submits one record (send, a writable's write): at once, or behind the calls still being submitted. It is checked
   * and serialised now either way.
   */
  #submitOne(record: ProducerRecord, signal: AbortSignal | undefined, settler: Settler, position: number): void {
    if (this.#backlog.isEmpty) this.#submit(record, signal, settler, position, Date.now());
    else this.#submitBehind(record, signal, settler, position, Date.now());
  }

  /**
   * Queues one record behind the calls still being submitted. Apart from #submitOne on purpose: V8 allocates the
   * closures' context on entry to the function that makes them, whichever branch runs, so the common path would
   * pay an allocation per send (measured: `main-thread/send-100B` 30 % slower).
   */
  #submitBehind(record: ProducerRecord, signal: AbortSignal | undefined, settler: Settler, position: number, now: number): void {
    this.#backlog.push(pendingRecords(
      [this.#prepare(record, signal, settler, position, now)], position,
      (prepared) => this.#place(prepared, signal, settler, position, now),
      (_, error) => settler.reject(position, error),
    ));
  }

  /**
   * An object-mode Writable of records for `stream.pipeline`: `write()` returns false when a record has to wait for
   * buffer space, 'finish' comes once every record is acknowledged, a failed record or `signal` destroys it.
   */
  writable(options: WritableOptions = {}): RecordWritable {
    if (this.#transactions !== undefined) throw new TransactionStateError('writable() is not available on a transactional producer: send inside transaction()');
    return new RecordWritable((record, signal, settler, position) => this.#submitOne(record, signal, settler, position), options);
  }

  /**
   * Accepts the record only if that needs no waiting: the producer is connected, the topic's metadata is known
   * and the buffer has room. Returns false otherwise (starting the connection or the metadata fetch, so a later
   * call may succeed). Bad input throws; a delivery failure is emitted as 'deliveryError'.
   */
  trySend(record: ProducerRecord): boolean {
    if (this.#transactions !== undefined) throw new TransactionStateError('trySend() is not available on a transactional producer: send inside transaction()');
    if (this.#closed) return false;
    const now = Date.now();
    const prepared = prepareRecord(record, this.#options.serializer, now);
    this.#checkSize(prepared);
    if (!this.#workers.started) {
      this.connect().catch(() => undefined);
      return false;
    }
    if (!this.#backlog.isEmpty || this.#admissions.get(prepared.topic)?.isEmpty === false) return false; // never overtake earlier sends
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
    record: ProducerRecord, signal: AbortSignal | undefined, settler: Settler, position: number, now: number,
    runs?: BudgetRuns<GrantedSend>,
  ): void {
    const prepared = this.#prepare(record, signal, settler, position, now);
    if (prepared !== undefined) this.#place(prepared, signal, settler, position, now, runs);
  }

  /** Checks and serialises the record; undefined (and the caller rejected) when it cannot be sent. */
  #prepare(record: ProducerRecord, signal: AbortSignal | undefined, settler: Settler, position: number, now: number): PreparedRecord | undefined {
    try {
      if (this.#closed) throw new ProducerClosedError('not-sent', 'the producer is closed');
      if (signal?.aborted) throw new AbortError('not-sent', 'aborted before send', { cause: signal.reason });
      const prepared = prepareRecord(record, this.#options.serializer, now);
      this.#checkSize(prepared);
      return prepared;
    } catch (error) {
      settler.reject(position, error as Error);
      return undefined;
    }
  }

  /** Places a checked record: its partition, its bytes in the budget, its worker; or queues it to wait for them. */
  #place(
    prepared: PreparedRecord, signal: AbortSignal | undefined, settler: Settler, position: number, now: number,
    runs?: BudgetRuns<GrantedSend>,
  ): void {
    // Placed in a later turn than its call (submit-backlog.ts): the signal may have fired meanwhile.
    if (signal?.aborted) {
      settler.reject(position, new AbortError('not-sent', 'aborted before send', { cause: signal.reason }));
      return;
    }
    const seq = this.#beginSend();
    // Most of the time no send waits for metadata at all: skip the per-topic lookup then.
    const queued = this.#admissions.size > 0 && this.#admissions.get(prepared.topic)?.isEmpty === false;
    const topic = !this.#workers.started || queued ? undefined : this.#registry.get(prepared.topic);
    if (topic !== undefined) {
      let partition: number;
      try {
        partition = this.#partition(prepared, topic);
      } catch (error) {
        this.#fail(seq, settler, position, error as Error);
        return;
      }
      // Transaction protocol v1: a partition new to the transaction is added first, on the admission path.
      if (this.#transactions?.isAdded(prepared.topic, partition) === false) {
        this.#queue({ prepared, seq, settler, position, signal, deadline: now + this.#options.bufferTimeoutMs, settled: false, stopListening: undefined });
        return;
      }
      if (runs?.active !== true && this.#budget.tryAcquire(prepared.size)) {
        this.#deliveries.accept(prepared, topic, partition, seq, settler, position, signal, now);
        return;
      }
      if (runs !== undefined) {
        runs.add({ prepared, topic, partition, seq, position }, prepared.size);
        return;
      }
      // Join the budget's queue now, not after an await: a send made right after this one must find it queued.
      void this.#waitForBudget(prepared, topic, partition, now + this.#options.bufferTimeoutMs, seq, settler, position, signal);
      return;
    }
    this.#queue({ prepared, seq, settler, position, signal, deadline: now + this.#options.bufferTimeoutMs, settled: false, stopListening: undefined });
  }

  /** Queues a send behind its topic's earlier waiting sends (admitted in call order by #admit). */
  #queue(waiting: WaitingSend): void {
    let queue = this.#admissions.get(waiting.prepared.topic);
    if (queue === undefined) {
      queue = new AdmissionQueue<WaitingSend>(
        (next) => this.#admit(next),
        (next, error) => this.#fail(next.seq, next.settler, next.position, error),
      );
      this.#admissions.set(waiting.prepared.topic, queue);
    }
    queue.push(waiting);
  }

  /**
   * Admits a send that had to wait for the connection or its topic's metadata, in call order, within
   * bufferTimeoutMs. It ends accepted or queued for buffer space (the budget keeps order from there).
   */
  async #admit(waiting: WaitingSend): Promise<void> {
    // Each waiting send keeps its own bufferTimeoutMs: a failed connection attempt is not retried past it.
    if (!this.#workers.started) await withDeadline(this.connect(), waiting.deadline, 'the connection');
    const { prepared, seq, settler, position, signal } = waiting;
    const topic =
      this.#registry.get(prepared.topic) ??
      (await this.#registry.load(prepared.topic, { timeoutMs: Math.max(0, waiting.deadline - Date.now()) }));
    if (waiting.settled) return; // aborted meanwhile
    const partition = this.#partition(prepared, topic);
    await this.#transactions?.addPartition(prepared.topic, partition);
    if (waiting.settled) return;
    // Settled from here by the budget wait (grant, timeout or abort), not by the admission queue.
    waiting.settled = true;
    waiting.stopListening?.();
    if (this.#budget.tryAcquire(prepared.size)) this.#deliveries.accept(prepared, topic, partition, seq, settler, position, signal, Date.now());
    else void this.#waitForBudget(prepared, topic, partition, waiting.deadline, seq, settler, position, signal);
  }

  /** Queues for buffer space; the record is accepted inside the grant, so nothing can slip into the ring first. */
  async #waitForBudget(
    prepared: PreparedRecord,
    topic: TopicInfo,
    partition: number,
    deadline: number,
    seq: number,
    settler: Settler,
    position: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    try {
      await this.#budget.acquire(prepared.size, {
        timeoutMs: Math.max(0, deadline - Date.now()),
        signal,
        onGranted: () => this.#deliveries.accept(prepared, topic, partition, seq, settler, position, signal, Date.now()),
      });
    } catch (error) {
      this.#fail(seq, settler, position, error as Error);
    }
  }

  /** A send that never reached the delivery table failed: it is over for flush, and its caller hears why. */
  #fail(seq: number, settler: Settler, position: number, error: Error): void {
    this.#sends.end(seq);
    settler.reject(position, error);
  }

  #checkSize(prepared: PreparedRecord): void {
    const size = prepared.size;
    const limit = Math.min(this.#options.maxBufferedBytes, this.#options.maxRequestBytes);
    if (size > limit) {
      throw new RecordTooLargeError(`record of ${size} bytes exceeds ${size > this.#options.maxBufferedBytes ? 'maxBufferedBytes' : 'maxRequestBytes'} (${limit})`);
    }
    // A record travels to its worker as one ring entry, at most half the ring (whatever maxRequestBytes says).
    if (size + RECORD_HEADER_BYTES + MAX_VALUE_PAD + 8 * prepared.headers.length > MAX_RECORD_ENTRY) {
      throw new RecordTooLargeError(`record of ${size} bytes exceeds the ${MAX_RECORD_ENTRY}-byte limit of a worker's record ring`);
    }
  }

  #partition(prepared: PreparedRecord, topic: TopicInfo): number {
    return choosePartition(prepared, topic.partitionCount, this.#options.partitioner, this.#sticky, topic.available);
  }

  /** A send begins. The sweep timer runs only while work is pending: it keeps the process alive then, never when idle. */
  #beginSend(): number {
    this.#sweepTimer ??= setInterval(() => this.#sweep(), SWEEP_INTERVAL_MS);
    return this.#sends.begin();
  }

  #sweep(): void {
    this.#deliveries.expire(Date.now());
    if (this.#sends.open === 0 && this.#deliveries.count === 0 && !this.#sends.flushing) {
      clearInterval(this.#sweepTimer);
      this.#sweepTimer = undefined;
    }
  }

  /** Resolves when every `send` made before it has its result. Workers stop lingering meanwhile. */
  flush(options: SendOptions = {}): Promise<void> {
    if (channels.flush.hasSubscribers) return channels.flush.tracePromise(() => this.#flush(options), {});
    return this.#flush(options);
  }

  async #flush(options: SendOptions): Promise<void> {
    const { signal } = options;
    if (signal?.aborted) throw new AbortError('not-sent', 'flush aborted', { cause: signal.reason });
    // Records of calls made before this flush that are still being submitted count too: they are sends made before it.
    if (!this.#backlog.isEmpty) await untilAborted(this.#backlog.whenSubmitted(), signal, 'flush aborted; the records it waited for go on');
    if (this.#sends.open === 0) return;
    this.#control.beginFlush();
    this.#workers.wake();
    try {
      await this.#sends.flushed(signal);
    } finally {
      this.#control.endFlush();
    }
  }

  /**
   * Runs `fn` in a transaction: commits when it resolves, aborts when it throws or `signal` aborts (then rejects
   * with what went wrong). Records sent through `tx` become visible to read_committed consumers only on commit.
   * Needs `transactionalId`; one transaction at a time.
   */
  async transaction<T>(fn: (tx: Transaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const { signal } = options;
    if (signal?.aborted) throw new AbortError('not-sent', 'transaction aborted before it began', { cause: signal.reason });
    await this.beginTransaction();
    return runTransaction(this, this.#transactions!, fn, signal);
  }

  /** Opens a transaction (connecting first if needed). Sends are refused outside one on a transactional producer. */
  async beginTransaction(): Promise<void> {
    const transactions = this.#requireTransactions('beginTransaction');
    if (this.#closed) throw new ProducerClosedError('not-sent', 'the producer is closed');
    await this.connect();
    await transactions.begin();
  }

  /** Commits the open transaction once every record sent in it is acknowledged (workers stop lingering meanwhile). */
  async commitTransaction(options: SendOptions = {}): Promise<void> {
    const transactions = this.#requireTransactions('commitTransaction');
    this.#hurrySends();
    await transactions.commit(options.signal);
  }

  /** Aborts the open transaction: unsent records are dropped, written ones are never visible to read_committed readers. */
  async abortTransaction(options: SendOptions = {}): Promise<void> {
    const transactions = this.#requireTransactions('abortTransaction');
    this.#hurrySends();
    await transactions.abort(options.signal);
  }

  /** A flush nobody waits for: the workers send what they hold at once instead of lingering (a transaction ends). */
  #hurrySends(): void {
    this.#flush({}).catch(() => undefined);
  }

  /** Commits consumed offsets with the open transaction (consume-transform-produce, exactly once). */
  async sendOffsets(request: OffsetsToCommit, options: SendOptions = {}): Promise<void> {
    const transactions = this.#requireTransactions('sendOffsets');
    checkOffsetsRequest(request);
    await transactions.sendOffsets(request, options.signal);
  }

  #requireTransactions(method: string): TransactionManager {
    if (this.#transactions === undefined) throw new TransactionStateError(`${method}() needs options.transactionalId`);
    return this.#transactions;
  }

  /**
   * Sends what is buffered and waits for it, then releases workers, sockets and timers so the process can exit.
   * With `timeoutMs` or `signal`, whatever has no result by then fails with ProducerClosedError.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (channels.close.hasSubscribers) return channels.close.tracePromise(() => this.#close(options), {});
    return this.#close(options);
  }

  #close(options: CloseOptions): Promise<void> {
    if (this.#closing === undefined) this.#closing = this.#shutdown(options);
    else this.#hurryClose(options); // a later close may only bring the deadline forward
    return this.#closing;
  }

  /** Tells the workers a close deadline (they keep the earliest they were given), now or when `signal` aborts. */
  #hurryClose({ timeoutMs, signal }: CloseOptions): void {
    if (timeoutMs !== undefined) this.#workers.hurry(Date.now() + timeoutMs);
    if (signal?.aborted) this.#workers.hurry(0);
    else signal?.addEventListener('abort', () => this.#workers.hurry(0), { once: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #shutdown({ timeoutMs, signal }: CloseOptions): Promise<void> {
    this.#closed = true; // no new sends from here
    this.#workers.stopReplacing();
    this.#control.setClosing();
    const deadline = timeoutMs === undefined ? Number.MAX_SAFE_INTEGER : Date.now() + timeoutMs;
    // A transaction still open is aborted rather than left to the coordinator's timeout: its records never show.
    if (this.#transactions !== undefined) await untilDeadline(this.#transactions.closeOpen(signal).catch(() => undefined), deadline, signal);
    // Close flushes first: every send made before it — waiting for metadata, for buffer space or for its
    // answer — gets its result, within the deadline and unless the signal aborts. Only then is anything failed.
    await untilDeadline(this.flush().catch(() => undefined), deadline, signal);
    this.#backlog.failAll(new ProducerClosedError('not-sent', 'the producer closed before the record was submitted'));
    this.#budget.failAll(new ProducerClosedError('not-sent', 'the producer closed while the record waited for buffer space'));
    const closedError = new ProducerClosedError('not-sent', 'the producer closed while the record waited for its topic');
    for (const queue of this.#admissions.values()) queue.failAll(closedError);
    await this.#connecting?.catch(() => undefined);
    // Records accepted but still queued for ring space are sent too, before the workers are told to close.
    await this.#workers.close(deadline, signal);
    this.#deliveries.drain();
    // Anything still unsettled (records queued for a full ring, a worker gone) fails now.
    this.#deliveries.failQueued(undefined, new ProducerClosedError('not-sent', 'the producer closed before the record was sent'));
    this.#deliveries.failLive(undefined, (delivery) => new ProducerClosedError(delivery, 'the producer closed before the record had a result'));
    this.#stopLoop.abort();
    clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
    await this.#workers.destroy();
    this.#tokens?.close();
    await this.#coordinators?.close();
    await this.#registry.close();
  }

  metrics(): ProducerMetrics {
    const stats = this.#workers.stats();
    return {
      bufferedBytes: this.#budget.bufferedBytes,
      bufferedRecords: this.#budget.bufferedRecords,
      waiters: this.#budget.waiting,
      recordsSent: this.#deliveries.recordsSent,
      bytesSent: this.#deliveries.bytesSent,
      batches: this.#deliveries.batches,
      recordsFailed: this.#deliveries.recordsFailed,
      ...sumWorkerStats(stats),
      workers: stats.length,
    };
  }
}
