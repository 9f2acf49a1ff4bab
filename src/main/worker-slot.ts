/**
 * The main thread's end of one worker: its record ring (we write), its completion ring (we read), which topics it
 * has been told about, and the records waiting for ring space. Records wait here only while the ring is full; they
 * are already counted in the byte budget, so this queue is bounded by maxBufferedBytes too.
 */
import { createRing, maxEntryBytes, RingReader, RingWriter } from '../shared/ring.js';
import { WorkerStats, createWorkerStats } from '../shared/worker-stats.js';
import { recordEntrySize, topicEntry, writeRecordEntry } from '../shared/record-entry.js';
import type { PreparedRecord } from './serialize.js';
import type { RunningWorker } from './worker-pool.js';

/** Big enough that a burst of 1 MiB batches for many partitions rarely waits; entries are at most half of it. */
export const RECORD_RING_BYTES = 16 * 1024 * 1024;
export const COMPLETION_RING_BYTES = 1024 * 1024;
/** The largest record entry the record ring takes. */
export const MAX_RECORD_ENTRY = maxEntryBytes(RECORD_RING_BYTES);

interface QueuedRecord {
  readonly recordId: number;
  readonly topicIndex: number;
  readonly partition: number;
  readonly record: PreparedRecord;
}

export interface WorkerSlotHooks {
  /** The topic name behind an index, for the topic entry that precedes a topic's first record. */
  topicName(topicIndex: number): string;
  /** A record queued for space reached the ring. */
  written(recordId: number): void;
  /** A record taken back with unqueue() has left the queue: its id may be reused now, not before. */
  discarded(recordId: number): void;
}

export class WorkerSlot {
  readonly index: number;
  readonly recordRing = createRing({ capacity: RECORD_RING_BYTES });
  readonly completionRing = createRing({ capacity: COMPLETION_RING_BYTES });
  readonly writer = new RingWriter(this.recordRing);
  readonly reader = new RingReader(this.completionRing);
  readonly statsBuffer = createWorkerStats();
  readonly stats = new WorkerStats(this.statsBuffer);
  running: RunningWorker | undefined;
  readonly #hooks: WorkerSlotHooks;
  readonly #announced = new Set<number>();
  /** Records waiting for ring space, oldest first from #overflowHead (shift() would make a long queue quadratic). */
  #overflow: QueuedRecord[] = [];
  #overflowHead = 0;
  readonly #removed = new Set<number>();
  readonly #onDrained: (() => void)[] = [];
  #draining = false;
  #commitQueued = false;
  readonly #stop = new AbortController();

  constructor(index: number, hooks: WorkerSlotHooks) {
    this.index = index;
    this.#hooks = hooks;
  }

  /** Writes the record if the ring has room and nothing is queued before it (true), else queues it (false). */
  write(recordId: number, topicIndex: number, partition: number, record: PreparedRecord): boolean {
    if (this.#overflowHead === this.#overflow.length && this.#tryWrite(recordId, topicIndex, partition, record)) return true;
    this.#overflow.push({ recordId, topicIndex, partition, record });
    if (!this.#draining) void this.#drain();
    return false;
  }

  /**
   * Takes back a record still waiting for ring space (the caller knows it is queued: it has not been written).
   * Marked, not searched for, so aborting a large queued sendBatch stays linear.
   */
  unqueue(recordId: number): void {
    this.#removed.add(recordId);
  }

  /** Ids of the records still waiting for ring space (for crash and close). */
  takeQueued(): number[] {
    const ids: number[] = [];
    for (let i = this.#overflowHead; i < this.#overflow.length; i++) {
      const id = this.#overflow[i]!.recordId;
      if (this.#removed.delete(id)) this.#hooks.discarded(id);
      else ids.push(id);
    }
    this.#overflow = [];
    this.#overflowHead = 0;
    return ids;
  }

  #tryWrite(recordId: number, topicIndex: number, partition: number, record: PreparedRecord): boolean {
    const writer = this.writer;
    if (!this.#announced.has(topicIndex)) {
      // A topic entry precedes the topic's first record in the same ring, so the worker reads them in order.
      const entry = topicEntry(topicIndex, this.#hooks.topicName(topicIndex));
      const at = writer.reserve(entry.length);
      if (at < 0) return false;
      writer.data.set(entry, at);
      this.#announced.add(topicIndex);
    }
    const { key, value, headers } = record;
    const at = writer.reserve(recordEntrySize(key, value, headers));
    if (at < 0) return false;
    writeRecordEntry(writer.data, writer.words, at, recordId, topicIndex, partition, record.timestamp, key, value, headers);
    this.#scheduleCommit();
    return true;
  }

  /** One commit per turn of the event loop publishes a whole sendBatch with one atomic store (and ≤ 1 notify). */
  #scheduleCommit(): void {
    if (this.#commitQueued) return;
    this.#commitQueued = true;
    queueMicrotask(() => {
      this.#commitQueued = false;
      this.writer.commit();
    });
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#overflowHead < this.#overflow.length) {
        const head = this.#overflow[this.#overflowHead]!;
        if (this.#removed.delete(head.recordId)) {
          this.#overflowHead++;
          this.#hooks.discarded(head.recordId);
          continue;
        }
        if (this.#tryWrite(head.recordId, head.topicIndex, head.partition, head.record)) {
          this.#overflowHead++;
          this.#hooks.written(head.recordId);
          continue;
        }
        if (this.#overflowHead > 1024) {
          this.#overflow = this.#overflow.slice(this.#overflowHead);
          this.#overflowHead = 0;
        }
        const { key, value, headers } = head.record;
        await this.writer.waitForSpace(recordEntrySize(key, value, headers) + 64, { signal: this.#stop.signal });
      }
      this.#overflow = [];
      this.#overflowHead = 0;
      for (const resolve of this.#onDrained.splice(0)) resolve();
    } catch {
      // Stopped (crash or close): whoever stopped us settles what is queued.
    } finally {
      this.#draining = false;
    }
  }

  /** Resolves once no record waits for ring space here (at once when none does). */
  drained(): Promise<void> {
    if (this.#overflowHead === this.#overflow.length) return Promise.resolve();
    return new Promise((resolve) => this.#onDrained.push(resolve));
  }

  /** Wakes the worker so it re-reads the control block (someone waits, flushes or closes). */
  wake(): void {
    this.writer.commit();
    this.writer.wake();
  }

  stop(): void {
    this.#stop.abort();
    for (const resolve of this.#onDrained.splice(0)) resolve(); // nothing more will drain: stop waiting
  }
}
