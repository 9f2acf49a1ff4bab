/**
 * Delivery settlement: every accepted record from the moment it has its bytes in the budget until its caller is
 * settled and its id is free again. It hands records to their worker, settles callers from the workers'
 * completions (one per batch, one budget release per batch), and releases callers early — abort, delivery
 * timeout, close, crash — saying honestly what happened to the record (invariants 2 and 5, docs/invariants.md).
 */
import type { ByteBudget } from './byte-budget.js';
import { DeliveryTable, type OutcomeSink } from './delivery-table.js';
import { SignalWatch } from './signal-watch.js';
import type { SendTracker } from './send-tracker.js';
import type { PreparedRecord } from './serialize.js';
import type { TopicInfo, TopicRegistry } from './topic-registry.js';
import type { WorkerSlot } from './worker-slot.js';
import { failureFor, releasedError, type ReleaseReason } from './outcomes.js';
import type { RecordMetadata } from './types.js';
import { CompletionKind, readCompletion, type Completion } from '../shared/completion-entry.js';
import { RecordState, cancel, createRecordStates } from '../shared/record-states.js';
import { ownerOf } from '../shared/worker-protocol.js';
import type { Delivery } from '../shared/errors.js';

export interface DeliveriesContext {
  readonly budget: ByteBudget;
  readonly registry: TopicRegistry;
  readonly sends: SendTracker;
  readonly deliveryTimeoutMs: number;
  /** The current worker slots (replaced when a worker crashes). */
  slots(): readonly WorkerSlot[];
  /** 'lateOutcome' for a record whose caller was released before its outcome came. */
  emit(event: 'lateOutcome', payload: object): void;
}

