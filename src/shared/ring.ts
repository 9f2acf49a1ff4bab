/**
 * A single-producer/single-consumer ring of variable-length entries over a SharedArrayBuffer: main → worker for
 * records, worker → main for completions. Exactly one RingWriter and one RingReader may exist per ring, each used
 * by one thread.
 *
 * Layout (byte offsets):
 *
 *   0    Int32 WRITE_POS        writer stores after filling entries; reader loads
 *   4    Int32 READER_SLEEPING  reader stores 1 (or 2, lingering) before waiting, 0 after; writer swaps it to 0
 *                               to wake it
 *   64   Int32 READ_POS         reader stores when it releases entries; writer loads
 *   68   Int32 WRITER_SLEEPING  writer stores 1 before waiting, 0 after; reader swaps 1 → 0 to wake it
 *   72   Int32 WAKE_AT          reader stores before it lingers: the WRITE_POS from which the writer must wake it
 *   128  data area, `capacity` bytes, a power of two
 *
 * Positions are free-running 32-bit counters (they wrap from 2^31 - 1 to -2^31 and on): the byte at position p
 * is data[p & (capacity - 1)] and the bytes in use are (write - read) | 0, both exact in two's complement because
 * capacity divides 2^32. Entries are an Int32 length prefix, then the payload padded to 4 bytes. An entry that
 * would cross the end of the data area is preceded by a WRAP marker (length -1) and written at offset 0 instead.
 * Entries are at most capacity/2 bytes including their prefix, so an empty ring always has room for the largest
 * one plus the bytes skipped by a wrap — a writer that waits for space always gets it once the reader drains.
 *
 * Wake-ups are coalesced with the sleeping words: a side notifies only when it swaps the other side's word to 0,
 * so a busy reader (or writer) costs its peer one Atomics.load per publish and never a notify. A side sleeps on
 * its own sleeping word (Atomics.waitAsync, expected value 1 or 2), not on a position, so that wake() — which
 * moves no position — cannot be lost either.
 *
 * A reader with a deadline of its own to wake at (a worker with open batches: their linger) may sleep
 * *lingering* (READER_SLEEPING = 2): then the writer wakes it only once WRITE_POS reaches WAKE_AT (enough bytes
 * that a batch could be full), and wake() always does. At a modest rate that is one wake-up per linger instead of
 * one per turn of the writer's event loop.
 *
 * The wake-up protocols are model-checked with Spin: test/shared/models/ring.pml (data and wake(), the reader's
 * side), test/shared/models/ring-space.pml (back-pressure, the writer's side) and
 * test/shared/models/ring-linger-space.pml (a writer waiting for room kicks its lingering reader). Comments name each model step
 * (`publish`, `sleepy`, …) at the line it stands for.
 *
 * Atomics.waitAsync does not keep Node's event loop alive: a thread that awaits waitForData or waitForSpace must
 * hold a ref'd handle (a timer, a socket, a MessagePort) while work is pending, or it may exit mid-wait. This
 * module holds none, so an idle ring never keeps a process alive by itself.
 */
import { ConfigError } from './errors.js';
import { AbortError, RecordTooLargeError } from './producer-errors.js';
import type { ProtocolPause } from './control-block.js';
import { WordWaiter, type WaitOptions, type WaitOutcome } from './wait-on.js';

/** Header slot indices (Int32). The two positions sit on separate cache lines, so neither side's stores keep
 *  invalidating the line the other side stores to. */
export const RingSlot = {
  WRITE_POS: 0,
  READER_SLEEPING: 1,
  READ_POS: 16,
  WRITER_SLEEPING: 17,
  WAKE_AT: 18,
} as const;
export type RingSlot = (typeof RingSlot)[keyof typeof RingSlot];

export const RING_HEADER_BYTES = 128;
export const MIN_RING_CAPACITY = 64;
export const MAX_RING_CAPACITY = 2 ** 30;
const WRAP = -1;
/** READER_SLEEPING while the reader lingers: asleep, to be woken by wake() or once WRITE_POS reaches WAKE_AT. */
const LINGERING = 2;

export interface WaitForDataOptions extends WaitOptions {
  /** Another reason to stay awake, re-checked after the sleeping word is stored (RingReader.waitForData). */
  readonly hasWork?: (() => boolean) | undefined;
  /** Sleep lingering: new entries wake the reader only once this many more bytes are published (at least 1). */
  readonly lingerBytes?: number | undefined;
}

