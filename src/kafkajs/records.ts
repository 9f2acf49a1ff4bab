/**
 * One KafkaJS send or sendBatch call → ringkafka records, and their results → KafkaJS's RecordMetadata: one entry per
 * partition the call wrote to, with that call's first offset in it, as KafkaJS reports one entry per partition of
 * its Produce requests. The per-call `acks`, `compression` and `timeout` must be what the producer was configured
 * with: ringkafka fixes them per producer, and sending with other settings than the call asked for would be wrong
 * without a word.
 */
import type { ResolvedOptions } from '../main/options.js';
import { checkRecord, describe, type ProducerRecord as RingRecord, type RecordHeaders } from '../main/serialize.js';
import type { Serializer } from '../main/options.js';
import { codecName } from './constants.js';
import { KafkaJSNonRetriableError } from './errors.js';
import { toKafkaJSError } from './error-mapping.js';
import { checkRecordSize } from '../main/record-size.js';
import { RecordTooLargeError } from '../shared/producer-errors.js';
import type { PartitionOffset } from './partition-offsets.js';
import { refuse, shown } from './refuse.js';
import type { IHeaders, Message, ProducerBatch, RecordMetadata, TopicMessages } from './types.js';

/** KafkaJS's code for "no error". */
const NO_ERROR = 0;

/** Refuses a per-call setting that differs from the producer's; a left-out one means the producer's. */
export function checkCallSettings(batch: ProducerBatch, producer: ResolvedOptions): void {
  const { acks, compression, timeout } = batch;
  if (acks !== undefined && acks !== producer.acks) {
    refuse(`acks: ${shown(acks)}`, `differs from this producer's acks (${producer.acks}); ringkafka fixes acks per producer: set it with kafka.producer({ ringkafka: { acks } })`);
  }
  if (compression !== undefined) {
    const codec = codecName(compression);
    if (codec === undefined) refuse(`compression: ${shown(compression)}`, 'is not one of the CompressionTypes');
    if (codec !== producer.compression) {
      refuse(`compression: ${shown(compression)} (${codec})`, `differs from this producer's compression (${producer.compression}); ringkafka fixes the codec per producer: set it with kafka.producer({ ringkafka: { compression: '${codec}' } })`);
    }
  }
  if (timeout !== undefined && timeout !== producer.requestTimeoutMs) {
    refuse(`timeout: ${shown(timeout)}`, `differs from this producer's request timeout (${producer.requestTimeoutMs} ms); set requestTimeout in new Kafka() instead`);
  }
}

/**
 * The records of a call, in order, every one of them checked before the call sends any: KafkaJS refuses a call with
 * one bad message before it writes anything, so a caller that fixes it and sends the call again duplicates nothing.
 * Checked one by one by ringkafka, the call's other messages were written, and then the call rejected. A missing
 * topic or a message without a value is refused as KafkaJS does; anything else ringkafka's check refuses (a topic
 * name Kafka does not allow, a value that is neither a string nor a Buffer, a bad header or timestamp) with its
 * message, which names the field.
 */
export function toRecords(
  topicMessages: readonly TopicMessages[] | undefined,
  serializer: Serializer | null,
  limits: Pick<ResolvedOptions, 'maxBufferedBytes' | 'maxRequestBytes'>,
): RingRecord[] {
  // Left out, it is none, as KafkaJS's default (`topicMessages = []`) makes it.
  if (topicMessages !== undefined && !Array.isArray(topicMessages)) {
    throw new KafkaJSNonRetriableError(`Invalid topicMessages: an array of { topic, messages } is needed, got ${describe(topicMessages)}`);
  }
  const records: RingRecord[] = [];
  const now = Date.now();
  for (const entry of (topicMessages ?? []) as readonly unknown[]) {
    if (typeof entry !== 'object' || entry === null) throw new KafkaJSNonRetriableError(`Invalid topicMessages entry: ${describe(entry)}`);
    const { topic, messages } = entry as TopicMessages;
    if (typeof topic !== 'string' || topic.length === 0) throw new KafkaJSNonRetriableError('Invalid topic');
    if (!Array.isArray(messages)) throw new KafkaJSNonRetriableError(`Invalid messages array for topic "${topic}"`);
    (messages as readonly unknown[]).forEach((message, index) => {
      if (typeof message !== 'object' || message === null) {
        throw new KafkaJSNonRetriableError(`Invalid message ${index} for topic "${topic}": ${describe(message)}`);
      }
      if ((message as Message).value === undefined) throw new KafkaJSNonRetriableError(`Invalid message without value for topic "${topic}"`);
      const typedArray = typedArrayField(message as Message);
      if (typedArray !== undefined) {
        throw new KafkaJSNonRetriableError(`Invalid message ${index} for topic "${topic}": ${typedArray} must be a Buffer, a string or null, got a Uint8Array that is not a Buffer (Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) sends its bytes)`);
      }
      // Said here in this layer's terms: the producer's own message names `options.serializer`, which a KafkaJS caller
      // sets as `ringkafka.serializer`, and Uint8Array, which this layer refuses (above).
      const { value } = message as Message;
      if (serializer === null && value !== null && typeof value !== 'string' && !Buffer.isBuffer(value)) {
        throw new KafkaJSNonRetriableError(`Invalid message ${index} for topic "${topic}": value must be a Buffer, a string or null, got ${describe(value)} (KafkaJS writes its text, String(value); set ringkafka.serializer to send other values)`);
      }
      const record = toRecord(topic, message as Message);
      let prepared;
      try {
        prepared = checkRecord(record, serializer, now);
      } catch (error) {
        throw new KafkaJSNonRetriableError(`Invalid message ${index} for topic "${topic}": ${(error as Error).message}`, { cause: error });
      }
      // Too large for a request, it is refused with the call too: the broker refuses KafkaJS's whole batch for it,
      // and ringkafka, checking it with the others sent, wrote the call's other messages (a resend duplicated them).
      // Its error is KafkaJS's for it, MESSAGE_TOO_LARGE.
      try {
        checkRecordSize(prepared, limits);
      } catch (error) {
        throw toKafkaJSError(new RecordTooLargeError(`message ${index} for topic "${topic}": ${(error as Error).message}`));
      }
      // The value as serialised, here and once: the facade's producer has no serializer of its own (producer.ts).
      // Serialised only when sent, a value a serializer function refused, or made too large, was found with the
      // call's other messages already written, and a serializer ran twice for every message.
      records.push(serializer === null ? record : { ...record, value: prepared.value });
    });
  }
  return records;
}

