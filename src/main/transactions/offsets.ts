/** The consumed offsets a transaction commits with its records (sendOffsets), checked and grouped by topic. */
import { ConfigError } from '../../shared/errors.js';
import { MAX_STRING_BYTES } from '../../protocol/writer.js';
import { MAX_PARTITIONS_PER_ANSWER, MAX_TOPICS_PER_ANSWER } from '../../protocol/apis/fields.js';

const INT32_MAX = 0x7fffffff;

/** Whether `value` fits a protocol string (the requests carry every one of these fields as one). */
function fitsProtocolString(value: string): boolean {
  return Buffer.byteLength(value, 'utf8') <= MAX_STRING_BYTES;
}

const TOO_LONG = `at most ${MAX_STRING_BYTES} UTF-8 bytes`;

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
  // The answer lists every topic and partition of the request, and answers past these caps are refused as corrupt
  // (fields.ts): a request beyond them would be applied and its answer then refused, its outcome unknown.
  if (offsets.length > MAX_PARTITIONS_PER_ANSWER) {
    throw new ConfigError(`sendOffsets: offsets must hold at most ${MAX_PARTITIONS_PER_ANSWER} entries, got ${offsets.length}`);
  }
  const byTopic = new Map<string, OffsetTopic>();
  offsets.forEach((entry, i) => {
    const { topic, partition, offset, metadata } = entry ?? ({} as OffsetToCommit);
    if (typeof topic !== 'string' || topic.length === 0) throw new ConfigError(`sendOffsets: offsets[${i}].topic must be a non-empty string`);
    if (!fitsProtocolString(topic)) throw new ConfigError(`sendOffsets: offsets[${i}].topic must be ${TOO_LONG}`);
    if (!Number.isInteger(partition) || partition < 0 || partition > INT32_MAX) {
      throw new ConfigError(`sendOffsets: offsets[${i}].partition must be an integer from 0 to 2^31-1`);
    }
    const value = offsetValue(offset);
    if (value === undefined) {
      throw new ConfigError(`sendOffsets: offsets[${i}].offset must be a bigint, a safe integer or a string of decimal digits, got ${describeOffset(offset)}`);
    }
    if (value < 0n || value > 2n ** 63n - 1n) throw new ConfigError(`sendOffsets: offsets[${i}].offset must be between 0 and 2^63-1`);
    if (metadata !== undefined && typeof metadata !== 'string') throw new ConfigError(`sendOffsets: offsets[${i}].metadata must be a string`);
    if (metadata !== undefined && !fitsProtocolString(metadata)) throw new ConfigError(`sendOffsets: offsets[${i}].metadata must be ${TOO_LONG}`);
    let group = byTopic.get(topic);
    if (group === undefined) {
      group = { name: topic, partitions: [] };
      byTopic.set(topic, group);
    }
    group.partitions.push({ partition, offset: value, leaderEpoch: -1, metadata: metadata ?? null });
  });
  if (byTopic.size > MAX_TOPICS_PER_ANSWER) {
    throw new ConfigError(`sendOffsets: offsets must name at most ${MAX_TOPICS_PER_ANSWER} topics, got ${byTopic.size}`);
  }
  return [...byTopic.values()];
}

/**
 * The offset as a bigint, or undefined unless it is one written plainly. BigInt() alone took '', '  ', [] and false
 * as 0 (rewinding the group to the start of the partition), true as 1 and '0x10' as 16.
 */
function offsetValue(offset: unknown): bigint | undefined {
  if (typeof offset === 'bigint') return offset;
  if (typeof offset === 'number') return Number.isSafeInteger(offset) ? BigInt(offset) : undefined;
  if (typeof offset === 'string' && /^-?\d{1,20}$/.test(offset)) return BigInt(offset);
  return undefined;
}

function describeOffset(offset: unknown): string {
  if (typeof offset === 'string') return JSON.stringify(offset.length > 40 ? `${offset.slice(0, 40)}…` : offset);
  if (typeof offset === 'bigint') return `${offset}n`;
  if (offset === null || typeof offset !== 'object') return String(offset);
  return Array.isArray(offset) ? 'an array' : 'an object';
}

/** Checks the group fields of a sendOffsets request. */
export function checkOffsetsRequest(request: OffsetsToCommit): void {
  if (request === null || typeof request !== 'object') throw new ConfigError('sendOffsets: the request must be an object');
  const { groupId, generationId, memberId, groupInstanceId } = request;
  if (typeof groupId !== 'string' || groupId.length === 0) throw new ConfigError('sendOffsets: groupId must be a non-empty string');
  if (!fitsProtocolString(groupId)) throw new ConfigError(`sendOffsets: groupId must be ${TOO_LONG}`);
  if (generationId !== undefined && !(Number.isInteger(generationId) && generationId >= -INT32_MAX - 1 && generationId <= INT32_MAX)) {
    throw new ConfigError('sendOffsets: generationId must be a 32-bit integer');
  }
  if (memberId !== undefined && typeof memberId !== 'string') throw new ConfigError('sendOffsets: memberId must be a string');
  if (memberId !== undefined && !fitsProtocolString(memberId)) throw new ConfigError(`sendOffsets: memberId must be ${TOO_LONG}`);
  if (groupInstanceId != null && typeof groupInstanceId !== 'string') throw new ConfigError('sendOffsets: groupInstanceId must be a string or null');
  if (groupInstanceId != null && !fitsProtocolString(groupInstanceId)) throw new ConfigError(`sendOffsets: groupInstanceId must be ${TOO_LONG}`);
}
