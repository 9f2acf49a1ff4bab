/**
 * Cancellation, shutdown and the API's edges (invariants 2 and 5, docs/invariants.md): every path settles every promise,
 * an AbortSignal releases its caller at once, and the error says honestly what happened to the record —
 *   waiting for buffer space → 'not-sent', no bytes taken;
 *   buffered, not yet in a request → removed, 'not-sent', and not in the topic afterwards;
 *   in flight → 'unknown', the outcome later as a 'lateOutcome' event.
 *
 * The real broker is used wherever it can stage the situation. Two situations it cannot stage on demand use the
 * small fake broker of test/helpers/fake-broker.ts, which never answers a Produce request unless told to: a
 * record held in flight, and a budget that stays full because its bytes are in flight.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { Producer } from '../../src/main/producer.js';
import type { RecordMetadata } from '../../src/main/types.js';
import { ConfigError, KafkaProducerError } from '../../src/shared/errors.js';
import { AbortError, DeliveryTimeoutError, ProducerClosedError, RecordTooLargeError } from '../../src/shared/producer-errors.js';
import { decodeRecordBatches } from '../../src/protocol/record-batch-decoder.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { createTopic, uniqueTopic, useBroker } from '../helpers/broker.js';
import { FakeBroker, deadPort, silentListener } from '../helpers/fake-broker.js';
import { consume, dumpBatches, endOffsets, localSegments, until } from '../helpers/readback.js';

const open = new Set<Producer>();
const fakes = new Set<FakeBroker>();

/** Every producer a test makes is closed after it, whatever happens, so no worker keeps the process alive. */
function track(p: Producer): Producer {
  open.add(p);
  return p;
}

async function fake(partitions = 1, missing?: (topic: string) => boolean): Promise<FakeBroker> {
  const broker = await FakeBroker.start(partitions, missing);
  fakes.add(broker);
  return broker;
}

after(async () => {
  await Promise.allSettled([...open].map((p) => p.close({ timeoutMs: 1000 })));
  await Promise.allSettled([...fakes].map((f) => f.close()));
});

/** Resolves with the rejection reason; fails the test if the promise resolves instead. */
async function rejection(promise: Promise<unknown>, what: string): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail(`${what} resolved; it should have rejected`);
}

function assertDelivery(error: unknown, type: new (...args: never[]) => Error, delivery: 'not-sent' | 'unknown', what: string): void {
  assert.ok(error instanceof type, `${what}: expected ${type.name}, got ${String(error)}`);
  assert.equal((error as { delivery?: string }).delivery, delivery, `${what}: delivery`);
}

/** Lets pending microtasks and I/O callbacks run (no time is asserted: this only orders events). */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('abort while waiting for buffer space', { timeout: 60_000 }, () => {
  test("rejects with AbortError 'not-sent', takes no bytes, and the next waiter is re-checked", async () => {
    // The fake broker never answers, so the 900 bytes in flight hold the budget full for as long as the test runs.
    const broker = await fake();
    const p = track(new Producer({ brokers: [broker.address], maxBufferedBytes: 1000, workers: 1 }));
    const topic = 'budget-abort';
    const filler = p.send({ topic, value: 'f'.repeat(900) });
    filler.catch(() => undefined);
    await broker.nextProduce();
    assert.equal(p.metrics().bufferedBytes, 900);

    const controller = new AbortController();
    const waiting = p.send({ topic, value: 'w'.repeat(500) }, { signal: controller.signal });
    await until(() => p.metrics().waiters === 1, 'the 500-byte send to wait for space');
    controller.abort(new Error('caller gave up'));
    const error = await rejection(waiting, 'the aborted send');
    assertDelivery(error, AbortError, 'not-sent', 'abort while waiting for space');
    assert.equal((error as AbortError).code, 'ERR_ABORTED');
    assert.deepEqual(
      { bytes: p.metrics().bufferedBytes, waiters: p.metrics().waiters },
      { bytes: 900, waiters: 0 },
      'the budget is as before the aborted send',
    );

    // FIFO: a small send that would fit waits behind a large one; when the large one is aborted, the small one is
    // granted at once (the queue is re-checked on every departure, not only on releases).
    const large = new AbortController();
    const big = p.send({ topic, value: 'b'.repeat(500) }, { signal: large.signal });
    const small = p.send({ topic, value: 's'.repeat(50) });
    big.catch(() => undefined);
    small.catch(() => undefined);
    await until(() => p.metrics().waiters >= 1, 'the large send to wait');
    await turn();
    // A new send never overtakes a queued one (invariant 1, docs/invariants.md), even when it would fit.
    assert.equal(p.metrics().bufferedBytes, 900, 'the 50-byte send made after the waiting 500-byte one took bytes before it');
    large.abort();
    assertDelivery(await rejection(big, 'the aborted large send'), AbortError, 'not-sent', 'abort of the head waiter');
    await until(() => p.metrics().waiters === 0, 'the small send to be granted');
    assert.equal(p.metrics().bufferedBytes, 950, 'only the small send took bytes');

    // An already aborted signal never waits and never takes bytes.
    const early = await rejection(p.send({ topic, value: 'x' }, { signal: AbortSignal.abort() }), 'a send with an aborted signal');
    assertDelivery(early, AbortError, 'not-sent', 'already aborted signal');
    assert.equal(p.metrics().bufferedBytes, 950);

    await p.close({ timeoutMs: 200 });
    await Promise.allSettled([filler, small]);
  });
});

