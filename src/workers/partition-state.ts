/**
 * Everything a worker keeps for one partition it owns: the records still filling (copied from the ring into a
 * reused arena, with their offsets and ids in typed arrays: no object per record), the sealed batches in order,
 * whether the head is in flight, and the next idempotent sequence. Owned by exactly one worker for the producer's
 * life (invariant 3, docs/invariants.md), so none of it is shared or locked.
 */
import { FRESH_BUFFERS, LZ4_SECTION_AT, type BatchBufferSource } from '../protocol/record-batch.js';
import type { Batch } from './batch.js';

export interface TopicState {
  readonly index: number;
  readonly name: string;
  readonly partitions: Map<number, PartitionState>;
}

/**
 * Most bytes between two ring entries that follow each other: the next entry's length prefix and the padding to
 * 4-byte alignment (src/shared/ring.ts). A larger gap means a wrap, or another partition's entries in between.
 */
const RING_FRAMING_MAX = 8;

/**
 * Most bytes an entry lands after `arenaUsed`: its gap in the ring within a run (under RING_FRAMING_MAX), or the
 * alignment a new run gets (see `append`).
 */
export const ARENA_GAP_MAX = 7;

/**
 * Bytes kept free at the start of every arena, before its first entry: room for the batch header and an lz4 frame's
 * lead, so a full batch, uncompressed or lz4, can be written over its own entries and sent from the arena
 * (src/workers/entry-encoder.ts).
 */
export const ARENA_HEAD = LZ4_SECTION_AT;

/** A new partition's arena; it grows by doubling, and a replacement keeps the size reached. */
const FIRST_ARENA_BYTES = 64 * 1024;

/** The records an open batch lists before its offsets and ids grow (by doubling); an idle partition lets them go. */
const FIRST_RECORD_SLOTS = 256;
/** An idle partition's record lists: none (`releaseArena`). */
const NO_OFFSETS = new Int32Array(0);
const NO_RECORD_IDS = new Uint32Array(0);

/**
 * An idle partition's arena once released (`releaseArena`): no memory, so its next record takes a real one. Why:
 * each partition this worker ever wrote to kept its arena (64 KiB, or the up to batchMaxBytes it grew to) for the
 * producer's life, so a producer writing to many topics over time held memory that grew with every partition ever
 * used, outside maxBufferedBytes (2,000 topics of one partition: 135 MB of arenas).
 */
const NO_ARENA = Buffer.alloc(0);

/**
 * An empty list whose elements are objects from the start. An empty literal holds small integers until the first
 * object is pushed, and that change threw away the optimized `Accumulator.seal` (which inlines the push) at a
 * partition's first sealed batch: `--trace-deopt` of one bench run (100B-lz4, 16 partitions) showed "not a Smi" at
 * the push eight times, and in one of six such runs `seal` and the batch encoder were compiled again inside the
 * measured window (17.5 + 25 and 15 + 15 ms of compiling), 741k records/s against 1.26-1.71M for the other five.
 */
function emptyBatchList(): Batch[] {
  const list: (Batch | null)[] = [null];
  list.pop();
  return list as Batch[];
}

