/** The errors a caller receives: from a worker's failed completion, or from why it was released early. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { types } from 'node:util';
import { failureFor, notSent, releasedError } from '../../src/main/outcomes.js';
import { ClientErrorCode, CompletionKind, type Completion } from '../../src/shared/completion-entry.js';
import { BrokerError, ConfigError, ProtocolError } from '../../src/shared/errors.js';
import {
  AbortError, AuthenticationError, DeliveryTimeoutError, ProducerClosedError, RejectedWithBatchError, UnknownTopicError,
} from '../../src/shared/producer-errors.js';

const failed = (errorCode: number, message = ''): Completion => ({
  kind: CompletionKind.failed, topicIndex: 0, partition: 0, errorCode, baseOffset: -1, timestamp: -1, logStartOffset: -1, message, recordIds: new Uint32Array(0),
});

describe('outcomes', () => {
  it('releasedError: the reason picks the class, the delivery and cause are kept', () => {
    const cause = new Error('why');
    const cases = [['abort', AbortError], ['timeout', DeliveryTimeoutError], ['close', ProducerClosedError]] as const;
    for (const [reason, type] of cases) {
      for (const delivery of ['not-sent', 'unknown'] as const) {
        const error = releasedError(reason, delivery, cause);
        assert.ok(error instanceof type, `${reason} → ${type.name}`);
        assert.equal((error as AbortError).delivery, delivery);
        assert.equal(error.cause, cause);
        assert.match(error.message, delivery === 'not-sent' ? /was not sent/ : /may have written it/);
        // 'unknown' comes from the state byte (sealed into a batch), which does not say the batch reached a request:
        // a batch waiting for a leader that never came is released so too.
        if (delivery === 'unknown') assert.doesNotMatch(error.message, /was in a request/);
      }
    }
    assert.equal(releasedError('abort', 'not-sent').cause, undefined);
  });

  it('notSent: an error that does not say whether its record was written is told as its copy with delivery \'not-sent\'', () => {
    // A connection attempt's AuthenticationError or BrokerError, a refused record's InvalidRecordError: a record
    // failed with one had no `delivery`, so a service could not tell that sending it again was safe.
    const refused = new BrokerError(31, 'CLUSTER_AUTHORIZATION_FAILED', false);
    const told = notSent(refused) as BrokerError & { delivery?: string };
    assert.ok(told instanceof BrokerError);
    assert.deepEqual([told.delivery, told.message, told.code, told.errorCode, told.retriable], ['not-sent', refused.message, 'ERR_BROKER', 31, false]);
    assert.equal(told.stack, refused.stack);
    assert.ok(types.isNativeError(told), 'a real error: loggers and structuredClone treat it as one');
    assert.equal(structuredClone(told).message, refused.message);
    assert.equal((refused as { delivery?: string }).delivery, undefined, 'the original (connect()\'s own) is left as it is');
    assert.equal(notSent(refused), told, 'one copy per error: records that failed together share it');
    const said = new AuthenticationError('refused', {}, 'unknown');
    assert.equal(notSent(said), said, 'an error that says already is kept');
    const plain = new TypeError('not ours');
    assert.equal(notSent(plain), plain);
    assert.equal((notSent(new ConfigError('bad')) as ConfigError & { delivery?: string }).delivery, 'not-sent');
  });

  it('failureFor: the worker\'s own reasons map to their classes and deliveries', () => {
    const cases: [number, new (...args: never[]) => Error, string | undefined][] = [
      [ClientErrorCode.deliveryTimeout, DeliveryTimeoutError, 'not-sent'],
      [ClientErrorCode.expiredAfterLoss, DeliveryTimeoutError, 'unknown'],
      [ClientErrorCode.closed, ProducerClosedError, 'not-sent'],
      [ClientErrorCode.closedInFlight, ProducerClosedError, 'unknown'],
      [ClientErrorCode.protocol, ProtocolError, 'not-sent'], // undefined before: a resend could not tell it was safe
      [ClientErrorCode.unknownTopic, UnknownTopicError, 'not-sent'], // none before, where 'not-sent' was documented
      [ClientErrorCode.authentication, AuthenticationError, 'not-sent'],
      [ClientErrorCode.authenticationAfterLoss, AuthenticationError, 'unknown'],
      [ClientErrorCode.rejectedWithBatch, RejectedWithBatchError, 'not-sent'],
    ];
    for (const [code, type, delivery] of cases) {
      const error = failureFor(failed(code, 'detail'), 'orders');
      assert.ok(error instanceof type, `${code} → ${type.name}`);
      if (delivery !== undefined) assert.equal((error as ProducerClosedError).delivery, delivery);
    }
    assert.match(failureFor(failed(ClientErrorCode.closedInFlight), 'orders').message, /before the broker answered/, 'a default message');
    // A batch that could not be encoded after an earlier attempt went unanswered may be in the log all the same.
    assert.equal((failureFor({ ...failed(ClientErrorCode.protocol, 'encoding failed'), mayBeWritten: true }, 'orders') as ProtocolError).delivery, 'unknown');
    // So may a batch-mate of records a broker refused by name (KIP-467), and then it is no safe resend.
    const mate = failureFor({ ...failed(ClientErrorCode.rejectedWithBatch, 'refused'), mayBeWritten: true }, 'orders') as RejectedWithBatchError;
    assert.equal(mate.delivery, 'unknown');
    assert.equal(mate.retriable, false);
    assert.match(mate.message, /may have written it/);
  });

  it('failureFor: a topic the worker found unknown at the delivery deadline is named in the UnknownTopicError', () => {
    const error = failureFor(failed(ClientErrorCode.unknownTopic, 'topic orders: UNKNOWN_TOPIC_OR_PARTITION'), 'orders');
    assert.ok(error instanceof UnknownTopicError);
    assert.equal(error.topic, 'orders');
  });

  it('failureFor: a Kafka error code becomes a BrokerError carrying it, naming the topic and partition', () => {
    // A caller that sent to several partitions (a keyless sendBatch: the partitioner chose) could not tell which one
    // the broker refused: every other failure of a batch names it.
    const error = failureFor({ ...failed(6, 'not leader for partition'), partition: 3 }, 'orders');
    assert.ok(error instanceof BrokerError);
    assert.equal(error.errorCode, 6);
    assert.match(error.message, /: not leader for partition \(partition orders-3\)$/);
    const bare = failureFor(failed(29), 'secret');
    assert.match(bare.message, /TOPIC_AUTHORIZATION_FAILED: partition secret-0$/);
  });
});
