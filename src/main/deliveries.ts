/**
 * Delivery settlement: every accepted record from the moment it has its bytes in the budget until its caller is
 * settled and its id is free again. It hands records to their worker's handle, settles callers from the workers'
 * completions (one per batch, one budget release per batch), and releases callers early — abort, delivery
 * timeout, close, crash — saying honestly what happened to the record (invariants 2 and 5, docs/invariants.md).
 *
 * It calls down into the worker handles (write, unqueue, read completions) and never the other way: a handle
 * knows nothing of ids' owners, budgets or callers.
 */
import type { ByteBudget } from './byte-budget.js';
import { DeliveryTable } from './delivery-table.js';
import { copyOf, type DeliveredMetadata, type Settler } from './settlers.js';
import { SignalWatch } from './signal-watch.js';
import type { SendTracker } from './send-tracker.js';
import type { PreparedRecord } from './serialize.js';
import type { TopicInfo, TopicRegistry } from './topic-registry.js';
import type { WorkerHandle } from './worker-handle.js';
import { failureFor, releasedError, sharedErrors, type ReleaseReason } from './outcomes.js';
import { CompletionKind, readCompletion, type Completion } from '../shared/completion-entry.js';
import { RecordState, cancel } from '../shared/record-states.js';
import { ownerOf } from '../shared/worker-protocol.js';
import type { Delivery } from '../shared/errors.js';
import type { ControlBlock } from '../shared/control-block.js';
import type { RingReader } from '../shared/ring.js';
import { channels, type BatchOutcomeMessage } from './tracing.js';

/** Records settled per turn of the event loop before the settle loop yields (about 2–5 ms of work). */
const SETTLE_SLICE_RECORDS = 4096;

export interface DeliveriesContext {
  readonly budget: ByteBudget;
  /** Topic names for results and 'lateOutcome' events. */
  readonly registry: Pick<TopicRegistry, 'byIndex'>;
  readonly sends: SendTracker;
  readonly deliveryTimeoutMs: number;
  /** The record-state table shared with the workers (shared-memory.ts); its size is the number of record ids. */
  readonly recordStates: SharedArrayBuffer;
  /** One per worker, for the producer's whole life (after a crash the group renews what is inside one). */
  readonly handles: readonly WorkerHandle[];
  /** 'lateOutcome' for a record whose caller was released before its outcome came. */
  emit(event: 'lateOutcome', payload: object): void;
}

/** Records listed by Deliveries.listLive: ids, and the send sequence each held then. */
export interface LiveRecords {
  readonly ids: readonly number[];
  readonly seqs: readonly number[];
}

