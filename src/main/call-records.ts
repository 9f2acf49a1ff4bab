/**
 * A sendBatch's checked records, kept field by field in columns from the call until each is accepted: no object per
 * record while it waits its turn in the submit backlog or for buffer space, nor when it is handed to the delivery
 * settlement, which reads it through one reused object (`lend`), nor while it waits for its topic's metadata. A record
 * becomes a PreparedRecord object of its own only when it takes a rare path (a transaction, an explicit partition or
 * a partitioner function).
 *
 * Why: the records of a large sendBatch, or of calls queued behind it, wait for hundreds of milliseconds when the
 * producer is the slower side. As one object each they outlived two scavenges, so V8 allocated them straight into
 * the old generation (it pretenures an allocation site whose objects mostly survive), where each died and waited
 * for a full collection: in a `--cpu-prof` of the kfake bench at 100 B the record object's allocation was 80 % of
 * the check-and-serialise step, and the collector 10 % of the main thread.
 *
 * Indexed by position in the call. Besides the checked fields, each record's placement (its topic, partition and
 * send sequence) is kept here once it is placed, for a record that then waits for buffer space (waiting-slice.ts),
 * and its send sequence alone while it waits for its topic's metadata (a run, waiting-sends.ts).
 *
 * 64 bytes a record: three references (key, value, headers) and 40 bytes of numbers, the topic and the placed topic
 * as slots in the call's own short lists (60 before a string value's UTF-8 length was kept too, 2026-12-04: measured
 * at the check, it saves measuring the string again at the ring). The columns were 80 bytes (those two as references too, and every number a
 * double), close to a 100 B record's value again: on kfake at 100B-none the driver keeps 64 calls of ~10,500
 * records in flight, each holding its columns until its last record is handed on. Alternated runs there, eleven
 * with the 80-byte columns and seventeen with these (`npx tsx bench/throughput.ts --broker kfake --clients ringkafka
 * --scenarios 100B-none --records 3000000 --repeat 1`, medians): the main thread's peak heap 159 → 136 MB, peak RSS
 * 406 → 387 MB, its collector's time 230 → 209 ms; records/s (1.19–1.85M and 1.28–1.85M) and CPU per record within
 * the noise.
 */
import { PreparedFields, type CheckedRecord, type PreparedRecord } from './serialize.js';
import type { TopicInfo } from './topic-registry.js';
import type { EntryValue } from '../shared/record-entry.js';

/** References per record: key, value, headers. */
const REFS = 3;
const KEY = 0;
const VALUE = 1;
const HEADERS = 2;
/** Float64 numbers per record: timestamp, send seq (a count over the producer's life, past int32 in hours). */
const DOUBLES = 2;
const TIMESTAMP = 0;
const SEQ = 1;
/**
 * Int32 numbers per record: its topic (1 + a slot in the call's topic names; 0: no record here), partition asked
 * for (-1: none), size (checked to fit a ring entry first, so far below 2^31), placed partition, placed topic (a slot
 * in the call's placed topics), the value's bytes (PreparedRecord.valueBytes).
 */
const INTS = 6;
const TOPIC = 0;
const ASKED = 1;
const SIZE = 2;
const PLACED_PARTITION = 3;
const PLACED_TOPIC = 4;
const VALUE_BYTES = 5;
/** Bytes of a record's numbers. */
const NUMBER_BYTES = DOUBLES * 8 + INTS * 4;

/**
 * The columns of finished calls, kept for the next calls: a call of 10,000 records needs 640 KB of them, and fresh
 * ones cost page faults and the filling of new pages every call (about 5 % of the main thread's busy time in the
 * sendBatch-100B micro suite). Kept while the sets together hold at most MAX_KEPT_BYTES (and at most MAX_KEPT sets,
 * so `take`'s search stays short), each of at most MAX_KEPT_RECORDS records: a rare huge call's columns are left to
 * the collector. The pool holds only sets that were in use together before, so the columns' own peak does not rise;
 * what it keeps is memory the collector would otherwise have given back.
 *
 * Why 20 MiB and not the 8 sets of before: calls finish placing and new calls come in bursts (a delivered request
 * resolves several calls at once), so with many calls outstanding the pool swung between full and empty, and half
 * the calls of the kfake bench at 100B-none (up to 64 outstanding sendBatch calls of 10,322 records) made new
 * columns; a tenth do now, besides the first burst of each run. Four alternated pairs of 6,000,000 records against
 * the pool of before (`npx tsx bench/throughput.ts --broker kfake --clients ringkafka --scenarios 100B-none
 * --records 6000000 --repeat 1`): main thread 0.47 → 0.42 µs per record and 1.64M → 1.82M records/s (medians; better
 * in each pair), collector's time level, peak RSS about 45 MB higher (medians; it spreads over 550–665 MB).
 */
