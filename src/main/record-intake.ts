/**
 * The way in for every record, from the caller's object to an accepted delivery: it is checked and serialised
 * during the call, then placed — its partition, its bytes in the byte budget, its worker — or it waits for what is
 * missing (the connection, its topic's metadata, buffer space), always in call order (invariant 1,
 * docs/invariants.md). From acceptance on, the record belongs to the delivery settlement (deliveries.ts).
 *
 * The main thread's hot path: every method a record passes through on its way to acceptance is in this one class. A
 * send's record goes through it as an object (#place); a sendBatch's records from their call's columns (#placeAt,
 * call-records.ts), with no object per record until each is handed on. Every way out settles the caller: placed,
 * failed with the reason, or failed when the producer closes (invariant 2).
 */
import type { ByteBudget } from './byte-budget.js';
import type { Deliveries } from './deliveries.js';
import type { Settler } from './settlers.js';
import type { SendTracker } from './send-tracker.js';
import { BudgetRuns } from './budget-runs.js';
import { CallColumnsPool, CallRecords } from './call-records.js';
import { PartitionGrouping } from './partition-grouping.js';
import { SubmitBacklog, pendingCall, pendingRecords } from './submit-backlog.js';
import { WaitingSlices, type WaitingSlice } from './waiting-slice.js';
import { WaitingSends, type WaitingSend } from './waiting-sends.js';
import { DeliverySweep } from './delivery-sweep.js';
import type { ResolvedOptions } from './options.js';
import { StickyPartitioner, choosePartition, defaultPartition } from './partitioner.js';
import { checkRecord, prepareRecord, type PreparedRecord, type ProducerRecord } from './serialize.js';
import type { TopicInfo, TopicRegistry } from './topic-registry.js';
import type { WorkerGroup } from './worker-group.js';
import { MAX_RECORD_ENTRY } from './shared-memory.js';
import { MAX_VALUE_PAD, RECORD_HEADER_BYTES } from '../shared/record-entry.js';
import { AbortError, ProducerClosedError, RecordTooLargeError } from '../shared/producer-errors.js';
import { ConfigError } from '../shared/errors.js';
import type { TransactionManager } from './transactions/transaction-manager.js';

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

export interface IntakeContext {
  readonly options: ResolvedOptions;
  readonly budget: ByteBudget;
  readonly deliveries: Deliveries;
  readonly registry: TopicRegistry;
  /** Whether every worker runs (records are placed only then); `connect` starts them. */
  readonly workers: Pick<WorkerGroup, 'started'>;
  readonly sends: SendTracker;
  /** A transactional producer's transaction state; undefined otherwise. */
  readonly transactions: TransactionManager | undefined;
  /** Connects the producer (one attempt shared by every caller). */
  connect(): Promise<void>;
}

export class RecordIntake {
  readonly #context: IntakeContext;
  readonly #options: ResolvedOptions;
  readonly #budget: ByteBudget;
  readonly #deliveries: Deliveries;
  readonly #registry: TopicRegistry;
  readonly #workers: Pick<WorkerGroup, 'started'>;
  readonly #sends: SendTracker;
  readonly #transactions: TransactionManager | undefined;
  readonly #sticky: StickyPartitioner;
  /** Sends waiting for the connection, their topic's metadata or their partition's place in the transaction. */
  readonly #waiting: WaitingSends;
  /** The delivery-timeout sweep; every send begins there. */
  readonly #sweep: DeliverySweep;
  /** Calls whose records are still being submitted, a slice per turn; later calls queue behind them. */
  readonly #backlog = new SubmitBacklog(SUBMIT_SLICE_RECORDS);
  /**
   * A sendBatch slice's records that had room in the budget at once, and a granted slice's records: each handed on
   * grouped by partition (partition-grouping.ts). Two, so that a grant never finds the other's records staged.
   */
  readonly #placed = new PartitionGrouping();
  readonly #granted = new PartitionGrouping();
  /** Reused lists of the positions of a sendBatch's records that wait for buffer space (waiting-slice.ts). */
  readonly #slices = new WaitingSlices();
  /** Reused columns for the calls' records (call-records.ts). */
  readonly #columns = new CallColumnsPool();
  #closed = false;
  /**
   * True while a custom partitioner runs. A send it makes is refused: placed then, it handed the records its caller's
   * slice had staged in #placed to its own settler, so they settled into the wrong call and that call never did.
   */
  #inPartitioner = false;

