/**
 * KafkaJS's transaction object over ringkafka's transactional Producer. ringkafka's transactions API is called
 * through the TransactionalProducer interface below, so this compiles against a ringkafka that lacks it;
 * `transactionsAvailable()` says whether the loaded one has it, and the facade refuses a transactionalId otherwise.
 */
import { Producer } from '../main/producer.js';
import { asKafkaJS } from './error-mapping.js';
import { KafkaJSNonRetriableError } from './errors.js';
import type { Offsets, ProducerBatch, ProducerRecord, RecordMetadata } from './types.js';

/** A consumed position, as ringkafka's `sendOffsets` takes it. */
export interface OffsetToCommit {
  topic: string;
  partition: number;
  offset: bigint | number | string;
  metadata?: string;
}

/** ringkafka's `sendOffsets` request. */
export interface SendOffsetsRequest {
  groupId: string;
  offsets: ReadonlyArray<OffsetToCommit>;
  generationId?: number;
  memberId?: string;
  groupInstanceId?: string | null;
}

/** ringkafka's transactional methods on Producer. */
export interface TransactionalProducer {
  beginTransaction(): Promise<void>;
  commitTransaction(options?: { signal?: AbortSignal }): Promise<void>;
  abortTransaction(options?: { signal?: AbortSignal }): Promise<void>;
  sendOffsets(request: SendOffsetsRequest, options?: { signal?: AbortSignal }): Promise<void>;
}

/** Whether the loaded ringkafka Producer has transactions. */
export function transactionsAvailable(): boolean {
  return typeof (Producer.prototype as Partial<TransactionalProducer>).beginTransaction === 'function';
}

/** The sending half of a producer, which a transaction's sends go through. */
export interface Sender {
  send(record: ProducerRecord): Promise<RecordMetadata[]>;
  sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]>;
}

/** KafkaJS's transaction: sends and consumed offsets that commit or abort together. */
export interface Transaction extends Sender {
  sendOffsets(offsets: Offsets & { consumerGroupId: string }): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  isActive(): boolean;
}

/** A transaction already begun on `producer`; `onEnd` runs once it commits or aborts. */
export function openTransaction(producer: TransactionalProducer, sender: Sender, onEnd: () => void): Transaction {
  let active = true;
  const guard = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => (...args: A): Promise<R> =>
    active ? fn(...args) : Promise.reject(new KafkaJSNonRetriableError('The transaction has ended; begin another with producer.transaction()'));
  const end = (finish: () => Promise<void>) => guard(() => asKafkaJS(async () => {
    await finish();
    active = false;
    onEnd();
  }));
  return {
    send: guard((record: ProducerRecord) => sender.send(record)),
    sendBatch: guard((batch: ProducerBatch) => sender.sendBatch(batch)),
    sendOffsets: guard(({ consumerGroupId, topics }: Offsets & { consumerGroupId: string }) => asKafkaJS(() =>
      producer.sendOffsets({
        groupId: consumerGroupId,
        offsets: topics.flatMap(({ topic, partitions }) => partitions.map(({ partition, offset }) => ({ topic, partition, offset }))),
      }))),
    commit: end(() => producer.commitTransaction()),
    abort: end(() => producer.abortTransaction()),
    isActive: () => active,
  };
}
