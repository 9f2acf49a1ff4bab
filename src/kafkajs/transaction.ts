/** KafkaJS's transaction object over ringkafka's transactional Producer (docs/transactions.md). */
import type { Producer } from '../main/producer.js';
import { transactionStateOf } from '../main/producer-internals.js';
import { describe } from '../main/serialize.js';
import { asKafkaJS } from './error-mapping.js';
import { KafkaJSNonRetriableError } from './errors.js';
import type { Offsets, ProducerBatch, ProducerRecord, RecordMetadata } from './types.js';

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

/**
 * A transaction already begun on `producer`; `onEnd` runs once it commits or aborts. `current` says whether
 * `producer` is still the one the facade sends through: after a disconnect (and a reconnect, with a new ringkafka
 * Producer) this transaction is over, and its calls must not reach the new producer's transaction.
 */
export function openTransaction(producer: Producer, sender: Sender, onEnd: () => void, current: () => boolean): Transaction {
  let active = true;
  const guard = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => (...args: A): Promise<R> =>
    active && current() ? fn(...args) : Promise.reject(new KafkaJSNonRetriableError('The transaction has ended; begin another with producer.transaction()'));
  const end = (finish: () => Promise<void>) => guard(() => asKafkaJS(async () => {
    await finish();
    active = false;
    onEnd();
  }));
  return {
    send: guard((record: ProducerRecord) => sender.send(record)),
    sendBatch: guard((batch: ProducerBatch) => sender.sendBatch(batch)),
    // A rejection, as KafkaJS's async sendOffsets gives, naming KafkaJS's fields: it threw a TypeError reading them.
    sendOffsets: guard((offsets: Offsets & { consumerGroupId: string }) => asKafkaJS(async () =>
      producer.sendOffsets({ groupId: consumerGroupOf(offsets), offsets: offsetsOf(offsets) }))),
    commit: end(() => producer.commitTransaction()),
    abort: end(() => producer.abortTransaction()),
    isActive: () => active && current() && canEnd(producer),
  };
}

/**
 * Whether ringkafka's transaction can still be ended by a call of this one: KafkaJS's isActive follows its
 * transaction state, which a fatal error (the producer fenced) leaves for good. One that must abort (a message
 * failed) stays active, as in KafkaJS, for abort() is how it ends; so does one whose commit is in flight or whose
 * outcome is unknown, for commit() may be called again. The calls themselves are not refused here after a fatal
 * error: ringkafka rejects them with the error that ended the producer, which says more than "ended".
 */
function canEnd(producer: Producer): boolean {
  const state = transactionStateOf(producer);
  return state !== 'fatal' && state !== 'ready' && state !== 'uninitialized';
}

function consumerGroupOf(offsets: unknown): string {
  if (typeof offsets !== 'object' || offsets === null) {
    throw new KafkaJSNonRetriableError(`sendOffsets() needs { consumerGroupId, topics }, got ${describe(offsets)}`);
  }
  const { consumerGroupId } = offsets as { consumerGroupId?: unknown };
  if (typeof consumerGroupId !== 'string' || consumerGroupId.length === 0) {
    throw new KafkaJSNonRetriableError('sendOffsets() needs a consumerGroupId (a non-empty string)');
  }
  return consumerGroupId;
}

function offsetsOf({ topics }: Offsets): { topic: string; partition: number; offset: string }[] {
  if (!Array.isArray(topics)) throw new KafkaJSNonRetriableError('sendOffsets() needs topics: an array of { topic, partitions }');
  return topics.flatMap((entry: unknown) => {
    const { topic, partitions } = (typeof entry === 'object' && entry !== null ? entry : {}) as { topic?: unknown; partitions?: unknown };
    if (typeof topic !== 'string' || !Array.isArray(partitions)) {
      throw new KafkaJSNonRetriableError('sendOffsets() needs each of topics to be { topic, partitions: [{ partition, offset }] }');
    }
    return (partitions as unknown[]).map((one) => {
      const { partition, offset } = (typeof one === 'object' && one !== null ? one : {}) as { partition: number; offset: string };
      return { topic, partition, offset }; // checked by ringkafka's sendOffsets, which names the bad field
    });
  });
}
