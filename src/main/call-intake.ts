/**
 * A sendBatch's records, from the caller's objects to acceptance (record-intake.ts takes every other record). They
 * are checked and serialised into their call's columns during the call (call-records.ts), then placed from the
 * columns, with no object per record until each is handed on: their partition, their bytes in the byte budget in
 * slices (budget-runs.ts), and on to the delivery settlement grouped by partition (partition-grouping.ts). A record
 * that waits for the connection or its topic joins its call's run of records to that topic (waiting-sends.ts).
 * Call order holds throughout (invariant 1, docs/invariants.md), and every way out settles the caller
 * (invariant 2).
 *
 * The main thread's hot path for sendBatch: every method a call's record passes through on its way to acceptance is
 * in this one class.
 */
import type { ByteBudget } from './byte-budget.js';
import type { Deliveries } from './deliveries.js';
import type { Settler } from './settlers.js';
import { BudgetRuns } from './budget-runs.js';
import { CallColumnsPool, CallRecords } from './call-records.js';
import { PartitionGrouping } from './partition-grouping.js';
import { pendingCall, type SubmitBacklog } from './submit-backlog.js';
import { WaitingSlices, type WaitingSlice } from './waiting-slice.js';
import type { WaitingSends } from './waiting-sends.js';
import type { DeliverySweep } from './delivery-sweep.js';
import type { ResolvedOptions } from './options.js';
import { defaultPartition, type StickyPartitioner } from './partitioner.js';
import { checkRecord, type PreparedRecord, type ProducerRecord } from './serialize.js';
import { checkRecordSize } from './record-size.js';
import type { TopicInfo, TopicRegistry } from './topic-registry.js';
import type { WorkerGroup } from './worker-group.js';
import { AbortError, ProducerClosedError } from '../shared/producer-errors.js';
import type { TransactionManager } from './transactions/transaction-manager.js';

/**
 * Slices of a sendBatch that waits for buffer space: an eighth of the budget (so several are in flight while the
 * next one waits), at most 1 MiB and 4096 records.
 */
const SLICES_PER_BUDGET = 8;
const SLICE_MAX_BYTES = 1024 * 1024;
const SLICE_MAX_RECORDS = 4096;

/** The record intake's parts a call's records go through, shared with the records of send (record-intake.ts). */
export interface CallIntakeParts {
  readonly options: ResolvedOptions;
  readonly budget: ByteBudget;
  readonly deliveries: Deliveries;
  readonly registry: TopicRegistry;
  readonly workers: Pick<WorkerGroup, 'started'>;
  readonly transactions: TransactionManager | undefined;
  readonly sticky: StickyPartitioner;
  readonly waiting: WaitingSends;
  readonly sweep: DeliverySweep;
  /** Calls whose records are still being submitted; a call's records beyond its first slice queue here. */
  readonly backlog: SubmitBacklog;
}

/** What the record intake does for a call's record. */
export interface CallIntakeHooks {
  /** The producer began to close: every record from then on is refused. */
  closed(): boolean;
  /** A partitioner other than the default one chooses (guarded against sends from inside it). */
  partition(prepared: PreparedRecord, topic: TopicInfo): number;
  /** A record that never reached the delivery table failed. */
  fail(seq: number, settler: Settler, position: number, error: Error): void;
  /** As `fail`, for a record that has no send sequence yet (refused before it was placed). */
  reject(settler: Settler, position: number, error: Error): void;
  /**
   * A record waits as a send does, as an object: with transactions, for the connection, its topic or its partition's
   * place in the transaction (waiting-sends.ts says why).
   */
  queue(prepared: PreparedRecord, seq: number, settler: Settler, position: number, signal: AbortSignal | undefined, now: number): void;
}

export class CallIntake {
  readonly #options: ResolvedOptions;
  readonly #budget: ByteBudget;
  readonly #deliveries: Deliveries;
  readonly #registry: TopicRegistry;
  readonly #workers: Pick<WorkerGroup, 'started'>;
  readonly #transactions: TransactionManager | undefined;
  readonly #sticky: StickyPartitioner;
  readonly #waiting: WaitingSends;
  readonly #sweep: DeliverySweep;
  readonly #backlog: SubmitBacklog;
  readonly #hooks: CallIntakeHooks;
  /**
   * A slice's records that had room in the budget at once, and a granted slice's records: each handed on grouped by
   * partition (partition-grouping.ts). Two, so that a grant never finds the other's records staged.
   */
  readonly #placed = new PartitionGrouping();
  readonly #granted = new PartitionGrouping();
  /** Reused lists of the positions of a call's records that wait for buffer space (waiting-slice.ts). */
  readonly #slices = new WaitingSlices();
  /** Reused columns for the calls' records (call-records.ts). */
  readonly #columns = new CallColumnsPool();

  constructor(parts: CallIntakeParts, hooks: CallIntakeHooks) {
    this.#options = parts.options;
    this.#budget = parts.budget;
    this.#deliveries = parts.deliveries;
    this.#registry = parts.registry;
    this.#workers = parts.workers;
    this.#transactions = parts.transactions;
    this.#sticky = parts.sticky;
    this.#waiting = parts.waiting;
    this.#sweep = parts.sweep;
    this.#backlog = parts.backlog;
    this.#hooks = hooks;
  }

