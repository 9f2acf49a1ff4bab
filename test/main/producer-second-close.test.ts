/**
 * A second close while the first runs (a SIGTERM handler's close({ timeoutMs }) beside a graceful close()): it may
 * only bring close's times forward, on the main thread and in the workers, and must not stop the workers before the
 * first close's flush has written every record to them. A fake broker answers when the test says.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Producer } from '../../src/main/producer.js';
import { FakeBroker } from '../helpers/fake-broker.js';
import { ProducerClosedError } from '../../src/shared/producer-errors.js';

test('a later close({ timeoutMs }) lets a send waiting for buffer space go out once room comes, and close ends when it is answered', { timeout: 60_000 }, async () => {
  const broker = await FakeBroker.start(1);
  // Room for one record of 600 bytes: the second waits for the first's bytes.
  const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 0, maxBufferedBytes: 1_000 });
  try {
    const value = 'x'.repeat(600);
    const first = producer.send({ topic: 't', partition: 0, value });
    const inFlight = await broker.nextProduce(0);
    const second = producer.send({ topic: 't', partition: 0, value });
    const closing = producer.close(); // waits for both sends (its flush)
    const hurried = producer.close({ timeoutMs: 30_000 });
    assert.equal(hurried, closing, 'one close under way');
    broker.answer(inFlight, 0n); // the first's bytes come back: the second is granted and written to the ring
    const next = await Promise.race([
      broker.nextProduce(1),
      closing.then(() => assert.fail('close ended without sending the record granted after the second close')),
    ]);
    broker.answer(next, 1n);
    assert.equal((await first).offset, 0);
    assert.equal((await second).offset, 1);
    await closing;
  } finally {
    await producer.close({ timeoutMs: 0 });
    await broker.close();
  }
});

test('a later close({ timeoutMs }) ends a first close without one by its own deadline, on the main thread too', { timeout: 60_000 }, async () => {
  const broker = await FakeBroker.start(1);
  // The first close alone would wait for the answer and for buffer space up to deliveryTimeoutMs and
  // bufferTimeoutMs: far past this test's timeout.
  const producer = new Producer({
    brokers: [broker.address], workers: 1, lingerMs: 0, maxBufferedBytes: 1_000, deliveryTimeoutMs: 600_000, bufferTimeoutMs: 600_000,
  });
  try {
    const value = 'x'.repeat(600);
    const outcomes = [producer.send({ topic: 't', partition: 0, value })].map(settled);
    await broker.nextProduce(0); // never answered
    outcomes.push(settled(producer.send({ topic: 't', partition: 0, value }))); // waits for buffer space
    const closing = producer.close();
    void producer.close({ timeoutMs: 200 });
    await closing;
    const [inFlight, waiting] = await Promise.all(outcomes);
    assert.ok(inFlight instanceof ProducerClosedError && inFlight.delivery === 'unknown', String(inFlight));
    assert.ok(waiting instanceof ProducerClosedError && waiting.delivery === 'not-sent', String(waiting));
  } finally {
    await producer.close({ timeoutMs: 0 });
    await broker.close();
  }
});

function settled(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => undefined, (error: unknown) => error);
}

test('a later close with a long timeoutMs does not lengthen a first close without one (the workers still give up a request timeout after the flush)', { timeout: 60_000 }, async () => {
  const broker = await FakeBroker.start(1);
  const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 0, requestTimeoutMs: 1_000, deliveryTimeoutMs: 1_500 });
  try {
    const outcome = settled(producer.send({ topic: 't', partition: 0, value: 'never answered' }));
    await broker.nextProduce(0);
    const closing = producer.close();
    void producer.close({ timeoutMs: 600_000 }); // far past this test's timeout
    await closing;
    assert.ok(await outcome instanceof Error);
  } finally {
    await producer.close({ timeoutMs: 0 });
    await broker.close();
  }
});

test('a close called after close has ended arms no timer (one kept the process alive for its timeoutMs)', { timeout: 60_000 }, async () => {
  const broker = await FakeBroker.start(1, () => false, { autoAck: true });
  const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 0 });
  await producer.connect();
  await producer.close();
  await broker.close();
  const timers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
  const before = timers();
  const late = producer.close({ timeoutMs: 5_000 }); // earlier than the first close's deadline (a request timeout after its flush)
  assert.equal(timers(), before);
  await late;
});

test('a close that gives up on an unanswered request leaves metrics().requestsInFlight at 0', { timeout: 60_000 }, async () => {
  // The worker counts a request out of flight when its answer or failure comes; the thread was ended first, so the
  // count stayed at 1 for good.
  const broker = await FakeBroker.start(1);
  const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 0, requestTimeoutMs: 600_000, deliveryTimeoutMs: 1_200_000 });
  try {
    const send = producer.send({ topic: 't', partition: 0, value: 'x' }).catch((error: unknown) => error);
    await broker.nextProduce(0);
    assert.equal(producer.metrics().requestsInFlight, 1);
    await producer.close({ timeoutMs: 100 });
    assert.ok(await send instanceof ProducerClosedError);
    assert.equal(producer.metrics().requestsInFlight, 0);
  } finally {
    await broker.close();
  }
});
