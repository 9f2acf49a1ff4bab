/** The consumed offsets a transaction commits with its records (sendOffsets), checked and grouped by topic. */
import { ConfigError } from '../../shared/errors.js';

export interface OffsetToCommit {
  readonly topic: string;
  readonly partition: number;
  /** The next offset to consume (the last processed record's offset + 1), as Kafka's consumers commit it. */
  readonly offset: bigint | number | string;
  readonly metadata?: string | undefined;
}

export interface OffsetsToCommit {
  readonly groupId: string;
  readonly offsets: readonly OffsetToCommit[];
  /** The consumer's group generation, member id and instance id (KIP-447), so a zombie member is fenced. */
  readonly generationId?: number | undefined;
  readonly memberId?: string | undefined;
  readonly groupInstanceId?: string | null | undefined;
}

export interface OffsetTopic {
  readonly name: string;
  readonly partitions: { partition: number; offset: bigint; leaderEpoch: number; metadata: string | null }[];
}

/** Checks every field (naming the bad one) and groups the offsets by topic, as TxnOffsetCommit carries them. */
export function toOffsetTopics(offsets: readonly OffsetToCommit[]): OffsetTopic[] {
  if (!Array.isArray(offsets)) throw new ConfigError('sendOffsets: offsets must be an array');
  const byTopic = new Map<string, OffsetTopic>();
  offsets.forEach((entry, i) => {
    const { topic, partition, offset, metadata } = entry ?? ({} as OffsetToCommit);
    if (typeof topic !== 'string' || topic.length === 0) throw new ConfigError(`sendOffsets: offsets[${i}].topic must be a non-empty string`);
    if (!Number.isInteger(partition) || partition < 0) throw new ConfigError(`sendOffsets: offsets[${i}].partition must be a non-negative integer`);
    let value: bigint;
    try {
      value = BigInt(offset);
    } catch {
      throw new ConfigError(`sendOffsets: offsets[${i}].offset must be an integer, got ${String(offset)}`);
    }
    if (value < 0n || value > 2n ** 63n - 1n) throw new ConfigError(`sendOffsets: offsets[${i}].offset must be between 0 and 2^63-1`);
    if (metadata !== undefined && typeof metadata !== 'string') throw new ConfigError(`sendOffsets: offsets[${i}].metadata must be a string`);
    let group = byTopic.get(topic);
    if (group === undefined) {
      group = { name: topic, partitions: [] };
      byTopic.set(topic, group);
    }
    group.partitions.push({ partition, offset: value, leaderEpoch: -1, metadata: metadata ?? null });
  });
  return [...byTopic.values()];
}

/** Checks the group fields of a sendOffsets request. */
export function checkOffsetsRequest(request: OffsetsToCommit): void {
  if (request === null || typeof request !== 'object') throw new ConfigError('sendOffsets: the request must be an object');
  if (typeof request.groupId !== 'string' || request.groupId.length === 0) throw new ConfigError('sendOffsets: groupId must be a non-empty string');
  if (request.generationId !== undefined && !Number.isInteger(request.generationId)) throw new ConfigError('sendOffsets: generationId must be an integer');
  if (request.memberId !== undefined && typeof request.memberId !== 'string') throw new ConfigError('sendOffsets: memberId must be a string');
  if (request.groupInstanceId != null && typeof request.groupInstanceId !== 'string') throw new ConfigError('sendOffsets: groupInstanceId must be a string or null');
}
