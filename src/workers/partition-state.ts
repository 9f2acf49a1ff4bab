/**
 * Everything a worker keeps for one partition it owns: the records still filling (copied from the ring into a
 * reused arena, with their offsets and ids in typed arrays: no object per record), the sealed batches in order,
 * whether the head is in flight, and the next idempotent sequence. Owned by exactly one worker for the producer's
 * life (invariant 3, docs/invariants.md), so none of it is shared or locked.
 */
import type { Batch } from './batch.js';

export interface TopicState {
  readonly index: number;
  readonly name: string;
  readonly partitions: Map<number, PartitionState>;
}

export class PartitionState {
  readonly topic: TopicState;
  readonly partition: number;
  /** Record entries of the open batch, back to back, exactly as they came through the ring. */
  arena: Buffer = Buffer.allocUnsafe(64 * 1024);
  arenaUsed = 0;
  offsets = new Int32Array(256);
  recordIds = new Uint32Array(256);
  /** Records in the open batch. */
  count = 0;
  /** When the first record of the open batch arrived, epoch ms. */
  openSince = 0;
  /** Sealed batches, oldest first; those in flight are a prefix of it while the partition is not recovering. */
  readonly sealed: Batch[] = [];
  /** Batches of this partition on the wire (up to the window, src/workers/delivery-policy.ts). */
  inFlight = 0;
  /** Something other than a success came back: nothing more is sent until every batch in flight is answered. */
  recovering = false;
  /** The broker lost our sequence state: the epoch moves on once nothing is in flight. */
  bumpPending = false;
  /** Next idempotent sequence; wraps from 2^31 - 1 to 0 (docs/kafka-protocol.md). */
  nextSequence = 0;
  /**
   * This partition's producer epoch: the producer's, until the broker shows it lost our sequence state
   * (OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID); then it is bumped and sequences restart at 0, the broker's
   * rule for a new epoch. The broker keeps producer state per partition, so the bump concerns this one only.
   */
  epoch: number;

  constructor(topic: TopicState, partition: number, epoch: number) {
    this.topic = topic;
    this.partition = partition;
    this.epoch = epoch;
  }

  get idle(): boolean {
    return this.count === 0 && this.sealed.length === 0;
  }

  /** Copies one ring entry (`data` is the ring's data area) into the open batch. */
  append(data: Buffer, at: number, length: number, recordId: number): void {
    // The entry lands at the same address modulo 8 as in the ring: V8 copies out of a SharedArrayBuffer word by word
    // only when source and target share that alignment, and byte by byte otherwise (about 3x slower for 1 KiB;
    // `npx tsx bench/micro/shared-copy.ts`). Up to 7 bytes of the arena are skipped for it.
    this.arenaUsed += (data.byteOffset + at - this.arena.byteOffset - this.arenaUsed) & 7;
    if (this.arenaUsed + length > this.arena.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.arena.length * 2, this.arenaUsed + length));
      this.arena.copy(grown, 0, 0, this.arenaUsed);
      this.arena = grown;
    }
    if (this.count === this.offsets.length) {
      const offsets = new Int32Array(this.count * 2);
      offsets.set(this.offsets);
      this.offsets = offsets;
      const ids = new Uint32Array(this.count * 2);
      ids.set(this.recordIds);
      this.recordIds = ids;
    }
    data.copy(this.arena, this.arenaUsed, at, at + length);
    this.offsets[this.count] = this.arenaUsed;
    this.recordIds[this.count] = recordId;
    this.count++;
    this.arenaUsed += length;
  }

  /** Empties the open batch; the arena is reused by the next one. */
  reset(): void {
    this.count = 0;
    this.arenaUsed = 0;
  }
}

/** Sequence arithmetic modulo 2^31, as the broker does it. */
export function addSequence(sequence: number, count: number): number {
  return (sequence + count) % 2 ** 31;
}
