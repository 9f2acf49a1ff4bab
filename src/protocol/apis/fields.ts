/**
 * Field helpers shared by the API modules (Metadata, Produce and the transaction APIs): the same field is a classic or a
 * compact encoding depending on whether the version is flexible, and a non-nullable string or array that arrives
 * null means the broker broke the schema. Keeping the choice in one place keeps every decoder equally strict.
 */
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';
import { ProtocolError, UnsupportedVersionError } from '../../shared/errors.js';

/** The version guard every encoder and decoder starts with: outside `min`–`max` is UnsupportedVersionError. */
export function versionGuard(api: string, min: number, max: number): (version: number) => void {
  return (version) => {
    if (!(version >= min && version <= max)) {
      throw new UnsupportedVersionError(`${api} v${version} is not supported (ringkafka speaks v${min}–v${max})`);
    }
  };
}

export function writeString(writer: Writer, flexible: boolean, value: string | null): void {
  if (flexible) writer.compactString(value);
  else writer.string(value);
}

export function readNullableString(reader: Reader, flexible: boolean): string | null {
  return flexible ? reader.compactString() : reader.string();
}

/** A string the schema does not allow to be null; `what` names it in the error. */
export function readString(reader: Reader, flexible: boolean, what: string): string {
  const value = readNullableString(reader, flexible);
  if (value === null) throw new ProtocolError(`${what} is null`);
  return value;
}

/** Who a transaction request speaks for: the transactional id, and the producer id and epoch it holds. */
export interface TransactionalProducer {
  readonly transactionalId: string;
  readonly producerId: bigint;
  readonly producerEpoch: number;
}

/** `transactional_id:string producer_id:int64 producer_epoch:int16`, the head of most transaction requests. */
export function writeTransactionalProducer(writer: Writer, flexible: boolean, producer: TransactionalProducer): void {
  writeString(writer, flexible, producer.transactionalId);
  writer.int64(producer.producerId).int16(producer.producerEpoch);
}

/** The count of an array whose items the caller writes (each closing its own tag section when flexible). */
export function writeArrayLength(writer: Writer, flexible: boolean, length: number): void {
  if (flexible) writer.uvarint(length + 1);
  else writer.int32(length);
}

/**
 * Items that several arrays of one answer share (the partitions of all its topics): `left` is what the next array
 * may still hold, so a count past the budget is refused as it is read, before any of its items is built.
 */
export interface ItemBudget {
  /** The items, plural, for the error: 'partitions'. */
  readonly items: string;
  readonly cap: number;
  left: number;
}

export function itemBudget(items: string, cap: number): ItemBudget {
  return { items, cap, left: cap };
}

/**
 * An array the schema does not allow to be null. `minItemBytes` is the smallest encoding of one item, so a hostile
 * count is refused before anything is allocated for it; `limit` (a count, or a budget shared with other arrays)
 * bounds arrays whose items cost far more in the heap than on the wire.
 *
 * The count is read and checked here, with the Reader's own tests, so that every error about it names the array.
 * Wrapping the Reader's array() instead, to rename its errors, put a closure around every item and made a Produce
 * answer of 10,000 partitions decode five times slower.
 */
export function readArray<T>(
  reader: Reader,
  flexible: boolean,
  readItem: (reader: Reader) => T,
  minItemBytes: number,
  what: string,
  limit: number | ItemBudget = Infinity,
): T[] {
  const count = flexible ? reader.uvarint() - 1 : reader.int32();
  if (count === -1) throw new ProtocolError(`${what} is null`);
  if (count < 0) throw new ProtocolError(`${what}: negative array length ${count}`);
  if (typeof limit === 'number') {
    if (count > limit) throw new ProtocolError(`${what}: array of ${count} items, more than the ${limit} it can hold`);
  } else if (count > limit.left) {
    throw new ProtocolError(
      `${what}: array of ${count} items, more than the ${limit.left} left of the ${limit.cap} ${limit.items} an answer can hold`,
    );
  }
  // Every item takes at least one byte, whatever the caller says, so no count is trusted beyond the frame.
  if (count * Math.max(1, minItemBytes) > reader.remaining) {
    throw new ProtocolError(`${what}: array of ${count} items cannot fit in ${reader.remaining} remaining bytes`);
  }
  if (typeof limit !== 'number') limit.left -= count;
  const items: T[] = [];
  for (let i = 0; i < count; i++) items.push(readItem(reader));
  return items;
}

