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
 * many again; the share, so that all workers together keep no more idle than the budget, however bursts fell on
 * them. With 16 MiB kept against a 64 MiB budget, 144 buffers of one bench run at 1 KiB (`--clients ringkafka
 * --scenarios 1KiB-none --records 100000`, one worker: three bursts, the warm-up's two calls and the measured one;
 * about 200 batches of 1 MiB) were fresh memory; kept up to the budget, 77 to 84, most of them in the first burst.
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
 * window or the last one (`endWindow`) less what is lent now. So the pool's buffers, lent and idle together, stay
 * within the worker's largest burst (or the floor), and a burst of that size finds them all idle.
 *
 * Why not the floor alone: a worker's lent bytes can exceed its share of the budget, since the budget counts the
 * records' own bytes while an arena holds each record with its entry header (32 bytes and padding) and every
 * partition has an open arena besides. At 100 B records on kfake a burst lent 103-109 MiB against a 64 MiB floor;
 * each time it was given back, the 40-45 MiB over the floor was dropped, and the next burst took as much fresh
 * memory again. On Node 20 the dropped buffers stayed allocated until the worker's collector ran, which it seldom
 * does (it allocates little JavaScript): the worker's ArrayBuffers reached 150-177 MiB, against 118-121 MiB with
 * nothing dropped (`process.memoryUsage()` in the worker, a driver outside the repository doing what the bench's
 * does, 3,000,000 records). A buffer that is dropped all the same (past the bound, or at a window's end) is
 * detached where Node can (22 and later), which frees it at once.
 *
 * One pool per worker thread; nothing here is shared between threads.
 */
export class BatchBufferPool implements BatchBufferSource {
  /** Idle buffers by capacity. */
  readonly #idle = new Map<number, ArrayBuffer[]>();
  #idleBytes = 0;
  /**
   * Buffers lent and not given back: only these are taken back, and each once. Weak: a batch that fails, is split
   * or is abandoned never comes back, and its buffer must stay collectable.
   */
  readonly #lent = new WeakSet<ArrayBuffer>();
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
    let memory = this.#idle.get(capacity)?.pop();
    if (memory !== undefined) this.#idleBytes -= capacity;
    // allocUnsafeSlow: a buffer of its own (never a slice of the shared slab), not zero-filled.
    else memory = Buffer.allocUnsafeSlow(capacity).buffer as ArrayBuffer;
    this.#lent.add(memory);
    this.#collected.register(memory, capacity, memory);
    this.#lentBytes += capacity;
    if (this.#lentBytes > this.#peakLent) this.#peakLent = this.#lentBytes;
    return Buffer.from(memory, 0, size);
  }

  give(buffer: Uint8Array): void {
    const memory = buffer.buffer as ArrayBuffer;
    if (!this.#lent.delete(memory)) return;
    this.#collected.unregister(memory);
    const capacity = memory.byteLength;
    this.#lentBytes -= capacity;
    if (this.#idleBytes + capacity > this.#idleBound()) {
      releaseMemory(memory);
      return;
    }
    let list = this.#idle.get(capacity);
    if (list === undefined) this.#idle.set(capacity, (list = []));
    list.push(memory);
    this.#idleBytes += capacity;
  }

  /**
   * Ends a window (the worker calls it every 30 s): a burst older than the last window no longer counts, and idle
   * buffers beyond the bound that leaves are released.
   */
  endWindow(): void {
    this.#lastPeakLent = this.#peakLent;
    this.#peakLent = this.#lentBytes;
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

  /** Bytes lent and not given back or collected, for tests. */
  get lentBytes(): number {
    return this.#lentBytes;
  }
}