export class Deliveries {
  readonly #context: DeliveriesContext;
  readonly #table: DeliveryTable;
  /** Who waits for every accepted record to be reported (whenEmpty). */
  #emptyWaiters: (() => void)[] = [];
  /** One state byte per record id, shared with the workers (record-states.ts). */
  readonly #states: Uint8Array;
  /**
   * The metadata lent to each delivered record's settler, refilled for the next (settlers.ts): a settler that needs
   * none, like a sendBatch's with `results: 'failures'`, then costs no allocation per record.
   */
  readonly #delivered: { -readonly [K in keyof DeliveredMetadata]: DeliveredMetadata[K] } = {
    topic: '', partition: 0, offset: 0, timestamp: 0, logAppendTime: -1, logStartOffset: -1,
  };
  readonly #signals: SignalWatch;
  recordsSent = 0;
  bytesSent = 0;
  batches = 0;
  recordsFailed = 0;

  constructor(context: DeliveriesContext) {
    this.#context = context;
    this.#states = new Uint8Array(context.recordStates);
    this.#table = new DeliveryTable(this.#states.length);
    this.#signals = new SignalWatch(this.#states.length, (ids, reason) => {
      const errors = sharedErrors((delivery) => releasedError('abort', delivery, reason));
      for (const id of ids) this.#release(id, errors);
    });
  }

  /** Records accepted and not yet reported by their worker. */
  get count(): number {
    return this.#table.count;
  }

  /**
   * Resolves once every record accepted so far has been reported by its worker (delivered, failed or dropped): then
   * no worker holds a batch of them, sent or not. A released caller ('unknown') does not count as reported. What a
   * transaction waits for before EndTxn (src/main/transactions/outstanding-work.ts).
   */
  whenEmpty(): Promise<void> {
    if (this.#table.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.#emptyWaiters.push(resolve));
  }

  /**
   * The record has its bytes in the budget: give it an id and hand it to its partition's worker. `now` is the
   * moment it was accepted (one clock read per sendBatch or granted slice), from which the delivery deadline
   * counts. `prepared` may be lent (a sendBatch's records come through one reused object, CallRecords.lend): its
   * fields are read here and copied on, and nothing keeps the object.
   */
  accept(
    prepared: PreparedRecord, topic: TopicInfo, partition: number, seq: number, settler: Settler, position: number,
    signal: AbortSignal | undefined, now: number,
  ): void {
    // The record's fields are read first, into locals of their own, and the table is not the first local. V8 gives
    // two loads of one property name a single feedback slot when it takes them to come from the same object
    // (`--ignition-share-named-property-feedback`), and it tells that by the variable's index alone: the first local
    // and the first parameter count as one. With the table as the first local, `t.size` and `prepared.size`, and
    // `t.timestamp` and `prepared.timestamp`, shared slots (`%DebugPrint` of this method's feedback vector: each load
    // polymorphic over the table's map and the record's, on Node 20, 22 and 24 alike), and the optimised code boxed
    // the record's timestamp in a new 16-byte heap number, to merge it with the table's tagged field. That was about
    // 48 MB of the 63–76 MB the producer's main thread allocated for 3,000,000 records of 100 B on kfake, and 26–28
    // MB are left (an allocation-sampling profile that keeps collected objects, the bench driver's own records aside).
    const size = prepared.size;
    const timestamp = prepared.timestamp;
    const t = this.#table;
    const id = t.allocate();
    const handles = this.#context.handles;
    const worker = ownerOf(topic.index, partition, handles.length);
    t.size[id] = size;
    t.partition[id] = partition;
    t.topicIndex[id] = topic.index;
    t.worker[id] = worker;
    t.timestamp[id] = timestamp;
    t.deadline[id] = now + this.#context.deliveryTimeoutMs;
    t.sendSeq[id] = seq;
    t.position[id] = position;
    t.attach(id, settler, signal);
    t.track(id);
    // A plain store: the worker first looks at this byte after reading the record's entry, which the ring's commit
    // (an atomic store after this one) publishes, so it cannot see an older value; an Atomics.store here would add
    // a full fence per record (record-states.ts).
    this.#states[id] = RecordState.buffered;
    const watched = signal === undefined || this.#signals.watch(signal, id);
    // A settler told of the acceptance (a stream's write callback) lets its caller reuse the record's buffers now.
    const accepted = settler.accepted;
    handles[worker]!.write(id, topic, partition, prepared, accepted !== undefined);
    if (accepted !== undefined) settler.accepted!(position);
    // Its signal aborted after the record was checked and placed, before this (a partitioner or serializer of the
    // same sendBatch may abort it): taken back at once, as an abort a moment later would (invariant 5).
    if (!watched) this.release(id, 'abort', signal.reason);
  }

  /**
   * Releases a caller before its record's outcome is known (abort, delivery timeout, close). A record the worker
   * has not sealed is taken back with a CAS and never sent; a sealed one is in a batch that may be sent: the caller
   * hears 'unknown' and the outcome comes later as 'lateOutcome'.
   */
  release(id: number, reason: ReleaseReason, cause?: unknown): void {
    this.#release(id, (delivery) => releasedError(reason, delivery, cause));
  }

  /** release, with the error for each kind of delivery from `errors` (shared by records released together). */
  #release(id: number, errors: (delivery: Delivery) => Error): void {
    const t = this.#table;
    if (t.settlerOf(id) === undefined) return;
    if (this.#context.handles[t.worker[id]!]!.unqueue(id)) {
      // Still queued for ring space: it never reaches the worker, so its id and bytes go back at once.
      this.#settleFailed(id, errors('not-sent'));
      this.#forget(id, true);
      return;
    }
    const delivery = cancel(this.#states, id) ? 'not-sent' : 'unknown';
    // Bytes stay counted until the worker reports the record (dropped or its outcome): memory stays bounded.
    this.#settleFailed(id, errors(delivery));
  }

  /**
   * Releases every caller whose delivery deadline has passed. Each id is checked to still hold the record that was
   * due: a settler can run code at once (a RecordWritable's destroys its stream, whose signal releases the stream's
   * other records), which may free a later id of the list and let a new record take it.
   */
  expire(now: number): void {
    const ids: number[] = [];
    const seqs: number[] = [];
    const t = this.#table;
    t.expired(now, ids, seqs);
    const errors = sharedErrors((delivery) => releasedError('timeout', delivery));
    for (let i = 0; i < ids.length; i++) if (t.sendSeq[ids[i]!] === seqs[i]) this.#release(ids[i]!, errors);
  }

  /**
   * The main thread's side of the completion signal (steps of test/shared/models/completion-signal.pml): settles
   * what the workers report, and sleeps while every completion ring is empty, until `stop` aborts.
   */
  async settleLoop(control: ControlBlock, stop: AbortSignal): Promise<void> {
    while (!stop.aborted) {
      const seen = control.completionSeq; // M1 (`snapshot`)
      // Settling is sliced: after a slice, timers and I/O run before the next one (the loop stays free).
      if (this.drain(SETTLE_SLICE_RECORDS)) await new Promise((resolve) => setImmediate(resolve)); // M2 (`drain`)
      else await control.waitForCompletion(seen, { signal: stop }); // M3–M6
    }
  }

  /**
   * Reads the workers' completion rings and settles what they report, stopping after about `maxRecords` records
   * so one burst of completed batches cannot hold the event loop for long. Returns true when it stopped early
   * (more is waiting), false when the rings are empty.
   */
  drain(maxRecords = Infinity): boolean {
    let settled = 0;
    for (const handle of this.#context.handles) {
      const reader = handle.completions;
      if (reader === undefined) continue;
      settled += this.drainRing(reader, maxRecords - settled);
      if (settled >= maxRecords) return true;
    }
    return false;
  }

  /**
   * Settles what one completion ring holds, up to about `maxRecords`; returns how many records it settled. A crashed
   * worker's ring is drained so, after its handle has new memory (WorkerGroup).
   */
  drainRing(reader: RingReader, maxRecords = Infinity): number {
    let settled = 0;
    for (let n; settled < maxRecords && (n = reader.read()) >= 0; ) {
      settled += this.#complete(readCompletion(reader.data, reader.offset));
    }
    reader.release();
    return settled;
  }

  /**
   * Stops the ring feed of `worker` (or of all) and fails the records still queued there for ring space: they
   * never reached a worker.
   */
  failQueued(worker: number | undefined, error: Error): void {
    for (const handle of this.#context.handles) {
      if (worker !== undefined && handle.index !== worker) continue;
      this.failUnqueued(handle.stopFeed(), error);
    }
  }

  /**
   * Fails the records a stopped feed handed back (WorkerHandle.stopFeed): they never reached a worker. One whose
   * caller was released meanwhile (a settler's code aborting its signal, once the feed no longer had it) was told
   * 'not-sent' then, and has no later outcome to report: it is only forgotten.
   */
  failUnqueued(ids: readonly number[], error: Error): void {
    for (const id of ids) {
      if (this.#table.settlerOf(id) !== undefined) this.#settleFailed(id, error);
      this.#forget(id, true);
    }
  }

  /** Fails every live record of `worker` (or all): sealed ones may have been written ('unknown'), others not. */
  failLive(worker: number | undefined, error: (delivery: Delivery) => Error): void {
    this.failListed(this.listLive(worker), error);
  }

  /** The live records of `worker` (or all) now, for failListed: each id with the send sequence of its record. */
  listLive(worker: number | undefined): LiveRecords {
    const t = this.#table;
    const ids = t.live().filter((id) => worker === undefined || t.worker[id] === worker);
    return { ids, seqs: ids.map((id) => t.sendSeq[id]!) };
  }

  /**
   * Fails the listed records (sealed ones 'unknown', others 'not-sent', once claimed from their worker; those a
   * caller's abort claimed before were reported then) that are still live. Each id is checked to
   * hold the record listed: settling a caller can run code at once that frees a later id of the list and lets a
   * new record take it (see expire), and a record accepted after the list was made is not failed.
   */
  failListed(list: LiveRecords, error: (delivery: Delivery) => Error): void {
    const errors = sharedErrors(error);
    const t = this.#table;
    const { ids, seqs } = list;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (t.sendSeq[id] !== seqs[i]) continue;
      // Claimed as a caller's abort claims it (#release), not read: at close the workers still run until they read
      // their cut-off, and one could seal the record between a plain read of 'buffered' and the report, so a record
      // about to be sent was called 'not-sent' (a caller's resend could write it twice). Harmless for a dead worker.
      if (cancel(this.#states, id)) this.#settleFailed(id, errors('not-sent'));
      // A record its caller's abort claimed earlier was reported 'not-sent' then: no outcome left to tell.
      else if (this.#states[id] !== RecordState.cancelled) this.#settleFailed(id, errors('unknown'));
      this.#forget(id, true);
    }
  }

  /** Forgets a reported record: its id is free again, and optionally its bytes go back to the budget at once. */
  #forget(id: number, releaseBytes: boolean): void {
    const size = this.#table.size[id]!;
    this.#table.free(id);
    // Plain, like the store on accept: the worker reported this id and touches its byte again only after the id's
    // next record entry, published by the ring after the next accept's store. (At close and after a crash a record
    // is freed unreported: src/shared/record-states.ts says why that holds too.)
    this.#states[id] = RecordState.free;
    if (releaseBytes) this.#context.budget.release(size, 1);
    if (this.#emptyWaiters.length > 0 && this.#table.count === 0) {
      const waiters = this.#emptyWaiters;
      this.#emptyWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Detaches the caller of record `id`, or undefined when it was settled already. */
  #detach(id: number): Settler | undefined {
    const t = this.#table;
    const signal = t.signalOf(id);
    const settler = t.detach(id);
    if (settler === undefined) return undefined;
    if (signal !== undefined) this.#signals.unwatch(signal, id);
    this.#context.sends.end(t.sendSeq[id]!);
    return settler;
  }

  #settleFailed(id: number, error: Error): void {
    const settler = this.#detach(id);
    if (settler === undefined) {
      const topic = this.#context.registry.byIndex(this.#table.topicIndex[id]!)?.name;
      this.#context.emit('lateOutcome', { error, topic, partition: this.#table.partition[id] });
      return;
    }
    this.recordsFailed++;
    settler.reject(this.#table.position[id]!, error);
  }

  /** One batch's outcome: settle its callers, then give its bytes back in one release (one wake-up per batch). */
  #complete(completion: Completion): number {
    const ids = completion.recordIds;
    const t = this.#table;
    const delivered = completion.kind === CompletionKind.delivered;
    const topic = this.#context.registry.byIndex(completion.topicIndex)?.name ?? '';
    const failure = completion.kind === CompletionKind.failed ? failureFor(completion, topic) : undefined;
    let bytes = 0;
    // The batch's, so set once for all its records: the worker's answer says -1 for CreateTime (src/workers/append-times.ts),
    // and -1 for a log start offset the broker did not send.
    if (delivered) {
      this.#delivered.logAppendTime = completion.timestamp;
      this.#delivered.logStartOffset = completion.logStartOffset;
    }
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      bytes += t.size[id]!;
      if (delivered) {
        const metadata = this.#delivered;
        metadata.topic = topic;
        metadata.partition = completion.partition;
        metadata.offset = completion.baseOffset < 0 ? -1 : completion.baseOffset + i;
        metadata.timestamp = completion.timestamp >= 0 ? completion.timestamp : t.timestamp[id]!;
        const settler = this.#detach(id);
        if (settler !== undefined) settler.resolve(t.position[id]!, metadata);
        else this.#context.emit('lateOutcome', { metadata: copyOf(metadata), topic, partition: completion.partition });
      } else if (failure !== undefined) this.#settleFailed(id, failure);
      this.#forget(id, false);
    }
    if (delivered) {
      this.batches++;
      this.recordsSent += ids.length;
      this.bytesSent += bytes;
    }
    if (ids.length > 0) this.#context.budget.release(bytes, ids.length);
    if (channels.batch.hasSubscribers && (delivered || failure !== undefined)) {
      const message: BatchOutcomeMessage = { topic, partition: completion.partition, records: ids.length, baseOffset: delivered ? completion.baseOffset : -1, error: failure };
      channels.batch.publish(message);
    }
    return ids.length;
  }
}
