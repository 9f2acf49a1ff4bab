/**
 * The record intake (src/main/record-intake.ts, and src/main/call-intake.ts for a sendBatch's records), through the
 * Producer: a sendBatch larger than one slice (2,048 records) is placed a slice per turn of the event loop (its
 * submit backlog, src/main/submit-backlog.ts): the loop runs between slices, later calls keep their place behind
 * it, and flush, close and an abort account for the records not placed yet. Against the fake broker that
 * acknowledges everything. Then on its own, with a delivery settlement that only records what it is handed: a
 * sendBatch's records reach it grouped by partition, in call order within each (src/main/partition-grouping.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteBudget } from '../../src/main/byte-budget.js';
import type { Deliveries } from '../../src/main/deliveries.js';
import { resolveOptions, type PartitionerFunction } from '../../src/main/options.js';
import { partitionForKey } from '../../src/main/partitioner.js';
import { Producer } from '../../src/main/producer.js';
import { RecordIntake } from '../../src/main/record-intake.js';
import { SendTracker } from '../../src/main/send-tracker.js';
import type { PreparedRecord } from '../../src/main/serialize.js';
import type { Settler } from '../../src/main/settlers.js';
import type { TopicInfo, TopicRegistry } from '../../src/main/topic-registry.js';
import { createControlBlock } from '../../src/shared/control-block.js';
import { FAKE_API, FakeBroker } from '../helpers/fake-broker.js';
import { until } from '../helpers/readback.js';
import { BrokerError } from '../../src/shared/errors.js';
import { AbortError, BufferTimeoutError, ProducerClosedError } from '../../src/shared/producer-errors.js';
import { InvalidRecordError } from '../../src/main/serialize.js';

const SLICE = 2048;
const value = Buffer.alloc(100, 'v');
const records = (count: number, partition = 0): { topic: string; value: Buffer; partition: number }[] =>
  Array.from({ length: count }, () => ({ topic: 't', value, partition }));

/** Records the producer has taken into its buffer so far, whatever became of them since (none of these tests' sends fails before that). */
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

test('records failed by the connection attempt they waited for say \'not-sent\': the attempt\'s own error named no delivery', { timeout: 30_000 }, async () => {
  // InitProducerId refused with CLUSTER_AUTHORIZATION_FAILED (not retriable): every waiting record failed with that
  // BrokerError, `delivery` undefined, where a record's BrokerError is documented to say it.
  const broker = await FakeBroker.start(1, () => false, { autoAck: true });
  broker.tamper = (apiKey, frame) => {
    if (apiKey !== FAKE_API.initProducerId) return frame;
    const out = Buffer.from(frame);
    out.writeInt16BE(31, 12); // after size, correlation id and throttle time: the error code
    return out;
  };
  const producer = new Producer({ brokers: [broker.address], workers: 1, bufferTimeoutMs: 5000 });
  try {
    const [sent, batch, failures] = await Promise.all([
      producer.send({ topic: 't', value: 'x' }).then(() => undefined, (error: unknown) => error),
      producer.sendBatch([{ topic: 't', value: 'y' }]),
      producer.sendBatch([{ topic: 't', value: 'z' }], { results: 'failures' }),
    ]);
    const reasons = [sent, (batch[0] as PromiseRejectedResult).reason, failures.failures[0]!.reason];
    for (const reason of reasons) {
      assert.ok(reason instanceof BrokerError && reason.errorCode === 31, String(reason));
      assert.equal((reason as BrokerError & { delivery?: string }).delivery, 'not-sent');
    }
  } finally {
    await producer.close({ timeoutMs: 1000 });
    await broker.close();
  }
});

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

test('an abort releases at once a send queued behind a large sendBatch, and the unplaced records of an aborted sendBatch behind it', { timeout: 60_000 }, async () => {
  await withProducer(async (producer) => {
    const ahead = producer.sendBatch(records(6 * SLICE));
    const controller = new AbortController();
    const settled: string[] = [];
    const sent = producer.send({ topic: 't', value: 'behind' }, { signal: controller.signal }).then(
      () => settled.push('send delivered'),
      (error: { name: string; delivery?: string }) => settled.push(`send ${error.name} ${error.delivery}`),
    );
    const batch = producer.sendBatch(records(SLICE), { signal: controller.signal }).then((results) => {
      const rejected = results.filter((r) => r.status === 'rejected').length;
      settled.push(`sendBatch ${rejected} of ${results.length} rejected`);
    });
    controller.abort();
    // Microtasks only: the backlog places its next slice in a later turn (setImmediate), which cannot come between.
    // The signal was looked at only when the records' turn came, five slices later.
    for (let i = 0; i < 10; i++) await Promise.resolve();
    assert.deepEqual(settled.sort(), ['send AbortError not-sent', `sendBatch ${SLICE} of ${SLICE} rejected`]);
    await Promise.all([ahead, sent, batch]);
  });
});

