/**
 * Atomics.waitAsync does not keep Node's event loop alive, so the producer decides itself what does: pending work
 * keeps the process alive until it has a result; an idle producer, closed or not, lets the process exit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createTopic, uniqueTopic, useBroker } from '../helpers/broker.js';
import { Producer } from '../../src/main/producer.js';
import { RecordTooLargeError } from '../../src/shared/producer-errors.js';

test('a pending send keeps the process alive until delivered; the idle, unclosed producer then lets it exit', async () => {
  const brokers = await useBroker();
  const topic = uniqueTopic('lifecycle');
  await createTopic(topic, 1);
  const script = fileURLToPath(new URL('./fixtures/idle-producer.ts', import.meta.url));
  const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
    // The timeout only turns a hang into a failure (a killed child has no exit code 0); it measures nothing.
    execFile(process.execPath, ['--import', 'tsx', script, brokers.join(','), topic], { timeout: 90_000 }, (error, out) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout: out });
    });
  });
  assert.match(stdout, /^delivered 0:0$/m, 'the record was delivered before the process ended');
  assert.equal(code, 0, 'the process exited by itself');
});

test('close() sends the records still queued for ring space, not only those already in the ring', async () => {
  const brokers = await useBroker();
  const topic = uniqueTopic('close-queued');
  await createTopic(topic, 2);
  const producer = new Producer({ brokers, workers: 1 });
  await producer.connect();
  // 300 × 100 KiB is about twice the 16 MiB record ring: most records wait in the main-thread queue at close.
  const value = Buffer.alloc(100 * 1024, 'v');
  const sent = producer.sendBatch(Array.from({ length: 300 }, () => ({ topic, value })));
  await producer.close();
  const results = await sent;
  const failed = results.filter((r) => r.status === 'rejected');
  assert.equal(failed.length, 0, `every accepted record delivered by close (${failed.length} failed: ${String((failed[0] as PromiseRejectedResult | undefined)?.reason)})`);
});

test('a record larger than a worker ring entry is refused at once and the producer keeps working', async () => {
  const brokers = await useBroker();
  const topic = uniqueTopic('huge');
  await createTopic(topic, 1);
  const producer = new Producer({ brokers, workers: 1, maxRequestBytes: 16 * 1024 * 1024 });
  try {
    await assert.rejects(producer.send({ topic, value: Buffer.alloc(9 * 1024 * 1024) }), RecordTooLargeError);
    assert.equal(producer.metrics().bufferedBytes, 0, 'no bytes held by the refused record');
    const ok = await producer.send({ topic, value: 'small' });
    assert.equal(ok.offset, 0);
  } finally {
    await producer.close();
  }
});
