/**
 * A logCreator whose log function throws (a log sink that is down) must not break the producer: not connect()
 * when a listener's error is reported through it, not the process when a worker crash is reported on
 * process.nextTick. Its first failure is told once on console.error; later ones are dropped. A logCreator or
 * logLevel that cannot work is refused by `new Kafka()`. Uses the in-process fake broker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Producer as RingProducer } from '../../src/main/producer.js';
import { Instrumentation, PRODUCER_EVENTS } from '../../src/kafkajs/events.js';
import { Kafka, KafkaJSNonRetriableError, logLevel, type LogEntry } from '../../src/kafkajs/index.js';
import { FakeBroker } from '../helpers/fake-broker.js';

/** A logCreator whose function throws for every entry, counting the tries. */
function brokenSink(): { creator: () => (entry: LogEntry) => void; tries: string[] } {
  const tries: string[] = [];
  return {
    tries,
    creator: () => (entry) => {
      tries.push(entry.log.message);
      throw new Error('log sink down');
    },
  };
}

test('a log function that throws or rejects never throws out of the logger; the first failure goes once to console.error', async (t) => {
  const consoleError = t.mock.method(console, 'error', () => {});
  const sink = brokenSink();
  const logger = new Kafka({ brokers: ['127.0.0.1:9092'], logLevel: logLevel.DEBUG, logCreator: sink.creator }).logger();
  logger.error('first'); // threw the sink's error at the caller
  logger.warn('second');
  assert.deepEqual(sink.tries, ['first', 'second'], 'every entry is still offered to the sink');
  assert.equal(consoleError.mock.callCount(), 1, 'told once, not once per entry');
  assert.match(String(consoleError.mock.calls[0]!.arguments[0]), /log function failed \(log sink down\); lost ERROR entry "first"/);

  // An async log function that rejects: caught, not an unhandled rejection (which ends the process).
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  t.after(() => process.off('unhandledRejection', onUnhandled));
  const asyncLogger = new Kafka({
    brokers: ['127.0.0.1:9092'],
    logCreator: () => async () => {
      throw new Error('async sink down');
    },
  }).logger();
  asyncLogger.error('lost');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(unhandled, []);
  assert.equal(consoleError.mock.callCount(), 2, 'its own client tells its own first failure');
});

test('a listener error whose report throws is still kept from emit(): no throw, no unhandled rejection', async (t) => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  t.after(() => process.off('unhandledRejection', onUnhandled));
  const instrumentation = new Instrumentation(() => {
    throw new Error('reporter down');
  });
  const heard: string[] = [];
  instrumentation.on(PRODUCER_EVENTS.CONNECT, () => {
    throw new Error('sync listener bug');
  });
  instrumentation.on(PRODUCER_EVENTS.CONNECT, async () => {
    throw new Error('async listener bug');
  });
  instrumentation.on(PRODUCER_EVENTS.CONNECT, (event) => void heard.push(event.type));
  assert.doesNotThrow(() => instrumentation.emit(PRODUCER_EVENTS.CONNECT)); // threw 'reporter down'
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(heard, [PRODUCER_EVENTS.CONNECT]);
  assert.deepEqual(unhandled, [], 'the async listener\'s failed report was an unhandled rejection');
});

test('with a throwing logCreator, a throwing connect listener leaves connect() resolved and the crash reports harmless', { timeout: 60_000 }, async (t) => {
  t.mock.method(console, 'error', () => {});
  // The ringkafka Producer the facade builds, to emit what it reports outside any call (on process.nextTick in it).
  const built: RingProducer[] = [];
  const on = RingProducer.prototype.on;
  t.mock.method(RingProducer.prototype, 'on', function (this: RingProducer, ...args: Parameters<RingProducer['on']>) {
    if (!built.includes(this)) built.push(this);
    return on.apply(this, args);
  });
  const broker = await FakeBroker.start(1, undefined, { autoAck: true });
  t.after(() => broker.close());
  const sink = brokenSink();
  const producer = new Kafka({ brokers: [broker.address], logLevel: logLevel.WARN, logCreator: sink.creator }).producer();
  producer.on(producer.events.CONNECT, () => {
    throw new Error('listener bug');
  });
  await producer.connect(); // rejected with 'log sink down' though connected
  t.after(() => producer.disconnect());
  assert.deepEqual(sink.tries, ['Failed to execute listener: listener bug'], 'the listener\'s error was offered to the sink');
  assert.equal((await producer.send({ topic: 't', messages: [{ value: 'x' }] })).length, 1);

  // Emitted on process.nextTick by ringkafka, a throw from these handlers was an uncaught exception.
  assert.equal(built.length, 1);
  const ring = built[0]!;
  assert.doesNotThrow(() => ring.emit('workerCrash', new Error('worker died'), 0));
  assert.doesNotThrow(() => ring.emit('lateOutcome', { topic: 't', partition: 0 }));
  assert.doesNotThrow(() => ring.emit('deliveryError', new Error('no caller')));
  assert.equal(sink.tries.length, 4, 'each report still reached the sink');
});

