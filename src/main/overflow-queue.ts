/**
 * The records a ring feed holds while its ring is full, oldest first, with take-back by record id: a ring of
 * parallel arrays that grows by doubling, not an object per record in a queue and a Map.
 *
 * Why not objects: when the worker is the slower side, a large share of the records of a full buffer pass through
 * here (a third of them in the kfake bench at 100 B, three fifths at 1 KiB), and an object, a Map entry (set, then
 * delete) and an array slot cost about 500 ns per record together, against about 90 ns for this ring (300,000
 * records queued, then written). The ring keeps the largest size it grew to: under four times the most records
 * queued at once (it doubles when more than half of it is queued), which maxBufferedRecords bounds (taken-back
 * records give their slots up at a resize).
 *
 * Nor is the record object kept: only the fields its ring entry needs (key, value, headers, timestamp, value bytes), and the head
 * record is read through one reused object. A record can wait here for long (the first fill of the buffer at
 * 100B-keyed queued ~490,000 records), long enough for an object to outlive two scavenges and be copied by both:
 * at 100B-keyed those copies made the event loop's longest pauses.
 *
 * Take-back (`remove`) is by id, O(1): `#slotOf[id]` is the record's slot sequence + 1 (0: not queued). A removed
 * record leaves its slot with no record, and the reader skips it; the id can be reused at once by a later record,
 * whose later slot is the one `#slotOf` names, so a reused id is never confused with the record that held it.
 */
import type { EntryFields, EntryValue } from '../shared/record-entry.js';

/** The topic a record belongs to: its index in the record entry, its name in the topic entry before its first record. */
export interface TopicRef {
  readonly index: number;
  readonly name: string;
}

const INITIAL_CAPACITY = 1024;
/** A record that came without its value's bytes (EntryFields.valueBytes): measured when written. */
const UNKNOWN_BYTES = -2;
/** Key, value, headers. */
const FIELDS = 3;

export class OverflowQueue {
  #mask = INITIAL_CAPACITY - 1;
  #ids = new Int32Array(INITIAL_CAPACITY);
  #partitions = new Int32Array(INITIAL_CAPACITY);
  /** Undefined in a slot whose record was removed, or written. */
  #topics: (TopicRef | undefined)[] = new Array<TopicRef | undefined>(INITIAL_CAPACITY).fill(undefined);
  /** Each record's key, value and headers (three slots per record), and its timestamp. */
  #fields: unknown[] = new Array<unknown>(INITIAL_CAPACITY * FIELDS).fill(undefined);
  #timestamps = new Float64Array(INITIAL_CAPACITY);
  /** Each record's value bytes (EntryFields.valueBytes; -2: not known, measured when written). */
  #valueBytes = new Int32Array(INITIAL_CAPACITY);
  /** The head record's fields, refilled by `headRecord`. */
  readonly #headFields: { -readonly [K in keyof EntryFields]: EntryFields[K] } = { timestamp: 0.5, key: null, value: null, headers: [], valueBytes: -1 };
  /** Slot sequences: the oldest slot still held, and the next to fill. Slot `s` lives at index `s & #mask`. */
  #head = 0;
  #tail = 0;
  /** Per record id: its slot sequence + 1, or 0 when the id is not queued. Grows with the largest id seen. */
  #slotOf = new Float64Array(INITIAL_CAPACITY);
  #size = 0;

  /** Records queued (removed ones not counted). */
  get size(): number {
    return this.#size;
  }

  /** Slots the ring has now (for the tests of its bound). */
  get capacity(): number {
    return this.#mask + 1;
  }

