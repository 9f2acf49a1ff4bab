/**
 * The facade's calls where ringkafka's own behaviour differs from KafkaJS's, against the in-process fake broker (a
 * record count per Produce request, a coordinator that says yes): a call with one bad message writes nothing, a
 * batch refused for one message fails the call with that message's error, a transactional producer's plain sends
 * stay out of its transactions, and every disconnect() waits for the same close.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import {
  Kafka, KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSProtocolError, logLevel, type KafkaConfig, type Producer,
} from '../../src/kafkajs/index.js';
import { FakeBroker } from '../helpers/fake-broker.js';
import { UnknownTopicError } from '../../src/shared/producer-errors.js';
import { decodeRecordBatches } from '../../src/protocol/record-batch-decoder.js';

/** A fake broker and a facade producer connected to it (see `unanswered`), both ended after the test. */
async function connected(t: TestContext, produceVersion = 3): Promise<{ broker: FakeBroker; producer: Producer }> {
  const broker = await FakeBroker.start(1, undefined, { produceVersion });
  t.after(() => broker.close());
  const producer = new Kafka(unanswered(broker)).producer();
  await producer.connect();
  t.after(() => producer.disconnect());
  return { broker, producer };
}

/**
 * The client config for a fake broker that answers each Produce only when the test says: one retry at most and a
 * short request timeout, so a test that fails before answering still disconnects (which waits for every message)
 * in about a second, rather than at KafkaJS's default delivery bound.
 */
function unanswered(broker: FakeBroker): KafkaConfig {
  return { brokers: [broker.address], logLevel: logLevel.NOTHING, requestTimeout: 1_000, retry: { retries: 1 } };
}

test('a send with one bad message is refused whole before anything is written, naming the message and its field', async (t) => {
  const { broker, producer } = await connected(t);
  await assert.rejects(
    producer.send({ topic: 'orders', messages: [{ value: 'good-1' }, { value: 42 as never }, { value: 'good-2' }] }),
    (error: unknown) => error instanceof KafkaJSNonRetriableError && /message 1 for topic "orders": .*value/.test(error.message),
  );
  await assert.rejects(
    producer.sendBatch({ topicMessages: [{ topic: 'payments', messages: [{ value: 'p' }] }, { topic: 'bad topic!', messages: [{ value: 'b' }] }] }),
    (error: unknown) => error instanceof KafkaJSNonRetriableError && /topic "bad topic!": .*topic/.test(error.message),
  );
  // Too large for a request, as KafkaJS's broker refuses its whole batch for it.
  await assert.rejects(
    producer.send({ topic: 'orders', messages: [{ value: 'small-1' }, { value: Buffer.alloc(1_100_000) }, { value: 'small-2' }] }),
    (error: unknown) => error instanceof KafkaJSProtocolError && error.type === 'MESSAGE_TOO_LARGE',
  );
  // The first Produce the broker sees holds only the call after them: none of their good messages was written.
  const after = producer.send({ topic: 'orders', messages: [{ value: 'after' }] });
  const produce = await broker.nextProduce();
  assert.deepEqual([...produce.recordCounts], [['orders-0', 1]]);
  broker.answer(produce, 0n);
  assert.equal((await after)[0]!.baseOffset, '0');
});

test('with a serializer function each message is serialised once, before anything of the call is written', async (t) => {
  // Serialised only as the producer sent them, a value the function refused failed with the call's other messages
  // already written (a resend duplicated them), and the function ran twice for every message.
  const broker = await FakeBroker.start(1, undefined, { produceVersion: 3 });
  t.after(() => broker.close());
  let calls = 0;
  const serializer = (value: unknown): string => {
    calls++;
    if ((value as { bad?: boolean }).bad === true) throw new Error('refused by the serializer');
    return JSON.stringify(value);
  };
  const producer = new Kafka(unanswered(broker)).producer({ ringkafka: { serializer } });
  await producer.connect();
  t.after(() => producer.disconnect());
  const messages = [{ value: { n: 1 } }, { value: { bad: true } }, { value: { n: 3 } }] as never[];
  await assert.rejects(producer.send({ topic: 'orders', messages }), (error: unknown) =>
    error instanceof KafkaJSNonRetriableError && /^Invalid message 1 for topic "orders": .*refused by the serializer/.test(error.message));
  calls = 0;
  const after = producer.send({ topic: 'orders', messages: [{ value: { n: 4 } as never }] });
  const produce = await broker.nextProduce();
  assert.deepEqual([...produce.recordCounts], [['orders-0', 1]], 'nothing of the refused call was written');
  const [batch] = await decodeRecordBatches(produce.batches.get('orders-0')!);
  assert.equal(Buffer.from(batch!.records[0]!.value!).toString(), '{"n":4}');
  broker.answer(produce, 0n);
  await after;
  assert.equal(calls, 1, 'once per message');
});

