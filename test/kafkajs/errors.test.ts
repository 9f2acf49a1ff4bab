/**
 * ringkafka's errors become KafkaJS's classes with KafkaJS's names and retriable flags, the original kept as
 * `cause`; per-call settings that differ from the producer's are refused by name; events and the logger.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BrokerError, ConfigError, ConnectionError, RequestTimeoutError, ProtocolError,
} from '../../src/shared/errors.js';
import {
  AuthenticationError, BufferTimeoutError, DeliveryTimeoutError, ProducerClosedError, RecordTooLargeError, UnknownTopicError,
  WorkerCrashedError,
} from '../../src/shared/producer-errors.js';
import { ProducerFencedError, TransactionAbortableError } from '../../src/shared/transaction-errors.js';
import { toKafkaJSError } from '../../src/kafkajs/error-mapping.js';
import {
  CompressionTypes, Kafka, KafkaJSAggregateError, KafkaJSConnectionError, KafkaJSError, KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, KafkaJSRequestTimeoutError, KafkaJSSASLAuthenticationError, KafkaJSTimeout,
  logLevel, type LogEntry,
} from '../../src/kafkajs/index.js';
import { checkCallSettings, toRecordMetadata, toRecords } from '../../src/kafkajs/records.js';
import { mapProducerConfig } from '../../src/kafkajs/options.js';

/** The producer's default limits, against which a call's messages are sized. */
const LIMITS = { maxBufferedBytes: 64 * 1024 * 1024, maxRequestBytes: 1024 * 1024 };

const cases: Array<[Error, string, boolean]> = [
  [new ConnectionError('closed'), 'KafkaJSConnectionError', true],
  [new RequestTimeoutError('no answer'), 'KafkaJSRequestTimeoutError', true],
  [new DeliveryTimeoutError('unknown', 'late'), 'KafkaJSNumberOfRetriesExceeded', false],
  [new BufferTimeoutError('full'), 'KafkaJSTimeout', false],
  [new AuthenticationError('refused'), 'KafkaJSSASLAuthenticationError', false],
  [new ConfigError('bad'), 'KafkaJSNonRetriableError', false],
  [new ProducerClosedError('not-sent', 'closed'), 'KafkaJSNonRetriableError', false],
  [new ProtocolError('garbage'), 'KafkaJSNonRetriableError', false],
  [new WorkerCrashedError('not-sent', 'crashed'), 'KafkaJSError', true],
  [new Error('anything else'), 'KafkaJSNonRetriableError', false],
];

test('a transaction error with a Kafka code becomes that protocol error (PRODUCER_FENCED, TRANSACTION_ABORTABLE)', () => {
  const fenced = toKafkaJSError(new ProducerFencedError(90, 'EndTxn(commit): PRODUCER_FENCED'));
  assert.ok(fenced instanceof KafkaJSProtocolError);
  assert.equal(fenced.type, 'PRODUCER_FENCED');
  assert.equal(fenced.code, 90);
  assert.equal(fenced.retriable, false);
  const abortable = toKafkaJSError(new TransactionAbortableError(120, 'TRANSACTION_ABORTABLE'));
  assert.ok(abortable instanceof KafkaJSProtocolError);
  assert.equal(abortable.type, 'TRANSACTION_ABORTABLE');
  assert.equal(toKafkaJSError(new TransactionAbortableError(-1, 'a record failed')).name, 'KafkaJSNonRetriableError');
});

test('each ringkafka error maps to the KafkaJS class for the same situation, keeping it as cause', () => {
  for (const [error, name, retriable] of cases) {
    const mapped = toKafkaJSError(error);
    assert.equal(mapped.name, name, error.name);
    assert.ok(mapped instanceof KafkaJSError);
    assert.equal(mapped.retriable, retriable, error.name);
    assert.equal(mapped.cause, error);
    assert.equal(mapped.message, error.message);
  }
});

test('Kafka error codes become KafkaJSProtocolError with type and code', () => {
  const broker = toKafkaJSError(new BrokerError(6, 'NOT_LEADER_OR_FOLLOWER', true)) as KafkaJSProtocolError;
  assert.equal(broker.name, 'KafkaJSProtocolError');
  assert.deepEqual([broker.type, broker.code, broker.retriable], ['NOT_LEADER_OR_FOLLOWER', 6, true]);
  const topic = toKafkaJSError(new UnknownTopicError('t', 'no such topic')) as KafkaJSProtocolError;
  assert.deepEqual([topic.name, topic.type, topic.code, topic.retriable], ['KafkaJSProtocolError', 'UNKNOWN_TOPIC_OR_PARTITION', 3, true]);
  // A topic not allowed, or a name Kafka refuses: their own type, not retriable, as in KafkaJS.
  for (const [code, type] of [[29, 'TOPIC_AUTHORIZATION_FAILED'], [17, 'INVALID_TOPIC_EXCEPTION']] as const) {
    const refused = toKafkaJSError(new UnknownTopicError('t', 'not available', {}, code)) as KafkaJSProtocolError;
    assert.deepEqual([refused.type, refused.code, refused.retriable], [type, code, false]);
  }
  const large = toKafkaJSError(new RecordTooLargeError('too big')) as KafkaJSProtocolError;
  assert.deepEqual([large.type, large.code, large.retriable], ['MESSAGE_TOO_LARGE', 10, false]);
  const kafkajs = new KafkaJSNonRetriableError('already');
  assert.equal(toKafkaJSError(kafkajs), kafkajs);
  assert.equal(new KafkaJSAggregateError('two', ['a', 'b']).name, 'KafkaJSAggregateError');
});

