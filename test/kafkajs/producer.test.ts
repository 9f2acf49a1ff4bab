/**
 * KafkaJS's documented producer examples, written as a KafkaJS service writes them, run against the facade and the
 * real broker; Kafka's console consumer reads back what they wrote. Only the import differs from KafkaJS.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tracingChannel } from 'node:diagnostics_channel';
import { Kafka, CompressionTypes, KafkaJSNonRetriableError, logLevel, type Producer } from '../../src/kafkajs/index.js';
import { SASL_USER, createTopic, uniqueTopic, useBroker, useSecureBroker } from '../helpers/broker.js';
import { consume } from '../helpers/readback.js';

let brokers: string[];
let kafka: Kafka;

before(async () => {
  brokers = await useBroker();
  kafka = new Kafka({ clientId: 'my-app', brokers, logLevel: logLevel.ERROR });
});

/** A fresh topic for one example, created before the example runs with the partitions it needs. */
async function topicFor(example: string, partitions = 3): Promise<string> {
  const name = uniqueTopic(`kafkajs-${example}`);
  await createTopic(name, partitions);
  return name;
}

async function withProducer<T>(producer: Producer, use: (producer: Producer) => Promise<T>): Promise<T> {
  await producer.connect();
  try {
    return await use(producer);
  } finally {
    await producer.disconnect();
  }
}

test('send with keys and values; one RecordMetadata per partition written, on the partitions Kafka reports', { timeout: 120_000 }, async () => {
  const topic = await topicFor('send');
  const producer = kafka.producer();
  await producer.connect();
  const result = await producer.send({
    topic,
    messages: [
      { key: 'key1', value: 'hello world' },
      { key: 'key2', value: 'hey hey!' },
    ],
  });
  await producer.disconnect();

  const read = await consume(brokers, topic, 2);
  assert.deepEqual(read.map((r) => [r.key, r.value]).sort(), [['key1', 'hello world'], ['key2', 'hey hey!']]);
  const partitions = new Set(read.map((r) => r.partition));
  assert.equal(result.length, partitions.size);
  for (const entry of result) {
    assert.equal(entry.topicName, topic);
    assert.equal(entry.errorCode, 0);
    assert.ok(partitions.has(entry.partition));
    assert.equal(entry.baseOffset, String(Math.min(...read.filter((r) => r.partition === entry.partition).map((r) => r.offset))));
    assert.equal(typeof entry.logAppendTime, 'string');
  }
});

test('a send is one traced sendBatch that keeps no result per record, and answers per partition all the same', { timeout: 120_000 }, async () => {
  // The layer reads each partition's first offset as records are reported (PartitionOffsets), so the call it makes
  // is a sendBatch with results 'failures': observers still see it, with that form of result.
  const topic = await topicFor('traced');
  const results: unknown[] = [];
  const channel = tracingChannel<object, { result?: unknown }>('ringkafka:sendBatch');
  const observer = { start() {}, end() {}, asyncStart() {}, asyncEnd(context: { result?: unknown }) { results.push(context.result); }, error() {} };
  channel.subscribe(observer);
  let answer;
  try {
    answer = await withProducer(kafka.producer(), (producer) =>
      producer.send({ topic, messages: Array.from({ length: 30 }, (_, i) => ({ key: `key-${i}`, value: `value-${i}` })) }),
    );
  } finally {
    channel.unsubscribe(observer);
  }
  assert.deepEqual(results, [{ records: 30, failures: [] }]);
  const read = await consume(brokers, topic, 30);
  const firstByPartition = new Map<number, number>();
  for (const record of read) firstByPartition.set(record.partition, Math.min(record.offset, firstByPartition.get(record.partition) ?? Infinity));
  assert.deepEqual(
    answer.map((entry) => [entry.partition, entry.baseOffset]).sort(),
    [...firstByPartition].map(([partition, offset]) => [partition, String(offset)]).sort(),
  );
});

test('acks 0: the call resolves with no entries, as KafkaJS\'s does, and the messages are written', { timeout: 120_000 }, async () => {
  const topic = await topicFor('acks0');
  // No broker answers with acks 0: there is no offset to report, and KafkaJS answers such a call with [].
  const result = await withProducer(kafka.producer({ ringkafka: { acks: 0 } }), (producer) =>
    producer.send({ topic, acks: 0, messages: [{ value: 'one' }, { value: 'two' }, { value: 'three' }] }));
  assert.deepEqual(result, []);
  const read = await consume(brokers, topic, 3);
  assert.deepEqual(read.map((r) => r.value).sort(), ['one', 'three', 'two']);
});

