/**
 * KafkaJS's `retry` settings where ringkafka cannot count retries: `retries: 0` on a producer that is not idempotent
 * is refused (ringkafka retries until deliveryTimeoutMs, so the at-most-once it asks for cannot be kept), and an
 * `initialRetryTime` is not cut down to ringkafka's 1 s ceiling when `maxRetryTime` is left out. No broker is needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, KafkaJSNonRetriableError, type KafkaConfig, type ProducerConfig } from '../../src/kafkajs/index.js';
import { mapProducerConfig } from '../../src/kafkajs/options.js';

const BROKERS = ['127.0.0.1:9092'];

function mapped(producer: ProducerConfig = {}, client: Partial<KafkaConfig> = {}) {
  return mapProducerConfig({ brokers: BROKERS, ...client }, producer);
}

function refused(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof KafkaJSNonRetriableError, `got ${String(error)}`);
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  });
}

test('retries: 0 on a producer that is not idempotent is refused at kafka.producer(), naming retry.retries and the ways out', () => {
  // It became a delivery timeout, and a reviewer saw four Produce requests for one message: an at-most-once
  // producer that quietly retries may write a message twice.
  const kafka = new Kafka({ brokers: BROKERS, retry: { retries: 0 } });
  refused(() => kafka.producer(), /kafka config retry\.retries: 0/, /deliveryTimeoutMs/, /idempotent: true/, /above 0/);
  refused(() => kafka.producer({ idempotent: false }), /kafka config retry\.retries: 0/);
  refused(() => mapped({ retry: { retries: 0 } }), /producer config retry\.retries: 0/, /cannot promise zero retries/);
  // Named where it was written: the client's retries, though the producer has a retry object of its own.
  refused(() => mapped({ retry: { initialRetryTime: 50 } }, { retry: { retries: 0 } }), /kafka config retry\.retries: 0/);
  // An idempotent (or transactional) producer is still refused as KafkaJS refuses it.
  refused(() => mapped({ idempotent: true, retry: { retries: 0 } }), /an idempotent producer must allow retries/);
  // What the refusal suggests is accepted.
  assert.equal(kafka.producer({ retry: { retries: 1 } }).isIdempotent(), false);
  assert.equal(kafka.producer({ idempotent: true, retry: { retries: 1 } }).isIdempotent(), true);
});

test('initialRetryTime without maxRetryTime is kept: the ceiling is KafkaJS\'s default 30 s, not ringkafka\'s 1 s', () => {
  const { options, resolved } = mapped({ retry: { initialRetryTime: 5000 } });
  assert.equal(options.retryBackoffMs, 5000);
  assert.equal(options.retryBackoffMaxMs, 30_000, 'a first wait of 5 s was capped at 1 s');
  assert.equal(resolved.retryBackoffMaxMs, 30_000);
  // The delivery time sums the same waits the producer makes: linger 5 + 3 requests of 1000 + waits of 5 s and 10 s.
  assert.equal(mapped({ retry: { initialRetryTime: 5000, retries: 2 } }, { requestTimeout: 1000 }).options.deliveryTimeoutMs, 5 + 3000 + 5000 + 10_000);
  // Set on the client, it still applies; ringkafka's own retryBackoffMaxMs still wins over the default.
  assert.equal(mapped({}, { retry: { initialRetryTime: 2000 } }).options.retryBackoffMaxMs, 30_000);
  assert.equal(mapped({ retry: { initialRetryTime: 2000 }, ringkafka: { retryBackoffMaxMs: 4000 } }).options.retryBackoffMaxMs, 4000);
});

test('an initialRetryTime above the maxRetryTime is refused, naming both, as ringkafka would wait maxRetryTime from the first retry', () => {
  refused(() => mapped({ retry: { initialRetryTime: 5000, maxRetryTime: 1000 } }), /retry\.initialRetryTime \(5000\)/, /retry\.maxRetryTime \(1000\)/);
  // Above KafkaJS's default ceiling, with maxRetryTime left out.
  refused(() => mapped({}, { retry: { initialRetryTime: 60_000 } }), /kafka config retry\.initialRetryTime \(60000\)/, /maxRetryTime \(30000, KafkaJS's default\)/);
  assert.equal(mapped({ retry: { initialRetryTime: 1000, maxRetryTime: 1000 } }).options.retryBackoffMaxMs, 1000);
});

test('retries must be a count: a fraction, a negative or a string is refused, naming retry.retries; Infinity is KafkaJS\'s "never give up"', () => {
  // 2.5 passed before, and became the delivery timeout of two and a half retries.
  refused(() => mapped({ idempotent: true, retry: { retries: 2.5 } }), /producer config retry\.retries must be an integer >= 0 or Infinity, got 2\.5/);
  // Quoted: '3' said as "got 3" read as the very count asked for.
  refused(() => mapped({ idempotent: true, retry: { retries: '3' as unknown as number } }), /retry\.retries must be an integer >= 0 or Infinity, got "3"$/);
  refused(() => mapped({ retry: { retries: -1 } }), /retry\.retries must be an integer/);
  refused(() => mapped({ retry: { retries: Number.NaN } }), /got NaN/);
  const three = mapped({ retry: { retries: 3 } }).options.deliveryTimeoutMs!;
  assert.ok(three > 0);
  assert.ok(mapped({ retry: { retries: Infinity } }).options.deliveryTimeoutMs! > three);
});

test('retries do not shorten bufferTimeoutMs: it bounds the wait for buffer space too, which KafkaJS does not have', () => {
  // Derived from retries (2.1 s here), a burst that waited for buffer space failed with KafkaJSTimeout where
  // KafkaJS, with no buffer, sends it.
  assert.equal(mapped({ retry: { retries: 1 } }, { requestTimeout: 1000 }).options.bufferTimeoutMs, undefined);
  assert.equal(mapped({ retry: { retries: 1 }, ringkafka: { bufferTimeoutMs: 2000 } }, { requestTimeout: 1000 }).options.bufferTimeoutMs, 2000);
});