export class Deliveries {
  readonly #context: DeliveriesContext;
  readonly #table: DeliveryTable;
  /** One state byte per record id, shared with the workers (record-states.ts). */
  readonly states: Uint8Array;
  readonly #signals = new SignalWatch((ids, reason) => {
    for (const id of ids) this.release(id, 'abort', reason);
  });
  recordsSent = 0;
  bytesSent = 0;
  batches = 0;
  recordsFailed = 0;

  constructor(capacity: number, context: DeliveriesContext) {
    this.#context = context;
    this.#table = new DeliveryTable(capacity);
    this.states = createRecordStates(capacity);
  }

  /** Records accepted and not yet reported by their worker. */
  get count(): number {
    return this.#table.count;
  }

  /**
   * The record has its bytes in the budget: give it an id and hand it to its partition's worker. `now` is the
   * moment it was accepted (one clock read per sendBatch or granted slice), from which the delivery deadline
   * counts.
   */
  accept(
    prepared: PreparedRecord, topic: TopicInfo, partition: number, seq: number, sink: OutcomeSink, slot: number,
    signal: AbortSignal | undefined, now: number,
  ): void {
    const t = this.#table;
    const id = t.allocate();
    const slots = this.#context.slots();
    const worker = ownerOf(topic.index, partition, slots.length);
    t.size[id] = prepared.size;
    t.partition[id] = partition;
    t.topicIndex[id] = topic.index;
    t.worker[id] = worker;
    t.timestamp[id] = prepared.timestamp;
    t.deadline[id] = now + this.#context.deliveryTimeoutMs;
    t.sendSeq[id] = seq;
    t.sink[id] = sink;
    t.slot[id] = slot;
    t.signal[id] = signal;
    t.track(id);
    Atomics.store(this.states, id, RecordState.buffered);
    if (signal !== undefined) this.#signals.watch(signal, id);
    // 0 first: a queued record may reach the ring (and be marked 1 by `written`) before write() returns false.
    t.inRing[id] = 0;
    if (slots[worker]!.write(id, topic.index, partition, prepared)) t.inRing[id] = 1;
  }

  /** A record that waited for ring space reached the ring. */
  written(id: number): void {
    this.#table.inRing[id] = 1;
  }

  /**
   * Releases a caller before its record's outcome is known (abort, delivery timeout, close). A record the worker
   * has not sealed is taken back with a CAS and never sent; a sealed one is in a request: the caller hears
   * 'unknown' and the outcome comes later as 'lateOutcome'.
   */
  release(id: number, reason: ReleaseReason, cause?: unknown): void {
    const t = this.#table;
    if (t.sink[id] === undefined) return;
    if (t.inRing[id] === 0) {
      // Still queued for ring space: it never reaches the worker. Its id and bytes go back once the queue has
      // passed it (WorkerSlot calls `discarded`): not before, or the id could be reused while the queue holds it.
      this.#context.slots()[t.worker[id]!]!.unqueue(id);
      this.#settleFailed(id, releasedError(reason, 'not-sent', cause));
      return;
    }
    const delivery = cancel(this.states, id) ? 'not-sent' : 'unknown';
    // Bytes stay counted until the worker reports the record (dropped or its outcome): memory stays bounded.
    this.#settleFailed(id, releasedError(reason, delivery, cause));
  }

  /** Releases every caller whose delivery deadline has passed. */
  expire(now: number): void {
    const expired: number[] = [];
    this.#table.expired(now, expired);
    for (const id of expired) this.release(id, 'timeout');
  }

  /**
   * Reads the workers' completion rings and settles what they report, stopping after about `maxRecords` records
   * so one burst of completed batches cannot hold the event loop for long. Returns true when it stopped early
   * (more is waiting), false when the rings are empty.
   */
  drain(maxRecords = Infinity): boolean {
    let settled = 0;
    for (const slot of this.#context.slots()) {
      const reader = slot.reader;
      for (let n; settled < maxRecords && (n = reader.read()) >= 0; ) {
        settled += this.#complete(readCompletion(reader.data, reader.offset));
      }
      reader.release();
      if (settled >= maxRecords) return true;
    }
    return false;
  }

  /** Fails the records still waiting in a slot's queue for ring space: they never reached a worker. */
  failQueued(slot: WorkerSlot, error: Error): void {
    slot.stop();
    for (const id of slot.takeQueued()) {
      this.#settleFailed(id, error);
      this.forget(id, true);
    }
  }

  /** Fails every live record of `worker` (or all): sealed ones may have been written ('unknown'), others not. */
  failLive(worker: number | undefined, error: (delivery: Delivery) => Error): void {
    for (const id of this.#table.live()) {
      if (worker !== undefined && this.#table.worker[id] !== worker) continue;
      this.#settleFailed(id, error(Atomics.load(this.states, id) === RecordState.sealed ? 'unknown' : 'not-sent'));
      this.forget(id, true);
    }
  }

  /** Forgets a reported record: its id is free again, and optionally its bytes go back to the budget at once. */
  forget(id: number, releaseBytes: boolean): void {
    const size = this.#table.size[id]!;
    this.#table.free(id);
    Atomics.store(this.states, id, RecordState.free);
    if (releaseBytes) this.#context.budget.release(size, 1);
  }

  /** Detaches the caller of record `id`, or undefined when it was settled already. */
  #detach(id: number): OutcomeSink | undefined {
    const t = this.#table;
    const sink = t.sink[id];
    if (sink === undefined) return undefined;
    t.sink[id] = undefined;
    const signal = t.signal[id];
    if (signal !== undefined) this.#signals.unwatch(signal, id);
    this.#context.sends.end(t.sendSeq[id]!);
    return sink;
  }

  #settleFailed(id: number, error: Error): void {
    const sink = this.#detach(id);
    if (sink === undefined) {
      const topic = this.#context.registry.byIndex(this.#table.topicIndex[id]!)?.name;
      this.#context.emit('lateOutcome', { error, topic, partition: this.#table.partition[id] });
      return;
    }
    this.recordsFailed++;
    sink.reject(this.#table.slot[id]!, error);
  }

  /** One batch's outcome: settle its callers, then give its bytes back in one release (one wake-up per batch). */
  #complete(completion: Completion): number {
    const ids = completion.recordIds;
    const t = this.#table;
    const delivered = completion.kind === CompletionKind.delivered;
    const failure = completion.kind === CompletionKind.failed ? failureFor(completion) : undefined;
    const topic = this.#context.registry.byIndex(completion.topicIndex)?.name ?? '';
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
        else this.#context.emit('lateOutcome', { metadata, topic, partition: completion.partition });
      } else if (failure !== undefined) this.#settleFailed(id, failure);
      this.forget(id, false);
    }
    if (delivered) {
      this.batches++;
      this.recordsSent += ids.length;
      this.bytesSent += bytes;
    }
    if (ids.length > 0) this.#context.budget.release(bytes, ids.length);
    return ids.length;
  }
}