describe('with the real broker', { timeout: 120_000 }, () => {
  let brokers: string[];
  before(async () => {
    brokers = await useBroker();
  });

  test("abort while buffered, before any request: 'not-sent', and the record is not in the topic", async (t) => {
    const topic = uniqueTopic('abort-buffered');
    await createTopic(topic, 1);
    // A linger far longer than the test: the three records stay buffered in the worker until flush().
    const p = track(new Producer({ brokers, lingerMs: 60_000, workers: 1 }));
    await p.connect();
    const warm = p.send({ topic, partition: 0, value: 'warm-up' });
    await p.flush();
    const { offset: first } = await warm;

    const controller = new AbortController();
    const before = p.send({ topic, partition: 0, value: 'before' });
    const aborted = p.send({ topic, partition: 0, value: 'aborted' }, { signal: controller.signal });
    const afterIt = p.send({ topic, partition: 0, value: 'after' });
    await until(() => p.metrics().bufferedRecords === 3, 'three records buffered');
    controller.abort();
    assertDelivery(await rejection(aborted, 'the aborted send'), AbortError, 'not-sent', 'abort while buffered');

    await p.flush();
    const [b, a] = await Promise.all([before, afterIt]);
    assert.equal(b.offset, first + 1);
    assert.equal(a.offset, first + 2, 'the neighbours are adjacent: the aborted record took no offset');
    await until(() => p.metrics().bufferedBytes === 0, 'the aborted record to give its bytes back');
    await p.close();

    const ends = await endOffsets(brokers, topic);
    assert.equal(ends.get(0), first + 3, 'warm-up, before and after: three records in the topic');
    const read = await consume(brokers, topic, 3);
    assert.deepEqual(read.map((r) => r.value), ['warm-up', 'before', 'after']);

    const segments = localSegments(topic, 1);
    if ('skip' in segments) return t.diagnostic(`DumpLogSegments check skipped: ${segments.skip}`);
    // No sequence number was spent on the aborted record: the batches continue without a gap.
    const [file] = segments.files;
    const batches = (await dumpBatches([file!])).get(file!)!;
    let next = 0;
    for (const batch of batches) {
      assert.equal(batch.baseSequence, next, `batch at offset ${batch.baseOffset} continues the sequence`);
      next = batch.lastSequence + 1;
    }
    assert.equal(next, 3);
  });

  test('flush resolves only once everything sent before it has a result', async () => {
    const topic = uniqueTopic('flush');
    await createTopic(topic, 4);
    const p = track(new Producer({ brokers, lingerMs: 60_000 }));
    await p.flush(); // nothing pending: resolves at once
    const settled = new Set<number>();
    const sends = Array.from({ length: 40 }, (_, i) => {
      const sent = p.send({ topic, key: `k${i % 7}`, value: `v${i}` });
      sent.then(() => settled.add(i), () => settled.add(i));
      return sent;
    });
    const batch = p.sendBatch(Array.from({ length: 10 }, (_, i) => ({ topic, value: `b${i}` })));
    let batchDone = false;
    void batch.then(() => (batchDone = true));
    // With a 60 s linger, only flush makes these leave now.
    await p.flush();
    assert.equal(settled.size, 40, 'every send made before flush had its result when flush resolved');
    assert.ok(batchDone, 'the sendBatch made before flush had its results');
    const results = await Promise.all(sends);
    assert.ok(results.every((r) => r.offset >= 0));
    assert.ok((await batch).every((r) => r.status === 'fulfilled'));
  });

  test('sendBatch gives one settled result per record, in order; bad records fail alone', async () => {
    const topic = uniqueTopic('send-batch');
    await createTopic(topic, 1);
    const p = track(new Producer({ brokers }));
    const records = [
      { topic, partition: 0, value: 'good-0' },
      { topic: 'no spaces allowed', value: 'bad topic' },
      { topic, partition: 0, value: 'good-1' },
      { topic, partition: 0, value: 12345 as unknown as string },
      { topic, partition: 0, value: 'good-2' },
      { topic, partition: 0, value: 'bad header', headers: { h: 7 as unknown as string } },
      { topic, partition: 0, value: 'good-3' },
    ];
    const results = await p.sendBatch(records);
    assert.equal(results.length, records.length);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    const fields = [1, 3, 5].map((i) => ((results[i] as PromiseRejectedResult).reason as Error).message);
    assert.match(fields[0]!, /record\.topic/);
    assert.match(fields[1]!, /record\.value/);
    assert.match(fields[2]!, /record\.headers/);
    const offsets = [0, 2, 4, 6].map((i) => (results[i] as PromiseFulfilledResult<RecordMetadata>).value.offset);
    for (let i = 1; i < offsets.length; i++) assert.equal(offsets[i], offsets[i - 1]! + 1, 'good records in order, adjacent');
    assert.deepEqual(await p.sendBatch([]), []);
    await p.close();
    const read = await consume(brokers, topic, 4);
    assert.deepEqual(read.map((r) => r.value), ['good-0', 'good-1', 'good-2', 'good-3']);
  });

  test('trySend returns false when the buffer is full, true again once there is room', async () => {
    const topic = uniqueTopic('try-send');
    await createTopic(topic, 1);
    const p = track(new Producer({ brokers, maxBufferedBytes: 1000, lingerMs: 60_000, workers: 1 }));
    // Not connected and no metadata yet: it never waits, it says no (and starts connecting).
    assert.equal(p.trySend({ topic, partition: 0, value: 'x' }), false);
    const warm = p.send({ topic, partition: 0, value: 'warm-up' });
    await p.flush();
    await warm;

    const errors: unknown[] = [];
    p.on('deliveryError', (error) => errors.push(error));
    assert.equal(p.trySend({ topic, partition: 0, value: 'a'.repeat(400) }), true);
    assert.equal(p.trySend({ topic, partition: 0, value: 'b'.repeat(400) }), true);
    assert.equal(p.metrics().bufferedBytes, 800);
    assert.equal(p.trySend({ topic, partition: 0, value: 'c'.repeat(400) }), false, 'full: 800 + 400 > 1000');
    assert.equal(p.metrics().bufferedBytes, 800, 'a refused trySend takes nothing');
    assert.equal(p.trySend({ topic, partition: 0, value: 'd'.repeat(200) }), true, 'what still fits is accepted');
    await p.flush();
    assert.equal(p.metrics().bufferedBytes, 0);
    assert.equal(p.trySend({ topic, partition: 0, value: 'e'.repeat(400) }), true, 'room again');
    await p.flush();
    assert.deepEqual(errors, []);
    await p.close();
    const read = await consume(brokers, topic, 5);
    assert.deepEqual(read.map((r) => r.value.slice(0, 1)), ['w', 'a', 'b', 'd', 'e'], 'the refused record is not in the topic');
  });

  test('bad records reject naming the field, and the producer keeps working', async () => {
    const topic = uniqueTopic('bad-records');
    await createTopic(topic, 1);
    const p = track(new Producer({ brokers }));
    await p.send({ topic, value: 'first' });
    const bad: [record: Record<string, unknown>, field: RegExp][] = [
      [{ topic: '', value: 'x' }, /record\.topic/],
      [{ topic: 'a/b', value: 'x' }, /record\.topic/],
      [{ topic, value: { an: 'object' } }, /record\.value.*serializer/],
      [{ topic, key: 42, value: 'x' }, /record\.key/],
      [{ topic, value: 'x', headers: { trace: 1 } }, /record\.headers/],
      [{ topic, value: 'x', headers: [['only-a-key']] }, /record\.headers\[0\]/],
      [{ topic, value: 'x', partition: 3 }, /record\.partition/], // the topic has one partition
      [{ topic, value: 'x', partition: -1 }, /record\.partition/],
      [{ topic, value: 'x', timestamp: 'yesterday' }, /record\.timestamp/],
    ];
    for (const [record, field] of bad) {
      const error = await rejection(p.send(record as never), `send(${JSON.stringify(record)})`);
      assert.ok(error instanceof KafkaProducerError, `${JSON.stringify(record)}: a KafkaProducerError, got ${String(error)}`);
      assert.match((error as Error).message, field);
      assert.equal((error as KafkaProducerError).retriable, false);
      assert.throws(() => p.trySend(record as never), (e: Error) => field.test(e.message), 'trySend rejects it too');
    }
    // Larger than the whole budget: fails at once, never waits.
    const small = track(new Producer({ brokers, maxBufferedBytes: 64 }));
    const tooLarge = await rejection(small.send({ topic, value: 'z'.repeat(65) }), 'a record larger than the budget');
    assert.ok(tooLarge instanceof RecordTooLargeError);
    assert.equal(small.metrics().waiters, 0);
    assert.equal((await small.send({ topic, value: 'fits' })).partition, 0);
    await small.close();

    // Nothing bad left a trace: the next good record goes through, nothing is held, flush does not wait for ghosts.
    const good = await p.send({ topic, value: 'last' });
    assert.equal(good.partition, 0);
    await p.flush();
    assert.deepEqual({ bytes: p.metrics().bufferedBytes, records: p.metrics().bufferedRecords }, { bytes: 0, records: 0 });
    await p.close();
    const read = await consume(brokers, topic, 3);
    assert.deepEqual(read.map((r) => r.value), ['first', 'fits', 'last']);
  });

  test('await using closes the producer', async () => {
    const topic = uniqueTopic('dispose');
    await createTopic(topic, 1);
    let escaped: Producer | undefined;
    let result: RecordMetadata | undefined;
    {
      await using p = track(new Producer({ brokers, lingerMs: 60_000 }));
      escaped = p;
      // Not awaited in the block: leaving the block must still send it (close sends what is buffered first).
      void p.send({ topic, value: 'sent by close' }).then((r) => (result = r));
      await until(() => p.metrics().bufferedRecords === 1, 'the record to be buffered');
    }
    await turn();
    assert.ok(result !== undefined && result.offset === 0, 'the buffered record was delivered on dispose');
    const error = await rejection(escaped.send({ topic, value: 'too late' }), 'a send after dispose');
    assertDelivery(error, ProducerClosedError, 'not-sent', 'send after dispose');
    assert.throws(() => escaped.trySend({ topic, value: 'too late' }), (e: unknown) => e instanceof ProducerClosedError && e.delivery === 'not-sent');
    assert.equal((await endOffsets(brokers, topic)).get(0), 1);
  });
});