test('trySend on a producer not connected yet starts the connection, then its topic\'s metadata without another call', { timeout: 60_000 }, async () => {
  const broker = await FakeBroker.start(1, () => false, { autoAck: true });
  const producer = new Producer({ brokers: [broker.address], workers: 1 });
  try {
    assert.equal(producer.trySend({ topic: 't', value: 'first' }), false);
    await producer.connect();
    // The metadata was asked for only by the next call, itself a second false: a caller retrying once a second lost
    // two seconds and two records where one would do.
    await until(() => broker.metadataTopics.some((topics) => topics.includes('t')), "t's metadata is asked for");
  } finally {
    await producer.close({ timeoutMs: 5000 });
    await broker.close();
  }
});

test('trySend after close throws ProducerClosedError, and still refuses bad input first, rather than say false for ever', { timeout: 60_000 }, async () => {
  const broker = await FakeBroker.start(1, () => false, { autoAck: true });
  const producer = new Producer({ brokers: [broker.address], workers: 1 });
  try {
    await producer.connect();
    await producer.send({ topic: 't', value: 'warm-up' });
    assert.equal(producer.trySend({ topic: 't', value: 'open' }), true);
    await producer.close({ timeoutMs: 5000 });
    // false means "a later call may succeed": a loop retrying it under a close spun for ever, learning nothing.
    assert.throws(() => producer.trySend({ topic: 't', value: 'closed' }), (error: unknown) =>
      error instanceof ProducerClosedError && error.delivery === 'not-sent');
    assert.throws(() => producer.trySend(null as never), InvalidRecordError);
  } finally {
    await producer.close({ timeoutMs: 5000 });
    await broker.close();
  }
});

test('metrics().recordsFailed counts sends rejected before they reached the buffer: unknown topic, buffer timeout, abort, invalid', { timeout: 60_000 }, async () => {
  // A broker that never answers Produce, and knows no topic 'missing'.
  const broker = await FakeBroker.start(1, (topic) => topic === 'missing');
  const producer = new Producer({ brokers: [broker.address], workers: 1, maxBufferedBytes: 1500, lingerMs: 0, bufferTimeoutMs: 300 });
  try {
    await producer.connect();
    const held = producer.send({ topic: 't', value: Buffer.alloc(1000) }); // takes the buffer, never answered
    held.catch(() => undefined);
    const abort = new AbortController();
    const outcomes = Promise.allSettled([
      producer.send({ topic: 'missing', value: 'x' }),
      producer.send({ topic: 't', value: Buffer.alloc(1000) }, { signal: abort.signal }),
      producer.send({ topic: 't', value: Buffer.alloc(1000) }),
      producer.sendBatch([{ topic: 't', value: 42 as never }]).then(([result]) => (result!.status === 'rejected' ? Promise.reject(result!.reason) : result)),
    ]);
    abort.abort();
    const codes = (await outcomes).map((o) => (o.status === 'rejected' ? (o.reason as { code?: string }).code : 'fulfilled'));
    assert.deepEqual(codes, ['ERR_UNKNOWN_TOPIC', 'ERR_ABORTED', 'ERR_BUFFER_TIMEOUT', 'ERR_INVALID_RECORD']);
    assert.equal(producer.metrics().recordsFailed, 4, 'every rejected send counted; before, none of these was');
    // Calls refused whole: each of their records counts.
    await assert.rejects(producer.send({ topic: 't', value: 'x' }, { signal: 'not a signal' as never }));
    await assert.rejects(producer.sendBatch([{ topic: 't', value: 'a' }, { topic: 't', value: 'b' }], { results: 'some' as never }));
    assert.equal(producer.metrics().recordsFailed, 7);
  } finally {
    await producer.close({ timeoutMs: 200 });
    await broker.close();
  }
});

