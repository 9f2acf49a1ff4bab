/**
 * Reused memory for a worker's large batch buffers: the encoded batch, the scratch records section a codec reads,
 * and the partitions' arenas (a full uncompressed batch is written over its arena's entries and sent from it; the
 * partition takes another arena here, and the batch's goes back when it is delivered, as any batch's does). A fresh
 * buffer of a mebibyte is fresh pages from the kernel (the allocator maps and unmaps blocks that large), and the
 * first write to each page faults: a fresh 1 MiB buffer filled by one copy cost 300–480 µs on the bench machine
 * against 70 µs for the same copy into a buffer used before (`node` loop of 200 rounds), about 0.3 µs per 1 KiB
 * record a worker encodes.
 *
 * A buffer comes back only when nothing can still read it (the worker decides; src/workers/producer-worker.ts):
 * the scratch section once its codec has finished, a batch once the broker acknowledged it (the answer comes after
 * the broker read the whole request, so no socket still holds its bytes). Everything else — failed, split, acks=0
 * or abandoned batches — is left to the garbage collector. Only buffers this pool lent are taken back, each once:
 * a Buffer from Node's shared slab, or one given twice, is ignored, never lent again; one never given back stays
 * collectable (the pool remembers what it lent weakly).
 */
import type { BatchBufferSource } from '../protocol/record-batch.js';
import { releaseMemory } from '../protocol/output-release.js';

/** Below this a buffer comes from Node's allocator as usual: small blocks are reused by the allocator itself. */
export const POOLED_MIN_BYTES = 128 * 1024;
/** Pooled capacities are multiples of this, so batches of about the same size share buffers. */
const GRANULE = 64 * 1024;
/**
 * The idle bytes a worker's pool keeps at least: its share of the producer's byte budget (maxBufferedBytes over
 * the workers), since a burst that fills the budget has as many bytes of batches alive, and the next burst needs as
 * many again; the share, so that the workers' floors add up to the budget, however bursts fell on them. With
 * 16 MiB kept against a 64 MiB budget, 144 buffers of one bench run at 1 KiB (`--clients ringkafka --scenarios
 * 1KiB-none --records 100000`, one worker: three bursts, the warm-up's two calls and the measured one; about 200
 * batches of 1 MiB) were fresh memory; kept up to the budget, 77 to 84, most of them in the first burst.
 * The worker's CPU per record moved within the machine's noise (1KiB-lz4, medians of five alternated pairs: 1.58 ->
 * 0.97 and 1.33 -> 1.38 µs on the broker, 1.64 -> 1.26 on kfake). More is kept while a burst needs more (see
 * BatchBufferPool).
 */
export function idleMaxBytesFor(maxBufferedBytes: number, workerCount: number): number {
  return Math.max(Math.ceil(maxBufferedBytes / workerCount), POOLED_MIN_BYTES);
}

/**
 * Lends and takes back a worker's large buffers. What it keeps idle is bounded by the larger of two amounts: the
 * floor (idleMaxBytesFor), and what the worker's bursts need, that is the most bytes it had lent at once in this
 * window or the last one (`endWindow`; a window is the time between two of the worker's sweeps, 30 s or more) less
 * what is lent now. The bound is kept when a buffer comes back, when a window ends, and when a buffer must be taken
 * fresh: then idle buffers of other sizes go first, so a change of batch size does not leave the old size idle
 * beside the new. So the pool's buffers, lent and idle together, stay within the worker's largest recent burst (or
 * the floor plus what is lent), and a burst as large, of the same sizes, finds them all idle.
 *
 * Why not the floor alone: a worker's lent bytes can exceed its share of the budget, since the budget counts the
 * records' own bytes while an arena holds each record with its entry header (32 bytes and padding) and every
 * partition has an open arena besides. At 100 B records on kfake a burst lent 103-109 MiB against a 64 MiB floor;
 * each time it was given back, the 40-45 MiB over the floor was dropped, and the next burst took as much fresh
 * memory again. On Node 20 the dropped buffers stayed allocated until the worker's collector ran, which it seldom
 * does (it allocates little JavaScript): the worker's ArrayBuffers peaked at 141-158 MiB, against 122-125 MiB with
 * this bound (three alternated runs each; `process.memoryUsage()` in the worker, a driver outside the repository
 * doing what the bench's does, 3,000,000 records). A buffer that is dropped all the same (past the bound, or at a
 * window's end) is detached where Node can (22 and later), which frees it at once.
 *
 * One pool per worker thread; nothing here is shared between threads.
 */
