/**
 * The writing end of one worker's record ring, and the overflow queue in front of it. A record goes straight into
 * the ring when it has room and nothing waits before it; otherwise it waits in the overflow queue, in order, and a
 * single loop writes the queue into the ring as the worker frees space (the ring-space protocol, docs/shared-memory.md).
 * Queued records are already counted in the byte budget, so the queue is bounded by maxBufferedBytes too.
 *
 * The feed knows which record ids are queued, so a caller released early (abort, delivery timeout) can take its
 * record back with `unqueue` and free its id at once: in O(1), so aborting a large queued sendBatch stays linear,
 * and a reused id is never confused with the record that held it before (overflow-queue.ts).
 *
 * One feed per thread incarnation: a crashed worker's feed is stopped and a new one writes the replacement's ring.
 */
import { RingWriter } from '../shared/ring.js';
import { recordEntrySize, topicEntry, valueByteLength, writeRecordEntry, type EntryFields } from '../shared/record-entry.js';
import { OverflowQueue, type TopicRef } from './overflow-queue.js';
import type { PreparedRecord } from './serialize.js';

/** Framing and padding of two ring entries (a topic entry and its first record) beyond their payloads. */
const TWO_ENTRIES_FRAMING = 12;

export class RecordFeed {
  readonly #writer: RingWriter;
  /** The ring data's byteOffset, read once (writeRecordEntry: reading it per record costs). */
  readonly #dataByteOffset: number;
  /** A Buffer over the ring's data, through which writeRecordEntry encodes string values in place. */
  readonly #text: Buffer;
  /** One byte per topic index (indexes are u16): 1 once the topic's entry is in this ring. Checked per record. */
  readonly #announced = new Uint8Array(0x10000);
  /** Records waiting for ring space, oldest first. Empty on the fast path. */
  readonly #queue = new OverflowQueue();
  readonly #onEmpty: (() => void)[] = [];
  #writing = false;
  #commitQueued = false;
  readonly #stop = new AbortController();

