/**
 * Records between `send` and their result, by record id, kept as columns of typed arrays rather than an object
 * per record: a record lives for a whole linger and round trip, long enough to be promoted out of V8's young
 * generation, so per-record objects here would turn into major GC work at a million records a second.
 *
 * An id is the index of the record's state byte in the shared record-state table, handed out from a free list and
 * reused only after the owning worker has reported the record (delivered, failed or dropped), so a late report can
 * never be mistaken for a newer record. A caller may be released early (abort, delivery timeout, close) while its
 * record stays here until the worker reports it; its bytes stay counted in the budget until then, so memory stays
 * bounded by maxBufferedBytes.
 *
 * A record's caller (its settler and AbortSignal) is not stored per record either: records accepted one after the
 * other for the same caller share one entry of a small registry, and each record holds the entry's number in an
 * Int32Array. An array of references per record id (a million slots by default) cost ~20 ms and 16 MB to create,
 * every major GC had to mark it, and every accepted record stored a pointer to a young settler into it: a write
 * barrier, and a slot the next scavenge had to visit.
 */
import type { Settler } from './settlers.js';

/**
 * Free caller entries kept for reuse: enough that a `send` per record allocates none, few enough that a burst of a
 * million single sends does not leave a million of them behind.
 */
const MAX_POOLED_CALLERS = 4096;

/** The sweep ring's first size (entries); when full it drops its stale entries, and doubles if that was not enough. */
const INITIAL_SWEEP_SLOTS = 1024;

/** The records of one caller accepted in a row: who settles them, what aborts them, how many are still attached. */
interface CallerEntry {
  settler: Settler | undefined;
  signal: AbortSignal | undefined;
  attached: number;
}

export class DeliveryTable {
  readonly size: Int32Array;
  readonly partition: Int32Array;
  readonly topicIndex: Uint16Array;
  readonly worker: Uint16Array;
  readonly timestamp: Float64Array;
  readonly deadline: Float64Array;
  /** Order of the `send` call (for flush); also tells a reused id from its earlier record. */
  readonly sendSeq: Float64Array;
  /** The record's index in its sendBatch call (0 for a send): where its settler puts the result. */
  readonly position: Int32Array;
  /** 1 + the record's CallerEntry number, 0 once its caller has been settled (or before it had one). */
  readonly #caller: Int32Array;
  /**
   * Caller entries by number. A number in #freeCallers is free: its entry is undefined, or a pooled one (no settler,
   * nothing attached; #pooledCallers of them).
   */
  readonly #callers: (CallerEntry | undefined)[] = [];
  readonly #freeCallers: number[] = [];
  #pooledCallers = 0;
  /** The entry the last attached record joined: the next record of the same caller and signal joins it too. */
  #lastCaller = -1;
  readonly #free: Int32Array;
  #freeCount = 0;
  #nextFresh = 0;
  #count = 0;
  /**
   * Ids in send order with their sendSeq, for the delivery-timeout sweep (an entry whose id was freed or reused
   * meanwhile is stale and skipped): a ring of typed arrays from #sweepHead to #sweepTail (both counting up, the
   * slot is the count modulo the length, a power of two), grown by doubling; no JS array push per record.
   */
  #sweepIds: Int32Array;
  #sweepSeqs: Float64Array;
  #sweepHead = 0;
  #sweepTail = 0;

  constructor(capacity: number) {
    this.size = new Int32Array(capacity);
    this.partition = new Int32Array(capacity);
    this.topicIndex = new Uint16Array(capacity);
    this.worker = new Uint16Array(capacity);
    this.timestamp = new Float64Array(capacity);
    this.deadline = new Float64Array(capacity);
    this.sendSeq = new Float64Array(capacity);
    this.position = new Int32Array(capacity);
    this.#caller = new Int32Array(capacity);
    this.#free = new Int32Array(capacity);
    // A power of two, so a count maps to its slot with a mask (exact while counts stay below 2^53). Small at first
    // and grown by #growSweep to what is outstanding: its slots are written all round as the ring turns, so a ring
    // sized for `capacity` (12 MB for the default million ids) became resident in full after that many sends, however
    // few were ever outstanding at once.
    this.#sweepIds = new Int32Array(2 ** Math.ceil(Math.log2(Math.min(INITIAL_SWEEP_SLOTS, Math.max(16, capacity)))));
    this.#sweepSeqs = new Float64Array(this.#sweepIds.length);
  }

  get count(): number {
    return this.#count;
  }

  /** Entries the delivery-timeout sweep's ring has room for now (it grows with what is outstanding). */
  get sweepSlots(): number {
    return this.#sweepIds.length;
  }

  /** A free id, or -1 when every id is taken (the record budget prevents that). */
  allocate(): number {
    const id = this.#freeCount > 0 ? this.#free[--this.#freeCount]! : this.#nextFresh < this.size.length ? this.#nextFresh++ : -1;
    if (id >= 0) this.#count++;
    return id;
  }

