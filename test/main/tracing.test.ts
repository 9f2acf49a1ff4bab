/**
 * The diagnostics channels an observer subscribes to: a tracing channel per awaited call (start, then asyncEnd with
 * the result, or error), and one message per batch outcome. A fake broker that acknowledges at once stands in for
 * Kafka: what is checked is what the channels publish, not what the broker stores.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { Producer } from '../../src/main/producer.js';
import { sendBatchThrough } from '../../src/main/producer-internals.js';
import { FailureSettler } from '../../src/main/settlers.js';
import { channels, type BatchOutcomeMessage } from '../../src/main/tracing.js';
import { FakeBroker, deadPort } from '../helpers/fake-broker.js';
import { until } from '../helpers/readback.js';

interface Seen {
  readonly event: string;
  readonly context: Record<string, unknown>;
}

function record(name: string, seen: Seen[]): diagnosticsChannel.TracingChannelSubscribers<object> {
  const push = (event: string) => (context: object) => seen.push({ event: `${name}:${event}`, context: context as Record<string, unknown> });
  return { start: push('start'), end: push('end'), asyncStart: push('asyncStart'), asyncEnd: push('asyncEnd'), error: push('error') };
}

test('send, sendBatch, flush and close are traced; every batch outcome is published', { timeout: 60_000 }, async () => {
  const broker = await FakeBroker.start(2, () => false, { autoAck: true });
  const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 0 });
  const seen: Seen[] = [];
  const batches: BatchOutcomeMessage[] = [];
  const subscribers = {
    send: record('send', seen), sendBatch: record('sendBatch', seen), flush: record('flush', seen), close: record('close', seen),
  };
  const onBatch = (message: unknown): void => void batches.push(message as BatchOutcomeMessage);
  channels.send.subscribe(subscribers.send);
  channels.sendBatch.subscribe(subscribers.sendBatch);
  channels.flush.subscribe(subscribers.flush);
  channels.close.subscribe(subscribers.close);
  channels.batch.subscribe(onBatch);
  try {
    const one = await producer.send({ topic: 't', partition: 0, value: 'a' });
    const results = await producer.sendBatch([{ topic: 't', partition: 1, value: 'b' }, { topic: 't', partition: 1, value: 'c' }]);
    await producer.flush();
    await assert.rejects(producer.send({ topic: '', value: 'x' }), /topic/);
    await producer.close();

    const events = seen.map((s) => s.event);
    for (const name of ['send', 'sendBatch', 'flush', 'close']) {
      assert.ok(events.includes(`${name}:start`), `${name} started`);
      assert.ok(events.includes(`${name}:asyncEnd`), `${name} ended`);
    }
    // The flush close makes is its own, not a call of the user's: an APM showed a flush nobody made.
    assert.equal(events.filter((e) => e === 'flush:start').length, 1, 'one flush traced, the one the test made');
    const sendEnd = seen.find((s) => s.event === 'send:asyncEnd')!.context;
    assert.deepEqual((sendEnd.record as { value: string }).value, 'a');
    assert.deepEqual(sendEnd.result, one);
    const batchEnd = seen.find((s) => s.event === 'sendBatch:asyncEnd')!.context;
    assert.equal((batchEnd.records as unknown[]).length, 2);
    assert.equal(batchEnd.result, results);
    const badInput = seen.filter((s) => s.event === 'send:error');
    assert.equal(badInput.length, 1, 'a rejected send is traced as an error');
    assert.match(String((badInput[0]!.context.error as Error).message), /topic/);

    assert.deepEqual(
      batches.map((b) => [b.topic, b.partition, b.records, b.error]).sort(),
      [['t', 0, 1, undefined], ['t', 1, 2, undefined]],
    );
    assert.ok(batches.every((b) => b.baseOffset >= 0));
  } finally {
    channels.send.unsubscribe(subscribers.send);
    channels.sendBatch.unsubscribe(subscribers.sendBatch);
    channels.flush.unsubscribe(subscribers.flush);
    channels.close.unsubscribe(subscribers.close);
    channels.batch.unsubscribe(onBatch);
    await producer.close();
    await broker.close();
  }
});

test('ringkafka:worker: retries (with the broker\'s error code), epoch bumps and throttling, named by worker', { timeout: 60_000 }, async () => {
  const broker = await FakeBroker.start(1, () => false, { produceVersion: 7 });
  const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 0, retryBackoffMs: 1, retryBackoffMaxMs: 5 });
  const events: Record<string, unknown>[] = [];
  const onWorker = (message: unknown): void => void events.push(message as Record<string, unknown>);
  channels.worker.subscribe(onWorker);
  try {
    const sent = producer.send({ topic: 't', partition: 0, value: 'a' });
    broker.reply(await broker.nextProduce(0), { partitions: () => ({ errorCode: 6 }) }); // NOT_LEADER_OR_FOLLOWER
    broker.reply(await broker.nextProduce(1), { partitions: () => ({ errorCode: 45 }) }); // OUT_OF_ORDER: lost state
    broker.reply(await broker.nextProduce(2), { partitions: () => ({ baseOffset: 7n }), throttleTimeMs: 20 });
    assert.equal((await sent).offset, 7);
    await until(() => events.length >= 4, 'four events arrive');
    assert.deepEqual(events, [
      { worker: 0, event: 'retry', topic: 't', partition: 0, errorCode: 6, attempt: 1 },
      { worker: 0, event: 'retry', topic: 't', partition: 0, errorCode: 45, attempt: 2 },
      { worker: 0, event: 'epoch-bump', topic: 't', partition: 0, epoch: 1 },
      { worker: 0, event: 'throttle', broker: events[3]!.broker, throttleTimeMs: 20 },
    ]);
    assert.equal(typeof events[3]!.broker, 'number');
  } finally {
    channels.worker.unsubscribe(onWorker);
    await producer.close();
    await broker.close();
  }
});

test('ringkafka:worker: a failed attempt to connect to a leader, named by broker, with its error; counted in metrics().connectErrors, not in retries', { timeout: 60_000 }, async () => {
  // Metadata names broker 2, where nothing listens, as the leader: each attempt is refused. Nothing is sent, so
  // it is no retry, and without this event an operator saw nothing until the records' delivery timeout.
  const broker = await FakeBroker.start(1, () => false);
  const port = await deadPort();
  broker.listedBrokers = [{ nodeId: 1, host: '127.0.0.1', port: Number(broker.address.split(':')[1]) }, { nodeId: 2, host: '127.0.0.1', port }];
  broker.leaderOf = () => 2;
  const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 0, retryBackoffMs: 20, retryBackoffMaxMs: 50 });
  const events: Record<string, unknown>[] = [];
  const onWorker = (message: unknown): void => void events.push(message as Record<string, unknown>);
  channels.worker.subscribe(onWorker);
  try {
    const sent = producer.send({ topic: 't', partition: 0, value: 'a' }).catch((error: unknown) => error);
    await until(() => events.length >= 2 && producer.metrics().connectErrors >= 2, 'two failed attempts');
    for (const event of events.slice(0, 2)) {
      assert.deepEqual(Object.keys(event).sort(), ['broker', 'event', 'message', 'worker']);
      assert.equal(event.worker, 0);
      assert.equal(event.event, 'connect-error');
      assert.equal(event.broker, 2);
      assert.match(String(event.message), new RegExp(`${port}`), 'the message names the address');
    }
    assert.equal(producer.metrics().retries, 0, 'nothing was sent');
    assert.equal(broker.produces.length, 0);
    await producer.close({ timeoutMs: 0 });
    await sent;
  } finally {
    channels.worker.unsubscribe(onWorker);
    await producer.close();
    await broker.close();
  }
});

test('a close refused for its options is traced as an error, as a refused send is', { timeout: 60_000 }, async () => {
  const producer = new Producer({ brokers: ['127.0.0.1:1'], workers: 1 });
  const seen: Seen[] = [];
  const subscribers = record('close', seen);
  channels.close.subscribe(subscribers);
  try {
    await assert.rejects(producer.close({ timeoutMs: -1 }));
    assert.deepEqual(seen.map((s) => s.event), ['close:start', 'close:end', 'close:error', 'close:asyncStart', 'close:asyncEnd']);
    assert.match(String((seen.find((s) => s.event === 'close:error')!.context.error as Error).message), /close options.timeoutMs/);
  } finally {
    channels.close.unsubscribe(subscribers);
    await producer.close({ timeoutMs: 0 });
  }
});

test('an observer that hands on other records than the caller\'s: a sendBatchThrough call still settles, for what was sent', { timeout: 60_000 }, async () => {
  const broker = await FakeBroker.start(2, () => false, { autoAck: true });
  const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 0 });
  // Outside the channel's contract (a copy of the same records), but a call must not hang on it: the KafkaJS layer's
  // settler counted down from the caller's two records, and only one was ever submitted.
  const dropFirst = { ...record('sendBatch', []), start: (context: { records: readonly unknown[] }) => void (context.records = context.records.slice(1)) };
  channels.sendBatch.subscribe(dropFirst);
  try {
    let counted = -1;
    let settled = false;
    const call = sendBatchThrough(producer, [{ topic: 't', partition: 0, value: 'a' }, { topic: 't', partition: 1, value: 'b' }], (count) => {
      counted = count;
      return new FailureSettler(count);
    });
    void call.then(() => (settled = true));
    await producer.flush();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(counted, 1, 'the settler is made for the records submitted');
    assert.equal(settled, true, 'every record sent has its result, so the call has settled');
    assert.deepEqual(await call, { records: 1, failures: [] });
  } finally {
    channels.sendBatch.unsubscribe(dropFirst);
    await producer.close();
    await broker.close();
  }
});

test('nobody subscribed: nothing is published and calls go straight through', async () => {
  assert.equal(channels.send.hasSubscribers, false);
  assert.equal(channels.batch.hasSubscribers, false);
  assert.equal(channels.worker.hasSubscribers, false);
});