  /** Queues the record's fields (the record object is not kept). */
  push(recordId: number, topic: TopicRef, partition: number, record: EntryFields): void {
    // Full: taken-back records still hold their slots until the head passes them. While the ring stalls (the worker
    // takes nothing) and callers abort their sends, every send took a slot and the ring doubled without end, though
    // few records were queued: copied without them at the same size when they are half of it or more, it stays
    // under four times the most records ever queued at once.
    if (this.#tail - this.#head > this.#mask) this.#resize(this.#size * 2 <= this.#mask + 1 ? this.#mask + 1 : (this.#mask + 1) * 2);
    const at = this.#tail & this.#mask;
    this.#ids[at] = recordId;
    this.#partitions[at] = partition;
    this.#topics[at] = topic;
    const f = at * FIELDS;
    this.#fields[f] = record.key;
    this.#fields[f + 1] = record.value;
    this.#fields[f + 2] = record.headers;
    this.#timestamps[at] = record.timestamp;
    this.#valueBytes[at] = record.valueBytes ?? UNKNOWN_BYTES;
    if (recordId >= this.#slotOf.length) this.#growIds(recordId);
    this.#slotOf[recordId] = ++this.#tail;
    this.#size++;
  }

  /** Skips removed slots; false when nothing is queued. Then `head*` describe the oldest queued record. */
  advance(): boolean {
    while (this.#head < this.#tail) {
      if (this.#topics[this.#head & this.#mask] !== undefined) return true;
      this.#head++;
    }
    return false;
  }

  get headId(): number {
    return this.#ids[this.#head & this.#mask]!;
  }

  get headTopic(): TopicRef {
    return this.#topics[this.#head & this.#mask]!;
  }

  get headPartition(): number {
    return this.#partitions[this.#head & this.#mask]!;
  }

  /** The head record's fields, in one object reused for every head: read them before anything else calls the queue. */
  get headRecord(): EntryFields {
    const at = this.#head & this.#mask;
    const f = at * FIELDS;
    const head = this.#headFields;
    head.key = this.#fields[f] as Uint8Array | null;
    head.value = this.#fields[f + 1] as EntryValue;
    head.headers = this.#fields[f + 2] as EntryFields['headers'];
    head.timestamp = this.#timestamps[at]!;
    const valueBytes = this.#valueBytes[at]!;
    head.valueBytes = valueBytes === UNKNOWN_BYTES ? undefined : valueBytes;
    return head;
  }

  /** The head record was written into the ring: forget it (call after `advance` returned true). */
  shift(): void {
    const at = this.#head & this.#mask;
    this.#slotOf[this.#ids[at]!] = 0;
    this.#clear(at);
    this.#head++;
    this.#size--;
  }

  /** Takes back a queued record: true when it was queued (it will never be handed out). */
  remove(recordId: number): boolean {
    if (recordId >= this.#slotOf.length) return false;
    const slot = this.#slotOf[recordId]! - 1;
    if (slot < 0) return false;
    this.#slotOf[recordId] = 0;
    this.#clear(slot & this.#mask);
    this.#size--;
    return true;
  }

  /** Empties the queue and returns the ids still queued, oldest first. */
  clear(): number[] {
    const ids: number[] = [];
    for (let s = this.#head; s < this.#tail; s++) {
      const at = s & this.#mask;
      if (this.#topics[at] === undefined) continue;
      ids.push(this.#ids[at]!);
      this.#slotOf[this.#ids[at]!] = 0;
      this.#clear(at);
    }
    this.#head = this.#tail;
    this.#size = 0;
    return ids;
  }

  /** Drops the references a slot holds, so a written or removed record's bytes are not kept alive. */
  #clear(at: number): void {
    this.#topics[at] = undefined;
    const f = at * FIELDS;
    this.#fields[f] = undefined;
    this.#fields[f + 1] = undefined;
    this.#fields[f + 2] = undefined;
  }

  /**
   * Copies the queued records, oldest first from index 0, into arrays of `capacity` slots (slot sequences are
   * renumbered from 0); the slots of taken-back records are left out.
   */
  #resize(capacity: number): void {
    const ids = new Int32Array(capacity);
    const partitions = new Int32Array(capacity);
    const topics = new Array<TopicRef | undefined>(capacity).fill(undefined);
    const fields = new Array<unknown>(capacity * FIELDS).fill(undefined);
    const timestamps = new Float64Array(capacity);
    const valueBytes = new Int32Array(capacity);
    let count = 0;
    for (let s = this.#head; s < this.#tail; s++) {
      const from = s & this.#mask;
      const topic = this.#topics[from];
      if (topic === undefined) continue; // taken back (remove) or written
      const i = count++;
      ids[i] = this.#ids[from]!;
      partitions[i] = this.#partitions[from]!;
      topics[i] = topic;
      for (let k = 0; k < FIELDS; k++) fields[i * FIELDS + k] = this.#fields[from * FIELDS + k];
      timestamps[i] = this.#timestamps[from]!;
      valueBytes[i] = this.#valueBytes[from]!;
      this.#slotOf[ids[i]!] = i + 1;
    }
    this.#ids = ids;
    this.#partitions = partitions;
    this.#topics = topics;
    this.#fields = fields;
    this.#timestamps = timestamps;
    this.#valueBytes = valueBytes;
    this.#mask = capacity - 1;
    this.#head = 0;
    this.#tail = count;
  }

  #growIds(recordId: number): void {
    let length = this.#slotOf.length * 2;
    while (length <= recordId) length *= 2;
    const slotOf = new Float64Array(length);
    slotOf.set(this.#slotOf);
    this.#slotOf = slotOf;
  }
}
