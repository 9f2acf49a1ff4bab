/**
 * The way in for every record, from the caller's object to an accepted delivery: it is checked and serialised
 * during the call, then placed — its partition, its bytes in the byte budget, its worker — or it waits for what is
 * missing (the connection, its topic's metadata, buffer space), always in call order (invariant 1,
 * docs/invariants.md). From acceptance on, the record belongs to the delivery settlement (deliveries.ts).
 *
 * The main thread's hot path: a send's record goes through this class as an object (#place); a sendBatch's records
 * go through call-intake.ts, from their call's columns, with no object per record until each is handed on. Both
 * share what is here: the sends waiting for the connection or a topic, the calls still being submitted, the
 * delivery-timeout sweep and the partitioner. Every way out settles the caller: placed, failed with the reason, or
 * failed when the producer closes (invariant 2).
 */
import type { ByteBudget } from './byte-budget.js';
import type { Deliveries } from './deliveries.js';
import type { Settler } from './settlers.js';
import type { SendTracker } from './send-tracker.js';
import { CallIntake } from './call-intake.js';
import { SubmitBacklog, pendingRecords } from './submit-backlog.js';
import { WaitingSends, askedBeyond, type WaitingSend } from './waiting-sends.js';
import { DeliverySweep } from './delivery-sweep.js';
import type { ResolvedOptions } from './options.js';
import { StickyPartitioner, choosePartition } from './partitioner.js';
import { prepareRecord, type PreparedRecord, type ProducerRecord } from './serialize.js';
import { checkRecordSize } from './record-size.js';
import type { TopicInfo, TopicRegistry } from './topic-registry.js';
import type { WorkerGroup } from './worker-group.js';
import { AbortError, ProducerClosedError } from '../shared/producer-errors.js';
import { withReason } from './deadlines.js';
import { ConfigError } from '../shared/errors.js';
import { notSent } from './outcomes.js';
import type { TransactionManager } from './transactions/transaction-manager.js';

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
  /** A sendBatch's records, from its call's columns. */
  readonly #calls: CallIntake;
  #closed = false;
  /**
   * True while a custom partitioner runs. A send it makes is refused: placed then, it handed the records its
   * caller's slice had staged (CallIntake's #placed) to its own settler, so they settled into the wrong call and that
   * call never did.
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
    this.#calls = new CallIntake({ ...context, sticky: this.#sticky, waiting: this.#waiting, sweep: this.#sweep, backlog: this.#backlog }, {
      closed: () => this.#closed,
      partition: (prepared, topic) => this.#partition(prepared, topic),
      fail: (seq, settler, position, error) => this.#fail(seq, settler, position, error),
      reject: (settler, position, error) => this.#reject(settler, position, error),
      queue: (prepared, seq, settler, position, signal, now) => this.#queue(prepared, seq, settler, position, signal, now),
    });
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
    // As an aborted send is told: what it waited for, and why that has not come (the last failed attempt).
    this.#waiting.failAll((why) => new ProducerClosedError('not-sent',
      withReason('the producer closed while the record waited for the connection or topic metadata', why)));
  }

  /** Stops the delivery-timeout sweep (close, once nothing is pending any more). */
  stopSweep(): void {
    this.#sweep.stop();
  }

  /** Takes a sendBatch's records (call-intake.ts). */
  submitBatch(records: readonly ProducerRecord[], signal: AbortSignal | undefined, settler: Settler): void {
    if (this.#inPartitioner) {
      const error = sentFromPartitioner();
      for (let i = 0; i < records.length; i++) this.#reject(settler, i, error);
      return;
    }
    this.#calls.submit(records, signal, settler);
  }

  /**
   * Takes one record (send, a writable's write): placed at once, or behind the calls still being submitted. It is
   * checked and serialised now either way.
   */
  submitOne(record: ProducerRecord, signal: AbortSignal | undefined, settler: Settler, position: number): void {
    if (this.#inPartitioner) this.#reject(settler, position, sentFromPartitioner());
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
      (_, error) => this.#reject(settler, position, error),
    ), signal);
  }

  /**
   * Accepts the record only if that needs no waiting (trySend): the producer is connected, the topic's metadata is
   * known and the buffer has room; false otherwise, having started the connection or the metadata fetch so that a
   * later call may succeed. Bad input throws; `settler` hears the delivery's outcome.
   */
  trySubmit(record: ProducerRecord, settler: Settler): boolean {
    if (this.#inPartitioner) throw sentFromPartitioner();
    const now = Date.now();
    const prepared = prepareRecord(record, this.#options.serializer, now);
    checkRecordSize(prepared, this.#options);
    // Thrown, as every other send rejects after close: false says "a later call may succeed", and a loop retrying
    // trySend under a close (a SIGTERM handler's) spun on it for ever; bad input was no longer refused either.
    if (this.#closed) throw new ProducerClosedError('not-sent', 'the producer is closed');
    if (!this.#workers.started) {
      // The topic's metadata is asked for as soon as the connection is up, so that a call after that may succeed.
      // Asked for only at the next call, a second false came first: a caller retrying once a second lost a second.
      const name = prepared.topic;
      const deadline = now + this.#options.bufferTimeoutMs;
      this.#context.connect().then(() => {
        if (!this.#closed) this.#registry.prefetch(name, deadline);
      }, () => undefined);
      return false;
    }
    if (!this.#backlog.isEmpty || this.#waiting.has(prepared.topic)) return false; // never overtake earlier sends
    const topic = this.#registry.get(prepared.topic);
    if (topic === undefined) {
      // No promise or timer per call: a trySend loop on a topic that does not exist made one each.
      this.#registry.prefetch(prepared.topic, now + this.#options.bufferTimeoutMs);
      return false;
    }
    // Refused as bad input still, but a partition added to the topic since the last refresh is seen by a later call.
    if (askedBeyond(prepared.partition, topic)) void this.#registry.refreshedSince(now);
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
      checkRecordSize(prepared, this.#options);
      return prepared;
    } catch (error) {
      this.#reject(settler, position, error as Error);
      return undefined;
    }
  }

  /** Places a checked record: its partition, its bytes in the budget, its worker; or queues it to wait for them. */
  #place(prepared: PreparedRecord, signal: AbortSignal | undefined, settler: Settler, position: number, now: number): void {
    // Placed in a later turn than its call (submit-backlog.ts): the signal may have fired meanwhile.
    if (signal?.aborted) {
      this.#reject(settler, position, new AbortError('not-sent', 'aborted before send', { cause: signal.reason }));
      return;
    }
    const seq = this.#sweep.beginSend();
    const topic = !this.#workers.started || this.#waiting.has(prepared.topic) ? undefined : this.#registry.get(prepared.topic);
    if (topic !== undefined && !askedBeyond(prepared.partition, topic)) {
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
    this.#waiting.push({ prepared, seq, settler, position, signal, deadline, calledAt: now, settled: false, stopListening: undefined });
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
    this.#reject(settler, position, error);
  }

  /**
   * A record's send is rejected before it reached the delivery table: counted in metrics().recordsFailed, as one
   * failed in the table is. Uncounted, a buffer-full storm or a misspelt topic failed every send with the counter at 0.
   */
  #reject(settler: Settler, position: number, error: Error): void {
    this.#deliveries.recordsFailed++;
    settler.reject(position, notSent(error));
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