  constructor(recordRing: SharedArrayBuffer) {
    this.#writer = new RingWriter(recordRing);
    this.#dataByteOffset = this.#writer.data.byteOffset;
    const data = this.#writer.data;
    this.#text = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  }

  /** Records waiting for ring space. */
  get queued(): number {
    return this.#queue.size;
  }

  /**
   * Writes the record into the ring if it has room and nothing is queued before it, else queues it: its bytes as
   * they are, unless `copyIfQueued` (see `withOwnBytes`).
   */
  write(recordId: number, topic: TopicRef, partition: number, record: PreparedRecord, copyIfQueued = false): void {
    if (this.#queue.size === 0 && this.#tryWrite(recordId, topic, partition, record)) return;
    this.#queue.push(recordId, topic, partition, copyIfQueued ? withOwnBytes(record) : record);
    if (!this.#writing) void this.#writeQueue();
  }

  /** Takes back a record still waiting for ring space: true when it was queued (it will never reach the ring). */
  unqueue(recordId: number): boolean {
    if (!this.#queue.remove(recordId)) return false;
    if (this.#queue.size === 0) this.#emptied();
    return true;
  }

  /**
   * Stops writing (crash, close): the queue loop ends, whoever waits for an empty queue is released, and the ids
   * of the records still queued are handed back for their callers to be failed.
   */
  stop(): number[] {
    this.#stop.abort();
    const ids = this.#queue.clear();
    this.#emptied();
    return ids;
  }

  /** Resolves once no record waits for ring space (at once when none does, and when the feed is stopped). */
  whenEmpty(): Promise<void> {
    if (this.#queue.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#onEmpty.push(resolve));
  }

  /** Wakes the worker so it re-reads the control block (someone waits, flushes or closes): `kick`. */
  wake(): void {
    this.#writer.commit();
    this.#writer.wake();
  }

  #tryWrite(recordId: number, topic: TopicRef, partition: number, record: EntryFields): boolean {
    const writer = this.#writer;
    if (this.#announced[topic.index] === 0) {
      // A topic entry precedes the topic's first record in the same ring, so the worker reads them in order.
      const entry = topicEntry(topic.index, topic.name);
      const at = writer.reserve(entry.length);
      if (at < 0) return false;
      writer.data.set(entry, at);
      this.#announced[topic.index] = 1;
    }
    // A string value's UTF-8 length comes with the record, measured at its check (strings cannot change); bytes are
    // measured now, as the caller's buffer is now.
    const { value } = record;
    const valueBytes = value === null ? -1 : typeof value === 'string' ? (record.valueBytes ?? valueByteLength(value)) : value.length;
    const at = writer.reserve(recordEntrySize(record.key, value, record.headers, valueBytes));
    if (at < 0) return false;
    writeRecordEntry(writer.data, writer.words, at, recordId, topic.index, partition, record, this.#dataByteOffset, this.#text, valueBytes);
    this.#scheduleCommit();
    return true;
  }

  /** One commit per turn of the event loop publishes a whole sendBatch with one atomic store (and ≤ 1 notify). */
  #scheduleCommit(): void {
    if (this.#commitQueued) return;
    this.#commitQueued = true;
    queueMicrotask(this.#commitWritten);
  }

  /**
   * The queued commit, made once. Not a closure made in #scheduleCommit: V8 allocates the context of a function
   * that makes a closure on every call to it, the early return included, so that was an allocation per record: in
   * a sampling allocation profile of the kfake bench at 100B-none (inlining off, so each allocation shows where it
   * happens) it was half of what the main thread allocated.
   */
  readonly #commitWritten = (): void => {
    this.#commitQueued = false;
    this.#writer.commit();
  };

  /** The queue loop: writes queued records in order, waiting for ring space (`reserve`, `fits`, `sleep`) between. */
  async #writeQueue(): Promise<void> {
    this.#writing = true;
    try {
      const queue = this.#queue;
      while (queue.advance()) {
        const record = queue.headRecord;
        if (this.#tryWrite(queue.headId, queue.headTopic, queue.headPartition, record)) {
          queue.shift();
          continue;
        }
        await this.#writer.waitForSpace(this.#spaceFor(queue.headTopic, record), { signal: this.#stop.signal });
      }
      this.#emptied();
    } catch {
      // Stopped (crash or close): whoever stopped the feed settles what was queued.
    } finally {
      this.#writing = false;
    }
  }

  /**
   * The room to wait for before the head record can be written: its entry, and its topic's entry when the topic is
   * not announced yet. Capped at the largest entry the ring takes (waiting for more would be refused, and the
   * queue would stall): once that much is free the topic entry fits, and the next wait is for the record alone.
   */
  #spaceFor(topic: TopicRef, record: EntryFields): number {
    const { key, value, headers } = record;
    let bytes = recordEntrySize(key, value, headers, typeof value === 'string' ? record.valueBytes : undefined);
    if (this.#announced[topic.index] === 0) bytes += topicEntry(topic.index, topic.name).length + TWO_ENTRIES_FRAMING;
    return Math.min(bytes, this.#writer.maxEntryBytes);
  }

  #emptied(): void {
    for (const resolve of this.#onEmpty.splice(0)) resolve();
  }
}

/**
 * The record's fields with copies of its bytes, for a caller told its record was taken as soon as it is accepted (a
 * stream's write callback), who may then reuse its buffers. Queued by reference, such a record was written into the
 * ring later with whatever the buffer held by then: a stream source that refilled one Buffer after each callback had
 * 39 of 150 acknowledged records hold another record's bytes. A `send` or `sendBatch` caller keeps its buffers
 * unchanged until the call settles (as documented), so its records are queued without a copy.
 */
function withOwnBytes(record: EntryFields): EntryFields {
  const { key, value, headers } = record;
  return {
    timestamp: record.timestamp,
    key: key === null ? null : new Uint8Array(key),
    value: value === null || typeof value === 'string' ? value : new Uint8Array(value),
    headers: headers.length === 0 ? headers : headers.map(([name, bytes]) => [new Uint8Array(name), bytes === null ? null : new Uint8Array(bytes)] as const),
    valueBytes: record.valueBytes,
  };
}
