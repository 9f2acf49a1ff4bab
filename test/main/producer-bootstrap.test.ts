/**
 * A bootstrap address that accepts connections and never answers, listed first: the producer's main thread passes it
 * after connectTimeoutMs, and its workers start with it last, so it costs one setup timeout in all. It cost
 * requestTimeoutMs (30 s) on the main thread and again in every worker. Against a silent listener and the fake broker.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Producer } from '../../src/main/producer.js';
import { FakeBroker } from '../helpers/fake-broker.js';
import { silentListener } from '../helpers/silent-listener.js';

test('a silent first bootstrap address is tried once, by the main thread only, and the records are delivered', { timeout: 30_000 }, async (t) => {
  const silent = await silentListener(t);
  const broker = await FakeBroker.start(2, () => false, { autoAck: true });
  t.after(() => broker.close());
  const producer = new Producer({ brokers: [`127.0.0.1:${silent.address.port}`, broker.address], workers: 2, connectTimeoutMs: 300 });
  t.after(() => producer.close());
  const results = await Promise.all([0, 1].map((partition) => producer.send({ topic: 't', partition, value: `v${partition}` })));
  assert.deepEqual(results.map((r) => r.partition), [0, 1]);
  assert.equal(silent.accepted(), 1, 'a worker met the silent address first again');
});