test('headers and an explicit partition', { timeout: 120_000 }, async () => {
  const topic = await topicFor('headers');
  await withProducer(kafka.producer(), async (producer) => {
    await producer.send({
      topic,
      messages: [{
        key: 'key1',
        value: 'hello world',
        partition: 2,
        headers: { 'correlation-id': '2bfb68bb-893a-423b-a7fa-7b568cad5b67', 'system-id': 'my-system' },
      }],
    });
  });
  const [record] = await consume(brokers, topic, 1);
  assert.equal(record?.partition, 2);
  assert.equal(record?.headers, 'correlation-id:2bfb68bb-893a-423b-a7fa-7b568cad5b67,system-id:my-system');
});

test('sendBatch with topicMessages across topics', { timeout: 120_000 }, async () => {
  const [a, b] = await Promise.all([topicFor('batch-a', 1), topicFor('batch-b', 1)]);
  const topicMessages = [
    { topic: a, messages: [{ key: 'key', value: 'hello topic-a' }] },
    { topic: b, messages: [{ key: 'key', value: 'hello topic-b' }] },
    { topic: b, messages: [{ key: 'key', value: 'hello again topic-b' }] },
  ];
  const result = await withProducer(kafka.producer(), (producer) => producer.sendBatch({ topicMessages }));
  assert.deepEqual(result.map((r) => [r.topicName, r.partition, r.baseOffset]), [[a, 0, '0'], [b, 0, '0']]);
  assert.deepEqual((await consume(brokers, a, 1)).map((r) => r.value), ['hello topic-a']);
  assert.deepEqual((await consume(brokers, b, 2)).map((r) => r.value), ['hello topic-b', 'hello again topic-b']);
});

test('GZIP compression: the call as KafkaJS documents it, on a producer set to gzip; refused by name on one that is not', { timeout: 120_000 }, async () => {
  const topic = await topicFor('gzip', 1);
  await withProducer(kafka.producer({ ringkafka: { compression: 'gzip' } }), async (producer) => {
    await producer.send({
      topic,
      compression: CompressionTypes.GZIP,
      messages: [{ key: 'key1', value: 'hello world' }, { key: 'key2', value: 'hey hey!' }],
    });
  });
  assert.deepEqual((await consume(brokers, topic, 2)).map((r) => r.value), ['hello world', 'hey hey!']);
  await withProducer(kafka.producer(), async (producer) => {
    await assert.rejects(
      producer.send({ topic, compression: CompressionTypes.GZIP, messages: [{ value: 'x' }] }),
      (e: Error) => e instanceof KafkaJSNonRetriableError && /compression: 1 \(gzip\) differs/.test(e.message),
    );
  });
});

test('events: connect and disconnect with KafkaJS\'s payload; the remover stops a listener', { timeout: 60_000 }, async () => {
  const producer = kafka.producer();
  const seen: Array<{ id: string; type: string; timestamp: number; payload: unknown }> = [];
  const { CONNECT, DISCONNECT } = producer.events;
  const removeConnect = producer.on(CONNECT, (event) => seen.push(event));
  producer.on(DISCONNECT, (event) => seen.push(event));
  await producer.connect();
  removeConnect();
  await producer.disconnect();
  await producer.connect(); // KafkaJS producers may connect again; this one is no longer listened to
  await producer.disconnect();
  assert.deepEqual(seen.map((e) => [e.type, e.payload]), [['producer.connect', null], ['producer.disconnect', null], ['producer.disconnect', null]]);
  assert.ok(seen.every((e) => typeof e.id === 'string' && Math.abs(e.timestamp - Date.now()) < 60_000));
});

test('ssl and sasl in KafkaJS\'s spelling reach the SASL_SSL listener', { timeout: 120_000 }, async (t) => {
  const secure = await useSecureBroker();
  if ('skip' in secure) return t.skip(secure.skip);
  const topic = await topicFor('sasl', 1);
  const secured = new Kafka({
    clientId: 'my-app', brokers: [...secure.saslSsl], logLevel: logLevel.ERROR,
    ssl: { ca: [secure.ca] },
    sasl: { mechanism: 'scram-sha-256', username: SASL_USER.username, password: SASL_USER.password },
  });
  await withProducer(secured.producer(), (producer) => producer.send({ topic, messages: [{ value: 'over sasl_ssl' }] }));
  assert.deepEqual((await consume(brokers, topic, 1)).map((r) => r.value), ['over sasl_ssl']);
});