describe('in flight', { timeout: 60_000 }, () => {
  test("abort releases the caller with 'unknown'; the broker's late answer comes as 'lateOutcome'", async () => {
    const broker = await fake();
    // Nothing but the abort can settle this send: the request timeout and delivery timeout are far away.
    const p = track(new Producer({ brokers: [broker.address], workers: 1, requestTimeoutMs: 600_000, deliveryTimeoutMs: 1_200_000 }));
    const topic = 'in-flight';
    const controller = new AbortController();
    const sent = p.send({ topic, value: 'in flight' }, { signal: controller.signal });
    const request = await broker.nextProduce();
    assert.equal(request.recordCounts.get(`${topic}-0`), 1);

    controller.abort();
    const error = await rejection(sent, 'the aborted in-flight send');
    assertDelivery(error, AbortError, 'unknown', 'abort while in flight');
    assert.equal(broker.produces.length, 1, 'nothing answered it: the abort alone released the caller');
    assert.equal(p.metrics().bufferedBytes, 9, 'its bytes stay counted until the broker answers');

    const late = once(p, 'lateOutcome');
    broker.answer(request, 77n);
    const [event] = (await late) as [{ metadata?: RecordMetadata; error?: Error; topic: string; partition: number }];
    assert.equal(event.error, undefined);
    assert.deepEqual({ topic: event.metadata?.topic, partition: event.metadata?.partition, offset: event.metadata?.offset }, { topic, partition: 0, offset: 77 });
    await until(() => p.metrics().bufferedBytes === 0, 'the bytes to come back with the late answer');

    // The partition goes on: the next record is sent and answered normally.
    const next = p.send({ topic, value: 'next' });
    broker.answer(await broker.nextProduce(1), 78n);
    assert.equal((await next).offset, 78);
    await p.close();
  });

  test("close with a deadline settles in-flight records: the released one by 'lateOutcome', the others 'unknown'", async () => {
    const broker = await fake(2);
    const p = track(new Producer({ brokers: [broker.address], workers: 1, requestTimeoutMs: 600_000, deliveryTimeoutMs: 1_200_000 }));
    const topic = 'close-in-flight';
    const controller = new AbortController();
    const released = p.send({ topic, partition: 0, value: 'aborted' }, { signal: controller.signal });
    const waiting = p.send({ topic, partition: 1, value: 'kept' });
    waiting.catch(() => undefined);
    await until(() => broker.produces.reduce((n, r) => n + r.recordCounts.size, 0) === 2, 'both partitions in flight');
    controller.abort();
    assertDelivery(await rejection(released, 'the aborted send'), AbortError, 'unknown', 'abort while in flight');

    const outcomes: { error?: Error }[] = [];
    p.on('lateOutcome', (event: { error?: Error }) => outcomes.push(event));
    await p.close({ timeoutMs: 500 });
    assert.equal(outcomes.length, 1, "the released record's end is reported once");
    assert.ok(outcomes[0]!.error instanceof KafkaProducerError);
    // The broker holds a request with this record and never answered: it may have written it.
    assertDelivery(await rejection(waiting, 'the in-flight send at close'), ProducerClosedError, 'unknown', 'in flight at close');
  });
});

