/**
 * The peers as the ingestion service's producer (examples/ingest/service.ts, IngestProducer), used the way the
 * service's users would use them out of the box: one request's records are one `send` call, acks=all,
 * idempotent, LZ4. Neither peer can take a record without waiting (no `trySend`), nor abort a send, nor report
 * per-record outcomes: a call's records succeed or fail together.
 */
import type { ProducerRecord } from '../../src/main/index.js';
import type { IngestProducer } from '../../examples/ingest/service.js';
import { importPeer, registerKafkaJsLz4, requirePeer, type KafkaJsModule, type PlatformaticModule } from '../clients/peer-modules.js';

/** A key or value as the peers take it: bytes, or nothing. */
export function toBytes(value: unknown): Buffer | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return Buffer.from(value);
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError(`the bench's peers take strings or bytes, got ${typeof value}`);
}

/** A record as both peers take a message (the topic aside); the service always sends a value. */
export function toMessage(record: ProducerRecord): { key?: Buffer; value: Buffer } {
  const key = toBytes(record.key);
  const value = toBytes(record.value);
  if (value === undefined) throw new TypeError('the bench sends no record without a value');
  return key === undefined ? { value } : { key, value };
}

/** One call's outcome as `count` settled results, all alike: the call's records were sent together. */
export async function settleTogether(count: number, call: Promise<unknown>): Promise<PromiseSettledResult<unknown>[]> {
  try {
    const value = await call;
    return Array.from({ length: count }, () => ({ status: 'fulfilled', value }));
  } catch (reason) {
    return Array.from({ length: count }, () => ({ status: 'rejected', reason }));
  }
}

/** Runs `task`s one after another in call order, whatever each one's outcome. */
export function serially(): <T>(task: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (task) => {
    const run = tail.then(task);
    tail = run.catch(() => undefined);
    return run;
  };
}

/** The topic every record of a request shares (the service puts one request on one topic). */
function topicOf(records: readonly ProducerRecord[]): string {
  const topic = records[0]!.topic;
  if (records.some((r) => r.topic !== topic)) throw new Error('one send call per topic: the records name several');
  return topic;
}

/** KafkaJS 2.x: concurrent calls are fine; with idempotence it queues them behind its per-broker lock. */
export async function kafkajsProducer(brokers: readonly string[]): Promise<IngestProducer> {
  // KafkaJS 2 logs a warning about its partitioner change at every start unless told not to.
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const kafkajs = requirePeer<KafkaJsModule>('kafkajs');
  registerKafkaJsLz4(kafkajs);
  const kafka = new kafkajs.Kafka({ clientId: 'ingest-bench', brokers: [...brokers], logLevel: kafkajs.logLevel.ERROR });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false });
  await producer.connect();
  return {
    async sendBatch(records) {
      if (records.length === 0) return [];
      const messages = records.map(toMessage);
      return settleTogether(records.length, producer.send({ topic: topicOf(records), messages, acks: -1, compression: kafkajs.CompressionTypes.LZ4 }));
    },
    close: () => producer.disconnect(),
  };
}

/**
 * @platformatic/kafka 1.x: with idempotence it advances sequence numbers only when a call's response arrives, so
 * concurrent calls would reuse them; its users send one call at a time (as its own ProducerStream does), and so
 * does this.
 */
export async function platformaticProducer(brokers: readonly string[]): Promise<IngestProducer> {
  const { Producer } = await importPeer<PlatformaticModule>('@platformatic/kafka');
  const producer = new Producer({
    clientId: 'ingest-bench', bootstrapBrokers: [...brokers], idempotent: true, acks: -1, compression: 'lz4', autocreateTopics: false,
  });
  const oneAtATime = serially();
  return {
    async sendBatch(records) {
      if (records.length === 0) return [];
      const topic = topicOf(records);
      const messages = records.map((r) => ({ topic, ...toMessage(r) }));
      return settleTogether(records.length, oneAtATime(() => producer.send({ messages })));
    },
    close: () => producer.close(),
  };
}