test('a send() whose record cannot be read (a getter, a Proxy trap throws) rejects; it threw out of send()', async (t) => {
  const { producer } = await connected(t);
  const unreadable = new Proxy({}, { get: () => { throw new Error('no fields here'); } });
  let call: Promise<unknown> | undefined;
  assert.doesNotThrow(() => (call = producer.send(unreadable as never)));
  await assert.rejects(call!, (error: unknown) => error instanceof KafkaJSNonRetriableError && /could not be read: no fields here/.test(error.message));
});

test('a falsy timestamp (0, \'\') means now, as KafkaJS writes `timestamp || Date.now()`, not the epoch', async (t) => {
  const { broker, producer } = await connected(t);
  const before = Date.now();
  const sent = producer.send({ topic: 't', messages: [{ value: 'a', timestamp: '' }, { value: 'b', timestamp: 0 as never }] });
  const produce = await broker.nextProduce();
  // RecordBatch v2: first_timestamp is the int64 at byte 27.
  const first = produce.batches.get('t-0')!.readBigInt64BE(27);
  assert.ok(first >= BigInt(before), `first_timestamp ${first} is the time of the send, not ${before} or later`);
  broker.answer(produce, 0n);
  await sent;
});

test('a batch the broker refuses for one message it names (KIP-467) fails the call with that message\'s error, not its batch-mate\'s', async (t) => {
  const { broker, producer } = await connected(t, 8);
  const sent = producer.send({ topic: 'compacted', messages: [{ key: 'a', value: 'a', partition: 0 }, { value: 'b', partition: 0 }] });
  const produce = await broker.nextProduce();
  assert.equal(produce.recordCounts.get('compacted-0'), 2, 'one batch');
  broker.reply(produce, { partitions: () => ({ errorCode: 87, baseOffset: -1n, recordErrors: [{ batchIndex: 1, message: 'no key' }] }) });
  const error = await sent.then(() => assert.fail('sent'), (e: unknown) => e);
  assert.ok(error instanceof KafkaJSProtocolError, String(error));
  assert.equal(error.type, 'INVALID_RECORD');
  assert.match(error.message, /no key/);
});

test('each partition\'s logAppendTime is the broker\'s log_append_time_ms for it, as a string; -1 for a CreateTime topic', async (t) => {
  const { broker, producer } = await connected(t);
  const sent = producer.sendBatch({ topicMessages: [
    { topic: 'appended', messages: [{ value: 'a' }, { value: 'b' }] },
    { topic: 'created', messages: [{ value: 'c' }] },
  ] });
  // The two topics may go in one Produce request or in two (one per worker).
  const script = { partitions: (topic: string) => ({ baseOffset: 7n, logAppendTimeMs: topic === 'appended' ? 1_700_000_000_123n : -1n }) };
  for (let answered = 0; answered < 2;) {
    const produce = await broker.nextProduce();
    broker.reply(produce, script);
    answered += produce.recordCounts.size;
  }
  const metadata = await sent;
  assert.deepEqual(metadata.map(({ topicName, baseOffset, logAppendTime }) => ({ topicName, baseOffset, logAppendTime })), [
    { topicName: 'appended', baseOffset: '7', logAppendTime: '1700000000123' },
    { topicName: 'created', baseOffset: '7', logAppendTime: '-1' },
  ]);
});