/** A record intake whose delivery settlement notes `partition:value` of every record it is handed, in order. */
function groupingIntake(maxBytes: number, partitioner?: PartitionerFunction) {
  const budget = new ByteBudget(createControlBlock(), { maxBytes, maxRecords: 1000 });
  const handed: string[] = [];
  /** The settler each handed record will settle through, in the order handed. */
  const handedTo: Settler[] = [];
  const deliveries = {
    accept: (prepared: PreparedRecord, _topic: TopicInfo, partition: number, _seq: number, settler: Settler) => {
      handed.push(`${partition}:${Buffer.from(prepared.value!).toString()}`);
      handedTo.push(settler);
    },
  } as unknown as Deliveries;
  const topic: TopicInfo = { index: 0, name: 't', partitionCount: 4, available: [0, 1, 2, 3] };
  const registry = { get: (name: string) => (name === 't' ? topic : undefined) } as unknown as TopicRegistry;
  const intake = new RecordIntake({
    options: resolveOptions({ brokers: '127.0.0.1:9', ...(partitioner !== undefined && { partitioner }) }),
    budget, deliveries, registry, workers: { started: true }, sends: new SendTracker(), transactions: undefined,
    connect: () => Promise.resolve(),
  });
  const rejected: Error[] = [];
  const settler: Settler = { resolve: () => {}, reject: (_, error) => rejected.push(error) };
  const send = (labels: [string, number][]) =>
    intake.submitBatch(labels.map(([value, partition]) => ({ topic: 't', value, partition })), undefined, settler);
  return { intake, budget, handed, handedTo, rejected, send };
}

test('a send waiting for buffer space fails alone on its abort and on its timeout, holding nothing; one granted later is delivered', { timeout: 60_000 }, async () => {
  const broker = await FakeBroker.start(1); // holds every Produce until the test answers it
  // Room for one record: every send after the first waits for buffer space (the budget's wait, record-intake.ts).
  const producer = new Producer({ brokers: [broker.address], workers: 1, maxBufferedRecords: 1, bufferTimeoutMs: 1000, lingerMs: 0 });
  try {
    await producer.connect();
    const first = producer.send({ topic: 't', partition: 0, value: 'first' });
    const produce = await broker.nextProduce(0);
    const controller = new AbortController();
    const aborted = producer.send({ topic: 't', partition: 0, value: 'aborted' }, { signal: controller.signal });
    const timedOut = producer.send({ topic: 't', partition: 0, value: 'timed out' });
    controller.abort();
    await assert.rejects(aborted, (error: unknown) => error instanceof AbortError && error.delivery === 'not-sent');
    await assert.rejects(timedOut, (error: unknown) => error instanceof BufferTimeoutError && error.delivery === 'not-sent');
    assert.equal(producer.metrics().bufferedRecords, 1, 'only the first record holds room');
    const granted = producer.send({ topic: 't', partition: 0, value: 'granted' });
    broker.answer(produce, 7n);
    assert.equal((await first).offset, 7);
    broker.answer(await broker.nextProduce(1), 8n); // the waiting send took the room the first gave back
    assert.equal((await granted).offset, 8);
    assert.equal(broker.produces.length, 2, 'neither failed send reached the broker');
  } finally {
    await producer.close({ timeoutMs: 5000 });
    await broker.close();
  }
});

test('a sendBatch\'s records reach the delivery settlement grouped by partition, in call order within each', () => {
  const { intake, handed, rejected, send } = groupingIntake(1 << 20);
  try {
    send([['a', 2], ['b', 0], ['c', 2], ['d', 1], ['e', 0], ['f', 2]]);
    assert.deepEqual(handed, ['2:a', '2:c', '2:f', '0:b', '0:e', '1:d'], 'handed on before the call returned');
    send([['g', 0], ['h', 2]]);
    assert.deepEqual(handed.slice(6), ['0:g', '2:h'], 'the next call after all of the first');
    assert.deepEqual(rejected, []);
  } finally {
    intake.stopSweep();
  }
});

test('records that had room go on before the call\'s first record that waits; a granted slice is grouped too', () => {
  const size = 1; // a one-byte value is one accounted byte
  const { intake, budget, handed, rejected, send } = groupingIntake(100);
  try {
    assert.equal(budget.tryAcquire(100 - 3 * size), true); // room for three records
    send([['a', 1], ['b', 0], ['c', 1], ['d', 0], ['e', 1], ['f', 0]]);
    assert.deepEqual(handed, ['1:a', '1:c', '0:b'], 'the three with room, grouped; d waits, and e and f behind it');
    budget.release(100 - 3 * size);
    assert.deepEqual(handed.slice(3), ['0:d', '0:f', '1:e'], 'the granted slice, grouped, after the first three');
    assert.deepEqual(rejected, []);
  } finally {
    intake.stopSweep();
  }
});

