/**
 * Everything a worker keeps for one partition it owns: the open list still filling, the sealed batches in order,
 * whether the head is in flight, and the next idempotent sequence. Owned by exactly one worker for the producer's
 * life (DESIGN invariant 3), so none of it is shared or locked.
 */
import type { Batch, QueuedRecord } from './batch.js';

export interface TopicState {
  readonly index: number;
  readonly name: string;
  readonly partitions: Map<number, PartitionState>;
}

export class PartitionState {
  readonly topic: TopicState;
  readonly partition: number;
  open: QueuedRecord[] = [];
  /** Estimated encoded bytes of `open` (for batchMaxBytes). */
  openBytes = 0;
  /** When the first record of `open` arrived, epoch ms. */
  openSince = 0;
  /** Sealed batches, oldest first; only the head may be in flight (one batch per partition on the wire). */
  readonly sealed: Batch[] = [];
  inFlight = false;
  /** Next idempotent sequence; wraps from 2^31 - 1 to 0 (KAFKA-NOTES.md). */
  nextSequence = 0;

  constructor(topic: TopicState, partition: number) {
    this.topic = topic;
    this.partition = partition;
  }

  get idle(): boolean {
    return this.open.length === 0 && this.sealed.length === 0;
  }
}

/** Sequence arithmetic modulo 2^31, as the broker does it. */
export function addSequence(sequence: number, count: number): number {
  return (sequence + count) % 2 ** 31;
}