/**
 * `[name:string partitions:[P]]`, each topic closed by a tag section when flexible; `writePartition` writes one
 * partition (and its own tag section).
 */
export function writeTopics<P>(
  writer: Writer,
  flexible: boolean,
  topics: readonly { readonly name: string; readonly partitions: readonly P[] }[],
  writePartition: (writer: Writer, partition: P) => void,
): void {
  writeArrayLength(writer, flexible, topics.length);
  for (const topic of topics) {
    writeString(writer, flexible, topic.name);
    writeArrayLength(writer, flexible, topic.partitions.length);
    for (const partition of topic.partitions) writePartition(writer, partition);
    if (flexible) writer.taggedFields();
  }
}

export interface PartitionErrorCode {
  readonly partitionIndex: number;
  readonly errorCode: number;
}

export interface TopicPartitionErrors {
  readonly name: string;
  readonly partitions: readonly PartitionErrorCode[];
}

export interface TopicPartitionErrorsResponse {
  readonly throttleTimeMs: number;
  readonly topics: readonly TopicPartitionErrors[];
}

/**
 * `throttle_time_ms:int32 topics:[name:string partitions:[partition_index:int32 error_code:int16]]`, each struct
 * closed by a tag section when flexible: the whole answer of AddPartitionsToTxn (v0–v3) and TxnOffsetCommit alike.
 */
export function readTopicPartitionErrorsResponse(
  reader: Reader,
  flexible: boolean,
  api: string,
): TopicPartitionErrorsResponse {
  const throttleTimeMs = reader.int32();
  const topics = readTopicPartitionErrors(reader, flexible, api);
  if (flexible) reader.taggedFields();
  return { throttleTimeMs, topics };
}

/**
 * Topics in an answer that lists the topics its request carried (Produce, AddPartitionsToTxn, TxnOffsetCommit): the
 * value of Metadata's MAX_TOPICS_PER_ANSWER, for the same reason. A producer writes to at most the 65,535 topics its
 * registry holds. An empty topic is 3 bytes on a flexible wire and 80 to 90 in the heap (an object, its name and an
 * empty array): unbounded, a 14 MiB Produce frame of them grew the heap by 432 MiB, a 97 MiB one by about 3 GB in
 * 20 s of synchronous decoding, and a 57 MiB answer ended a process run with a 1.5 GiB heap. At the cap, under 6 MB.
 */
export const MAX_TOPICS_PER_ANSWER = 1 << 16;

/**
 * The partitions of such an answer, all its topics together (as Metadata's MAX_PARTITIONS_PER_ANSWER): one per
 * partition its request carried, and a request carries the partitions one broker leads for one producer, or those
 * one transaction adds or commits offsets for, far fewer than a million. A partition costs about 180 bytes of heap
 * for 33 on the wire in a Produce answer and about 50 for 7 in a partition-errors one; the budget holds an answer to
 * some 190 MB of them however many topics share them (a per-array cap alone lets each of many topics reach it).
 */
export const MAX_PARTITIONS_PER_ANSWER = 1 << 20;

function readTopicPartitionErrors(reader: Reader, flexible: boolean, api: string): TopicPartitionErrors[] {
  const tags = flexible ? 1 : 0;
  const budget = itemBudget('partitions', MAX_PARTITIONS_PER_ANSWER);
  const readPartition = (r: Reader): PartitionErrorCode => {
    const partitionIndex = r.int32();
    const errorCode = r.int16();
    if (flexible) r.taggedFields();
    return { partitionIndex, errorCode };
  };
  const readTopic = (r: Reader): TopicPartitionErrors => {
    const name = readString(r, flexible, `${api} response topic name`);
    const partitions = readArray(r, flexible, readPartition, 6 + tags, `${api} response partitions`, budget);
    if (flexible) r.taggedFields();
    return { name, partitions };
  };
  // Smallest topic: an empty name and an empty partition array (and a tag section).
  return readArray(reader, flexible, readTopic, flexible ? 3 : 6, `${api} response topics`, MAX_TOPICS_PER_ANSWER);
}
