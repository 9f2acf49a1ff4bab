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
 *
 * One pool per worker thread; nothing here is shared between threads.
 */
import type { BatchBufferSource } from '../protocol/record-batch.js';

/** Below this a buffer comes from Node's allocator as usual: small blocks are reused by the allocator itself. */
export const POOLED_MIN_BYTES = 128 * 1024;
/** Pooled capacities are multiples of this, so batches of about the same size share buffers. */
const GRANULE = 64 * 1024;
/**
 * The idle bytes a worker's pool keeps: its share of the producer's byte budget (maxBufferedBytes over the
 * workers), since a burst that fills the budget has as many bytes of batches alive, and the next burst needs as
 * many again; the share, so that all workers together keep no more idle than the budget, however bursts fell on
 * them. With 16 MiB kept against a 64 MiB budget, 144 buffers of one bench run at 1 KiB (`--clients ringkafka
 * --scenarios 1KiB-none --records 100000`, one worker: three bursts, the warm-up's two calls and the measured one;
 * about 200 batches of 1 MiB) were fresh memory; kept up to the budget, 77 to 84, most of them in the first burst.
 * The worker's CPU per record moved within the machine's noise (1KiB-lz4, medians of five alternated pairs: 1.58 ->
 * 0.97 and 1.33 -> 1.38 µs on the broker, 1.64 -> 1.26 on kfake). Buffers given back beyond it are dropped for the
 * collector.
 */
export function idleMaxBytesFor(maxBufferedBytes: number, workerCount: number): number {
  return Math.max(Math.ceil(maxBufferedBytes / workerCount), POOLED_MIN_BYTES);
}

export class BatchBufferPool implements BatchBufferSource {
  /** Idle buffers by capacity. */
  readonly #idle = new Map<number, ArrayBuffer[]>();
  #idleBytes = 0;
  /**
   * Buffers lent and not given back: only these are taken back, and each once. Weak: a batch that fails, is split
   * or is abandoned never comes back, and its buffer must stay collectable.
   */
  readonly #lent = new WeakSet<ArrayBuffer>();
  readonly #idleMaxBytes: number;

  /** `idleMaxBytes`: the most bytes kept idle (idleMaxBytesFor). */
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
    return Buffer.from(memory, 0, size);
  }

  give(buffer: Uint8Array): void {
    const memory = buffer.buffer as ArrayBuffer;
    if (!this.#lent.delete(memory)) return;
    const capacity = memory.byteLength;
    if (this.#idleBytes + capacity > this.#idleMaxBytes) return;
    let list = this.#idle.get(capacity);
    if (list === undefined) this.#idle.set(capacity, (list = []));
    list.push(memory);
    this.#idleBytes += capacity;
  }

  /** Bytes held idle, for tests. */
  get idleBytes(): number {
    return this.#idleBytes;
  }
}
