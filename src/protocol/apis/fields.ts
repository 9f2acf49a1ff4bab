/**
 * Field helpers shared by the API modules (Metadata and the transaction APIs): the same field is a classic or a
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
 * An array the schema does not allow to be null. `minItemBytes` is the smallest encoding of one item, so a hostile
 * count is refused before anything is allocated for it; `maxItems` bounds arrays whose items cost far more in the
 * heap than on the wire.
 */
export function readArray<T>(
  reader: Reader,
  flexible: boolean,
  readItem: (reader: Reader) => T,
  minItemBytes: number,
  what: string,
  maxItems = Infinity,
): T[] {
  const items = flexible
    ? reader.compactArray(readItem, minItemBytes, maxItems)
    : reader.array(readItem, minItemBytes, maxItems);
  if (items === null) throw new ProtocolError(`${what} is null`);
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

function readTopicPartitionErrors(reader: Reader, flexible: boolean, api: string): TopicPartitionErrors[] {
  const tags = flexible ? 1 : 0;
  const readPartition = (r: Reader): PartitionErrorCode => {
    const partitionIndex = r.int32();
    const errorCode = r.int16();
    if (flexible) r.taggedFields();
    return { partitionIndex, errorCode };
  };
  const readTopic = (r: Reader): TopicPartitionErrors => {
    const name = readString(r, flexible, `${api} response topic name`);
    const partitions = readArray(r, flexible, readPartition, 6 + tags, `${api} response partitions`);
    if (flexible) r.taggedFields();
    return { name, partitions };
  };
  // Smallest topic: an empty name and an empty partition array (and a tag section).
  return readArray(reader, flexible, readTopic, flexible ? 3 : 6, `${api} response topics`);
}
