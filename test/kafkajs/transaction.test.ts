/**
 * KafkaJS's documented transaction examples against the facade, read back by Kafka's console consumer with
 * read_committed.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, KafkaJSNonRetriableError, logLevel } from '../../src/kafkajs/index.js';
import { createTopic, uniqueTopic, useBroker } from '../helpers/broker.js';
import { consume, groupOffsets } from '../helpers/readback.js';
import { openTransaction } from '../../src/kafkajs/transaction.js';
import { Producer } from '../../src/main/producer.js';

let brokers: string[];
let kafka: Kafka;

before(async () => {
  brokers = await useBroker();
  kafka = new Kafka({ clientId: 'my-app', brokers, logLevel: logLevel.ERROR });
});

test('send in a transaction, then commit; the transaction ends', { timeout: 120_000 }, async () => {
  const topic = uniqueTopic('kafkajs-tx');
  await createTopic(topic, 1);
  const producer = kafka.producer({ transactionalId: uniqueTopic('my-transactional-producer'), maxInFlightRequests: 1, idempotent: true });
  await producer.connect();
  const transaction = await producer.transaction();
  try {
    await transaction.send({ topic, messages: [{ key: 'key', value: 'in a transaction' }] });
    await transaction.commit();
  } catch (e) {
    await transaction.abort();
    throw e;
  }
  assert.equal(transaction.isActive(), false);
  await assert.rejects(transaction.send({ topic, messages: [{ value: 'late' }] }), KafkaJSNonRetriableError);
  await producer.disconnect();
  assert.deepEqual((await consume(brokers, topic, 1, { isolationLevel: 'read_committed' })).map((r) => r.value), ['in a transaction']);
});

test('consumed offsets committed with the transaction; abort ends one too', { timeout: 120_000 }, async () => {
  const topic = uniqueTopic('kafkajs-tx-offsets');
  await createTopic(topic, 1);
  const producer = kafka.producer({ transactionalId: uniqueTopic('my-transactional-producer'), idempotent: true });
  await producer.connect();
  const transaction = await producer.transaction();
  await transaction.send({ topic, messages: [{ value: 'processed' }] });
  const group = uniqueTopic('my-group');
  await transaction.sendOffsets({ consumerGroupId: group, topics: [{ topic, partitions: [{ partition: 0, offset: '1' }] }] });
  await transaction.commit();
  assert.equal((await groupOffsets(brokers, group)).get(`${topic}:0`), 1, 'the offset committed with the transaction');
  const aborted = await producer.transaction();
  assert.equal(aborted.isActive(), true);
  await aborted.abort();
  assert.equal(aborted.isActive(), false);
  await producer.disconnect();
});

test('transaction() without a transactionalId is refused', async () => {
  await assert.rejects(kafka.producer().transaction(), /transactionalId/);
});

test('a transaction object ends with its ringkafka producer: after a disconnect its calls are refused', async () => {
  let current = true;
  const sent: unknown[] = [];
  const sender = { send: async (r: unknown) => (sent.push(r), []), sendBatch: async (b: unknown) => (sent.push(b), []) };
  const transaction = openTransaction(new Producer({ brokers }), sender, () => undefined, () => current);
  await transaction.send({ topic: 't', messages: [{ value: 'a' }] });
  assert.equal(transaction.isActive(), true);
  current = false; // disconnect(), maybe a reconnect with a new producer
  assert.equal(transaction.isActive(), false);
  await assert.rejects(transaction.send({ topic: 't', messages: [{ value: 'b' }] }), KafkaJSNonRetriableError);
  assert.equal(sent.length, 1, 'nothing reached the new producer');
});
