/**
 * KIP-219 on a real broker: with a produce quota on our client id, the broker answers with throttle_time_ms and
 * then mutes the connection; the producer honours it (nothing is lost, the throttle time shows in metrics) and
 * close is not held up by a pending throttle wait (invariant 4, docs/invariants.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Producer } from '../../src/main/producer.js';
import { TOOLS, createTopic, runKafkaTool, uniqueTopic, useBroker } from '../helpers/broker.js';

async function setQuota(bootstrap: string, clientId: string, bytesPerSecond: number | null): Promise<void> {
  const change = bytesPerSecond === null ? ['--delete-config', 'producer_byte_rate'] : ['--add-config', `producer_byte_rate=${bytesPerSecond}`];
  await runKafkaTool(TOOLS.configCommand, ['--bootstrap-server', bootstrap, '--alter', ...change, '--entity-type', 'clients', '--entity-name', clientId]);
}

test('a produce quota throttles the producer: every record delivered, throttle time reported, close not held up', async () => {
  const brokers = await useBroker();
  const clientId = uniqueTopic('throttled');
  const topic = uniqueTopic('throttle');
  await createTopic(topic, 2);
  await setQuota(brokers[0]!, clientId, 64 * 1024);
  const producer = new Producer({ brokers, clientId, workers: 1, lingerMs: 0, batchMaxBytes: 64 * 1024 });
  try {
    const value = Buffer.alloc(1000, 'q');
    // ~1 MB against a 64 KiB/s quota: the broker must throttle several times.
    const results = await producer.sendBatch(Array.from({ length: 1000 }, (_, i) => ({ topic, key: `k${i}`, value })));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1000, 'every record delivered');
    assert.ok(producer.metrics().throttleTimeMs > 0, `throttle time reported (${producer.metrics().throttleTimeMs} ms)`);

    // More records while throttled, then close with a short deadline: close returns and every send settles.
    const late = producer.sendBatch(Array.from({ length: 500 }, () => ({ topic, value })));
    await producer.close({ timeoutMs: 200 });
    const settled = await late;
    assert.equal(settled.length, 500, 'every late send has a result');
  } finally {
    await producer.close();
    await setQuota(brokers[0]!, clientId, null);
  }
});
