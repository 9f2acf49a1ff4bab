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

test('a partitioner that aborts its sendBatch\'s signal: records placed before the abort are taken back too, none is written', { timeout: 60_000 }, async () => {
  const broker = await FakeBroker.start(2, () => false, { autoAck: true });
  const controller = new AbortController();
  let calls = 0;
  // The second record's partitioning aborts the call: the first was placed already (partition and buffer space)
  // and waits in the slice to be handed to its worker, after the signal's abort has been dispatched.
  const partitioner = (): number => {
    if (++calls === 2) controller.abort('stop');
    return 0;
  };
  const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 0, partitioner });
  try {
    await producer.connect();
    await producer.send({ topic: 't', value: 'warm-up' }); // the topic's metadata is known: the call takes the fast path
    calls = 0;
    const sent = producer.metrics().recordsSent;
    assert.equal(sent, 1);
    const results = await producer.sendBatch([{ topic: 't', value: 'a' }, { topic: 't', value: 'b' }, { topic: 't', value: 'c' }], { signal: controller.signal });
    for (const result of results) {
      assert.equal(result.status, 'rejected');
      assert.equal((result.reason as Error).name, 'AbortError');
      assert.equal((result.reason as { delivery?: string }).delivery, 'not-sent');
    }
    await producer.flush();
    assert.equal(producer.metrics().recordsSent, sent, 'none of the call\'s records was sent');
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  } finally {
    await producer.close({ timeoutMs: 1000 });
    await broker.close();
  }
});