describe('the close deadline', { timeout: 60_000 }, () => {
  // A batch the broker refused (NOT_ENOUGH_REPLICAS: definitively not written) backs off for a minute. The workers
  // used to learn close's deadline only once the flush had waited it out, when the main thread, which knows only that
  // the record was sealed, said 'unknown'. Now the flush ends a lead before the deadline (125 ms of 1 s, 250 ms of
  // 4 s), and from then the workers send nothing new and fail what no broker holds.
  const refusingProducer = async (): Promise<{ broker: FakeBroker; p: Producer; refused: Promise<unknown> }> => {
    const broker = await fake();
    const p = track(new Producer({ brokers: [broker.address], workers: 1, lingerMs: 0, retryBackoffMs: 60_000, retryBackoffMaxMs: 60_000 }));
    const refused = rejection(p.send({ topic: 'refused', value: 'v' }), 'the send refused');
    return { broker, p, refused };
  };

  test("a batch refused before close began and backing off is 'not-sent' at close's deadline", async () => {
    const { broker, p, refused } = await refusingProducer();
    broker.answer(await broker.nextProduce(), 0n, ErrorCode.NOT_ENOUGH_REPLICAS);
    await until(() => p.metrics().retries === 1, 'the batch to back off');
    await p.close({ timeoutMs: 1000 });
    assertDelivery(await refused, ProducerClosedError, 'not-sent', 'refused by the broker, then closed');
    assert.equal(broker.produces.length, 1, 'sent once');
  });

  test("a batch refused after the workers stopped sending (within the lead) is 'not-sent' too", async () => {
    // In flight until 3,800 ms into a 4 s close: the flush ended at 3,750, the workers stopped sending then, and the
    // refusal comes between that and the deadline. Nearer the cut-off than the deadline: a timer of this thread late
    // by up to 200 ms still answers in time (answered before the cut-off, the batch would back off and fail
    // 'not-sent' at the cut-off all the same; after the deadline it would be 'unknown').
    const { broker, p, refused } = await refusingProducer();
    const inFlight = await broker.nextProduce();
    const closed = p.close({ timeoutMs: 4000 });
    await new Promise((resolve) => setTimeout(resolve, 3800));
    broker.answer(inFlight, 0n, ErrorCode.NOT_ENOUGH_REPLICAS);
    await closed;
    assertDelivery(await refused, ProducerClosedError, 'not-sent', 'refused within the lead, then closed');
    assert.equal(broker.produces.length, 1, 'not sent again');
  });

  test("a main thread held up from before the workers' cut-off until after the deadline: 'not-sent' all the same", async () => {
    // The cut-off is at 875 ms of a 1 s close; this thread is busy from 800 ms to 1,100 ms (a caller's synchronous
    // work, a long collection), so its flush ends, and the 'close' message leaves, only after the deadline. Told
    // the cut-off only by that message, the worker had failed nothing when this thread failed what was left
    // 'unknown'. Told it when close began, it fails the batch by its own clock, and the report waits in the ring.
    const { broker, p, refused } = await refusingProducer();
    broker.answer(await broker.nextProduce(), 0n, ErrorCode.NOT_ENOUGH_REPLICAS);
    await until(() => p.metrics().retries === 1, 'the batch to back off');
    const closed = p.close({ timeoutMs: 1000 });
    await new Promise((resolve) => setTimeout(resolve, 800));
    const busyUntil = Date.now() + 300;
    while (Date.now() < busyUntil); // held up: no timer, message or I/O of this thread runs meanwhile
    await closed;
    assertDelivery(await refused, ProducerClosedError, 'not-sent', 'refused, then cut off by the worker while this thread was busy');
    assert.equal(broker.produces.length, 1, 'sent once');
  });
});