export class CallColumnsPool {
  readonly #free: Columns[] = [];
  #keptBytes = 0;

  /** Sets of columns kept for reuse. */
  get kept(): number {
    return this.#free.length;
  }

  /** Columns for `length` records: a kept set large enough, else a new one. */
  take(length: number): Columns {
    const free = this.#free;
    for (let i = free.length - 1; i >= 0; i--) {
      const columns = free[i]!;
      if (columns.capacity >= length) {
        free[i] = free[free.length - 1]!;
        free.pop();
        this.#keptBytes -= bytesOf(columns);
        return columns;
      }
    }
    return newColumns(length);
  }

  /** Keeps columns whose every reference is undefined again (each record was forgotten). */
  give(columns: Columns): void {
    if (columns.capacity > MAX_KEPT_RECORDS || this.#free.length >= MAX_KEPT) return;
    const bytes = bytesOf(columns);
    if (this.#keptBytes + bytes > MAX_KEPT_BYTES) return;
    this.#free.push(columns);
    this.#keptBytes += bytes;
  }
}

const MAX_KEPT_BYTES = 20 * 1024 * 1024;
const MAX_KEPT = 64;
const MAX_KEPT_RECORDS = 16_384;

/** What a set of columns holds: 8 bytes per reference, and its numbers. */
function bytesOf(columns: Columns): number {
  return columns.capacity * (REFS * 8 + NUMBER_BYTES);
}

interface Columns {
  readonly refs: unknown[];
  readonly doubles: Float64Array;
  readonly ints: Int32Array;
  readonly capacity: number;
}

/**
 * Columns for at least `length` records. The capacity is rounded up (to the next power of two below 1,024 records,
 * to a multiple of 1,024 above), so that calls of about the same size can reuse each other's columns: the calls of a
 * service, cut by bytes, differ by a record or two (the kfake bench's calls at 100B-none: 10,321 and 10,322
 * records), and a set exactly one record short of the next call is no use to it.
 */
function newColumns(length: number): Columns {
  const capacity = length <= 1024 ? 2 ** Math.ceil(Math.log2(Math.max(1, length))) : Math.ceil(length / 1024) * 1024;
  // One buffer for both kinds of numbers: the doubles first, so the ints start at a multiple of 8.
  const numbers = new ArrayBuffer(capacity * NUMBER_BYTES);
  return {
    // Holes read as undefined; filling the array first cost ~6 % of the main thread's busy time in the
    // sendBatch-100B micro suite.
    refs: new Array<unknown>(capacity * REFS),
    doubles: new Float64Array(numbers, 0, capacity * DOUBLES),
    // Zeros: no record at any position (TOPIC 0).
    ints: new Int32Array(numbers, capacity * DOUBLES * 8, capacity * INTS),
    capacity,
  };
}

/** The reused record `CallRecords.lend` fills: a PreparedFields, so every reader sees the one shape of records. */
export type LentRecord = { -readonly [K in keyof PreparedRecord]: PreparedRecord[K] };

const NO_HEADERS: PreparedRecord['headers'] = Object.freeze([]);

/**
 * A record for `lend` to fill. Made with a fractional timestamp, so its field holds a double from the start, as in
 * every record (a millisecond timestamp is no small integer): no change of representation when the first is lent.
 */
export function newLentRecord(): LentRecord {
  return new PreparedFields('', undefined, null, null, NO_HEADERS, 0.5, 0, -1);
}

/** Drops what `view` references of the last record lent, so a slice's last record is not kept alive by it. */
export function clearLentRecord(view: LentRecord): void {
  view.key = null;
  view.value = null;
  view.headers = NO_HEADERS;
}

export class CallRecords {
  /**
   * One array for every reference: one object for the collector, and for a call of more than a few thousand
   * records one large enough to be allocated where the scavenger never copies it.
   */
  readonly #refs: unknown[];
  /** Off the heap: nothing for the collector to copy, no boxed double per timestamp. */
  readonly #doubles: Float64Array;
  readonly #ints: Int32Array;
  readonly #columns: Columns;
  readonly #pool: CallColumnsPool | undefined;
  /**
   * The topic names of the call's records, and the topics they were placed on (a refresh of metadata between two
   * placements may give one name a second TopicInfo): a record keeps a slot in each, not a reference.
   */
  readonly #topicNames = new Slots<string>();
  readonly #placedTopics = new Slots<TopicInfo>();
  /** Records kept and not forgotten yet. */
  #held = 0;
  /** True until every position was placed or failed (donePlacing): until then a position may still be read. */
  #placing = true;
  #released = false;

  /** Records for one call of `length`; with a pool, the columns come from it and go back once the call is done. */
  constructor(readonly length: number, pool?: CallColumnsPool) {
    this.#pool = pool;
    this.#columns = pool?.take(length) ?? newColumns(length);
    this.#refs = this.#columns.refs;
    this.#doubles = this.#columns.doubles;
    this.#ints = this.#columns.ints;
  }

  /**
   * Every position was placed or failed: once no record is held either, the columns go back to the pool, and this
   * object must not be read again (nothing does: placement is over and every waiting slice let go of it).
   */
  donePlacing(): void {
    this.#placing = false;
    this.#releaseIfDone();
  }

  /** Keeps the checked record at `index` (checkRecord's fields, copied out here). */
  set(index: number, record: Readonly<CheckedRecord>): void {
    const r = index * REFS;
    const refs = this.#refs;
    refs[r + KEY] = record.key;
    refs[r + VALUE] = record.value;
    refs[r + HEADERS] = record.headers;
    this.#held++;
    const d = index * DOUBLES;
    this.#doubles[d + TIMESTAMP] = record.timestamp;
    const i = index * INTS;
    const ints = this.#ints;
    ints[i + TOPIC] = 1 + this.#topicNames.slotOf(record.topic);
    ints[i + ASKED] = record.partition ?? -1;
    ints[i + SIZE] = record.size;
    ints[i + VALUE_BYTES] = record.valueBytes;
  }

  /** Whether a record is kept at `index`: false where its check failed, and once it is forgotten. */
  has(index: number): boolean {
    return this.#ints[index * INTS + TOPIC] !== 0;
  }

  topicName(index: number): string {
    return this.#topicNames.at(this.#ints[index * INTS + TOPIC]! - 1);
  }

  key(index: number): Uint8Array | null {
    return this.#refs[index * REFS + KEY] as Uint8Array | null;
  }

  /** The partition the record asked for, or -1 for none. */
  askedPartition(index: number): number {
    return this.#ints[index * INTS + ASKED]!;
  }

  size(index: number): number {
    return this.#ints[index * INTS + SIZE]!;
  }

  /** Notes where the record was placed, for when its slice of buffer space is granted. */
  place(index: number, topic: TopicInfo, partition: number, seq: number): void {
    const i = index * INTS;
    const ints = this.#ints;
    ints[i + PLACED_TOPIC] = this.#placedTopics.slotOf(topic);
    ints[i + PLACED_PARTITION] = partition;
    this.#doubles[index * DOUBLES + SEQ] = seq;
  }

  /** Keeps the record's send sequence while it waits for its topic, before it is placed. */
  keepSeq(index: number, seq: number): void {
    this.#doubles[index * DOUBLES + SEQ] = seq;
  }

  placedTopic(index: number): TopicInfo {
    return this.#placedTopics.at(this.#ints[index * INTS + PLACED_TOPIC]!);
  }

  placedPartition(index: number): number {
    return this.#ints[index * INTS + PLACED_PARTITION]!;
  }

  seq(index: number): number {
    return this.#doubles[index * DOUBLES + SEQ]!;
  }

  /** The record at `index` as a PreparedRecord (made as prepareRecord makes it: one shape for every reader). */
  record(index: number): PreparedRecord {
    const r = index * REFS;
    const i = index * INTS;
    const refs = this.#refs;
    const ints = this.#ints;
    const asked = ints[i + ASKED]!;
    return new PreparedFields(
      this.#topicNames.at(ints[i + TOPIC]! - 1),
      asked < 0 ? undefined : asked,
      refs[r + KEY] as Uint8Array | null,
      refs[r + VALUE] as EntryValue,
      refs[r + HEADERS] as PreparedRecord['headers'],
      this.#doubles[index * DOUBLES + TIMESTAMP]!,
      ints[i + SIZE]!,
      ints[i + VALUE_BYTES]!,
    );
  }

  /**
   * Lends the record at `index` to the delivery settlement: `view`'s fields are rewritten to the record's, and the
   * record is forgotten here (forget). Whoever is handed `view` reads it before the next record is lent and keeps
   * none of it: Deliveries.accept copies the fields into its table and the record's ring entry, or the overflow
   * queue's columns.
   *
   * Why not an object per record (`record`): at 100 B, that object and its boxed timestamp were three fifths of the
   * bytes the main thread allocated at saturation (a sampling allocation profile of the kfake bench, 6,000,000
   * records), and the collector 17 % of its time.
   */
  lend(index: number, view: LentRecord): PreparedRecord {
    const r = index * REFS;
    const i = index * INTS;
    const refs = this.#refs;
    const ints = this.#ints;
    const asked = ints[i + ASKED]!;
    view.topic = this.#topicNames.at(ints[i + TOPIC]! - 1);
    view.partition = asked < 0 ? undefined : asked;
    view.key = refs[r + KEY] as Uint8Array | null;
    view.value = refs[r + VALUE] as EntryValue;
    view.headers = refs[r + HEADERS] as PreparedRecord['headers'];
    view.timestamp = this.#doubles[index * DOUBLES + TIMESTAMP]!;
    view.size = ints[i + SIZE]!;
    view.valueBytes = ints[i + VALUE_BYTES]!;
    this.forget(index);
    return view;
  }

  /** Forgets the record at `index` (accepted, failed or handed on as an object): its bytes are not kept alive here. */
  forget(index: number): void {
    const i = index * INTS;
    const ints = this.#ints;
    if (ints[i + TOPIC] === 0) return; // none there: forgotten already, or its check failed
    ints[i + TOPIC] = 0;
    // Three stores, not refs.fill(undefined, r, r + REFS): a builtin call per record costs more on this hot path.
    const r = index * REFS;
    const refs = this.#refs;
    refs[r + KEY] = undefined;
    refs[r + VALUE] = undefined;
    refs[r + HEADERS] = undefined;
    this.#held--;
    if (this.#held === 0) this.#releaseIfDone();
  }

  #releaseIfDone(): void {
    if (this.#placing || this.#held !== 0 || this.#released) return;
    this.#released = true;
    this.#pool?.give(this.#columns);
  }
}

/**
 * Distinct values, each at a slot that stays its own. Most calls write to one topic, so the last value is compared
 * first, and the map that finds the others is made only once a second value comes (a call may write to thousands of
 * topics; most calls never need it).
 */
class Slots<T> {
  readonly #values: T[] = [];
  #slots: Map<T, number> | undefined;
  #last: T | undefined;
  #lastSlot = 0;

  slotOf(value: T): number {
    if (value === this.#last) return this.#lastSlot;
    const values = this.#values;
    let slot: number | undefined;
    if (values.length === 0) slot = values.push(value) - 1;
    else {
      this.#slots ??= new Map([[values[0]!, 0]]);
      slot = this.#slots.get(value);
      if (slot === undefined) this.#slots.set(value, (slot = values.push(value) - 1));
    }
    this.#last = value;
    this.#lastSlot = slot;
    return slot;
  }

  at(slot: number): T {
    return this.#values[slot]!;
  }
}