test('each partition\'s logStartOffset is the broker\'s log_start_offset for it, as a string; -1 from Produce before v5', async (t) => {
  const sendBoth = async (produceVersion: number) => {
    const { broker, producer } = await connected(t, produceVersion);
    const sent = producer.sendBatch({ topicMessages: [
      { topic: 'kept', messages: [{ value: 'a' }] },
      { topic: 'trimmed', messages: [{ value: 'b' }, { value: 'c' }] },
    ] });
    const starts: Record<string, bigint> = { kept: 0n, trimmed: 2n ** 40n + 3n };
    // Before v5 the answer has no log_start_offset: the fake broker then leaves it out.
    const script = { partitions: (topic: string) => ({ baseOffset: 2n ** 40n + 9n, logStartOffset: starts[topic]! }) };
    for (let answered = 0; answered < 2;) {
      const produce = await broker.nextProduce();
      assert.equal(produce.version, produceVersion);
      broker.reply(produce, script);
      answered += produce.recordCounts.size;
    }
    return (await sent).map(({ topicName, baseOffset, logStartOffset }) => ({ topicName, baseOffset, logStartOffset }));
  };
  assert.deepEqual(await sendBoth(5), [
    { topicName: 'kept', baseOffset: '1099511627785', logStartOffset: '0' },
    { topicName: 'trimmed', baseOffset: '1099511627785', logStartOffset: '1099511627779' },
  ]);
  assert.deepEqual(await sendBoth(3), [
    { topicName: 'kept', baseOffset: '1099511627785', logStartOffset: '-1' },
    { topicName: 'trimmed', baseOffset: '1099511627785', logStartOffset: '-1' },
  ]);
});

test('disconnect() called twice: both wait for the same close, which waits for the message in flight; a send meanwhile is refused', async (t) => {
  const broker = await FakeBroker.start(1);
  t.after(() => broker.close());
  const producer = new Kafka(unanswered(broker)).producer();
  await producer.connect();
  let delivered = false;
  const sent = producer.send({ topic: 't', messages: [{ value: 'in flight' }] }).then(() => (delivered = true));
  const produce = await broker.nextProduce();
  const first = producer.disconnect();
  const second = producer.disconnect();
  // As in KafkaJS: a send while disconnecting is refused for good, not retriable (a retry loop would spin).
  await assert.rejects(producer.send({ topic: 't', messages: [{ value: 'late' }] }), (error: unknown) =>
    error instanceof KafkaJSNonRetriableError && /disconnecting/.test(error.message));
  const order: string[] = [];
  void first.then(() => order.push('first'));
  void second.then(() => order.push(`second, delivered: ${delivered}`));
  broker.answer(produce, 0n);
  await Promise.all([first, second, sent]);
  assert.deepEqual(order.sort(), ['first', 'second, delivered: true']);
});

test('connect() during a disconnect(): it waits for that close, then connects a producer that a later disconnect() closes', async (t) => {
  const broker = await FakeBroker.start(1);
  t.after(() => broker.close());
  const producer = new Kafka(unanswered(broker)).producer();
  const events: string[] = [];
  producer.on(producer.events.CONNECT, () => events.push('connect'));
  producer.on(producer.events.DISCONNECT, () => events.push('disconnect'));
  await producer.connect();
  const sent = producer.send({ topic: 't', messages: [{ value: 'in flight' }] });
  const produce = await broker.nextProduce();
  // The close waits for the message in flight; meanwhile the service connects again, then shuts down.
  const closing = producer.disconnect();
  const reconnected = producer.connect();
  const shutdown = producer.disconnect();
  assert.notEqual(shutdown, closing, 'the shutdown must not be handed the close that began before the reconnect');
  broker.answer(produce, 0n);
  await Promise.all([closing, reconnected, shutdown, sent]);
  assert.deepEqual(events, ['connect', 'disconnect', 'connect', 'disconnect']);
  // Closed for good: a send is refused, and no Produce reaches the broker.
  await assert.rejects(producer.send({ topic: 't', messages: [{ value: 'after' }] }), /disconnected/);
  assert.equal(broker.produces.length, 1);
});

test('connect() right after disconnect(): it resolves only once it has connected again, and a send then goes', async (t) => {
  const broker = await FakeBroker.start(1, undefined, { autoAck: true });
  t.after(() => broker.close());
  const producer = new Kafka(unanswered(broker)).producer();
  await producer.connect();
  t.after(() => producer.disconnect());
  const closing = producer.disconnect();
  await producer.connect();
  await closing;
  const [written] = await producer.send({ topic: 't', messages: [{ value: 'after reconnect' }] });
  assert.equal(written!.errorCode, 0);
});

test('connect() called again as soon as it failed starts afresh: it does not hand back the failed attempt', async (t) => {
  const broker = await FakeBroker.start(1, undefined, { autoAck: true });
  t.after(() => broker.close());
  // The first attempt is given an address where nothing listens, the second the broker's.
  let attempts = 0;
  const brokers = async (): Promise<string[]> => (++attempts === 1 ? ['127.0.0.1:1'] : [broker.address]);
  const producer = new Kafka({ brokers, logLevel: logLevel.NOTHING, connectionTimeout: 200, requestTimeout: 1_000 }).producer();
  t.after(() => producer.disconnect());
  const again = await producer.connect().then(() => 'connected at the first attempt', () => producer.connect());
  assert.equal(again, undefined);
  assert.equal(attempts, 2);
});