test('a sendBatch\'s records without a partition are placed by the partitioner from their columns: by key, else sticky', () => {
  const { intake, handed, rejected } = groupingIntake(1 << 20);
  const settler: Settler = { resolve: () => {}, reject: (_, error) => rejected.push(error) };
  try {
    const keys = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'];
    intake.submitBatch(keys.map((key) => ({ topic: 't', key, value: key })), undefined, settler);
    const byValue = new Map(handed.map((h) => [h.split(':')[1], Number(h.split(':')[0])]));
    for (const key of keys) assert.equal(byValue.get(key), partitionForKey(Buffer.from(key), 4), `murmur2 of ${key}`);
    handed.length = 0;
    intake.submitBatch([{ topic: 't', value: 'x' }, { topic: 't', value: 'y' }], undefined, settler);
    assert.equal(handed.length, 2);
    assert.equal(handed[0]!.split(':')[0], handed[1]!.split(':')[0], 'keyless records stick to one partition');
    assert.deepEqual(rejected, []);
  } finally {
    intake.stopSweep();
  }
});

test('a partitioner function sees each sendBatch record whole, and a bad record fails alone', () => {
  const seen: string[] = [];
  const partitioner: PartitionerFunction = (record, count) => {
    seen.push(`${record.topic}/${Buffer.from(record.key!).toString()}/${Buffer.from(record.value!).toString()}/${record.timestamp}`);
    return Number(Buffer.from(record.key!).toString()) % count;
  };
  const { intake, handed, rejected } = groupingIntake(1 << 20, partitioner);
  const settler: Settler = { resolve: () => {}, reject: (position, error) => rejected.push(new Error(`${position}: ${error.message}`)) };
  try {
    intake.submitBatch(
      [{ topic: 't', key: '5', value: 'a', timestamp: 7 }, { topic: 't', key: '2', value: 42 as unknown as string }, { topic: 't', key: '3', value: 'c', timestamp: 9 }],
      undefined,
      settler,
    );
    assert.deepEqual(seen, ['t/5/a/7', 't/3/c/9']);
    assert.deepEqual(handed, ['1:a', '3:c']);
    assert.equal(rejected.length, 1);
    assert.match(rejected[0]!.message, /^1: record\.value/);
  } finally {
    intake.stopSweep();
  }
});

test('a send made from inside a custom partitioner is refused, and the call being placed keeps every record', () => {
  let intake!: RecordIntake;
  const inner: string[] = [];
  const innerSettler: Settler = { resolve: () => inner.push('resolved'), reject: (position, error) => inner.push(`${position}: ${error.message}`) };
  let asked = 0;
  const partitioner: PartitionerFunction = () => {
    if (asked++ === 1) {
      // The call's first record is staged by now; placed, these took it for their own.
      intake.submitBatch([{ topic: 't', value: 'inner' }], undefined, innerSettler);
      intake.submitOne({ topic: 't', value: 'inner-one' }, undefined, innerSettler, 0);
      assert.throws(() => intake.trySubmit({ topic: 't', value: 'inner-try' }, innerSettler), /^ConfigError: options\.partitioner sent a record/);
    }
    return 0;
  };
  const built = groupingIntake(1 << 20, partitioner);
  intake = built.intake;
  const outer: Settler = { resolve: () => {}, reject: (_, error) => built.rejected.push(error) };
  try {
    intake.submitBatch(['a', 'b', 'c'].map((value) => ({ topic: 't', value })), undefined, outer);
    assert.deepEqual(built.handed, ['0:a', '0:b', '0:c']);
    assert.ok(built.handedTo.every((settler) => settler === outer), "every record settles through its own call's settler");
    assert.deepEqual(built.rejected, []);
    const refused = '0: options.partitioner sent a record: a partitioner only chooses a partition, and sends made from inside it are refused';
    assert.deepEqual(inner, [refused, refused]);
    // Outside the partitioner the same calls are taken.
    intake.submitBatch([{ topic: 't', value: 'later' }], undefined, innerSettler);
    assert.deepEqual(built.handed.slice(3), ['0:later']);
  } finally {
    intake.stopSweep();
  }
});

/**
 * A record intake as groupingIntake's, with topic 't' known and 'n' known only once the test says (`learn`), or
 * failing to load (`refuse`): for a sendBatch's records that wait for their topic's metadata.
 */
