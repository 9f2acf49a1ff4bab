/**
 * The KafkaJS → ringkafka option mapping: each mapped setting lands on the right ringkafka option, and each setting
 * that cannot be honoured is refused with a KafkaJSNonRetriableError naming it (never dropped).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, KafkaJSNonRetriableError, Partitioners, type KafkaConfig, type ProducerConfig } from '../../src/kafkajs/index.js';
import { mapProducerConfig, OPAQUE_TOKEN_LIFETIME_MS } from '../../src/kafkajs/options.js';

const BROKERS = ['127.0.0.1:9092'];

function mapped(producer: ProducerConfig = {}, client: Partial<KafkaConfig> = {}) {
  return mapProducerConfig({ brokers: BROKERS, ...client }, producer);
}

function refused(fn: () => unknown, field: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof KafkaJSNonRetriableError, `got ${String(error)}`);
    assert.equal(error.name, 'KafkaJSNonRetriableError');
    assert.equal(error.retriable, false);
    assert.match(error.message, field);
    return true;
  });
}

test('client settings map to the connection options', () => {
  const { options, resolved } = mapped({}, {
    clientId: 'my-app', ssl: true, connectionTimeout: 3000, requestTimeout: 25_000,
    sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 'secret' },
  });
  assert.equal(options.clientId, 'my-app');
  assert.deepEqual(options.tls, true);
  assert.equal(options.connectTimeoutMs, 3000);
  assert.equal(options.requestTimeoutMs, 25_000);
  assert.deepEqual(options.sasl, { mechanism: 'scram-sha-512', username: 'alice', password: 'secret' });
  assert.equal(resolved.requestTimeoutMs, 25_000);
});

test('the OAUTHBEARER provider becomes a token function; a token whose expiry cannot be read is kept a minute, not an hour', async () => {
  // KafkaJS asks its provider at every authentication, so an opaque token may be valid only minutes: kept for the
  // native API's default hour, it went stale long before its refresh.
  const { options } = mapped({}, { sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: 'tok' }) } });
  assert.equal(options.sasl?.mechanism, 'oauthbearer');
  assert.deepEqual(await (options.sasl as { token: () => Promise<unknown> }).token(), { value: 'tok', lifetimeMs: OPAQUE_TOKEN_LIFETIME_MS });
  assert.equal(OPAQUE_TOKEN_LIFETIME_MS, 60_000);
  // A JWT with an `exp` claim is refreshed by that claim, as in the native API.
  const payload = Buffer.from(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + 900 })).toString('base64url');
  const jwt = `eyJhbGciOiJub25lIn0.${payload}.`;
  const { options: withJwt } = mapped({}, { sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: jwt }) } });
  assert.deepEqual(await (withJwt.sasl as { token: () => Promise<unknown> }).token(), { value: jwt });
  // A provider answer without a string value is passed on, for the token cache to refuse with its own message.
  const { options: wrong } = mapped({}, { sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ token: 'x' }) as unknown as { value: string } } });
  assert.deepEqual(await (wrong.sasl as { token: () => Promise<unknown> }).token(), { value: undefined });
});

test('producer settings: idempotence off unless asked (KafkaJS default), in-flight limit, metadata age, default partitioner', () => {
  assert.equal(mapped().resolved.idempotent, false);
  assert.equal(mapped().resolved.acks, -1);
  const { options, resolved } = mapped({ idempotent: true, maxInFlightRequests: 3, metadataMaxAge: 60_000, createPartitioner: Partitioners.DefaultPartitioner });
  assert.equal(resolved.idempotent, true);
  assert.equal(options.maxInFlight, 3);
  assert.equal(options.metadataMaxAgeMs, 60_000);
  assert.equal(resolved.partitioner, 'default');
  assert.equal(mapped({ createPartitioner: Partitioners.JavaCompatiblePartitioner, maxInFlightRequests: null, allowAutoTopicCreation: true }).resolved.maxInFlight, 5);
  // KafkaJS: a falsy maxInFlightRequests is no limit; here ringkafka's default (it was refused as 0).
  assert.equal(mapped({ idempotent: true, maxInFlightRequests: 0 }).resolved.maxInFlight, 5);
});

test('retry: initialRetryTime and maxRetryTime are the backoff; retries bound the delivery time by KafkaJS\'s schedule', () => {
  const { options } = mapped({ retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 150 } }, { requestTimeout: 1000 });
  assert.equal(options.retryBackoffMs, 100);
  assert.equal(options.retryBackoffMaxMs, 150);
  // linger 5 + 3 requests of 1000 + waits of 100 and 150
  assert.equal(options.deliveryTimeoutMs, 5 + 3000 + 100 + 150);
  // the producer's retry overrides the client's field by field
  assert.equal(mapped({ retry: { initialRetryTime: 50 } }, { retry: { maxRetryTime: 500 } }).options.retryBackoffMaxMs, 500);
  // a huge retry count (KafkaJS's idempotent default) stays within Node's timer limit
  assert.equal(mapped({ retry: { retries: Number.MAX_SAFE_INTEGER } }).options.deliveryTimeoutMs, 2 ** 31 - 1);
});

test('ringkafka options set what KafkaJS sets per call and win over mapped ones', () => {
  const { resolved } = mapped({ ringkafka: { compression: 'gzip', acks: 1, lingerMs: 20 } });
  assert.equal(resolved.compression, 'gzip');
  assert.equal(resolved.acks, 1);
  assert.equal(resolved.lingerMs, 20);
});

test('each setting that cannot be honoured is refused by name', () => {
  refused(() => mapped({ createPartitioner: Partitioners.LegacyPartitioner }), /createPartitioner: LegacyPartitioner/);
  refused(() => mapped({ createPartitioner: () => () => 0 }), /createPartitioner accepts only Partitioners.DefaultPartitioner/);
  refused(() => mapped({ idempotent: true, maxInFlightRequests: 6 }), /maxInFlightRequests must be at most 5/);
  refused(() => mapped({ allowAutoTopicCreation: false }), /allowAutoTopicCreation: false/);
  refused(() => mapped({ transactionalId: 'tx', idempotent: false }), /idempotent: false contradicts transactionalId/);
  refused(() => mapped({ transactionTimeout: 1000 }), /transactionTimeout applies only with a transactionalId/);
  // As KafkaJS refuses it: an idempotent producer that may not retry (a transactional one is idempotent too).
  refused(() => mapped({ idempotent: true, retry: { retries: 0 } }), /producer config retry.retries: 0 an idempotent producer must allow retries/);
  refused(() => mapped({ transactionalId: 'tx' }, { retry: { retries: 0 } }), /kafka config retry.retries: 0 an idempotent producer must allow retries/);
  refused(() => mapped({ retry: { multiplier: 3 } }), /producer config retry.multiplier must be 2/);
  refused(() => mapped({}, { retry: { factor: 0.5 } }), /kafka config retry.factor must be 0.2/);
  refused(() => mapped({}, { retry: { restartOnFailure: async () => true } }), /restartOnFailure is a consumer setting/);
  refused(() => mapped({}, { authenticationTimeout: 1000 }), /authenticationTimeout/);
  refused(() => mapped({}, { reauthenticationThreshold: 1000 }), /reauthenticationThreshold/);
  refused(() => mapped({}, { socketFactory: () => null }), /socketFactory/);
  refused(() => mapped({}, { enforceRequestTimeout: false }), /enforceRequestTimeout: false/);
  refused(() => mapped({}, { sasl: { mechanism: 'aws', authorizationIdentity: 'a', accessKeyId: 'b', secretAccessKey: 'c' } }), /sasl.mechanism 'aws'/);
  refused(() => mapped({ idempotnt: true } as ProducerConfig), /producer config.idempotnt is not a KafkaJS setting \(did you mean idempotent\?\)/);
  refused(() => mapped({}, { clientid: 'x' } as Partial<KafkaConfig>), /kafka config.clientid is not a KafkaJS setting \(did you mean clientId\?\)/);
  refused(() => mapped({}, { tls: true } as Partial<KafkaConfig>), /kafka config.tls is not a KafkaJS setting$/);
  // ringkafka's own validation, reported as a KafkaJS error that quotes it
  refused(() => mapped({ idempotent: true, ringkafka: { acks: 1 } }), /config is not valid for ringkafka: options.idempotent: true requires options.acks 'all'/);
  refused(() => mapped({}, { clientId: 'has spaces' }), /options.clientId/);
});

test('kafka.producer() refuses at once; consumer() and admin() say the facade is a producer', () => {
  const kafka = new Kafka({ brokers: BROKERS, logLevel: 0 });
  refused(() => kafka.producer({ allowAutoTopicCreation: false }), /allowAutoTopicCreation/);
  refused(() => kafka.consumer(), /producer only/);
  refused(() => kafka.admin(), /producer only/);
  assert.equal(kafka.producer({ idempotent: true }).isIdempotent(), true);
  assert.equal(kafka.producer().isIdempotent(), false);
});

test('a value ringkafka refuses is named by its KafkaJS setting, unless the caller gave the ringkafka option itself', () => {
  refused(() => mapped({ maxInFlightRequests: -1 }), /ringkafka\/kafkajs: maxInFlightRequests is not valid/);
  refused(() => mapped({ metadataMaxAge: -1 }), /ringkafka\/kafkajs: metadataMaxAge is not valid/);
  refused(() => mapped({}, { connectionTimeout: '3000' as unknown as number }), /ringkafka\/kafkajs: connectionTimeout is not valid/);
  refused(() => mapped({ ringkafka: { maxInFlight: 0 } }), /ringkafka\/kafkajs: config is not valid for ringkafka: options\.maxInFlight/);
});

test('a config that is not an object, or a flag that is not a boolean, is refused by name', () => {
  const kafka = new Kafka({ brokers: BROKERS });
  refused(() => kafka.producer(null as unknown as ProducerConfig), /producer config must be an object, got null/);
  refused(() => mapped({ idempotent: 'true' as unknown as boolean }), /idempotent must be a boolean, got string/);
});

test('retry and ringkafka must be objects, enforceRequestTimeout a boolean, and ringkafka.brokers is refused: none is dropped', () => {
  // Spread as they were, `retry: 5` set nothing, `ringkafka: 'abc'` was refused as the unknown options "0", "1", "2",
  // and `ringkafka: { brokers }` was replaced by new Kafka({ brokers })'s at connect().
  refused(() => mapped({ retry: 5 as never }), /^ringkafka\/kafkajs: producer config retry must be an object, got number$/);
  refused(() => mapped({}, { retry: 'fast' as never }), /^ringkafka\/kafkajs: kafka config retry must be an object, got a string, "fast"$/);
  refused(() => mapped({ ringkafka: 5 as never }), /^ringkafka\/kafkajs: producer config ringkafka must be an object, got number$/);
  refused(() => mapped({ ringkafka: 'abc' as never }), /producer config ringkafka must be an object, got a string, "abc"$/);
  refused(() => mapped({ ringkafka: { brokers: ['127.0.0.1:9093'] } as never }), /^ringkafka\/kafkajs: producer config ringkafka\.brokers is not taken: the brokers are new Kafka\(\{ brokers \}\)'s$/);
  refused(() => mapped({}, { enforceRequestTimeout: 'false' as never }), /^ringkafka\/kafkajs: enforceRequestTimeout must be a boolean, got a string, "false"$/);
  assert.ok(mapped({ retry: { retries: 3 }, ringkafka: { lingerMs: 5 } }, { enforceRequestTimeout: true }).options.lingerMs === 5, 'the right shapes are taken');
});