export interface RingOptions {
  /** Data area in bytes: a power of two from 64 to 2^30. */
  readonly capacity: number;
  /** Starting value of both positions, a multiple of 4 (tests use values near 2^31 and 2^32); default 0. */
  readonly initialPosition?: number;
}

/** Allocates a ring. Hand the buffer to both threads; each wraps it in its one RingWriter or RingReader. */
export function createRing(options: RingOptions): SharedArrayBuffer {
  const { capacity, initialPosition = 0 } = options;
  if (!Number.isInteger(capacity) || capacity < MIN_RING_CAPACITY || capacity > MAX_RING_CAPACITY ||
      (capacity & (capacity - 1)) !== 0) {
    throw new ConfigError(`ring capacity must be a power of two from ${MIN_RING_CAPACITY} to 2^30, got ${capacity}`);
  }
  if (!Number.isInteger(initialPosition) || initialPosition % 4 !== 0) {
    throw new ConfigError(`ring initialPosition must be an integer multiple of 4, got ${initialPosition}`);
  }
  const buffer = new SharedArrayBuffer(RING_HEADER_BYTES + capacity);
  const header = new Int32Array(buffer, 0, RING_HEADER_BYTES / 4);
  header[RingSlot.WRITE_POS] = initialPosition | 0;
  header[RingSlot.READ_POS] = initialPosition | 0;
  return buffer;
}

/** The largest payload a ring of `capacity` bytes accepts: half the ring, less the length prefix. */
export function maxEntryBytes(capacity: number): number {
  return capacity / 2 - 4;
}

/** Fields both ends derive from the buffer the same way. */
abstract class RingEnd {
  /** The data area; payload offsets returned by reserve() and read() index into it. */
  readonly data: Uint8Array;
  readonly capacity: number;
  readonly maxEntryBytes: number;
  protected readonly header: Int32Array;
  /** The data area as Int32 words (entries are 4-aligned, so an entry's fixed fields can be stored whole). */
  readonly words: Int32Array;
  protected readonly mask: number;
  /** Test seam (see ProtocolPause); production code passes nothing. */
  protected readonly pause: ProtocolPause | undefined;

  constructor(buffer: SharedArrayBuffer, pause?: ProtocolPause) {
    const capacity = buffer.byteLength - RING_HEADER_BYTES;
    if (capacity < MIN_RING_CAPACITY || (capacity & (capacity - 1)) !== 0) {
      throw new ConfigError(`not a ring buffer: ${buffer.byteLength} bytes`);
    }
    this.capacity = capacity;
    this.maxEntryBytes = maxEntryBytes(capacity);
    this.mask = capacity - 1;
    this.header = new Int32Array(buffer, 0, RING_HEADER_BYTES / 4);
    this.words = new Int32Array(buffer, RING_HEADER_BYTES, capacity / 4);
    this.data = new Uint8Array(buffer, RING_HEADER_BYTES, capacity);
    this.pause = pause;
  }
}

/**
 * The writing end. Hot path, allocation-free: `const at = writer.reserve(n)` (−1 when full), fill
 * `writer.data[at … at + n)`, reserve more if you like, then one `commit()` publishes them all with one atomic
 * store and, only if the reader sleeps, one notify.
 */
export class RingWriter extends RingEnd {
  /** Position after the last reserved entry (private to this thread until commit). */
  #pending: number;
  /** Position last stored to WRITE_POS. */
  #published: number;
  /** Last READ_POS seen; refreshed only when the ring looks full, so most reserves do no atomic load. */
  #cachedRead: number;
  /** This thread's waits for room, on WRITER_SLEEPING. */
  readonly #sleep: WordWaiter;

  constructor(buffer: SharedArrayBuffer, pause?: ProtocolPause) {
    super(buffer, pause);
    this.#sleep = new WordWaiter(this.header, RingSlot.WRITER_SLEEPING);
    this.#pending = this.#published = Atomics.load(this.header, RingSlot.WRITE_POS);
    this.#cachedRead = Atomics.load(this.header, RingSlot.READ_POS);
  }