test('per-call acks, compression and timeout must match the producer; left out, they mean the producer\'s', () => {
  const { resolved } = mapProducerConfig({ brokers: ['127.0.0.1:9092'] }, { ringkafka: { compression: 'gzip' } });
  checkCallSettings({}, resolved);
  checkCallSettings({ acks: -1, compression: CompressionTypes.GZIP, timeout: 30_000 }, resolved);
  const refuses = (batch: Parameters<typeof checkCallSettings>[0], field: RegExp): void =>
    assert.throws(() => checkCallSettings(batch, resolved), (e: Error) => e instanceof KafkaJSNonRetriableError && field.test(e.message));
  refuses({ acks: 1 }, /^ringkafka\/kafkajs: acks: 1 differs from this producer's acks \(-1\)/);
  // A string is quoted: acks '-1' said as "acks: -1 differs from this producer's acks (-1)" contradicted itself.
  refuses({ acks: '-1' as unknown as number }, /^ringkafka\/kafkajs: acks: "-1" differs from this producer's acks \(-1\)/);
  refuses({ compression: CompressionTypes.LZ4 }, /compression: 3 \(lz4\) differs .* \(gzip\)/);
  refuses({ compression: 9 as CompressionTypes }, /compression: 9 is not one of the CompressionTypes/);
  refuses({ timeout: 1000 }, /timeout: 1000 differs/);
});

test('messages become records; each partition written becomes one RecordMetadata with the call\'s first offset', () => {
  assert.deepEqual(toRecords([{ topic: 't', messages: [{ key: 'k', value: 'v', partition: 1, timestamp: '1700000000000', headers: { a: 'x', b: ['y', Buffer.from('z')], c: undefined } }] }], null, LIMITS), [
    { topic: 't', key: 'k', value: 'v', partition: 1, timestamp: 1_700_000_000_000, headers: [['a', 'x'], ['b', 'y'], ['b', Buffer.from('z')]] },
  ]);
  // Partition 0 is a partition (a message with only a key and a value takes the short way, this one must not).
  assert.deepEqual(toRecords([{ topic: 't', messages: [{ value: 'v' }, { key: 'k', value: 'w', partition: 0 }, { value: 'x', partition: null, headers: null, timestamp: null } as never] }], null, LIMITS), [
    { topic: 't', key: undefined, value: 'v' },
    { topic: 't', key: 'k', value: 'w', partition: 0 },
    { topic: 't', key: undefined, value: 'x' },
  ]);
  assert.throws(() => toRecords([{ topic: '', messages: [] }], null, LIMITS), /Invalid topic/);
  assert.throws(() => toRecords([{ topic: 't', messages: [{ key: 'k' } as never] }], null, LIMITS), /without value for topic "t"/);
  const metadata = toRecordMetadata([
    { topic: 't', partition: 1, offset: 5, logAppendTime: -1, logStartOffset: -1 },
    { topic: 't', partition: 0, offset: 3, logAppendTime: -1, logStartOffset: 2 },
    { topic: 'u', partition: 1, offset: 9, logAppendTime: 1_700_000_000_123, logStartOffset: 0 },
  ]);
  assert.deepEqual(metadata, [
    { topicName: 't', partition: 1, errorCode: 0, baseOffset: '5', logAppendTime: '-1', logStartOffset: '-1' },
    { topicName: 't', partition: 0, errorCode: 0, baseOffset: '3', logAppendTime: '-1', logStartOffset: '2' },
    { topicName: 'u', partition: 1, errorCode: 0, baseOffset: '9', logAppendTime: '1700000000123', logStartOffset: '0' },
  ]);
});

test('events: the network events are refused by name, unknown names too; on() returns a remover', () => {
  const producer = new Kafka({ brokers: ['127.0.0.1:9092'] }).producer();
  assert.throws(() => producer.on(producer.events.REQUEST, () => {}), /does not emit producer.network.request/);
  assert.throws(() => producer.on('producer.nonsense', () => {}), /Event name should be one of/);
  assert.equal(typeof producer.on(producer.events.CONNECT, () => {}), 'function');
});

test('sends before connect() fail as KafkaJS\'s do, with a retriable KafkaJSError', async () => {
  const producer = new Kafka({ brokers: ['127.0.0.1:9092'] }).producer();
  await assert.rejects(producer.send({ topic: 't', messages: [{ value: 'v' }] }), (e: Error) => e.name === 'KafkaJSError' && (e as KafkaJSError).retriable);
});

test('the logger goes through logCreator at the client\'s level; namespaces and setLogLevel', () => {
  const entries: LogEntry[] = [];
  const kafka = new Kafka({ brokers: ['127.0.0.1:9092'], logLevel: logLevel.WARN, logCreator: () => (entry) => entries.push(entry) });
  const logger = kafka.producer().logger();
  logger.info('hidden');
  logger.warn('shown', { extra: 1 });
  kafka.logger().setLogLevel(logLevel.DEBUG);
  logger.debug('now shown');
  assert.deepEqual(entries.map((e) => [e.namespace, e.label, e.log.message]), [['Producer', 'WARN', 'shown'], ['Producer', 'DEBUG', 'now shown']]);
  assert.equal(entries[0]!.log.extra, 1);
});

test('each error class names itself: a bundle that renames the classes (minified) keeps `name`, an own property', () => {
  const classes = [
    KafkaJSError, KafkaJSNonRetriableError, KafkaJSConnectionError, KafkaJSRequestTimeoutError, KafkaJSNumberOfRetriesExceeded,
    KafkaJSTimeout, KafkaJSSASLAuthenticationError,
  ] as const;
  const names = classes.map((c) => c.name);
  try {
    for (const c of classes) Object.defineProperty(c, 'name', { value: 'n' }); // what a minifier does to a class
    classes.forEach((c, i) => {
      const error = new c('x');
      assert.equal(error.name, names[i]);
      assert.ok(Object.hasOwn(error, 'name'), names[i]);
    });
    Object.defineProperty(KafkaJSProtocolError, 'name', { value: 'n' });
    assert.equal(new KafkaJSProtocolError('x', { type: 'T', code: 1 }).name, 'KafkaJSProtocolError');
  } finally {
    classes.forEach((c, i) => Object.defineProperty(c, 'name', { value: names[i] }));
    Object.defineProperty(KafkaJSProtocolError, 'name', { value: 'KafkaJSProtocolError' });
  }
});

test('every message of a call is checked before any is sent: a bad one refuses the call, naming its index and field', () => {
  const bad = (messages: unknown[], topic = 't') => () => toRecords([{ topic, messages: messages as never }], null, LIMITS);
  // In this layer's terms: its serializer option is `ringkafka.serializer`, and a Uint8Array is refused.
  assert.throws(bad([{ value: 'a' }, { value: 42 }]), (error: unknown) => error instanceof KafkaJSNonRetriableError
    && error.message === 'Invalid message 1 for topic "t": value must be a Buffer, a string or null, got 42 (KafkaJS writes its text, String(value); set ringkafka.serializer to send other values)');
  assert.throws(bad([{ value: 'a' }], 'bad topic!'), /Invalid message 0 for topic "bad topic!": .*topic/);
  assert.throws(bad([{ value: 'a', headers: { h: 7 } }]), /Invalid message 0 for topic "t": .*header/);
  assert.throws(bad([null]), /Invalid message 0 for topic "t": null/);
  assert.throws(bad([{ value: 'a', timestamp: 'yesterday' }]), /Invalid message 0 for topic "t": record\.timestamp .*got "yesterday"$/);
  // Bytes that are not a Buffer: KafkaJS writes (and hashes a key as) their text, "1,2,3"; sent as bytes they went
  // elsewhere, under another key. Refused, as a number is.
  const bytes = new Uint8Array([1, 2, 3]);
  assert.throws(bad([{ value: 'a' }, { key: bytes, value: 'b' }]), /Invalid message 1 for topic "t": key must be a Buffer, a string or null, got a Uint8Array/);
  assert.throws(bad([{ value: bytes }]), /Invalid message 0 for topic "t": value must be a Buffer/);
  assert.throws(bad([{ value: 'a', headers: { h: ['x', bytes] } }]), /Invalid message 0 for topic "t": header "h" must be a Buffer/);
  assert.equal(toRecords([{ topic: 't', messages: [{ key: Buffer.from(bytes), value: Buffer.from(bytes), headers: { h: Buffer.from(bytes) } }] }], null, LIMITS).length, 1);
  // Too large for a request: KafkaJS's broker refuses its whole batch, so the call is refused whole, MESSAGE_TOO_LARGE.
  assert.throws(bad([{ value: 'a' }, { value: Buffer.alloc(1_100_000) }, { value: 'b' }]), (error: unknown) =>
    error instanceof KafkaJSProtocolError && error.type === 'MESSAGE_TOO_LARGE' && error.retriable === false
    && /message 1 for topic "t": record of 1100000 bytes/.test(error.message));
  assert.throws(() => toRecords(null as never, null, LIMITS), /Invalid topicMessages/);
  assert.deepEqual(toRecords(undefined, null, LIMITS), [], 'left out, none (KafkaJS defaults it to [])');
  assert.throws(() => toRecords([null as never], null, LIMITS), /Invalid topicMessages entry: null/);
  // A falsy timestamp is "now" (KafkaJS's `timestamp || Date.now()`), not the epoch.
  assert.deepEqual(toRecords([{ topic: 't', messages: [{ value: 'a', timestamp: '' }, { value: 'b', timestamp: 0 as never }] }], null, LIMITS), [
    { topic: 't', key: undefined, value: 'a' },
    { topic: 't', key: undefined, value: 'b' },
  ]);
});
