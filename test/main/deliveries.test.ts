/**
 * When deliveryTimeoutMs starts: at acceptance (the record has its topic's metadata and buffer space), as Java's
 * delivery.timeout.ms starts when send() returns after max.block.ms. A send waiting for metadata is bounded by
 * bufferTimeoutMs; once accepted it has the whole deliveryTimeoutMs. The fake broker holds the main thread's
 * Metadata answer until the send's call is older than deliveryTimeoutMs; the record must still be delivered.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Producer } from '../../src/main/producer.js';
import { FAKE_API, FakeBroker } from '../helpers/fake-broker.js';

test('deliveryTimeoutMs counts from acceptance: a record that waited longer than it for metadata is still delivered', { timeout: 30_000 }, async () => {
  const broker = await FakeBroker.start(1);
  const deliveryTimeoutMs = 1000;
  const shortProducer = new Producer({
    brokers: [broker.address], workers: 1, lingerMs: 0, requestTimeoutMs: 500, deliveryTimeoutMs, bufferTimeoutMs: 20_000,
  });
  const timers = new Set<NodeJS.Timeout>();
  try {
    await shortProducer.connect();
    const calledAt = Date.now();
    broker.tamper = (apiKey, frame, _nth, write) => {
      if (apiKey !== FAKE_API.metadata || broker.produces.length > 0) return frame;
      // Held until the call is older than deliveryTimeoutMs (plus a margin), then answered.
      const timer = setTimeout(() => write(frame), Math.max(0, calledAt + deliveryTimeoutMs + 300 - Date.now()));
      timers.add(timer);
      return null;
    };
    const sent = shortProducer.send({ topic: 'late-metadata', partition: 0, value: 'v' });
    const produce = await broker.nextProduce(0);
    assert.ok(Date.now() - calledAt > deliveryTimeoutMs, 'the record was accepted after deliveryTimeoutMs had passed since its call');
    // Answered after a few of the producer's delivery-timeout sweeps (every 100 ms): a deadline counted from the
    // call would have failed the record by then; counted from acceptance it has most of its second left.
    await new Promise((resolve) => setTimeout(resolve, 300));
    broker.answer(produce, 5n);
    assert.equal((await sent).offset, 5);
  } finally {
    for (const timer of timers) clearTimeout(timer);
    await shortProducer.close({ timeoutMs: 1000 });
    await broker.close();
  }
});