describe('the delivery timeout', { timeout: 60_000 }, () => {
  /** The values of every record the broker was sent for `topic`-0, in the order the requests came. */
  async function valuesSent(broker: FakeBroker, topic: string): Promise<string[]> {
    const values: string[] = [];
    for (const request of broker.produces) {
      const bytes = request.batches.get(`${topic}-0`);
      if (bytes === undefined) continue;
      for (const batch of await decodeRecordBatches(bytes)) for (const record of batch.records) values.push(Buffer.from(record.value!).toString());
    }
    return values;
  }

  test("a stalled broker: the record in flight times out 'unknown', the one queued behind it 'not-sent', saying why", async () => {
    // The broker never answers. Before the partition's first acknowledgement one batch at a time is on the wire, so
    // the second record's batch waits behind the first's until its delivery deadline: the worker knows it was never
    // sent. The main thread's sweep sees only that it was sealed, and said 'unknown' when it got there first.
    const broker = await fake();
    const p = track(new Producer({ brokers: [broker.address], workers: 1, lingerMs: 0, requestTimeoutMs: 2000, deliveryTimeoutMs: 2000 }));
    const topic = 'stalled';
    const inFlight = rejection(p.send({ topic, value: 'in flight' }), 'the send in flight');
    await broker.nextProduce();
    const queued = rejection(p.send({ topic, value: 'queued' }), 'the send queued behind it');

    const queuedError = await queued;
    assertDelivery(queuedError, DeliveryTimeoutError, 'not-sent', 'a batch that never left');
    assert.match((queuedError as Error).message, /1 earlier batch\(es\) of stalled-0 were unanswered/);
    assertDelivery(await inFlight, DeliveryTimeoutError, 'unknown', 'a batch in a request never answered');
    assert.ok(!(await valuesSent(broker, topic)).includes('queued'), 'the queued record was never sent');
    await until(() => p.metrics().bufferedBytes === 9, "the queued record's 6 bytes to come back; the 9 in flight stay counted");
    await p.close({ timeoutMs: 500 });
  });

  test("a leader that cannot be reached: records fail 'not-sent' at the delivery timeout, with the connection's error", async () => {
    // Metadata names broker 2 as the leader, at a port where nothing listens: every attempt fails to connect, so
    // nothing was written, and the error says what the last attempt met.
    const broker = await fake();
    const port = await deadPort();
    broker.listedBrokers = [{ nodeId: 1, host: '127.0.0.1', port: Number(broker.address.split(':')[1]) }, { nodeId: 2, host: '127.0.0.1', port }];
    broker.leaderOf = () => 2;
    const p = track(new Producer({
      brokers: [broker.address], workers: 1, lingerMs: 0, requestTimeoutMs: 2000, deliveryTimeoutMs: 2000, retryBackoffMs: 50, retryBackoffMaxMs: 200,
    }));
    const error = await rejection(p.send({ topic: 'unreachable', value: 'v' }), 'the send to an unreachable leader');
    assertDelivery(error, DeliveryTimeoutError, 'not-sent', 'a leader never reached');
    assert.match((error as Error).message, new RegExp(`no connection to broker 2 was open; the last attempt to connect failed: .*${port}`));
    assert.equal(broker.produces.length, 0);
    await p.close({ timeoutMs: 500 });
  });

  test("a leader whose answers never come (a black-holed host): 'not-sent', the batch having waited for a connection", async (t) => {
    // Broker 2 takes connections and never answers, so each attempt waits out the handshake's request timeout
    // (1,200 ms): the first ends at about 1.2 s, the second runs from about 1.25 s to 2.45 s. The batch's deadline
    // (about 1.75 s) and the main thread's sweep (2 s) both come during the second. A batch marked sent before its
    // connection was open was in flight then, so the sweep released it as 'unknown'; it waits unsent now.
    const broker = await fake();
    const silent = await silentListener();
    t.after(() => silent.close());
    broker.listedBrokers = [{ nodeId: 1, host: '127.0.0.1', port: Number(broker.address.split(':')[1]) }, { nodeId: 2, host: '127.0.0.1', port: silent.port }];
    broker.leaderOf = () => 2;
    const p = track(new Producer({
      brokers: [broker.address], workers: 1, lingerMs: 0, requestTimeoutMs: 1200, deliveryTimeoutMs: 2000, retryBackoffMs: 50, retryBackoffMaxMs: 50,
    }));
    const error = await rejection(p.send({ topic: 'black-holed', value: 'v' }), 'the send to a leader that never answers');
    assertDelivery(error, DeliveryTimeoutError, 'not-sent', 'a batch that waited for its connection');
    assert.match((error as Error).message, /no connection to broker 2 was open; the last attempt to connect failed: .*ApiVersions/);
    assert.equal(broker.produces.length, 0);
    await p.close({ timeoutMs: 500 });
  });
});