test('a transactional producer: a plain send is refused, not put in the open transaction; the transaction\'s own sends go', async (t) => {
  const broker = await FakeBroker.start(1, undefined, { autoAck: true, transactions: true });
  t.after(() => broker.close());
  const producer = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING }).producer({ transactionalId: 'facade-plain-send', maxInFlightRequests: 1 });
  await producer.connect();
  t.after(() => producer.disconnect());
  const plain = /sends only through its transactions/;
  await assert.rejects(producer.send({ topic: 't', messages: [{ value: 'no transaction open' }] }), plain);
  const transaction = await producer.transaction();
  // KafkaJS: "Only messages sent on the transaction object will participate in the transaction".
  await assert.rejects(producer.send({ topic: 't', messages: [{ value: 'beside the transaction' }] }), plain);
  await assert.rejects(producer.sendBatch({ topicMessages: [{ topic: 't', messages: [{ value: 'beside it too' }] }] }), plain);
  assert.equal((await transaction.send({ topic: 't', messages: [{ value: 'in it' }] })).length, 1);
  // sendOffsets with bad arguments rejects (KafkaJS's is async), naming the field; it threw a TypeError.
  let offsets: Promise<void> | undefined;
  assert.doesNotThrow(() => void (offsets = transaction.sendOffsets(undefined as never)));
  await assert.rejects(offsets!, (error: unknown) => error instanceof KafkaJSNonRetriableError && /consumerGroupId/.test(error.message));
  await assert.rejects(transaction.sendOffsets({ consumerGroupId: 'g' } as never), /topics/);
  await transaction.commit();
});

test('transaction.isActive() turns false once the producer is fenced; a transaction whose message failed stays active until abort()', async (t) => {
  const broker = await FakeBroker.start(1, undefined, { transactions: true });
  t.after(() => broker.close());
  const producer = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING, requestTimeout: 1_000 })
    .producer({ transactionalId: 'facade-is-active', maxInFlightRequests: 1 });
  await producer.connect();
  t.after(() => producer.disconnect());

  // A message the broker refused: the transaction must abort, and abort() is still there to do it, as in KafkaJS.
  const failing = await producer.transaction();
  const refused = failing.send({ topic: 't', messages: [{ value: 'refused' }] });
  broker.answer(await broker.nextProduce(), 0n, 87); // INVALID_RECORD
  await assert.rejects(refused);
  assert.equal(failing.isActive(), true);
  await failing.abort();
  assert.equal(failing.isActive(), false);

  // PRODUCER_FENCED: another producer took the transactionalId over, and nothing can end this transaction now.
  const fenced = await producer.transaction();
  const sent = fenced.send({ topic: 't', messages: [{ value: 'fenced' }] });
  broker.answer(await broker.nextProduce(), 0n, 90);
  await assert.rejects(sent);
  assert.equal(fenced.isActive(), false);
  await assert.rejects(fenced.commit(), (error: unknown) => (error as { type?: string }).type === 'PRODUCER_FENCED');
});

test('no broker left to answer for a topic\'s metadata: KafkaJSNumberOfRetriesExceeded over a KafkaJSConnectionError naming the broker, not a missing topic', async (t) => {
  const broker = await FakeBroker.start(1);
  const producer = new Kafka(unanswered(broker)).producer({ ringkafka: { bufferTimeoutMs: 1_000 } });
  await producer.connect();
  t.after(() => producer.disconnect());
  const address = broker.address;
  await broker.close();
  const error = await producer.send({ topic: 'never-seen', messages: [{ value: 'v' }] }).then(() => assert.fail('sent'), (e: unknown) => e);
  assert.equal((error as Error).name, 'KafkaJSNumberOfRetriesExceeded', String(error));
  assert.equal((error as KafkaJSNonRetriableError).retriable, false);
  assert.equal((error as { type?: string }).type, undefined, 'no Kafka error code: no broker answered');
  const cause = (error as Error).cause;
  assert.ok(cause instanceof KafkaJSConnectionError, String(cause));
  assert.equal(cause.broker, address);
  assert.equal(cause.code, 'ECONNREFUSED');
  assert.ok(cause.cause instanceof UnknownTopicError, 'the ringkafka error stays in the chain, with its topic');
  assert.equal(cause.cause.topic, 'never-seen');
});
