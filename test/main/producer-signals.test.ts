/**
 * A caller's AbortSignal carries at most a couple of listeners however many of its records wait: a sendBatch whose
 * records wait for buffer space in many slices must not make Node print MaxListenersExceededWarning into the
 * application's logs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { Producer } from '../../src/main/producer.js';
import { FakeBroker } from '../helpers/fake-broker.js';
import { until } from '../helpers/readback.js';

test('a sendBatch waiting in many slices adds a bounded number of listeners to its signal, and aborts cleanly', { timeout: 60_000 }, async () => {
  const stalled = await FakeBroker.start(1); // never answers Produce: the budget stays full
  const producer = new Producer({ brokers: [stalled.address], workers: 1, maxBufferedBytes: 8192, lingerMs: 0 });
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => void warnings.push(warning);
  process.on('warning', onWarning);
  try {
    await producer.connect();
    const controller = new AbortController();
    const value = Buffer.alloc(500, 'w');
    // 200 records of 500 B against an 8 KiB budget: slices of about 1 KiB, most of them waiting.
    const results = producer.sendBatch(Array.from({ length: 200 }, () => ({ topic: 't', value })), { signal: controller.signal });
    await until(() => producer.metrics().waiters > 10, 'many slices wait for buffer space');
    assert.ok(getEventListeners(controller.signal, 'abort').length <= 2, `listeners: ${getEventListeners(controller.signal, 'abort').length}`);
    controller.abort();
    const settled = await results;
    assert.ok(settled.some((r) => r.status === 'rejected' && (r.reason as { delivery?: string }).delivery === 'not-sent'));
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    assert.equal(producer.metrics().waiters, 0);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning'), []);
  } finally {
    process.off('warning', onWarning);
    await producer.close({ timeoutMs: 500 });
    await stalled.close();
  }
});