describe('a topic without metadata', { timeout: 60_000 }, () => {
  test('holds up only the sends to that topic, and they fail after bufferTimeoutMs naming it', async () => {
    // Metadata never lists "missing-topic" (as with auto-creation off): sends to it wait bufferTimeoutMs, then fail.
    // Meanwhile sends to other topics go on (docs/architecture.md: bad input never leaves the producer broken for other records).
    const broker = await fake(1, (topic) => topic === 'missing-topic');
    const p = track(new Producer({ brokers: [broker.address], workers: 1, bufferTimeoutMs: 3000 }));
    let missingSettled = false;
    const missing = p.send({ topic: 'missing-topic', value: 'nowhere' });
    const missingOutcome = missing.then(() => undefined, (error: unknown) => error).finally(() => (missingSettled = true));
    const present = p.send({ topic: 'present-topic', value: 'here' });
    const request = await broker.nextProduce();
    assert.equal(missingSettled, false, 'the send to present-topic reached the broker only after the send to missing-topic gave up');
    assert.deepEqual([...request.partitions.keys()], ['present-topic']);
    broker.answer(request, 0n);
    assert.equal((await present).topic, 'present-topic');
    const error = await missingOutcome;
    assert.ok(error instanceof KafkaProducerError, `a KafkaProducerError, got ${String(error)}`);
    assert.match((error as Error).message, /missing-topic/);
    await p.close();
  });
});

