/**
 * KafkaJS's error classes as code migrated from KafkaJS uses them: built from an error-like object as KafkaJS
 * builds protocol errors, and every class KafkaJS exports present, so an `instanceof` against one never throws a
 * TypeError, with KafkaJS's parent class, `name` and `retriable`. No broker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as facade from '../../src/kafkajs/index.js';
import { KafkaJSConnectionError, KafkaJSError, KafkaJSNonRetriableError, KafkaJSProtocolError } from '../../src/kafkajs/index.js';

test('KafkaJSProtocolError takes type, code and retriable from an error-like object or an Error, as KafkaJS\'s does', () => {
  // The shape KafkaJS builds from a broker's error code and passes whole.
  const fromCode = { message: 'This server is not the leader', type: 'NOT_LEADER_FOR_PARTITION', code: 6, retriable: true };
  const built = new KafkaJSProtocolError(fromCode); // threw a TypeError: no options object to read type from
  assert.deepEqual([built.message, built.type, built.code, built.retriable], [fromCode.message, 'NOT_LEADER_FOR_PARTITION', 6, true]);

  // KafkaJS's options object: retriable overridden, type and code still from the object (they came out undefined).
  const overridden = new KafkaJSProtocolError(fromCode, { retriable: false });
  assert.deepEqual([overridden.type, overridden.code, overridden.retriable], ['NOT_LEADER_FOR_PARTITION', 6, false]);

  // An Error carrying the fields, and one whose object says not retriable.
  const carrying = Object.assign(new Error('fenced'), { type: 'PRODUCER_FENCED', code: 90, retriable: false });
  const fenced = new KafkaJSProtocolError(carrying);
  assert.deepEqual([fenced.message, fenced.type, fenced.code, fenced.retriable, fenced.name], ['fenced', 'PRODUCER_FENCED', 90, false, 'KafkaJSProtocolError']);

  // A bare message: retriable by default, no type or code; the facade's own options form still wins over the object.
  const bare = new KafkaJSProtocolError('only a message');
  assert.deepEqual([bare.message, bare.type, bare.code, bare.retriable], ['only a message', undefined, undefined, true]);
  const explicit = new KafkaJSProtocolError(fromCode, { type: 'OTHER', code: 1 });
  assert.deepEqual([explicit.type, explicit.code, explicit.retriable], ['OTHER', 1, true]);
});

test('the other constructors take an error-like object too: its message, and helpUrl as KafkaJS keeps it', () => {
  const like = { message: 'from an object', helpUrl: 'https://example.invalid/help' };
  for (const error of [new KafkaJSError(like), new KafkaJSNonRetriableError(like), new KafkaJSConnectionError(like, { broker: 'b:9092', code: 'ECONNREFUSED' })]) {
    assert.equal(error.message, 'from an object');
    assert.equal(error.helpUrl, 'https://example.invalid/help');
  }
  // KafkaJSError's retriable comes from its options only, as in KafkaJS.
  assert.equal(new KafkaJSError({ message: 'm', retriable: false }).retriable, true);
  assert.equal(new KafkaJSConnectionError('c', { code: 'ECONNREFUSED' }).code, 'ECONNREFUSED');
});

/** Every error class KafkaJS exports: its parent, its `name` and its `retriable` default. */
const KAFKAJS_ERRORS: ReadonlyArray<[name: string, parent: string, errorName: string, retriable: boolean | undefined]> = [
  ['KafkaJSError', 'Error', 'KafkaJSError', true],
  ['KafkaJSNonRetriableError', 'KafkaJSError', 'KafkaJSNonRetriableError', false],
  ['KafkaJSPartialMessageError', 'KafkaJSNonRetriableError', 'KafkaJSPartialMessageError', false],
  ['KafkaJSBrokerNotFound', 'KafkaJSError', 'KafkaJSBrokerNotFound', true],
  ['KafkaJSProtocolError', 'KafkaJSError', 'KafkaJSProtocolError', true],
  ['KafkaJSConnectionError', 'KafkaJSError', 'KafkaJSConnectionError', true],
  ['KafkaJSConnectionClosedError', 'KafkaJSConnectionError', 'KafkaJSConnectionClosedError', true],
  ['KafkaJSRequestTimeoutError', 'KafkaJSError', 'KafkaJSRequestTimeoutError', true],
  ['KafkaJSSASLAuthenticationError', 'KafkaJSNonRetriableError', 'KafkaJSSASLAuthenticationError', false],
  ['KafkaJSNumberOfRetriesExceeded', 'KafkaJSNonRetriableError', 'KafkaJSNumberOfRetriesExceeded', false],
  ['KafkaJSOffsetOutOfRange', 'KafkaJSProtocolError', 'KafkaJSOffsetOutOfRange', true],
  ['KafkaJSMemberIdRequired', 'KafkaJSProtocolError', 'KafkaJSMemberIdRequired', true],
  ['KafkaJSGroupCoordinatorNotFound', 'KafkaJSNonRetriableError', 'KafkaJSGroupCoordinatorNotFound', false],
  ['KafkaJSNotImplemented', 'KafkaJSNonRetriableError', 'KafkaJSNotImplemented', false],
  ['KafkaJSMetadataNotLoaded', 'KafkaJSError', 'KafkaJSMetadataNotLoaded', true],
  ['KafkaJSTopicMetadataNotLoaded', 'KafkaJSMetadataNotLoaded', 'KafkaJSTopicMetadataNotLoaded', true],
  ['KafkaJSStaleTopicMetadataAssignment', 'KafkaJSError', 'KafkaJSStaleTopicMetadataAssignment', true],
  ['KafkaJSDeleteGroupsError', 'KafkaJSError', 'KafkaJSDeleteGroupsError', true],
  ['KafkaJSTimeout', 'KafkaJSNonRetriableError', 'KafkaJSTimeout', false],
  ['KafkaJSLockTimeout', 'KafkaJSTimeout', 'KafkaJSLockTimeout', false],
  ['KafkaJSServerDoesNotSupportApiKey', 'KafkaJSNonRetriableError', 'KafkaJSServerDoesNotSupportApiKey', false],
  ['KafkaJSUnsupportedMagicByteInMessageSet', 'KafkaJSNonRetriableError', 'KafkaJSUnsupportedMagicByteInMessageSet', false],
  ['KafkaJSInvariantViolation', 'KafkaJSNonRetriableError', 'KafkaJSInvariantViolation', false],
  // KafkaJS names these two after their parent, not themselves.
  ['KafkaJSInvalidVarIntError', 'KafkaJSNonRetriableError', 'KafkaJSNonRetriableError', false],
  ['KafkaJSInvalidLongError', 'KafkaJSNonRetriableError', 'KafkaJSNonRetriableError', false],
  ['KafkaJSCreateTopicError', 'KafkaJSProtocolError', 'KafkaJSCreateTopicError', true],
  ['KafkaJSAlterPartitionReassignmentsError', 'KafkaJSProtocolError', 'KafkaJSAlterPartitionReassignmentsError', true],
  ['KafkaJSNoBrokerAvailableError', 'KafkaJSError', 'KafkaJSNoBrokerAvailableError', true],
  // Not KafkaJSErrors in KafkaJS either; the rebalance signal keeps Error's name.
  ['KafkaJSAggregateError', 'Error', 'KafkaJSAggregateError', undefined],
  ['KafkaJSFetcherRebalanceError', 'Error', 'Error', undefined],
];