  /**
   * Takes a sendBatch's records. Every record is checked and serialised now, into the call's columns
   * (call-records.ts: no object per record while it waits), so the caller may reuse its objects once this returns;
   * beyond the first slice, or behind an earlier call still being submitted, they are placed in later turns.
   */
  submit(records: readonly ProducerRecord[], signal: AbortSignal | undefined, settler: Settler): void {
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
      timeoutMs: bufferTimeoutMs,
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
        (position, error) => this.#hooks.reject(settler, position, error),
        () => {
          this.#placed.acceptAll(this.#deliveries, settler, signal, now);
          runs.flush();
        },
      ), signal);
    }
  }

  /** Checks every record of a sendBatch into its columns; a record that fails its check is rejected at once. */
  #checkAll(records: readonly ProducerRecord[], call: CallRecords, signal: AbortSignal | undefined, settler: Settler, now: number): void {
    const serializer = this.#options.serializer;
    for (let i = 0; i < records.length; i++) {
      try {
        if (this.#hooks.closed()) throw new ProducerClosedError('not-sent', 'the producer is closed');
        if (signal?.aborted) throw new AbortError('not-sent', 'aborted before send', { cause: signal.reason });
        const checked = checkRecord(records[i]!, serializer, now);
        checkRecordSize(checked, this.#options);
        call.set(i, checked);
      } catch (error) {
        this.#hooks.reject(settler, i, error as Error);
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
   * Places a sendBatch record from its call's columns, as RecordIntake's #place does a record object: staged with
   * the slice's records that had room (#placed), or noted in the call and added to the call's run of waiting records.
   */
  #placeAt(
    call: CallRecords, position: number, signal: AbortSignal | undefined, settler: Settler, now: number,
    runs: BudgetRuns<WaitingSlice>,
  ): void {
    // Placed in a later turn than its call (submit-backlog.ts): the signal may have fired meanwhile.
    if (signal?.aborted) {
      call.forget(position);
      this.#hooks.reject(settler, position, new AbortError('not-sent', 'aborted before send', { cause: signal.reason }));
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
    // A partition the view does not have yet waits for a refresh, in call order (waiting-sends.ts).
    if (call.askedPartition(position) >= topic.partitionCount) {
      this.#queueFromCall(call, position, seq, settler, signal, now);
      return;
    }
    let partition: number;
    try {
      partition = this.#partitionAt(call, position, topic);
    } catch (error) {
      call.forget(position);
      this.#hooks.fail(seq, settler, position, error as Error);
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
      return this.#hooks.partition(call.record(position), topic);
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
      topic: topicName, records, signal, deadline: now + this.#options.bufferTimeoutMs, calledAt: now, settled: false, stopListening: undefined,
      asksBeyond: (topic) => asksBeyond(records, topic),
      place: (topic) => this.#placeRun(records, topic, settler, signal, runs),
      fail: (error) => this.#failWaiting(records, settler, error),
    });
  }

  /**
   * A run's topic is known: each of its records is placed in call order, as the call's records are, then those that
   * had room are handed on. Accepted from now, for the delivery timeout, as an admitted send is. A record asking for
   * a partition beyond `topic` is refused: the view is from a refresh begun since the call (WaitingSends#admit), and
   * queued again it would wait behind sends called after it.
   */
  #placeRun(records: WaitingSlice, topic: TopicInfo, settler: Settler, signal: AbortSignal | undefined, runs: BudgetRuns<WaitingSlice>): void {
    const call = records.call!;
    const now = Date.now();
    for (let i = 0; i < records.length; i++) {
      const p = records.positionAt(i);
      if (call.askedPartition(p) >= topic.partitionCount && this.#refusedBeyond(call, p, topic, settler)) continue;
      this.#placeOnTopic(call, p, call.seq(p), topic, signal, settler, now, runs);
    }
    this.#slices.give(records);
    this.#placed.acceptAll(this.#deliveries, settler, signal, now);
    runs.flush();
  }

  /** Fails a record whose partition `topic` does not have, with the partitioner's refusal (which names the field). */
  #refusedBeyond(call: CallRecords, position: number, topic: TopicInfo, settler: Settler): boolean {
    try {
      this.#partitionAt(call, position, topic);
      return false;
    } catch (error) {
      const seq = call.seq(position);
      call.forget(position);
      this.#hooks.fail(seq, settler, position, error as Error);
      return true;
    }
  }

  /** A call's record that has to wait for the connection, its topic or its partition's transaction: as a send would. */
  #queueFromCall(call: CallRecords, position: number, seq: number, settler: Settler, signal: AbortSignal | undefined, now: number): void {
    const prepared = call.record(position);
    call.forget(position);
    this.#hooks.queue(prepared, seq, settler, position, signal, now);
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
      this.#hooks.fail(call.seq(p), settler, p, error);
      call.forget(p);
    }
    this.#slices.give(slice);
  }
}

/** Whether a record of `records` asks for a partition beyond `topic`'s view. */
function asksBeyond(records: WaitingSlice, topic: TopicInfo): boolean {
  const call = records.call!;
  for (let i = 0; i < records.length; i++) if (call.askedPartition(records.positionAt(i)) >= topic.partitionCount) return true;
  return false;
}
