/**
 * The record intake (src/main/record-intake.ts), through the Producer: a sendBatch larger than one slice (2,048
 * records) is placed a slice per turn of the event loop (its submit backlog, src/main/submit-backlog.ts): the loop
 * runs between slices, later calls keep their place behind it, and flush, close and an abort account for the records
 * not placed yet. Against the fake broker that acknowledges everything.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Producer } from '../../src/main/producer.js';
import { FakeBroker } from '../helpers/fake-broker.js';

const SLICE = 2048;
const value = Buffer.alloc(100, 'v');
const records = (count: number, partition = 0): { topic: string; value: Buffer; partition: number }[] =>
  Array.from({ length: count }, () => ({ topic: 't', value, partition }));

/** Records the producer has taken into its buffer so far, whatever became of them since. */
function placed(producer: Producer): number {
  const m = producer.metrics();
  return m.bufferedRecords + m.recordsSent + m.recordsFailed;
}

async function withProducer(fn: (producer: Producer) => Promise<void>): Promise<void> {
  const broker = await FakeBroker.start(1, () => false, { autoAck: true });
  const producer = new Producer({ brokers: [broker.address], workers: 1 });
  try {
    await producer.connect();
    await producer.send({ topic: 't', value: 'warm-up' }); // metadata known: every record takes the fast path
    await fn(producer);
  } finally {
    await producer.close({ timeoutMs: 5000 });
    await broker.close();
  }
}

test('a large sendBatch places one slice at once and the next in a later turn; a send after it lands after it', { timeout: 60_000 }, async () => {
  await withProducer(async (producer) => {
    const before = placed(producer);
    const batch = producer.sendBatch(records(3 * SLICE + 5));
    assert.equal(placed(producer) - before, SLICE, 'one slice placed by the call itself');
    const later = producer.send({ topic: 't', value, partition: 0 });
    // Queued after the call's first slice turn: the loop ran between the slices.
    const atNextTurn = await new Promise<number>((resolve) => setImmediate(() => resolve(placed(producer) - before)));
    assert.equal(atNextTurn, 2 * SLICE);
    const results = await batch;
    const last = await later;
    assert.ok(results.every((r) => r.status === 'fulfilled'));
    const offsets = results.map((r) => (r as PromiseFulfilledResult<{ offset: number }>).value.offset);
    assert.deepEqual(offsets, offsets.map((_, i) => offsets[0]! + i), 'the call in order, one offset after another');
    assert.equal(last.offset, offsets.at(-1)! + 1, 'the send made after the call is written after all of it');
  });
});

test('flush right after a large sendBatch waits for every one of its records', { timeout: 60_000 }, async () => {
  await withProducer(async (producer) => {
    let settled = false;
    const batch = producer.sendBatch(records(2 * SLICE + 1)).then((results) => {
      settled = true;
      return results;
    });
    await producer.flush();
    assert.equal(settled, true, 'flush resolved only after the whole call had its results');
    assert.ok((await batch).every((r) => r.status === 'fulfilled'));
  });
});

test('close right after a large sendBatch delivers all of it; a call made after close is refused', { timeout: 60_000 }, async () => {
  const broker = await FakeBroker.start(1, () => false, { autoAck: true });
  const producer = new Producer({ brokers: [broker.address], workers: 1 });
  try {
    await producer.send({ topic: 't', value: 'warm-up' });
    const batch = producer.sendBatch(records(3 * SLICE));
    const closed = producer.close();
    const after = producer.sendBatch(records(3));
    await closed;
    assert.ok((await batch).every((r) => r.status === 'fulfilled'), 'made before close: delivered');
    assert.ok((await after).every((r) => r.status === 'rejected' && (r.reason as Error).name === 'ProducerClosedError'));
  } finally {
    await producer.close();
    await broker.close();
  }
});

test('an abort after a large sendBatch returned fails its records not placed yet as not-sent', { timeout: 60_000 }, async () => {
  await withProducer(async (producer) => {
    const controller = new AbortController();
    const batch = producer.sendBatch(records(3 * SLICE), { signal: controller.signal });
    controller.abort();
    const results = await batch;
    const rejected = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    assert.ok(rejected.length >= 2 * SLICE, `the slices not placed yet: ${rejected.length} rejected`);
    for (const r of rejected) assert.equal((r.reason as { delivery?: string }).delivery, 'not-sent');
    assert.ok(results.slice(SLICE).every((r) => r.status === 'rejected'), 'nothing after the first slice was sent');
  });
});