function metadataIntake() {
  const budget = new ByteBudget(createControlBlock(), { maxBytes: 1 << 20, maxRecords: 1 << 20 });
  const handed: string[] = [];
  const deliveries = {
    accept: (prepared: PreparedRecord, topic: TopicInfo, partition: number) => {
      handed.push(`${topic.name}/${partition}:${Buffer.from(prepared.value!).toString()}`);
    },
    expire: () => {},
  } as unknown as Deliveries;
  const known = new Map<string, TopicInfo>([['t', { index: 0, name: 't', partitionCount: 2, available: [0, 1] }]]);
  const loads: { resolve: (info: TopicInfo) => void; reject: (error: Error) => void }[] = [];
  /** Who waits for a refresh begun since their call: every call here is made before the test's next `refresh`. */
  const refreshWaiters: (() => void)[] = [];
  const registry = {
    get: (name: string) => known.get(name),
    load: () => new Promise<TopicInfo>((resolve, reject) => loads.push({ resolve, reject })),
    prefetch: () => undefined,
    refreshedSince: () => new Promise<void>((resolve) => refreshWaiters.push(resolve)),
    reconnectReason: () => undefined,
    fetchReason: () => undefined,
  } as unknown as TopicRegistry;
  const sends = new SendTracker();
  const intake = new RecordIntake({
    options: resolveOptions({ brokers: '127.0.0.1:9' }),
    budget, deliveries, registry, workers: { started: true }, sends, transactions: undefined,
    connect: () => Promise.resolve(),
  });
  const rejected: string[] = [];
  const settler: Settler = { resolve: () => {}, reject: (position, error) => rejected.push(`${position}: ${error.name} ${(error as { delivery?: string }).delivery}`) };
  const learn = () => {
    known.set('n', { index: 1, name: 'n', partitionCount: 2, available: [0, 1] });
    for (const load of loads.splice(0)) load.resolve(known.get('n')!);
  };
  const refuse = (error: Error) => {
    for (const load of loads.splice(0)) load.reject(error);
  };
  /** A metadata refresh ends, its view of 'n' having `partitionCount` partitions. */
  const refresh = (partitionCount: number) => {
    known.set('n', { index: 1, name: 'n', partitionCount, available: Array.from({ length: partitionCount }, (_, p) => p) });
    for (const resolve of refreshWaiters.splice(0)) resolve();
  };
  const waiting = () => intake.waitingForAdmission;
  return { intake, budget, handed, rejected, settler, sends, learn, refuse, refresh, waiting };
}

const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

test('a sendBatch\'s records to a topic without metadata wait as one run of their call, then go on in call order; a later send to it goes after them', async () => {
  const { intake, handed, rejected, settler, learn, waiting } = metadataIntake();
  try {
    intake.submitBatch([
      { topic: 'n', value: 'a', partition: 0 }, { topic: 't', value: 'b', partition: 1 },
      { topic: 'n', value: 'c', partition: 1 }, { topic: 'n', value: 'd', partition: 0 },
    ], undefined, settler);
    assert.deepEqual(handed, ['t/1:b'], 'the record to a known topic is not held up');
    assert.equal(waiting(), 1, 'three records waiting, as one run of their call');
    intake.submitOne({ topic: 'n', value: 'e', partition: 0 }, undefined, settler, 0);
    assert.equal(waiting(), 2, 'the later send waits behind the run');
    learn();
    await turns(3);
    assert.deepEqual(handed.slice(1), ['n/0:a', 'n/0:d', 'n/1:c', 'n/0:e'], 'the run grouped by partition, then the send');
    assert.equal(waiting(), 0);
    assert.deepEqual(rejected, []);
  } finally {
    intake.stopSweep();
  }
});