export class PartitionState {
  readonly topic: TopicState;
  readonly partition: number;
  /**
   * Record entries of the open batch, back to back, exactly as they came through the ring, after ARENA_HEAD free
   * bytes. From the worker's buffer pool, so an arena that became a batch comes back to it once delivered.
   */
  arena: Buffer;
  /** `arena.byteOffset`, kept beside it: reading a typed array's byteOffset costs about 15 ns on Node 20. */
  #arenaByteOffset: number;
  /** Where the next entry may go: ARENA_HEAD plus the entries' bytes and alignment gaps so far. */
  arenaUsed = ARENA_HEAD;
  offsets = new Int32Array(FIRST_RECORD_SLOTS);
  recordIds = new Uint32Array(FIRST_RECORD_SLOTS);
  /** Records in the open batch. */
  count = 0;
  /**
   * When the first record of the open batch arrived, epoch ms; read only while the batch is open. Starts as a
   * non-integer so the field holds doubles from the start: an epoch time in a field that began as a small integer
   * changes the field's representation, and code compiled against the old one is thrown away.
   */
  openSince = Number.NaN;
  /** Sealed batches, oldest first; those in flight are a prefix of it while the partition is not recovering. */
  readonly sealed: Batch[] = emptyBatchList();
  /** Listed in the accumulator's `sending` (it had a sealed batch since that list was last pruned). */
  sending = false;
  /** Batches of this partition on the wire (up to the window, src/workers/delivery-policy.ts). */
  inFlight = 0;
  /** Something other than a success came back: nothing more is sent until every batch in flight is answered. */
  recovering = false;
  /** The broker lost our sequence state: the epoch moves on once nothing is in flight. */
  bumpPending = false;
  /** Next idempotent sequence; wraps from 2^31 - 1 to 0 (docs/kafka-protocol.md). */
  nextSequence = 0;
  /**
   * Whether the broker acknowledged a batch of this partition in the current epoch, so it holds our producer state
   * here. Until then one batch goes at a time (src/workers/delivery-policy.ts, nextToSend): a broker with no state
   * for a producer accepts any sequence, so a batch pipelined behind one it refused would be written out of order.
   */
  acknowledgedInEpoch = false;
  /**
   * This partition's producer epoch: the producer's, until the broker shows it lost our sequence state
   * (OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID); then it is bumped and sequences restart at 0, the broker's
   * rule for a new epoch. The broker keeps producer state per partition, so the bump concerns this one only.
   */
  epoch: number;
  /** A transactional producer's id that `epoch` belongs to, as `adoptEpoch` last took it; -1n until then. */
  producerId = -1n;
  /** Listed by the accumulator for its next `copyPending`. */
  copyListed = false;
  /** The run of ring entries not copied yet: `data[#pendingFrom, #pendingTo)` goes to `arena[#pendingArenaAt…]`. */
  #pendingData: Buffer | undefined;
  #pendingFrom = 0;
  #pendingTo = 0;
  #pendingArenaAt = 0;

  readonly #buffers: BatchBufferSource;

  /** `buffers`: where arenas come from and where outgrown ones go back (the worker's BatchBufferPool). */
  constructor(topic: TopicState, partition: number, epoch: number, buffers: BatchBufferSource = FRESH_BUFFERS) {
    this.topic = topic;
    this.partition = partition;
    this.epoch = epoch;
    this.#buffers = buffers;
    this.arena = buffers.take(FIRST_ARENA_BYTES);
    this.#arenaByteOffset = this.arena.byteOffset;
  }

  get idle(): boolean {
    return this.count === 0 && this.sealed.length === 0;
  }