/**
 * The first of a message's key, value and header values that is a Uint8Array but not a Buffer, named; undefined when
 * none is. KafkaJS takes such bytes for text and writes `String(bytes)` ("1,2,3" for the bytes 1, 2, 3), and hashes
 * a key so. Sent as its bytes here, a key went to another partition than KafkaJS's (and than this layer's own
 * DefaultPartitioner() answers) under another key, and a value was stored as other bytes: neither is what its
 * caller's code did under KafkaJS, so such a message is refused, as a number is.
 */
function typedArrayField({ key, value, headers }: Message): string | undefined {
  if (isTypedArray(key)) return 'key';
  if (isTypedArray(value)) return 'value';
  if (headers === undefined || headers === null || typeof headers !== 'object') return undefined;
  for (const [name, header] of Object.entries(headers)) {
    if ((Array.isArray(header) ? header : [header]).some(isTypedArray)) return `header ${JSON.stringify(name)}`;
  }
  return undefined;
}

/** A Uint8Array that is not a Buffer (a module-level function: no closure made per message). */
function isTypedArray(bytes: unknown): boolean {
  return bytes instanceof Uint8Array && !Buffer.isBuffer(bytes);
}

function toRecord(topic: string, { key, value, partition, headers, timestamp }: Message): RingRecord {
  // Most messages have only a key and a value: one literal, not three conditional spreads per message.
  if ((partition ?? headers ?? timestamp) == null) return { topic, key, value };
  return {
    topic,
    key,
    value,
    ...(partition !== undefined && partition !== null && { partition }),
    ...(headers !== undefined && headers !== null && { headers: toHeaders(headers) }),
    // KafkaJS writes `timestamp || Date.now()`: '' and 0 mean "now" there, not the epoch (which retention deletes).
    // Text that is no number is passed on as it is, for the check to show it: as Number(), it was "got NaN".
    ...(timestamp ? { timestamp: Number.isNaN(Number(timestamp)) ? (timestamp as unknown as number) : Number(timestamp) } : undefined),
  };
}

/** KafkaJS's header object, where an array value means the header repeated, → ringkafka's ordered pairs. */
function toHeaders(headers: IHeaders): RecordHeaders {
  const pairs: Array<readonly [string, Buffer | string]> = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) pairs.push([name, one]);
  }
  return pairs;
}

/** One entry per topic-partition the call wrote to, in the order given (PartitionOffsets), with its first offset. */
export function toRecordMetadata(
  partitions: readonly Pick<PartitionOffset, 'topic' | 'partition' | 'offset' | 'logAppendTime' | 'logStartOffset'>[],
): RecordMetadata[] {
  return partitions.map(({ topic, partition, offset, logAppendTime, logStartOffset }) => ({
    topicName: topic,
    partition,
    errorCode: NO_ERROR,
    baseOffset: String(offset),
    // As the broker answered them: -1 unless the topic uses LogAppendTime; -1 where the answer had no log start
    // offset (Produce before v5), KafkaJS's string for one it was not sent.
    logAppendTime: String(logAppendTime),
    logStartOffset: String(logStartOffset),
  }));
}