test('a sendBatch record asking for a partition the view lacks keeps its place in call order while it waits for a refresh', async () => {
  const { intake, handed, rejected, settler, learn, refresh, waiting } = metadataIntake();
  try {
    learn(); // 'n' known, with partitions 0 and 1
    // A send to partition 2 waits for a refresh; then a sendBatch's records to 'n' wait behind it, as one run; then
    // a later send to partition 2 waits behind the run.
    intake.submitOne({ topic: 'n', value: 'A', partition: 2 }, undefined, settler, 0);
    intake.submitBatch([{ topic: 'n', value: 'X', partition: 2 }, { topic: 'n', value: 'Y', partition: 5 }, { topic: 'n', value: 'W', partition: 0 }], undefined, settler);
    intake.submitOne({ topic: 'n', value: 'Z', partition: 2 }, undefined, settler, 3);
    assert.equal(waiting(), 3);
    // The first refresh still says two partitions: A is refused. The run asks for partition 2 too and waits for a
    // refresh of its own; placed with this view, X was queued again behind Z and reached partition 2 after it.
    refresh(2);
    await turns(3);
    assert.deepEqual(rejected, ['0: InvalidRecordError not-sent']);
    refresh(3);
    await turns(3);
    refresh(3);
    await turns(3);
    assert.deepEqual(handed, ['n/2:X', 'n/0:W', 'n/2:Z'], 'X (called before Z) reaches partition 2 first');
    // Y asks for a partition the refreshed view still lacks: refused, naming the field, as a waiting send is.
    assert.deepEqual(rejected, ['0: InvalidRecordError not-sent', '1: InvalidRecordError not-sent']);
    assert.equal(waiting(), 0);
  } finally {
    intake.stopSweep();
  }
});

test('a large sendBatch to a topic without metadata stays one run over its turns; the next call is a run of its own, after it', async () => {
  const { intake, handed, rejected, settler, learn, waiting } = metadataIntake();
  try {
    const count = 2 * SLICE + 5;
    intake.submitBatch(Array.from({ length: count }, (_, i) => ({ topic: 'n', value: `${i}`, partition: 0 })), undefined, settler);
    await turns(4); // the submit backlog places a slice per turn
    assert.equal(waiting(), 1);
    intake.submitBatch([{ topic: 'n', value: 'next', partition: 0 }], undefined, settler);
    assert.equal(waiting(), 2);
    learn();
    await turns(3);
    assert.deepEqual(handed, [...Array.from({ length: count }, (_, i) => `n/0:${i}`), 'n/0:next']);
    assert.deepEqual(rejected, []);
  } finally {
    intake.stopSweep();
  }
});

test('a run aborted while it waits for metadata fails each record not-sent, holds no bytes, and ends its sends for flush', async () => {
  const { intake, budget, handed, rejected, settler, sends, learn, waiting } = metadataIntake();
  try {
    const controller = new AbortController();
    intake.submitBatch(['a', 'b', 'c'].map((value) => ({ topic: 'n', value })), controller.signal, settler);
    assert.equal(sends.open, 3);
    controller.abort();
    assert.deepEqual(rejected, ['0: AbortError not-sent', '1: AbortError not-sent', '2: AbortError not-sent']);
    assert.equal(sends.open, 0, 'flush waits for none of them');
    assert.equal(budget.bufferedBytes, 0);
    learn();
    await turns(3);
    assert.deepEqual(handed, [], 'nothing of the aborted run is placed once the topic is known');
    assert.equal(waiting(), 0);
  } finally {
    intake.stopSweep();
  }
});

test('a run whose topic\'s metadata fails to load fails each record with that error; close fails a run still waiting', async () => {
  const { intake, handed, rejected, settler, sends, refuse } = metadataIntake();
  try {
    intake.submitBatch(['a', 'b'].map((value) => ({ topic: 'n', value })), undefined, settler);
    await turns(1);
    refuse(new BufferTimeoutError('no metadata for topic n in time'));
    await turns(3);
    assert.deepEqual(rejected, ['0: BufferTimeoutError not-sent', '1: BufferTimeoutError not-sent']);
    rejected.length = 0;
    intake.submitBatch(['c'].map((value) => ({ topic: 'n', value })), undefined, settler);
    intake.failPending();
    assert.deepEqual(rejected, ['0: ProducerClosedError not-sent']);
    assert.equal(sends.open, 0);
    assert.deepEqual(handed, []);
  } finally {
    intake.stopSweep();
  }
});

test('a sendBatch made before connect to a topic the producer never saw is delivered whole, in call order', { timeout: 60_000 }, async () => {
  const broker = await FakeBroker.start(1, () => false, { autoAck: true });
  const producer = new Producer({ brokers: [broker.address], workers: 1 });
  try {
    const results = await producer.sendBatch(records(SLICE + 3));
    assert.ok(results.every((r) => r.status === 'fulfilled'));
    const offsets = results.map((r) => (r as PromiseFulfilledResult<{ offset: number }>).value.offset);
    assert.deepEqual(offsets, offsets.map((_, i) => offsets[0]! + i));
  } finally {
    await producer.close({ timeoutMs: 5000 });
    await broker.close();
  }
});