  /**
   * Adds one ring entry (`data` is the ring's data area) to the open batch. The bytes are copied in runs, not one
   * entry at a time: an entry that follows the previous one in the ring (the sticky partitioner sends a batch's
   * worth of records in a row to one partition) only extends the pending run, and `copyPending` copies the whole
   * run in one call. Per copy the fixed cost is ~80 ns, about what copying a 100-byte record costs, so a run of
   * small records costs a fraction of the copies one by one. The owner calls `copyPending` before anything reads
   * the arena and before the ring space is released (Accumulator).
   */
  append(data: Buffer, at: number, length: number, recordId: number, dataByteOffset = data.byteOffset): void {
    let offset: number;
    if (this.#pendingData === data && at >= this.#pendingTo && at - this.#pendingTo < RING_FRAMING_MAX) {
      // Next to the run in the ring: its place in the arena follows from its place in the ring, gap included.
      offset = this.#pendingArenaAt + (at - this.#pendingFrom);
      this.#pendingTo = at + length;
    } else {
      this.copyPending();
      // The run lands at the same address modulo 8 as in the ring: V8 copies out of a SharedArrayBuffer word by
      // word only when source and target share that alignment, and byte by byte otherwise (about 3x slower for
      // 1 KiB; `npx tsx bench/micro/shared-copy.ts`). Up to 7 bytes of the arena are skipped for it.
      offset = this.arenaUsed + ((dataByteOffset + at - this.#arenaByteOffset - this.arenaUsed) & 7);
      this.#pendingData = data;
      this.#pendingFrom = at;
      this.#pendingTo = at + length;
      this.#pendingArenaAt = offset;
    }
    if (offset + length > this.arena.length) this.#growArena(offset + length);
    if (this.count === this.offsets.length) {
      const offsets = new Int32Array(Math.max(FIRST_RECORD_SLOTS, this.count * 2));
      offsets.set(this.offsets);
      this.offsets = offsets;
      const ids = new Uint32Array(offsets.length);
      ids.set(this.recordIds);
      this.recordIds = ids;
    }
    this.offsets[this.count] = offset;
    this.recordIds[this.count] = recordId;
    this.count++;
    this.arenaUsed = offset + length;
  }

  /** Copies the pending run of ring entries into the arena (see `append`); nothing when there is none. */
  copyPending(): void {
    const data = this.#pendingData;
    if (data === undefined) return;
    data.copy(this.arena, this.#pendingArenaAt, this.#pendingFrom, this.#pendingTo);
    this.#pendingData = undefined;
  }

  /** A larger arena; what is copied already moves over (the pending run is copied later, to its place). */
  #growArena(needed: number): void {
    // From no arena (released while idle), a first arena's size at least, not just the one entry's.
    const grown = this.#buffers.take(Math.max(this.arena.length * 2, needed, FIRST_ARENA_BYTES));
    const copied = this.#pendingData === undefined ? this.arenaUsed : this.#pendingArenaAt;
    this.arena.copy(grown, 0, 0, copied);
    this.#buffers.give(this.arena);
    this.arena = grown;
    this.#arenaByteOffset = grown.byteOffset;
  }

  /**
   * The arena has become a sealed batch (encoded over its own entries): the partition takes a new one of the same
   * size, and the old one is the batch's, to go back to the pool when the batch is delivered. Call before `reset`.
   */
  replaceArena(): void {
    this.arena = this.#buffers.take(this.arena.length);
    this.#arenaByteOffset = this.arena.byteOffset;
  }

  /**
   * The partition is idle (no open batch): its arena goes back to the buffer pool (kept there within the pool's
   * idle bound, else left to the collector) and its record lists are let go; the next record takes an arena and
   * lists again (`append`). Nothing when a batch is open. Sealed batches never hold the arena (`seal` replaces
   * one that became a batch), so no batch is touched.
   */
  releaseArena(): void {
    if (this.count > 0 || this.arena.length === 0) return;
    this.#buffers.give(this.arena);
    this.arena = NO_ARENA;
    this.#arenaByteOffset = NO_ARENA.byteOffset;
    this.#pendingData = undefined;
    // Not kept at their first size: 2 KiB per partition ever written to, held for the producer's life (a service
    // writing to many short-lived topics). The next record lists them again (`append`).
    this.offsets = NO_OFFSETS;
    this.recordIds = NO_RECORD_IDS;
  }

  /** Whether the partition holds an arena (false once `releaseArena` gave it back, until its next record). */
  get holdsArena(): boolean {
    return this.arena.length > 0;
  }

  /** Empties the open batch; the arena is reused by the next one. */
  reset(): void {
    this.#pendingData = undefined;
    this.count = 0;
    this.arenaUsed = ARENA_HEAD;
  }
}

/** Sequence arithmetic modulo 2^31, as the broker does it. */
export function addSequence(sequence: number, count: number): number {
  return (sequence + count) % 2 ** 31;
}