  constructor(context: IntakeContext) {
    this.#context = context;
    this.#options = context.options;
    this.#budget = context.budget;
    this.#deliveries = context.deliveries;
    this.#registry = context.registry;
    this.#workers = context.workers;
    this.#sends = context.sends;
    this.#transactions = context.transactions;
    this.#sticky = new StickyPartitioner({ batchMaxBytes: context.options.batchMaxBytes });
    this.#waiting = new WaitingSends({
      workers: context.workers,
      connect: () => context.connect(),
      registry: context.registry,
      transactions: context.transactions,
      partition: (prepared, topic) => this.#partition(prepared, topic),
      admitted: (waiting, topic, partition) => this.#admitted(waiting, topic, partition),
      failed: (waiting, error) => this.#fail(waiting.seq, waiting.settler, waiting.position, error),
    });
    this.#sweep = new DeliverySweep(context.deliveries, context.sends);
  }

  /** True once the producer began to close: every record from then on is refused. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Sends, and runs of a call's records, waiting for the connection or their topic (waiting-sends.ts): for tests. */
  get waitingForAdmission(): number {
    return this.#waiting.waiting;
  }

  /** Refuses every record from now on (the producer is closing). */
  close(): void {
    this.#closed = true;
  }

  /**
   * Resolves once every call being submitted now is through its records (placed, or failed when the producer
   * closed); undefined when none is being submitted. What a flush waits for first: those records are sends made
   * before it.
   */
  whenSubmitted(): Promise<void> | undefined {
    return this.#backlog.isEmpty ? undefined : this.#backlog.whenSubmitted();
  }

  /** Every send waiting for the connection fails with why it will not come (a worker failed to start, the credentials). */
  failWaiting(error: Error): void {
    this.#waiting.failAll(error);
  }

  /** Close gave up waiting: every record still being submitted, waiting for buffer space or for its topic fails. */
  failPending(): void {
    this.#backlog.failAll(new ProducerClosedError('not-sent', 'the producer closed before the record was submitted'));
    this.#budget.failAll(new ProducerClosedError('not-sent', 'the producer closed while the record waited for buffer space'));
    this.failWaiting(new ProducerClosedError('not-sent', 'the producer closed while the record waited for its topic'));
  }

  /** Stops the delivery-timeout sweep (close, once nothing is pending any more). */
  stopSweep(): void {
    this.#sweep.stop();
  }

  /**
   * Takes a sendBatch's records. Every record is checked and serialised now, into the call's columns
   * (call-records.ts: no object per record while it waits), so the caller may reuse its objects once this returns;
   * beyond the first slice, or behind an earlier call still being submitted, they are placed in later turns.
   */
  submitBatch(records: readonly ProducerRecord[], signal: AbortSignal | undefined, settler: Settler): void {
    if (this.#inPartitioner) {
      const error = sentFromPartitioner();
      for (let i = 0; i < records.length; i++) settler.reject(i, error);
      return;
    }
    // One clock read for the whole call: every record of a sendBatch is sent at the same moment.
    const now = Date.now();
    const call = new CallRecords(records.length, this.#columns);
    this.#checkAll(records, call, signal, settler, now);
    const { maxBufferedBytes, maxBufferedRecords, bufferTimeoutMs } = this.#options;
    const runs = new BudgetRuns<WaitingSlice>({
      budget: this.#budget,
      sliceBytes: Math.max(1, Math.min(SLICE_MAX_BYTES, Math.floor(maxBufferedBytes / SLICES_PER_BUDGET))),
      sliceRecords: Math.max(1, Math.min(SLICE_MAX_RECORDS, Math.floor(maxBufferedRecords / SLICES_PER_BUDGET))),
      deadline: now + bufferTimeoutMs,
      signal,
      newSlice: () => this.#slices.take(call),
      accept: (slice, acceptedAt) => this.#acceptGranted(slice, settler, signal, acceptedAt),
      fail: (slice, error) => this.#failWaiting(slice, settler, error),
    });
    let placed = 0;
    if (this.#backlog.isEmpty) {
      placed = Math.min(records.length, this.#backlog.sliceRecords);
      this.#placeSlice(call, 0, placed, signal, settler, now, runs);
    }
    if (placed === records.length) call.donePlacing();
    else {
      this.#backlog.push(pendingCall(
        call, placed,
        (position) => this.#placeAt(call, position, signal, settler, now, runs),
        (position, error) => settler.reject(position, error),
        () => {
          this.#placed.acceptAll(this.#deliveries, settler, signal, now);
          runs.flush();
        },
      ));
    }
  }

  /** Checks every record of a sendBatch into its columns; a record that fails its check is rejected at once. */
  #checkAll(records: readonly ProducerRecord[], call: CallRecords, signal: AbortSignal | undefined, settler: Settler, now: number): void {
    const serializer = this.#options.serializer;
    for (let i = 0; i < records.length; i++) {
      try {
        if (this.#closed) throw new ProducerClosedError('not-sent', 'the producer is closed');
        if (signal?.aborted) throw new AbortError('not-sent', 'aborted before send', { cause: signal.reason });
        const checked = checkRecord(records[i]!, serializer, now);
        this.#checkSize(checked);
        call.set(i, checked);
      } catch (error) {
        settler.reject(i, error as Error);
      }
    }
  }

  /** Places the call's records at positions [from, to), then hands on those that had room and queues the rest's slice. */
  #placeSlice(
    call: CallRecords, from: number, to: number, signal: AbortSignal | undefined, settler: Settler, now: number,
    runs: BudgetRuns<WaitingSlice>,
  ): void {
    for (let i = from; i < to; i++) if (call.has(i)) this.#placeAt(call, i, signal, settler, now, runs);
    this.#placed.acceptAll(this.#deliveries, settler, signal, now);
    runs.flush();
  }

  /**
   * Places a sendBatch record from its call's columns, as #place does a record object: staged with the slice's
   * records that had room (#placed), or noted in the call and added to the call's run of waiting records.
   */
  #placeAt(
    call: CallRecords, position: number, signal: AbortSignal | undefined, settler: Settler, now: number,
    runs: BudgetRuns<WaitingSlice>,
  ): void {
    // Placed in a later turn than its call (submit-backlog.ts): the signal may have fired meanwhile.
    if (signal?.aborted) {
      call.forget(position);
      settler.reject(position, new AbortError('not-sent', 'aborted before send', { cause: signal.reason }));
      return;
    }
    const seq = this.#sweep.beginSend();
    const topicName = call.topicName(position);
    const topic = !this.#workers.started || this.#waiting.has(topicName) ? undefined : this.#registry.get(topicName);
    if (topic === undefined) {
      // Waiting for the connection or the topic's metadata: the rare path. In the call's columns, as one run of its
      // records to this topic; with transactions, as a record object (waiting-sends.ts says why).
      if (this.#transactions === undefined) this.#waitInRun(call, position, seq, settler, signal, now, runs);
      else this.#queueFromCall(call, position, seq, settler, signal, now);
      return;
    }
    this.#placeOnTopic(call, position, seq, topic, signal, settler, now, runs);
  }

  /** Places a call's record whose topic is known: its partition, then staged with room or queued for buffer space. */
  #placeOnTopic(
    call: CallRecords, position: number, seq: number, topic: TopicInfo, signal: AbortSignal | undefined, settler: Settler,
    now: number, runs: BudgetRuns<WaitingSlice>,
  ): void {
    const topicName = topic.name;
    let partition: number;
    try {
      partition = this.#partitionAt(call, position, topic);
    } catch (error) {
      call.forget(position);
      this.#fail(seq, settler, position, error as Error);
      return;
    }
    // Transaction protocol v1: a partition new to the transaction is added first, on the admission path.
    if (this.#transactions?.isAdded(topicName, partition) === false) {
      this.#queueFromCall(call, position, seq, settler, signal, now);
      return;
    }
    const size = call.size(position);
    if (!runs.active && this.#budget.tryAcquire(size)) {
      // Staged, and handed on grouped by partition at the end of the slice (#placed), which forgets it then.
      this.#placed.add(call, topic, partition, seq, position);
      return;
    }
    // The staged records precede this one, which waits: they go to the rings first.
    this.#placed.acceptAll(this.#deliveries, settler, signal, now);
    call.place(position, topic, partition, seq);
    runs.sliceFor(size).add(position);
  }

  /** The partition of a call's record: the default partitioner's choice needs no record object. */
  #partitionAt(call: CallRecords, position: number, topic: TopicInfo): number {
    if (call.askedPartition(position) >= 0 || this.#options.partitioner !== 'default') {
      return this.#partition(call.record(position), topic);
    }
    return defaultPartition(call.topicName(position), call.key(position), call.size(position), topic.partitionCount, this.#sticky, topic.available);
  }

  /**
   * A call's record that waits for the connection or its topic's metadata: added to the call's run of records
   * waiting for that topic, or the first of a new run. Its send sequence is kept in the columns meanwhile.
   */
  #waitInRun(
    call: CallRecords, position: number, seq: number, settler: Settler, signal: AbortSignal | undefined, now: number,
    runs: BudgetRuns<WaitingSlice>,
  ): void {
    call.keepSeq(position, seq);
    const topicName = call.topicName(position);
    const open = this.#waiting.openRun(topicName, call);
    if (open !== undefined) {
      open.records.add(position);
      return;
    }
    const records = this.#slices.take(call);
    records.add(position);
    this.#waiting.push({
      topic: topicName, records, signal, deadline: now + this.#options.bufferTimeoutMs, settled: false, stopListening: undefined,
      place: (topic) => this.#placeRun(records, topic, settler, signal, runs),
      fail: (error) => this.#failWaiting(records, settler, error),
    });
  }

  /**
   * A run's topic is known: each of its records is placed in call order, as the call's records are, then those that
   * had room are handed on. Accepted from now, for the delivery timeout, as an admitted send is.
   */
  #placeRun(records: WaitingSlice, topic: TopicInfo, settler: Settler, signal: AbortSignal | undefined, runs: BudgetRuns<WaitingSlice>): void {
    const call = records.call!;
    const now = Date.now();
    for (let i = 0; i < records.length; i++) {
      const p = records.positionAt(i);
      this.#placeOnTopic(call, p, call.seq(p), topic, signal, settler, now, runs);
    }
    this.#slices.give(records);
    this.#placed.acceptAll(this.#deliveries, settler, signal, now);
    runs.flush();
  }

  /** A call's record that has to wait for the connection, its topic or its partition's transaction: as a send would. */
  #queueFromCall(call: CallRecords, position: number, seq: number, settler: Settler, signal: AbortSignal | undefined, now: number): void {
    const prepared = call.record(position);
    call.forget(position);
    this.#queue(prepared, seq, settler, position, signal, now);
  }

  /** A slice of a call's waiting records was granted its bytes: each is handed on, grouped by partition. */
  #acceptGranted(slice: WaitingSlice, settler: Settler, signal: AbortSignal | undefined, acceptedAt: number): void {
    const call = slice.call!;
    for (let i = 0; i < slice.length; i++) {
      const p = slice.positionAt(i);
      this.#granted.add(call, call.placedTopic(p), call.placedPartition(p), call.seq(p), p);
    }
    this.#slices.give(slice);
    this.#granted.acceptAll(this.#deliveries, settler, signal, acceptedAt);
  }

  /** A slice of a call's waiting records timed out or was aborted: each fails, holding no bytes. */
  #failWaiting(slice: WaitingSlice, settler: Settler, error: Error): void {
    const call = slice.call!;
    for (let i = 0; i < slice.length; i++) {
      const p = slice.positionAt(i);
      this.#fail(call.seq(p), settler, p, error);
      call.forget(p);
    }
    this.#slices.give(slice);
  }

  /**
   * Takes one record (send, a writable's write): placed at once, or behind the calls still being submitted. It is
   * checked and serialised now either way.
   */
  submitOne(record: ProducerRecord, signal: AbortSignal | undefined, settler: Settler, position: number): void {
    if (this.#inPartitioner) settler.reject(position, sentFromPartitioner());
    else if (this.#backlog.isEmpty) this.#submit(record, signal, settler, position, Date.now());
    else this.#submitBehind(record, signal, settler, position, Date.now());
  }

  /**
   * Queues one record behind the calls still being submitted. Apart from submitOne on purpose: V8 allocates the
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
   * Accepts the record only if that needs no waiting (trySend): the producer is connected, the topic's metadata is
   * known and the buffer has room; false otherwise, having started the connection or the metadata fetch so that a
   * later call may succeed. Bad input throws; `settler` hears the delivery's outcome.
   */
  trySubmit(record: ProducerRecord, settler: Settler): boolean {
    if (this.#inPartitioner) throw sentFromPartitioner();
    if (this.#closed) return false;
    const now = Date.now();
    const prepared = prepareRecord(record, this.#options.serializer, now);
    this.#checkSize(prepared);
    if (!this.#workers.started) {
      this.#context.connect().catch(() => undefined);
      return false;
    }
    if (!this.#backlog.isEmpty || this.#waiting.has(prepared.topic)) return false; // never overtake earlier sends
    const topic = this.#registry.get(prepared.topic);
    if (topic === undefined) {
      this.#registry.load(prepared.topic, { timeoutMs: this.#options.bufferTimeoutMs }).catch(() => undefined);
      return false;
    }
    const partition = this.#partition(prepared, topic);
    if (!this.#budget.tryAcquire(prepared.size)) return false;
    this.#deliveries.accept(prepared, topic, partition, this.#sweep.beginSend(), settler, 0, undefined, now);
    return true;
  }

  /** Checks the record, then takes the fast path (connected, topic known, room in the budget) or the waiting one. */
  #submit(record: ProducerRecord, signal: AbortSignal | undefined, settler: Settler, position: number, now: number): void {
    const prepared = this.#prepare(record, signal, settler, position, now);
    if (prepared !== undefined) this.#place(prepared, signal, settler, position, now);
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
  #place(prepared: PreparedRecord, signal: AbortSignal | undefined, settler: Settler, position: number, now: number): void {
    // Placed in a later turn than its call (submit-backlog.ts): the signal may have fired meanwhile.
    if (signal?.aborted) {
      settler.reject(position, new AbortError('not-sent', 'aborted before send', { cause: signal.reason }));
      return;
    }
    const seq = this.#sweep.beginSend();
    const topic = !this.#workers.started || this.#waiting.has(prepared.topic) ? undefined : this.#registry.get(prepared.topic);
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
        this.#queue(prepared, seq, settler, position, signal, now);
        return;
      }
      if (this.#budget.tryAcquire(prepared.size)) {
        this.#deliveries.accept(prepared, topic, partition, seq, settler, position, signal, now);
        return;
      }
      // Join the budget's queue now, not after an await: a send made right after this one must find it queued.
      this.#waitForBudget(prepared, topic, partition, now + this.#options.bufferTimeoutMs, seq, settler, position, signal);
      return;
    }
    this.#queue(prepared, seq, settler, position, signal, now);
  }

  /** A send that waits for the connection, its topic's metadata or its partition's place in the transaction. */
  #queue(prepared: PreparedRecord, seq: number, settler: Settler, position: number, signal: AbortSignal | undefined, now: number): void {
    const deadline = now + this.#options.bufferTimeoutMs;
    this.#waiting.push({ prepared, seq, settler, position, signal, deadline, settled: false, stopListening: undefined });
  }

  /** A waiting send was admitted, its topic and partition known: accepted now, or it waits for buffer space. */
  #admitted(waiting: WaitingSend, topic: TopicInfo, partition: number): void {
    const { prepared, seq, settler, position, signal } = waiting;
    if (this.#budget.tryAcquire(prepared.size)) this.#deliveries.accept(prepared, topic, partition, seq, settler, position, signal, Date.now());
    else this.#waitForBudget(prepared, topic, partition, waiting.deadline, seq, settler, position, signal);
  }

  /**
   * Queues for buffer space; the record is accepted inside the grant, so nothing can slip into the ring first.
   * Through the budget's wait(), not an async function around acquire(): a send that waits at full throughput lives
   * through scavenges, and what its wait holds is copied and promoted with it: 280 bytes now, 1,540 with the async
   * function, its promises and a timer of its own (`--expose-gc`, 100,000 waiters). A failure is told in a
   * microtask, as the awaited rejection told it: wait() may report one before it returns, while the send is still
   * being placed.
   */
  #waitForBudget(
    prepared: PreparedRecord,
    topic: TopicInfo,
    partition: number,
    deadline: number,
    seq: number,
    settler: Settler,
    position: number,
    signal: AbortSignal | undefined,
  ): void {
    this.#budget.wait(
      prepared.size, 1, Math.max(0, deadline - Date.now()), signal,
      () => this.#deliveries.accept(prepared, topic, partition, seq, settler, position, signal, Date.now()),
      (error) => queueMicrotask(() => this.#fail(seq, settler, position, error)),
    );
  }

  /** A send that never reached the delivery table failed: it is over for flush, and its caller hears why. */
  #fail(seq: number, settler: Settler, position: number, error: Error): void {
    this.#sends.end(seq);
    settler.reject(position, error);
  }

  #checkSize(prepared: Pick<PreparedRecord, 'size' | 'headers'>): void {
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
    const partitioner = this.#options.partitioner;
    if (partitioner === 'default') return choosePartition(prepared, topic.partitionCount, partitioner, this.#sticky, topic.available);
    this.#inPartitioner = true;
    try {
      return choosePartition(prepared, topic.partitionCount, partitioner, this.#sticky, topic.available);
    } finally {
      this.#inPartitioner = false;
    }
  }
}

/** Why a send made from inside a custom partitioner is refused (see RecordIntake's #inPartitioner). */
function sentFromPartitioner(): ConfigError {
  return new ConfigError('options.partitioner sent a record: a partitioner only chooses a partition, and sends made from inside it are refused');
}