type ErrorClass = new (...args: unknown[]) => Error & { retriable?: boolean };

test('every error class KafkaJS exports is exported, with KafkaJS\'s parent class, name and retriable flag', () => {
  const exported = facade as unknown as Record<string, ErrorClass | undefined>;
  const missing = KAFKAJS_ERRORS.map(([name]) => name).filter((name) => typeof exported[name] !== 'function');
  // `err instanceof KafkaJSConnectionClosedError` with the class undefined is a TypeError inside a catch block.
  assert.deepEqual(missing, [], 'classes KafkaJS exports that the facade lacks');
  const argsFor = (name: string): unknown[] =>
    name === 'KafkaJSDeleteTopicRecordsError' ? [{ topic: 't', partitions: [] }] : name === 'KafkaJSAggregateError' ? ['m', []] : ['m'];
  for (const [name, parent, errorName, retriable] of KAFKAJS_ERRORS) {
    const Class = exported[name]!;
    const Parent = parent === 'Error' ? Error : exported[parent]!;
    assert.equal(Object.getPrototypeOf(Class), Parent, `${name} extends ${parent}`);
    const error = new Class(...argsFor(name));
    assert.ok(error instanceof Parent, name);
    assert.equal(error.name, errorName, name);
    assert.equal(error.retriable, retriable, `${name}.retriable`);
  }
  // KafkaJSDeleteTopicRecordsError takes its partitions, retriable when each one that failed was.
  const DeleteRecords = exported.KafkaJSDeleteTopicRecordsError!;
  const retriableFailure = { partition: 0, offset: '1', error: new KafkaJSError('r') };
  const fatalFailure = { partition: 1, offset: '1', error: new KafkaJSNonRetriableError('f') };
  assert.equal(new DeleteRecords({ topic: 't', partitions: [retriableFailure] }).retriable, true);
  assert.equal(new DeleteRecords({ topic: 't', partitions: [retriableFailure, fatalFailure] }).retriable, false);
});

test('the classes the facade never throws keep KafkaJS\'s extra fields', () => {
  const closed = new facade.KafkaJSConnectionClosedError('closed', { host: 'b1', port: 9092 });
  assert.deepEqual([closed.broker, closed.host, closed.port], ['b1:9092', 'b1', 9092]);
  const range = new facade.KafkaJSOffsetOutOfRange({ message: 'out', type: 'OFFSET_OUT_OF_RANGE', code: 1 }, { topic: 't', partition: 2 });
  assert.deepEqual([range.type, range.code, range.topic, range.partition], ['OFFSET_OUT_OF_RANGE', 1, 't', 2]);
  assert.equal(new facade.KafkaJSMemberIdRequired('m', { memberId: 'id-1' }).memberId, 'id-1');
  assert.equal(new facade.KafkaJSTopicMetadataNotLoaded('m', { topic: 't' }).topic, 't');
  assert.deepEqual(new facade.KafkaJSServerDoesNotSupportApiKey('m', { apiKey: 22, apiName: 'InitProducerId' }).apiName, 'InitProducerId');
  assert.deepEqual([new facade.KafkaJSCreateTopicError('m', 't').topic], ['t']);
  const reassign = new facade.KafkaJSAlterPartitionReassignmentsError('m', 't', 3);
  assert.deepEqual([reassign.topic, reassign.partition], ['t', 3]);
  assert.deepEqual(new facade.KafkaJSDeleteGroupsError('m').groups, []);
  assert.match(new facade.KafkaJSInvariantViolation('state broke').message, /state broke/);
});