describe('close without a reachable broker', { timeout: 60_000 }, () => {
  for (const idempotent of [true, false]) {
    test(`close({ timeoutMs: 500 }) returns and every send rejects (idempotent: ${idempotent})`, async () => {
      const port = await deadPort();
      const p = track(new Producer({ brokers: [`127.0.0.1:${port}`], idempotent, retryBackoffMs: 50, retryBackoffMaxMs: 200 }));
      const topic = 'nowhere';
      const sends = [
        p.send({ topic, value: 'a' }),
        p.send({ topic, key: 'k', value: 'b' }),
        p.sendBatch([{ topic, value: 'c' }, { topic, value: 'd' }]).then((results) => {
          const failed = results.filter((r) => r.status === 'rejected');
          if (failed.length === results.length) throw (failed[0] as PromiseRejectedResult).reason;
          throw new Error(`sendBatch: ${results.length - failed.length} of ${results.length} records resolved`);
        }),
      ];
      const settled = Promise.allSettled(sends); // handlers now: the sends may fail before close returns
      const flushed = p.flush();
      await turn();
      await p.close({ timeoutMs: 500 });
      const outcomes = await settled;
      for (const outcome of outcomes) {
        assert.equal(outcome.status, 'rejected');
        const reason = (outcome as PromiseRejectedResult).reason as Error;
        assert.ok(reason instanceof KafkaProducerError, `a KafkaProducerError, got ${String(reason)}`);
        assert.ok(!/resolved/.test(reason.message), reason.message);
      }
      await flushed; // flush ends too: everything before it has a result
      assertDelivery(await rejection(p.send({ topic, value: 'e' }), 'a send after close'), ProducerClosedError, 'not-sent', 'send after close');
      assert.throws(() => p.trySend({ topic, value: 'f' }), (e: unknown) => e instanceof ProducerClosedError && e.delivery === 'not-sent');
      await p.close(); // a second close is harmless
    });
  }
});

