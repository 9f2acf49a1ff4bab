/**
 * A worker thread dies (invariant 2, docs/invariants.md: a worker crash settles every pending send): its records fail with
 * WorkerCrashedError — 'not-sent' for records it had not put in a request, 'unknown' for one in flight — the other
 * workers' records are untouched, the dead worker is replaced, and the producer keeps working.
 *
 * The crash needs no hook in the production code: the test reaches into the producer's worker threads through
 * Node's inspector (NodeWorker domain, in-process, no --inspect flag) and makes one of them throw an uncaught
 * exception, which kills that thread the way a real bug in the worker would.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { Producer } from '../../src/main/producer.js';
import type { RecordMetadata } from '../../src/main/types.js';
import { ProducerClosedError, WorkerCrashedError } from '../../src/shared/producer-errors.js';
import { createTopic, uniqueTopic, useBroker } from '../helpers/broker.js';
import { FakeBroker } from '../helpers/fake-broker.js';
import { consume, until } from '../helpers/readback.js';
import { WorkerThreads } from '../helpers/worker-threads.js';

const threads = new WorkerThreads();
const open = new Set<Producer>();
const fakes = new Set<FakeBroker>();

before(() => threads.start());
after(async () => {
  await Promise.allSettled([...open].map((p) => p.close({ timeoutMs: 1000 })));
  await Promise.allSettled([...fakes].map((f) => f.close()));
  threads.stop();
});

/** The rejection reason, or undefined if the promise resolved. */
function outcome(promise: Promise<RecordMetadata>): Promise<RecordMetadata | Error> {
  return promise.then((r) => r, (e: Error) => e);
}

describe('worker crash', { timeout: 90_000 }, () => {
  test("buffered records of the dead worker fail 'not-sent'; the other worker's are delivered; the producer goes on", async () => {
    const brokers = await useBroker();
    const topic = uniqueTopic('crash');
    await createTopic(topic, 2);
    // Two workers, one partition each (ownerOf spreads consecutive partitions); a long linger keeps records buffered.
    const earlier = threads.known();
    const p = new Producer({ brokers, workers: 2, lingerMs: 60_000, clientId: 'crash-test' });
    open.add(p);
    const crashes: number[] = [];
    p.on('workerCrash', (_error: unknown, index: number) => crashes.push(index));
    await Promise.all([p.send({ topic, partition: 0, value: 'warm-0' }), p.send({ topic, partition: 1, value: 'warm-1' }), p.flush()]);
    await until(() => threads.startedSince(earlier).length === 2, 'two producer worker threads');
    const before = threads.startedSince(earlier);

    const pending = [0, 1].flatMap((partition) =>
      Array.from({ length: 5 }, (_, i) => ({ partition, result: outcome(p.send({ topic, partition, value: `pending-${partition}-${i}` })) })));
    await until(() => p.metrics().bufferedRecords === 10, 'ten records buffered');
    const settledEarly = new Set<number>();
    pending.forEach(({ result }, i) => void result.then(() => settledEarly.add(i)));

    await threads.crash(before[0]!);
    await until(() => settledEarly.size >= 5, "the dead worker's records to fail");
    assert.equal(crashes.length, 1, "one 'workerCrash' event");

    // Exactly one partition's records failed, all of them, and nothing else has a result yet.
    const failedIdx = [...settledEarly];
    const failedPartitions = new Set(failedIdx.map((i) => pending[i]!.partition));
    assert.equal(failedPartitions.size, 1, `one partition lost its worker, got ${[...failedPartitions].join(',')}`);
    const dead = [...failedPartitions][0]!;
    assert.equal(failedIdx.length, 5, 'the five records of that partition, and no others, failed');
    for (const i of failedIdx) {
      const error = await pending[i]!.result;
      assert.ok(error instanceof WorkerCrashedError, `record ${i}: WorkerCrashedError, got ${String(error)}`);
      assert.equal(error.code, 'ERR_WORKER_CRASHED');
      assert.equal(error.delivery, 'not-sent', 'buffered, never in a request');
      assert.equal(error.retriable, true, "'not-sent' may be sent again safely");
    }

    // The producer goes on: the survivor's records, and new records for both partitions (the dead one's through its
    // replacement), are delivered.
    const later = [0, 1].map((partition) => p.send({ topic, partition, value: `after-${partition}` }));
    await p.flush();
    for (const { partition, result } of pending.filter((x) => x.partition !== dead)) {
      const r = await result;
      assert.ok(!(r instanceof Error), `the surviving worker's record was delivered, got ${String(r)}`);
      assert.equal(r.partition, partition);
    }
    const [after0, after1] = await Promise.all(later);
    assert.equal(after0!.partition, 0);
    assert.equal(after1!.partition, 1);
    await until(() => threads.startedSince(earlier).length === 2, 'the dead thread to be replaced');
    assert.deepEqual({ bytes: p.metrics().bufferedBytes, records: p.metrics().bufferedRecords }, { bytes: 0, records: 0 });
    await p.close();

    // What Kafka holds: warm-ups, the survivor's five, the two sent after the crash; none of the failed records.
    const read = await consume(brokers, topic, 9);
    const values = new Set(read.map((r) => r.value));
    assert.equal(read.length, 9);
    for (let i = 0; i < 5; i++) assert.equal(values.has(`pending-${dead}-${i}`), false, 'a failed record is not in the topic');
    for (let i = 0; i < 5; i++) assert.ok(values.has(`pending-${1 - dead}-${i}`));
    assert.ok(values.has('after-0') && values.has('after-1') && values.has('warm-0') && values.has('warm-1'));
  });

  test("a record in flight when its worker dies fails 'unknown'", async () => {
    // The fake broker holds the Produce request unanswered, so the record is in flight when the thread dies.
    const broker = await FakeBroker.start(1);
    fakes.add(broker);
    const earlier = threads.known();
    const p = new Producer({ brokers: [broker.address], workers: 1, requestTimeoutMs: 600_000, deliveryTimeoutMs: 1_200_000 });
    open.add(p);
    const crashed = once(p, 'workerCrash');
    const inFlight = outcome(p.send({ topic: 'crash-in-flight', value: 'in flight' }));
    await broker.nextProduce();
    await until(() => threads.startedSince(earlier).length === 1, "this producer's worker thread");
    const [thread] = threads.startedSince(earlier);
    assert.ok(thread !== undefined);
    await threads.crash(thread);
    await crashed;
    const error = await inFlight;
    assert.ok(error instanceof WorkerCrashedError, `WorkerCrashedError, got ${String(error)}`);
    assert.equal(error.delivery, 'unknown', 'the broker may have written it');
    assert.equal(error.retriable, false, "'unknown' is not safe to send again blindly");

    // The replacement worker serves the partition: the next record is sent and answered.
    const next = p.send({ topic: 'crash-in-flight', value: 'next' });
    broker.answer(await broker.nextProduce(1), 5n);
    assert.equal((await next).offset, 5);
    await p.close();
  });
});

