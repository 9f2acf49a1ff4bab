/**
 * The facade's instrumentation events: a listener's failure is reported, never thrown at the producer or left
 * unhandled; `producer.connect` is emitted only once a broker has answered, and, as KafkaJS emits them, on every
 * connect() and disconnect() that resolves. No broker is needed but the in-process fake.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Instrumentation, PRODUCER_EVENTS } from '../../src/kafkajs/events.js';
import { Kafka, KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, logLevel } from '../../src/kafkajs/index.js';
import { FakeBroker } from '../helpers/fake-broker.js';

test('a listener that throws or rejects is reported; the others still run and emit does not throw', async () => {
  const reported: [string, unknown][] = [];
  const instrumentation = new Instrumentation((eventName, error) => reported.push([eventName, error]));
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const heard: string[] = [];
    instrumentation.on(PRODUCER_EVENTS.CONNECT, () => {
      throw new Error('sync listener bug');
    });
    instrumentation.on(PRODUCER_EVENTS.CONNECT, async () => {
      throw new Error('async listener bug');
    });
    const remove = instrumentation.on(PRODUCER_EVENTS.CONNECT, (event) => void heard.push(event.type));
    instrumentation.emit(PRODUCER_EVENTS.CONNECT); // used to throw the first listener's error at connect()
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(heard, [PRODUCER_EVENTS.CONNECT], 'the listener after the failing ones ran');
    assert.deepEqual(reported.map(([name, error]) => [name, (error as Error).message]), [
      [PRODUCER_EVENTS.CONNECT, 'sync listener bug'],
      [PRODUCER_EVENTS.CONNECT, 'async listener bug'],
    ]);
    assert.deepEqual(unhandled, [], 'a rejecting listener is not an unhandled rejection (it ended the process)');
    remove();
    instrumentation.emit(PRODUCER_EVENTS.CONNECT);
    assert.deepEqual(heard, [PRODUCER_EVENTS.CONNECT], 'the remover still removes a guarded listener');
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('connect() against a cluster that cannot be reached rejects with KafkaJSNumberOfRetriesExceeded (caused by a KafkaJSConnectionError), idempotent or not, and emits nothing', async () => {
  // It resolved for a producer that is not idempotent (KafkaJS's default): only the worker threads had started.
  const kafka = new Kafka({ clientId: 'unreachable', brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  const connected: unknown[] = [];
  producer.on(producer.events.CONNECT, (event) => void connected.push(event));
  // As KafkaJS's retrier ends: not retriable, the last connection error its cause.
  await assert.rejects(producer.connect(), (error: unknown) =>
    error instanceof KafkaJSNumberOfRetriesExceeded && !error.retriable && error.cause instanceof KafkaJSConnectionError
    && /127\.0\.0\.1:1/.test(error.message));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(connected, []);
  await assert.rejects(producer.send({ topic: 't', messages: [{ value: 'v' }] }), /connect/i, 'still not connected');
});

test('on() with a listener that is not a function is refused at once, naming the argument', () => {
  // It was accepted, and the first emit reported "listener is not a function" as a listener's failure.
  const instrumentation = new Instrumentation(() => {});
  for (const listener of [undefined, null, 'handler', {}]) {
    assert.throws(
      () => instrumentation.on(PRODUCER_EVENTS.CONNECT, listener as never),
      (error: unknown) => error instanceof KafkaJSNonRetriableError && /listener .*must be a function, got /.test(error.message),
    );
  }
  const producer = new Kafka({ brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING }).producer();
  assert.throws(() => producer.on(producer.events.DISCONNECT, undefined as never), /listener .*must be a function, got undefined/);
});

test('every connect() and disconnect() that resolves emits its event, as KafkaJS\'s do: already connected, never connected', async (t) => {
  const broker = await FakeBroker.start(1);
  t.after(() => broker.close());
  const producer = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING }).producer();
  const heard: string[] = [];
  producer.on(producer.events.CONNECT, (event) => void heard.push(event.type));
  producer.on(producer.events.DISCONNECT, (event) => void heard.push(event.type));
  await producer.disconnect(); // never connected
  await producer.connect();
  await producer.connect(); // already connected
  await producer.disconnect();
  await producer.disconnect(); // already disconnected
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(heard, [
    PRODUCER_EVENTS.DISCONNECT, PRODUCER_EVENTS.CONNECT, PRODUCER_EVENTS.CONNECT, PRODUCER_EVENTS.DISCONNECT, PRODUCER_EVENTS.DISCONNECT,
  ]);
});

test('a brokers function that throws fails connect() as KafkaJS\'s does: KafkaJSNumberOfRetriesExceeded over a KafkaJSConnectionError', async () => {
  const producer = new Kafka({ brokers: () => { throw new Error('service discovery is down'); }, logLevel: logLevel.NOTHING }).producer();
  const error = await producer.connect().then(() => assert.fail('connected'), (e: unknown) => e);
  assert.ok(error instanceof KafkaJSNumberOfRetriesExceeded, String(error));
  assert.equal(error.retriable, false);
  assert.ok(error.cause instanceof KafkaJSConnectionError, String(error.cause));
  assert.equal(error.cause.message, 'Failed to connect: "config.brokers" threw: service discovery is down');
  assert.equal(error.cause.retriable, true);
});
