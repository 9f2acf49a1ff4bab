/**
 * A sendBatch's checked records, kept field by field in columns from the call until each is accepted: no object per
 * record while it waits its turn in the submit backlog or for buffer space, nor when it is handed to the delivery
 * settlement, which reads it through one reused object (`lend`). A record becomes a PreparedRecord object of its own
 * only when it takes a rare path (its topic's metadata, a transaction, an explicit partition or a partitioner
 * function).
 *
 * Why: the records of a large sendBatch, or of calls queued behind it, wait for hundreds of milliseconds when the
 * producer is the slower side. As one object each they outlived two scavenges, so V8 allocated them straight into
 * the old generation (it pretenures an allocation site whose objects mostly survive), where each died and waited
 * for a full collection: in a `--cpu-prof` of the kfake bench at 100 B the record object's allocation was 80 % of
 * the check-and-serialise step, and the collector 10 % of the main thread.
 *
 * Indexed by position in the call. Besides the checked fields, each record's placement (its topic, partition and
 * send sequence) is kept here once it is placed, for a record that then waits for buffer space (waiting-slice.ts).
 */
import { PreparedFields, type CheckedRecord, type PreparedRecord } from './serialize.js';
import type { TopicInfo } from './topic-registry.js';

/** References per record: topic name (undefined: no record here), key, value, headers, placed topic. */
const REFS = 5;
const TOPIC = 0;
const KEY = 1;
const VALUE = 2;
const HEADERS = 3;
const PLACED_TOPIC = 4;
/** Numbers per record: partition asked for (-1: none), timestamp, size, placed partition, send seq. */
const NUMBERS = 5;
const ASKED = 0;
const TIMESTAMP = 1;
const SIZE = 2;
const PLACED_PARTITION = 3;
const SEQ = 4;

/**
 * The columns of finished calls, kept for the next calls: a call of 10,000 records needs 800 KB of them, and fresh
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

/** What a set of columns holds: 8 bytes per reference and per number. */
function bytesOf(columns: Columns): number {
  return columns.capacity * (REFS + NUMBERS) * 8;
}

interface Columns {
  readonly refs: unknown[];
  readonly numbers: Float64Array;
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
  // Holes read as undefined (no record); filling the array first cost ~6 % of the main thread's busy time in the
  // sendBatch-100B micro suite.
  return { refs: new Array<unknown>(capacity * REFS), numbers: new Float64Array(capacity * NUMBERS), capacity };
}

/** The reused record `CallRecords.lend` fills: a PreparedFields, so every reader sees the one shape of records. */
export type LentRecord = { -readonly [K in keyof PreparedRecord]: PreparedRecord[K] };

const NO_HEADERS: PreparedRecord['headers'] = Object.freeze([]);

/**
 * A record for `lend` to fill. Made with a fractional timestamp, so its field holds a double from the start, as in
 * every record (a millisecond timestamp is no small integer): no change of representation when the first is lent.
 */
export function newLentRecord(): LentRecord {
  return new PreparedFields('', undefined, null, null, NO_HEADERS, 0.5, 0);
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
  readonly #numbers: Float64Array;
  readonly #columns: Columns;
  readonly #pool: CallColumnsPool | undefined;
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
    this.#numbers = this.#columns.numbers;
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
    refs[r + TOPIC] = record.topic;
    refs[r + KEY] = record.key;
    refs[r + VALUE] = record.value;
    refs[r + HEADERS] = record.headers;
    this.#held++;
    const n = index * NUMBERS;
    const numbers = this.#numbers;
    numbers[n + ASKED] = record.partition ?? -1;
    numbers[n + TIMESTAMP] = record.timestamp;
    numbers[n + SIZE] = record.size;
  }

  /** Whether a record is kept at `index`: false where its check failed, and once it is forgotten. */
  has(index: number): boolean {
    return this.#refs[index * REFS + TOPIC] !== undefined;
  }

  topicName(index: number): string {
    return this.#refs[index * REFS + TOPIC] as string;
  }

  key(index: number): Uint8Array | null {
    return this.#refs[index * REFS + KEY] as Uint8Array | null;
  }

  /** The partition the record asked for, or -1 for none. */
  askedPartition(index: number): number {
    return this.#numbers[index * NUMBERS + ASKED]!;
  }

  size(index: number): number {
    return this.#numbers[index * NUMBERS + SIZE]!;
  }

  /** Notes where the record was placed, for when its slice of buffer space is granted. */
  place(index: number, topic: TopicInfo, partition: number, seq: number): void {
    this.#refs[index * REFS + PLACED_TOPIC] = topic;
    const n = index * NUMBERS;
    this.#numbers[n + PLACED_PARTITION] = partition;
    this.#numbers[n + SEQ] = seq;
  }

  placedTopic(index: number): TopicInfo {
    return this.#refs[index * REFS + PLACED_TOPIC] as TopicInfo;
  }

  placedPartition(index: number): number {
    return this.#numbers[index * NUMBERS + PLACED_PARTITION]!;
  }

  seq(index: number): number {
    return this.#numbers[index * NUMBERS + SEQ]!;
  }

  /** The record at `index` as a PreparedRecord (made as prepareRecord makes it: one shape for every reader). */
  record(index: number): PreparedRecord {
    const r = index * REFS;
    const n = index * NUMBERS;
    const refs = this.#refs;
    const numbers = this.#numbers;
    const asked = numbers[n + ASKED]!;
    return new PreparedFields(
      refs[r + TOPIC] as string,
      asked < 0 ? undefined : asked,
      refs[r + KEY] as Uint8Array | null,
      refs[r + VALUE] as Uint8Array | null,
      refs[r + HEADERS] as PreparedRecord['headers'],
      numbers[n + TIMESTAMP]!,
      numbers[n + SIZE]!,
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
    const n = index * NUMBERS;
    const refs = this.#refs;
    const numbers = this.#numbers;
    const asked = numbers[n + ASKED]!;
    view.topic = refs[r + TOPIC] as string;
    view.partition = asked < 0 ? undefined : asked;
    view.key = refs[r + KEY] as Uint8Array | null;
    view.value = refs[r + VALUE] as Uint8Array | null;
    view.headers = refs[r + HEADERS] as PreparedRecord['headers'];
    view.timestamp = numbers[n + TIMESTAMP]!;
    view.size = numbers[n + SIZE]!;
    this.forget(index);
    return view;
  }

  /** Forgets the record at `index` (accepted, failed or handed on as an object): its bytes are not kept alive here. */
  forget(index: number): void {
    // Five stores, not refs.fill(undefined, r, r + REFS): a builtin call per record costs more on this hot path.
    const r = index * REFS;
    const refs = this.#refs;
    if (refs[r + TOPIC] === undefined) return; // none there: forgotten already, or its check failed
    refs[r + TOPIC] = undefined;
    refs[r + KEY] = undefined;
    refs[r + VALUE] = undefined;
    refs[r + HEADERS] = undefined;
    refs[r + PLACED_TOPIC] = undefined;
    this.#held--;
    if (this.#held === 0) this.#releaseIfDone();
  }

  #releaseIfDone(): void {
    if (this.#placing || this.#held !== 0 || this.#released) return;
    this.#released = true;
    this.#pool?.give(this.#columns);
  }
}