describe('bad options', () => {
  test('are rejected at construction with a ConfigError naming the option', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ lingerMs: -1 }, /options\.lingerMs/],
      [{ lingerMS: 5 }, /"lingerMS".*lingerMs/],
      [{ acks: 2 }, /options\.acks/],
      [{ compression: 'brotli' }, /options\.compression/],
      [{ brokers: ['no-port'] }, /options\.brokers\[0\]/],
      [{ brokers: [] }, /options\.brokers/],
      [{ maxBufferedBytes: 0 }, /options\.maxBufferedBytes/],
      [{ workers: 1.5 }, /options\.workers/],
      [{ idempotent: true, acks: 1 }, /options\.idempotent/],
      [{ idempotent: true, maxInFlight: 6 }, /options\.idempotent.*maxInFlight/],
      [{ deliveryTimeoutMs: 10, requestTimeoutMs: 30_000 }, /options\.deliveryTimeoutMs/],
      [{ serializer: 'yaml' }, /options\.serializer/],
      [{ partitioner: 'random' }, /options\.partitioner/],
      [{ clientId: 'has space' }, /options\.clientId/],
    ];
    for (const [options, field] of cases) {
      assert.throws(() => new Producer(options as never), (error: unknown) => {
        assert.ok(error instanceof ConfigError, `${JSON.stringify(options)}: ConfigError, got ${String(error)}`);
        assert.equal(error.code, 'ERR_CONFIG');
        assert.match(error.message, field);
        return true;
      });
    }
  });
});