test('new Kafka() refuses a logCreator that is not a function and a logLevel that is not one of logLevel, naming the field', (t) => {
  const consoleLog = t.mock.method(console, 'log', () => {});
  const refused = (extra: object, field: RegExp): void => {
    assert.throws(
      () => new Kafka({ brokers: ['127.0.0.1:9092'], ...extra } as never),
      (error: unknown) => error instanceof KafkaJSNonRetriableError && field.test(error.message),
    );
  };
  refused({ logCreator: 'x' }, /logCreator must be a function, got string/); // a raw TypeError before
  // These turned every level on, debug included.
  refused({ logLevel: 'nothing' }, /logLevel must be one of logLevel's values \(0, 1, 2, 4, 5\), got 'nothing'/);
  refused({ logLevel: 99 }, /logLevel must be one of .*got 99/);
  refused({ logLevel: 3 }, /logLevel must be one of .*got 3/);
  refused({ logLevel: null }, /logLevel must be one of .*got null/);
  // Every value of logLevel is accepted, and undefined is KafkaJS's INFO.
  for (const level of Object.values(logLevel)) new Kafka({ brokers: ['127.0.0.1:9092'], logLevel: level }).logger().debug('d');
  new Kafka({ brokers: ['127.0.0.1:9092'], logLevel: undefined, logCreator: undefined } as never).logger().debug('not at INFO');
  assert.equal(consoleLog.mock.callCount(), 1, 'only the DEBUG logger wrote its debug line');
});

test('setLogLevel and namespace(name, level) refuse a level that is not one of logLevel, and leave the level as it was', () => {
  const lines: string[] = [];
  const logger = new Kafka({ brokers: ['127.0.0.1:9092'], logLevel: logLevel.ERROR, logCreator: () => (entry) => void lines.push(entry.log.message) }).logger();
  const refused = (fn: () => unknown, field: RegExp): void => {
    assert.throws(fn, (error: unknown) => error instanceof KafkaJSNonRetriableError && field.test(error.message));
  };
  // Each turned every level on: 'nothing' and 99 fail every comparison with an entry's level.
  refused(() => logger.setLogLevel('nothing' as never), /logger\.setLogLevel\(logLevel\) must be one of logLevel's values \(0, 1, 2, 4, 5\), got 'nothing'/);
  refused(() => logger.setLogLevel(99 as never), /setLogLevel.*got 99/);
  refused(() => logger.namespace('Producer', 'debug' as never), /logger\.namespace\(name, logLevel\) must be one of .*got 'debug'/);
  logger.debug('not at ERROR');
  logger.namespace('Producer').info('nor here');
  logger.namespace('Producer', logLevel.INFO).info('at INFO');
  logger.setLogLevel(logLevel.DEBUG);
  logger.debug('now at DEBUG');
  assert.deepEqual(lines, ['at INFO', 'now at DEBUG']);
});

test('a log entry is built as KafkaJS builds it: its logger field, and the caller\'s extra fields over the entry\'s own', () => {
  const entries: LogEntry[] = [];
  const logger = new Kafka({ brokers: ['127.0.0.1:9092'], logLevel: logLevel.INFO, logCreator: () => (entry) => void entries.push(entry) }).logger();
  logger.info('hello', { extra: 1, timestamp: 'the caller\'s' });
  assert.equal(entries.length, 1);
  const { log } = entries[0]!;
  assert.equal(log.logger, 'kafkajs', 'log shippers route on it');
  assert.equal(log.message, 'hello');
  assert.equal(log.extra, 1);
  assert.equal(log.timestamp, 'the caller\'s');
});