  /** Call after filling the columns of a new record. */
  track(id: number): void {
    if (this.#sweepTail - this.#sweepHead === this.#sweepIds.length) this.#makeSweepRoom();
    const slot = this.#sweepTail++ & (this.#sweepIds.length - 1);
    this.#sweepIds[slot] = id;
    this.#sweepSeqs[slot] = this.sendSeq[id]!;
  }

  /**
   * The sweep ring is full: drops its stale entries (ids freed or settled since), then doubles it if the records
   * still waiting fill more than three quarters of it. The head stays at the oldest record not due yet, so while one
   * record waits long (a partition whose leader is away, up to deliveryTimeoutMs) every entry sent after it stays
   * behind it; kept whole, the ring grew with every record sent meanwhile (12 bytes each: 1.5 GB over two minutes
   * at a million records a second). Compacted, it grows only with the records outstanding, and a pass over it
   * comes at most once per quarter of its length of new entries.
   */
  #makeSweepRoom(): void {
    const ids = this.#sweepIds;
    const seqs = this.#sweepSeqs;
    const mask = ids.length - 1;
    // In place, in order: the write position never passes the read position, so nothing unread is overwritten.
    let write = this.#sweepHead;
    for (let read = this.#sweepHead; read < this.#sweepTail; read++) {
      const id = ids[read & mask]!;
      const seq = seqs[read & mask]!;
      if (!this.#waits(id, seq)) continue;
      ids[write & mask] = id;
      seqs[write & mask] = seq;
      write++;
    }
    this.#sweepTail = write;
    if (write - this.#sweepHead > (ids.length * 3) / 4) this.#growSweep();
  }

  /**
   * Whether a sweep entry still stands for a record whose caller waits: not if its id was freed or reused since
   * (another sendSeq), nor once its caller was settled.
   */
  #waits(id: number, seq: number): boolean {
    return this.sendSeq[id] === seq && this.#caller[id] !== 0;
  }

  /** Doubles the sweep ring, its entries moved to the front in order. */
  #growSweep(): void {
    const length = this.#sweepIds.length;
    const count = this.#sweepTail - this.#sweepHead;
    const ids = new Int32Array(length * 2);
    const seqs = new Float64Array(length * 2);
    for (let i = 0; i < count; i++) {
      const slot = (this.#sweepHead + i) & (length - 1);
      ids[i] = this.#sweepIds[slot]!;
      seqs[i] = this.#sweepSeqs[slot]!;
    }
    this.#sweepIds = ids;
    this.#sweepSeqs = seqs;
    this.#sweepTail = count;
    this.#sweepHead = 0;
  }

  /** Gives the record its caller: the settler that hears its outcome and the signal that may abort it. */
  attach(id: number, settler: Settler, signal: AbortSignal | undefined): void {
    let number = this.#lastCaller;
    const last = number < 0 ? undefined : this.#callers[number]!;
    if (last !== undefined && last.settler === settler && last.signal === signal) last.attached++;
    else {
      number = this.#freeCallers.length > 0 ? this.#freeCallers.pop()! : this.#callers.length;
      const pooled = this.#callers[number];
      if (pooled !== undefined) {
        this.#pooledCallers--;
        pooled.settler = settler;
        pooled.signal = signal;
        pooled.attached = 1;
      } else this.#callers[number] = { settler, signal, attached: 1 };
      this.#lastCaller = number;
    }
    this.#caller[id] = number + 1;
  }

  /** The record's settler, or undefined once it has been settled (detach). */
  settlerOf(id: number): Settler | undefined {
    const number = this.#caller[id]!;
    return number === 0 ? undefined : this.#callers[number - 1]!.settler;
  }

  /** The signal the record's caller passed, or undefined (none, or settled already). */
  signalOf(id: number): AbortSignal | undefined {
    const number = this.#caller[id]!;
    return number === 0 ? undefined : this.#callers[number - 1]!.signal;
  }

  /** Takes the record's caller away (it is being settled): its settler, or undefined when it had none left. */
  detach(id: number): Settler | undefined {
    const number = this.#caller[id]! - 1;
    if (number < 0) return undefined;
    this.#caller[id] = 0;
    const entry = this.#callers[number]!;
    const settler = entry.settler;
    if (--entry.attached > 0) return settler;
    // Its last record: the number is free for another caller, and the settler for the garbage collector.
    if (this.#pooledCallers < MAX_POOLED_CALLERS) {
      this.#pooledCallers++;
      entry.settler = undefined;
      entry.signal = undefined;
    } else this.#callers[number] = undefined;
    this.#freeCallers.push(number);
    if (this.#lastCaller === number) this.#lastCaller = -1;
    return settler;
  }

  /** Frees the id; the caller must have been settled already. */
  free(id: number): void {
    this.detach(id);
    this.sendSeq[id] = -1;
    this.#free[this.#freeCount++] = id;
    this.#count--;
  }

  /**
   * Ids whose deadline passed and whose caller still waits, oldest first (deadlines grow with send order), each with
   * its record's send sequence in `outSeqs`: the record an id stands for, should the id be freed and reused before
   * the caller gets to it.
   */
  expired(now: number, out: number[], outSeqs?: number[]): void {
    const ids = this.#sweepIds;
    const seqs = this.#sweepSeqs;
    while (this.#sweepHead < this.#sweepTail) {
      const slot = this.#sweepHead & (ids.length - 1);
      const id = ids[slot]!;
      const seq = seqs[slot]!;
      if (this.#waits(id, seq)) {
        if (this.deadline[id]! > now) break;
        out.push(id);
        outSeqs?.push(seq);
      }
      this.#sweepHead++;
    }
  }

  /** Every live id (crash, close). */
  live(): number[] {
    const ids: number[] = [];
    for (let id = 0; id < this.#nextFresh; id++) if (this.sendSeq[id]! >= 0) ids.push(id);
    return ids;
  }
}