  /**
   * Reserves an entry of `length` payload bytes and returns the offset in `data` where the payload goes, or −1
   * when the ring has no room now (see waitForSpace). Throws RecordTooLargeError when it never could.
   * The entry is invisible to the reader until commit().
   */
  reserve(length: number): number {
    if (length >>> 0 !== length || length > this.maxEntryBytes) this.#rejectLength(length);
    const framed = 4 + ((length + 3) & ~3);
    let pos = this.#pending;
    let offset = pos & this.mask;
    const toEnd = this.capacity - offset;
    const needed = framed <= toEnd ? framed : toEnd + framed;
    if (((pos - this.#cachedRead) | 0) + needed > this.capacity) {
      this.#cachedRead = Atomics.load(this.header, RingSlot.READ_POS);
      if (((pos - this.#cachedRead) | 0) + needed > this.capacity) return -1;
    }
    if (framed > toEnd) {
      // toEnd ≥ 4 always: offsets are 4-aligned, so the marker fits where the entry does not.
      this.words[offset >> 2] = WRAP;
      pos = (pos + toEnd) | 0;
      offset = 0;
    }
    this.words[offset >> 2] = length;
    this.#pending = (pos + framed) | 0;
    return offset + 4;
  }

  /** Publishes every reserved entry. Plain writes to `data` before this are visible to the reader after it. */
  commit(): void {
    const pending = this.#pending;
    if (pending === this.#published) return;
    this.#published = pending;
    const h = this.header;
    Atomics.store(h, RingSlot.WRITE_POS, pending); // model ring.pml: `publish`
    // Ordering (both sides SeqCst): we store WRITE_POS then load READER_SLEEPING; the reader stores
    // READER_SLEEPING (after WAKE_AT) then loads WRITE_POS. At least one of the two loads sees the other's store,
    // so either the reader finds the data (or, lingering, finds WAKE_AT reached) before it sleeps, or we find it
    // asleep, with the WAKE_AT it stored, and wake it.
    const sleeping = Atomics.load(h, RingSlot.READER_SLEEPING); // ring.pml: `look`
    if (sleeping === 0) return;
    // Lingering, and not yet the bytes it asked to be woken for: it reads them at its deadline.
    if (sleeping === LINGERING && ((pending - Atomics.load(h, RingSlot.WAKE_AT)) | 0) < 0) return; // `lookat`
    this.#wakeReader();
  }

  /** Drops every reserved, uncommitted entry (for a caller that failed while filling one). */
  discard(): void {
    this.#pending = this.#published;
  }

  /** Copies `payload` in as one entry and commits it. Returns false, writing nothing, when there is no room. */
  tryWrite(payload: Uint8Array): boolean {
    const at = this.reserve(payload.length);
    if (at < 0) return false;
    this.data.set(payload, at);
    this.commit();
    return true;
  }

  /** Bytes not in use, counting uncommitted entries. An entry may still not fit if it would have to wrap. */
  get freeBytes(): number {
    return this.capacity - ((this.#pending - Atomics.load(this.header, RingSlot.READ_POS)) | 0);
  }

  /**
   * Wakes the reader if it sleeps in waitForData, though nothing new was written: for example so a worker
   * re-reads the control block (someone began waiting for buffer space, so it must stop lingering). Returns true
   * when the reader was asleep. Change the condition the reader re-checks (its `hasWork`) BEFORE calling this:
   * a reader between its check and its sleep then either sees the change or is woken here (ring.pml: `kick`).
   */
  wake(): boolean {
    return this.#wakeReader();
  }

  /**
   * Resolves once an entry of `length` bytes fits. Commits pending entries first: the reader can only free what
   * it can see. Rejects with AbortError (`'not-sent'`: nothing was written) when `signal` aborts — a supervisor
   * should abort it when the reader's thread dies, or this would wait forever (invariant 2, docs/invariants.md).
   * Not a queue: two callers of one thread waiting here are woken together and the first to reserve wins, so a
   * producer that must keep record order keeps its own FIFO backlog and lets only its head wait here.
   */
  async waitForSpace(length: number, options: { readonly signal?: AbortSignal | undefined } = {}): Promise<void> {
    if (length >>> 0 !== length || length > this.maxEntryBytes) this.#rejectLength(length);
    this.commit();
    const h = this.header;
    for (;;) {
      if (this.#fits(length)) return;
      // Ordering: mirror image of commit(): store our sleeping word, then re-check READ_POS; the reader stores
      // READ_POS, then loads our word. We wait on our own word with expected value 1, so a wake that lands
      // between the re-check and the wait makes waitAsync return 'not-equal' instead of being lost.
      Atomics.store(h, RingSlot.WRITER_SLEEPING, 1); // ring-space.pml: `sleepy`
      this.pause?.('writer:sleeping');
      if (this.#fits(length)) { // ring-space.pml: `recheck`
        Atomics.store(h, RingSlot.WRITER_SLEEPING, 0);
        return;
      }
      // A lingering reader would read (and free) nothing before its deadline unless the bytes it waits for have
      // come; an entry that needs more room than that would wait out the linger. We need it to drain now.
      this.#wakeReader(); // ring.pml: `kick`
      const outcome = await this.#sleep.wait(1, options); // ring-space.pml: `sleep`
      Atomics.store(h, RingSlot.WRITER_SLEEPING, 0); // ring-space.pml: `awake`
      if (outcome === 'aborted') {
        throw new AbortError('not-sent', 'aborted while waiting for ring space', { cause: options.signal?.reason });
      }
    }
  }

  #fits(length: number): boolean {
    const framed = 4 + ((length + 3) & ~3);
    const toEnd = this.capacity - (this.#pending & this.mask);
    const needed = framed <= toEnd ? framed : toEnd + framed;
    this.#cachedRead = Atomics.load(this.header, RingSlot.READ_POS);
    return ((this.#pending - this.#cachedRead) | 0) + needed <= this.capacity;
  }

  #wakeReader(): boolean {
    const h = this.header;
    // Whichever way it sleeps (1, or 2 lingering). The swap fails if the reader woke meanwhile; if it went back to
    // sleep, its own re-check after storing its word sees what we published.
    const sleeping = Atomics.load(h, RingSlot.READER_SLEEPING); // ring.pml: `reload`
    if (sleeping === 0) return false;
    if (Atomics.compareExchange(h, RingSlot.READER_SLEEPING, sleeping, 0) !== sleeping) return false; // `swap`
    Atomics.notify(h, RingSlot.READER_SLEEPING); // ring.pml: `notify`
    return true;
  }

  #rejectLength(length: number): never {
    if (Number.isInteger(length) && length > this.maxEntryBytes) {
      throw new RecordTooLargeError(
        `entry of ${length} bytes exceeds the ring's limit of ${this.maxEntryBytes} bytes (half its capacity)`,
      );
    }
    throw new TypeError(`ring entry length must be a non-negative integer, got ${length}`);
  }
}

/**
 * The reading end. Hot path, allocation-free: `for (let n; (n = reader.read()) >= 0;) use(reader.data, reader.offset, n)`,
 * then one `release()` hands all of their space back to the writer. Entries stay valid until released.
 */
export class RingReader extends RingEnd {
  /** Position after the last entry read (private to this thread until release). */
  #pos: number;
  /** Position last stored to READ_POS. */
  #released: number;
  /** Last WRITE_POS seen; refreshed only when the ring looks empty. */
  #cachedWrite: number;
  #offset = 0;
  /** This thread's waits for data, on READER_SLEEPING. */
  readonly #sleep: WordWaiter;

  constructor(buffer: SharedArrayBuffer, pause?: ProtocolPause) {
    super(buffer, pause);
    this.#sleep = new WordWaiter(this.header, RingSlot.READER_SLEEPING);
    this.#pos = this.#released = Atomics.load(this.header, RingSlot.READ_POS);
    this.#cachedWrite = Atomics.load(this.header, RingSlot.WRITE_POS);
  }

  /** Payload offset in `data` of the entry the last read() returned. */
  get offset(): number {
    return this.#offset;
  }

  /** Reads the next committed entry: returns its payload length (see `offset`), or −1 when there is none. */
  read(): number {
    const words = this.words;
    for (;;) {
      const pos = this.#pos;
      if (pos === this.#cachedWrite) {
        this.#cachedWrite = Atomics.load(this.header, RingSlot.WRITE_POS);
        if (pos === this.#cachedWrite) return -1;
      }
      const offset = pos & this.mask;
      const length = words[offset >> 2]!;
      if (length === WRAP) {
        this.#pos = (pos + this.capacity - offset) | 0;
        continue;
      }
      if (length < 0 || length > this.maxEntryBytes) {
        // Only a second writer or reader on the same ring can cause this; fail loudly rather than read garbage.
        throw new Error(`ring corrupted: entry length ${length} at position ${pos}`);
      }
      this.#offset = offset + 4;
      this.#pos = (pos + 4 + ((length + 3) & ~3)) | 0;
      return length;
    }
  }

  /** Hands the space of every entry read so far back to the writer; their bytes may be overwritten after this. */
  release(): void {
    const pos = this.#pos;
    if (pos === this.#released) return;
    this.#released = pos;
    const h = this.header;
    Atomics.store(h, RingSlot.READ_POS, pos); // ring-space.pml: `free`
    // Same ordering argument as RingWriter.commit, with the roles swapped.
    if (Atomics.load(h, RingSlot.WRITER_SLEEPING) !== 0 && // ring-space.pml: `look`
        Atomics.compareExchange(h, RingSlot.WRITER_SLEEPING, 1, 0) === 1) { // `swap`
      Atomics.notify(h, RingSlot.WRITER_SLEEPING); // `notify`
    }
  }

  /**
   * Releases what was read, then sleeps until the writer commits, calls wake(), `timeoutMs` passes (a linger
   * deadline) or `signal` aborts. Never rejects; `'ok'`/`'not-equal'` mean "read again" (there may be nothing:
   * wake() and spurious wake-ups carry no data).
   *
   * `hasWork` is the reader's other reason to stay awake (a worker: someone waits for buffer space, flushes or
   * closes). It is re-checked after the sleeping word is stored, so a writer that changes that condition and
   * then calls wake() is never lost: checked only before, a wake() landing between the check and the store
   * would find nobody asleep, and the reader would sleep out its whole timeout (ring.pml's negative variant).
   *
   * `lingerBytes` (at least 1) makes the sleep lingering: new entries wake the reader only once `lingerBytes` more
   * bytes than it has read are published (wake(), the timeout and the signal as usual). For a reader with a
   * `timeoutMs` of its own that need not see every entry at once: entries left unread then wait up to that
   * timeout.
   */
  waitForData(options: WaitForDataOptions = {}): Promise<WaitOutcome> {
    this.release();
    const h = this.header;
    const pos = this.#pos;
    if (pos !== this.#cachedWrite) return Promise.resolve('not-equal');
    this.pause?.('reader:idle');
    // Ordering: see RingWriter.commit. Store our sleeping word (after WAKE_AT, which the writer reads once it sees
    // the word), THEN re-check WRITE_POS and `hasWork`. We wait on the sleeping word itself, not on WRITE_POS, so
    // that wake() — which changes no position — cannot slip in between the re-check and the wait: its swap to 0
    // makes waitAsync return 'not-equal' at once.
    const linger = options.lingerBytes;
    if (linger !== undefined && !(Number.isInteger(linger) && linger >= 1 && linger <= this.capacity)) {
      // 0 would make every re-check find "enough" and the caller's loop spin without yielding.
      throw new RangeError(`lingerBytes must be an integer from 1 to the ring's capacity, got ${linger}`);
    }
    const word = linger === undefined ? 1 : LINGERING;
    if (linger !== undefined) Atomics.store(h, RingSlot.WAKE_AT, (pos + linger) | 0); // ring.pml: `wakeat`
    Atomics.store(h, RingSlot.READER_SLEEPING, word); // ring.pml: `sleepy`
    this.pause?.('reader:sleeping');
    const write = (this.#cachedWrite = Atomics.load(h, RingSlot.WRITE_POS)); // ring.pml: `recheck`
    const wake = linger === undefined ? write !== pos : ((write - pos - linger) | 0) >= 0;
    // A writer waiting for room kicks us (waitForSpace), but a kick that lands before our sleeping word is stored
    // finds nobody to wake: we look at its word after storing ours, as it looks at ours after storing its own
    // (ring-linger-space.pml). Unlooked, a lingering reader slept out its whole linger while the writer waited.
    if (wake || Atomics.load(h, RingSlot.WRITER_SLEEPING) !== 0 || options.hasWork?.() === true) {
      Atomics.store(h, RingSlot.READER_SLEEPING, 0);
      return Promise.resolve('not-equal');
    }
    return this.#sleep.wait(word, options).then((outcome) => { // ring.pml: `sleep`
      // After 'ok' the waker already swapped the word to 0; after a timeout or an abort we must.
      Atomics.store(h, RingSlot.READER_SLEEPING, 0); // ring.pml: `awake`
      return outcome;
    });
  }
}