export class BatchBufferPool implements BatchBufferSource {
  /** Idle buffers by capacity. */
  readonly #idle = new Map<number, ArrayBuffer[]>();
  #idleBytes = 0;
  /**
   * Buffers lent and not given back, with their capacities: only these are taken back, and each once. Weak: a batch
   * that fails, is split or is abandoned never comes back, and its buffer must stay collectable. The capacity is
   * kept, not read off the buffer when it comes back: a buffer detached meanwhile would read as 0 bytes.
   */
  readonly #lent = new WeakMap<ArrayBuffer, number>();
  /** Bytes lent and not given back or collected. */
  #lentBytes = 0;
  /** A lent buffer never given back leaves #lentBytes when it is collected. */
  readonly #collected = new FinalizationRegistry<number>((capacity) => {
    this.#lentBytes -= capacity;
  });
  /** The most bytes lent at once in this window, and in the one before it (endWindow). */
  #peakLent = 0;
  #lastPeakLent = 0;
  readonly #idleMaxBytes: number;

  /** `idleMaxBytes`: the bytes it may keep idle whatever the bursts (idleMaxBytesFor). */
  constructor(idleMaxBytes: number) {
    this.#idleMaxBytes = idleMaxBytes;
  }

  take(size: number): Buffer {
    if (size < POOLED_MIN_BYTES) return Buffer.allocUnsafe(size);
    const capacity = Math.ceil(size / GRANULE) * GRANULE;
    const reused = this.#idle.get(capacity)?.pop();
    if (reused !== undefined) this.#idleBytes -= capacity;
    // allocUnsafeSlow: a buffer of its own (never a slice of the shared slab), not zero-filled.
    const memory = reused ?? (Buffer.allocUnsafeSlow(capacity).buffer as ArrayBuffer);
    this.#lent.set(memory, capacity);
    this.#collected.register(memory, capacity, memory);
    this.#lentBytes += capacity;
    if (this.#lentBytes > this.#peakLent) this.#peakLent = this.#lentBytes;
    // Fresh memory while other sizes wait idle: those beyond the bound go, lest both sizes stay. (Taken from idle,
    // a buffer leaves idle as it joins the lent: the bound still holds.)
    if (reused === undefined && this.#idleBytes > 0) this.#trimIdle();
    return Buffer.from(memory, 0, size);
  }

  give(buffer: Uint8Array): void {
    const memory = buffer.buffer as ArrayBuffer;
    const capacity = this.#lent.get(memory);
    if (capacity === undefined) return;
    this.#lent.delete(memory);
    this.#collected.unregister(memory);
    this.#lentBytes -= capacity;
    if (memory.byteLength !== capacity || this.#idleBytes + capacity > this.#idleBound()) {
      releaseMemory(memory);
      return;
    }
    let list = this.#idle.get(capacity);
    if (list === undefined) this.#idle.set(capacity, (list = []));
    list.push(memory);
    this.#idleBytes += capacity;
  }

  /**
   * Ends a window (the worker calls it at each sweep, 30 s or more apart): a burst older than the last window no
   * longer counts, and idle buffers beyond the bound that leaves are released.
   */
  endWindow(): void {
    this.#lastPeakLent = this.#peakLent;
    this.#peakLent = this.#lentBytes;
    this.#trimIdle();
  }

  /** Releases idle buffers until the idle bytes are within the bound. */
  #trimIdle(): void {
    const bound = this.#idleBound();
    for (const [capacity, list] of this.#idle) {
      while (this.#idleBytes > bound && list.length > 0) {
        releaseMemory(list.pop()!);
        this.#idleBytes -= capacity;
      }
      if (list.length === 0) this.#idle.delete(capacity);
    }
  }

  /** The most bytes kept idle now: the floor, or what the recent bursts need beyond what is lent. */
  #idleBound(): number {
    return Math.max(this.#idleMaxBytes, Math.max(this.#peakLent, this.#lastPeakLent) - this.#lentBytes);
  }

  /** Whether more is idle than the floor: a later window may release it (endWindow). */
  get idleAboveFloor(): boolean {
    return this.#idleBytes > this.#idleMaxBytes;
  }

  /** Bytes held idle, for tests. */
  get idleBytes(): number {
    return this.#idleBytes;
  }

  /** Bytes lent and not given back or collected. */
  get lentBytes(): number {
    return this.#lentBytes;
  }
}