describe('a frozen worker', { timeout: 90_000 }, () => {
  // A worker that stops answering — blocked in a call, or on a completion ring nobody drains — must not hold
  // close({ timeoutMs }) past its deadline: close stops waiting for it there, fails what it held, and ends it.
  test('close({ timeoutMs }) ends by its deadline and fails the frozen worker\'s records', async () => {
    const brokers = await useBroker();
    const topic = uniqueTopic('frozen');
    await createTopic(topic, 1);
    // Another producer's thread, alive and listed before this test's own, as a closed producer's thread may still
    // be (the inspector reports a thread's end late): the test must freeze its own producer's thread, not the first
    // one listed, or the record it then sends is simply delivered.
    const bystander = new Producer({ brokers, workers: 1, clientId: 'frozen-bystander' });
    open.add(bystander);
    await bystander.connect();
    const earlier = threads.known();
    assert.ok(earlier.size > 0, "the bystander's thread is listed");
    const p = new Producer({ brokers, workers: 1, lingerMs: 60_000, clientId: 'frozen-test' });
    open.add(p);
    await Promise.all([p.send({ topic, value: 'warm' }), p.flush()]);
    await until(() => threads.startedSince(earlier).length === 1, "this producer's worker thread");
    const [thread] = threads.startedSince(earlier);
    assert.ok(thread !== undefined);
    await threads.freeze(thread);
    const stuck = outcome(p.send({ topic, value: 'behind a frozen worker' }));
    await until(() => p.metrics().bufferedRecords === 1, 'the record buffered');

    const closed = p.close({ timeoutMs: 1_500 }).then(() => 'closed');
    const error = await stuck;
    assert.equal(await closed, 'closed');
    assert.ok(error instanceof ProducerClosedError, `ProducerClosedError, got ${String(error)}`);
    assert.equal(error.delivery, 'not-sent', 'it never reached a request');
    await until(() => threads.gone(thread), 'the frozen thread to be ended');
    // The bystander was never touched: it still delivers.
    assert.equal((await bystander.send({ topic, value: 'bystander' })).topic, topic);
    await bystander.close();
  });
});
