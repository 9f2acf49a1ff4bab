/**
 * Idempotence when the broker's sequence state does not match ours. A healthy broker will not stage this, so a
 * fake one answers the first Produce with OUT_OF_ORDER_SEQUENCE_NUMBER (45): the producer must resend the same
 * records under the next producer epoch with their sequences restarted at 0 (docs/kafka-protocol.md), not fail them and
 * not reuse the old epoch's numbers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Producer } from '../../src/main/producer.js';
import { once } from 'node:events';
import type { RecordMetadata } from '../../src/main/types.js';
import { inOneBatch } from '../helpers/in-one-batch.js';
import { FakeBroker, FAKE_API, FAKE_PRODUCER_ID, type ProduceSeen } from '../helpers/fake-broker.js';
import { decodeRecordBatches } from '../../src/protocol/record-batch-decoder.js';
import { channels } from '../../src/main/tracing.js';

test('OUT_OF_ORDER_SEQUENCE_NUMBER: the batch is resent under the next epoch from sequence 0, and delivered', { timeout: 30_000 }, async () => {
  const broker = await FakeBroker.start(1);
  const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 0, retryBackoffMs: 1, retryBackoffMaxMs: 5 });
  try {
    // Connected and the topic known first: a sendBatch that waits for metadata is admitted record by record, and
    // with lingerMs 0 its records could then leave in separate batches.
    const warm = producer.send({ topic: 't', partition: 0, value: 'w' });
    broker.answer(await broker.nextProduce(0), 0n);
    await warm;

    const first = producer.sendBatch([
      { topic: 't', partition: 0, value: 'a' },
      { topic: 't', partition: 0, value: 'b' },
    ]);
    const rejected = await broker.nextProduce(1);
    const before = (await decodeRecordBatches(rejected.batches.get('t-0')!))[0]!;
    assert.equal(before.producerId, FAKE_PRODUCER_ID);
    assert.equal(before.baseSequence, 1);
    assert.equal(before.producerEpoch, 0);
    broker.answer(rejected, -1n, 45);

    // Fails fast if the records are settled (failed) instead of resent.
    const resent = await Promise.race([
      broker.nextProduce(2),
      first.then((results) => assert.fail(`settled without a resend: ${JSON.stringify(results.map((r) => r.status))}`)),
    ]);
    const after = (await decodeRecordBatches(resent.batches.get('t-0')!))[0]!;
    assert.equal(after.crcValid, true, 'the patched batch has a valid CRC');
    assert.equal(after.producerId, FAKE_PRODUCER_ID, 'same producer id');
    assert.equal(after.producerEpoch, 1, 'next epoch');
    assert.equal(after.baseSequence, 0, 'sequences restart at 0 in the new epoch');
    assert.deepEqual(after.records.map((r) => Buffer.from(r.value!).toString()), ['a', 'b'], 'the same records');
    broker.answer(resent, 7n);
    const results = await first;
    assert.deepEqual(results.map((r) => (r.status === 'fulfilled' ? r.value.offset : -2)), [7, 8]);

    // The next batch continues the new epoch's sequence.
    const next = producer.send({ topic: 't', partition: 0, value: 'c' });
    const third = await broker.nextProduce(3);
    const batch = (await decodeRecordBatches(third.batches.get('t-0')!))[0]!;
    assert.equal(batch.producerEpoch, 1);
    assert.equal(batch.baseSequence, 2);
    broker.answer(third, 9n);
    assert.equal((await next).offset, 9);
  } finally {
    await producer.close({ timeoutMs: 1000 });
    await broker.close();
  }
});

/** Offset of the first partition's partition_index in the fake broker's Metadata v1 answer for `topic`. */
function partitionIndexOffset(frame: Buffer, topic: string): number {
  // topic: error_code, name, is_internal:int8, partitions count:int32, then error_code:int16, partition_index:int32
  return frame.indexOf(Buffer.from(topic)) + topic.length + 1 + 4 + 2;
}

function withPartitionIndex(frame: Buffer, topic: string, index: number): Buffer {
  const bad = Buffer.from(frame);
  bad.writeInt32BE(index, partitionIndexOffset(bad, topic));
  return bad;
}

test('the CRC of every batch on the wire is valid: computed when encoded, or at first send for an idempotent batch', { timeout: 30_000 }, async () => {
  // An idempotent batch is encoded with a zero CRC (BatchHeader.crcAtSend) and stamped with its sequence, and the CRC
  // over it, when it first goes out: a send path that skipped the stamp would put a zero CRC on the wire.
  for (const idempotent of [true, false]) {
    const broker = await FakeBroker.start(1);
    const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 0, idempotent, ...(!idempotent && { acks: 1 as const }) });
    try {
      // Connected and the topic known first: a sendBatch that waits for metadata is admitted record by record, and
      // with lingerMs 0 its records could leave in two requests, the second never answered here.
      const warm = producer.send({ topic: 't', partition: 0, value: 'w' });
      broker.answer(await broker.nextProduce(0), 0n);
      await warm;
      for (let n = 1; n <= 3; n++) {
        const result = producer.sendBatch([
          { topic: 't', partition: 0, value: `a${n}` },
          { topic: 't', partition: 0, value: `b${n}`, headers: { h: 'v' } },
        ]);
        const seen = await broker.nextProduce(n);
        for (const batch of await decodeRecordBatches(seen.batches.get('t-0')!)) {
          assert.equal(batch.crcValid, true, `idempotent ${idempotent}, request ${n}`);
          assert.notEqual(batch.crc, 0);
        }
        broker.answer(seen, BigInt(10 * n));
        await result;
      }
    } finally {
      await producer.close({ timeoutMs: 1000 });
      await broker.close();
    }
  }
});

test('a batch buffer is reused only after its batch is delivered: a batch waiting to be retried resends its own bytes', { timeout: 30_000 }, async () => {
  // Batches of ~200 KB take their buffers from the worker's pool (src/workers/batch-buffers.ts). b is refused with a
  // retriable error and waits out a long backoff; d is sealed and encoded meanwhile. Had b's buffer gone back on
  // that answer, d would be written into it and b's resend would carry d's records.
  const broker = await FakeBroker.start(1);
  const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 0, retryBackoffMs: 2000, retryBackoffMaxMs: 2000 });
  const records = (tag: string) => Array.from({ length: 200 }, (_, i) => ({ topic: 't', partition: 0, value: `${tag}${i}:`.padEnd(1000, tag) }));
  const valuesOf = async (seen: Awaited<ReturnType<FakeBroker['nextProduce']>>) =>
    (await decodeRecordBatches(seen.batches.get('t-0')!)).flatMap((batch) => {
      assert.equal(batch.crcValid, true);
      return batch.records.map((r) => Buffer.from(r.value!).toString());
    });
  try {
    // Connected and the topic known first, so that each sendBatch below leaves as one batch.
    const warm = producer.send({ topic: 't', partition: 0, value: 'w' });
    broker.answer(await broker.nextProduce(0), 0n);
    await warm;
    const a = producer.sendBatch(records('a'));
    const seenA = await broker.nextProduce(1);
    broker.answer(seenA, 1n); // delivered: a's buffer is free for b
    await a;
    const b = producer.sendBatch(records('b'));
    const seenB = await broker.nextProduce(2);
    // d must be encoded while b waits out its backoff, so it is sent only once the worker has taken b's answer in:
    // sent earlier, d would simply be pipelined behind b (what the worker's 'retry' event rules out).
    const retryDecided = new Promise<void>((resolve) => {
      const onWorker = (message: unknown): void => {
        if ((message as { event?: string }).event !== 'retry') return;
        channels.worker.unsubscribe(onWorker);
        resolve();
      };
      channels.worker.subscribe(onWorker);
    });
    broker.answer(seenB, -1n, 19); // NOT_ENOUGH_REPLICAS: retriable, b keeps its bytes
    await retryDecided;
    const d = producer.sendBatch(records('d'));
    const resentB = await broker.nextProduce(3);
    const [firstB, resentFirst] = [...(await decodeRecordBatches(seenB.batches.get('t-0')!)), ...(await decodeRecordBatches(resentB.batches.get('t-0')!))];
    assert.equal(resentFirst!.baseSequence, firstB!.baseSequence, "the resend is b's batch, its sequence unchanged");
    assert.deepEqual(await valuesOf(resentB), records('b').map((r) => r.value), "b's resend is b");
    broker.answer(resentB, 200n);
    const seenD = await broker.nextProduce(4);
    assert.deepEqual(await valuesOf(seenD), records('d').map((r) => r.value));
    broker.answer(seenD, 400n);
    assert.deepEqual((await b).map((r) => (r.status === 'fulfilled' ? r.value.offset : -1)).slice(0, 2), [200, 201]);
    assert.equal((await d).every((r) => r.status === 'fulfilled'), true);
  } finally {
    await producer.close({ timeoutMs: 1000 });
    await broker.close();
  }
});

test('a failed metadata refresh after a retriable error is retried; the worker lives and the record is delivered', { timeout: 30_000 }, async () => {
  const topic = 'refresh-topic';
  const broker = await FakeBroker.start(1);
  const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 0, retryBackoffMs: 1, retryBackoffMaxMs: 5 });
  const crashes: unknown[] = [];
  producer.on('workerCrash', (error) => crashes.push(error));
  let corrupt = true;
  let corrupted = 0;
  // The main thread's Metadata answer (the first) is honest; the worker's are not, until the test says so.
  broker.tamper = (apiKey, frame, nth) => {
    if (apiKey !== FAKE_API.metadata || nth < 2 || !corrupt) return frame;
    corrupted++;
    return withPartitionIndex(frame, topic, 922_746_883);
  };
  try {
    const sent = producer.send({ topic, partition: 0, value: 'v' });
    // NOT_LEADER_OR_FOLLOWER asks for a refresh, which the broker then answers with nonsense.
    broker.answer(await broker.nextProduce(0), -1n, 6);
    while (corrupted === 0) await once(broker, 'answered');
    corrupt = false;
    // The batch is retried (the refresh is too); the next attempt succeeds.
    const retried = await Promise.race([broker.nextProduce(1), sent.then(() => assert.fail('settled before the retry'))]);
    broker.answer(retried, 11n);
    assert.equal((await sent).offset, 11);
    assert.deepEqual(crashes, [], 'no worker died');
  } finally {
    await producer.close({ timeoutMs: 1000 });
    await broker.close();
  }
});

test('a worker whose Metadata answers carry partition_index 922746883 fails the record at its deadline and closes on time', { timeout: 30_000 }, async () => {
  const topic = 'huge-index-topic';
  const broker = await FakeBroker.start(1);
  const producer = new Producer({
    brokers: [broker.address], workers: 1, lingerMs: 0, requestTimeoutMs: 500, deliveryTimeoutMs: 1000, retryBackoffMs: 10, retryBackoffMaxMs: 50,
  });
  const crashes: unknown[] = [];
  producer.on('workerCrash', (error) => crashes.push(error));
  broker.tamper = (apiKey, frame, nth) => (apiKey === FAKE_API.metadata && nth >= 1 ? withPartitionIndex(frame, topic, 922_746_883) : frame);
  try {
    const outcome = await producer.send({ topic, partition: 0, value: 'v' }).then(
      () => assert.fail('delivered without a leader'),
      (error: unknown) => error,
    );
    assert.equal((outcome as { code?: string }).code, 'ERR_DELIVERY_TIMEOUT', String(outcome));
    assert.equal(broker.produces.length, 0, 'nothing was sent to a partition the worker could not place');
    assert.deepEqual(crashes, []);
  } finally {
    // Hang detector, not a timing assertion: close must return well within the test's timeout.
    await producer.close({ timeoutMs: 3000 });
    await broker.close();
  }
});

test('CreateTime: a deduplicated retry answered with the batch max timestamp reports each record its own timestamp', { timeout: 30_000 }, async () => {
  const broker = await FakeBroker.start(1);
  const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 60_000, retryBackoffMs: 1, retryBackoffMaxMs: 5 });
  const t1 = Date.now() - 2000;
  const t2 = t1 + 500;
  try {
    const sent = inOneBatch(producer, [
      { topic: 'ts', partition: 0, value: 'a', timestamp: t1 },
      { topic: 'ts', partition: 0, value: 'b', timestamp: t2 },
    ]);
    // REQUEST_TIMED_OUT: the leader may have written it; the retry is then answered as a duplicate, which
    // reports the stored batch's max timestamp (t2) as log_append_time_ms on a CreateTime topic.
    broker.answer(await broker.nextProduce(0), -1n, 7);
    broker.answer(await broker.nextProduce(1), 20n, 0, BigInt(t2));
    const results = await sent;
    assert.deepEqual(results.map((r) => (r.status === 'fulfilled' ? [r.value.offset, r.value.timestamp] : r.reason)), [[20, t1], [21, t2]]);
  } finally {
    await producer.close({ timeoutMs: 1000 });
    await broker.close();
  }
});

test('LogAppendTime: the broker time is every record timestamp, on a first answer and on a retried one', { timeout: 30_000 }, async () => {
  const broker = await FakeBroker.start(1);
  const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 60_000, retryBackoffMs: 1, retryBackoffMaxMs: 5 });
  const t1 = Date.now() - 2000;
  const appended = BigInt(t1 + 1234);
  try {
    const first = inOneBatch(producer, [{ topic: 'lat', partition: 0, value: 'a', timestamp: t1 }, { topic: 'lat', partition: 0, value: 'b', timestamp: t1 + 1 }]);
    broker.answer(await broker.nextProduce(0), 0n, 0, appended);
    assert.deepEqual((await first).map((r) => (r.status === 'fulfilled' ? r.value.timestamp : -2)), [Number(appended), Number(appended)]);
    const second = inOneBatch(producer, [{ topic: 'lat', partition: 0, value: 'c', timestamp: t1 }]).then(([r]) => {
      assert.equal(r!.status, 'fulfilled');
      return (r as PromiseFulfilledResult<RecordMetadata>).value;
    });
    broker.answer(await broker.nextProduce(1), -1n, 7);
    // The stored batch's max timestamp is its append time here: the same number a duplicate answer carries.
    broker.answer(await broker.nextProduce(2), 2n, 0, appended + 5n);
    assert.equal((await second).timestamp, Number(appended + 5n));
  } finally {
    await producer.close({ timeoutMs: 1000 });
    await broker.close();
  }
});

/** Sends one record and waits until its batch is on the wire (the fake broker holds every Produce unanswered). */
async function sendInFlight(producer: Producer, broker: FakeBroker, value: string, nth: number) {
  const result = producer.send({ topic: 't', partition: 0, value });
  result.catch(() => undefined); // observed by the test later
  const seen = await broker.nextProduce(nth);
  const batch = (await decodeRecordBatches(seen.batches.get('t-0')!))[0]!;
  return { result, seen, batch };
}

/**
 * A one-worker producer that sends each record at once, up to five requests in flight, against a fake broker. Its
 * first record ('w', Produce 0, sequence 0) is acknowledged before `run`: until the broker holds the producer's state
 * for a partition, a partition sends one batch at a time (src/workers/delivery-policy.ts).
 */
async function withPipelinedProducer(run: (producer: Producer, broker: FakeBroker) => Promise<void>): Promise<void> {
  const broker = await FakeBroker.start(1);
  const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 0, maxInFlight: 5, retryBackoffMs: 1, retryBackoffMaxMs: 5 });
  try {
    const warm = await sendInFlight(producer, broker, 'w', 0);
    broker.answer(warm.seen, 0n);
    await warm.result;
    await run(producer, broker);
  } finally {
    await producer.close({ timeoutMs: 1000 });
    await broker.close();
  }
}

test('pipelining: three batches of one partition in flight; a NOT_LEADER head and the gaps behind it are resent in order with their sequences', { timeout: 30_000 }, () =>
  withPipelinedProducer(async (producer, broker) => {
    // Each record is sent only once the previous one is on the wire, unanswered: one batch each, all in flight at
    // once. With one batch per partition on the wire the second would never leave and this would time out.
    const a = await sendInFlight(producer, broker, 'a', 1);
    const b = await sendInFlight(producer, broker, 'b', 2);
    const c = await sendInFlight(producer, broker, 'c', 3);
    assert.deepEqual([a.batch.baseSequence, b.batch.baseSequence, c.batch.baseSequence], [1, 2, 3]);
    broker.answer(a.seen, -1n, 6); // NOT_LEADER_OR_FOLLOWER
    broker.answer(b.seen, -1n, 45); // OUT_OF_ORDER_SEQUENCE_NUMBER: a is missing
    broker.answer(c.seen, -1n, 45);

    const resent = [];
    for (let nth = 4; nth < 7; nth++) {
      const seen = await broker.nextProduce(nth);
      resent.push({ seen, batch: (await decodeRecordBatches(seen.batches.get('t-0')!))[0]! });
    }
    assert.deepEqual(resent.map((r) => Buffer.from(r.batch.records[0]!.value!).toString()), ['a', 'b', 'c'], 'in order');
    assert.deepEqual(resent.map((r) => r.batch.baseSequence), [1, 2, 3], 'the same sequences: resent byte for byte');
    assert.deepEqual(resent.map((r) => r.batch.producerEpoch), [0, 0, 0], 'a gap behind a retried batch is no epoch bump');
    resent.forEach((r, i) => broker.answer(r.seen, BigInt(10 + i)));
    assert.deepEqual(await Promise.all([a.result, b.result, c.result]).then((m) => m.map((r) => r.offset)), [10, 11, 12]);
  }));

test('pipelining: a batch refused for good in the middle of the window hands its sequence to the batch behind it', { timeout: 30_000 }, () =>
  withPipelinedProducer(async (producer, broker) => {
    const a = await sendInFlight(producer, broker, 'a', 1);
    const b = await sendInFlight(producer, broker, 'b', 2);
    const c = await sendInFlight(producer, broker, 'c', 3);
    broker.answer(a.seen, 20n);
    broker.answer(b.seen, -1n, 87); // INVALID_RECORD: not retriable, not written
    broker.answer(c.seen, -1n, 45); // OUT_OF_ORDER_SEQUENCE_NUMBER: b's sequence is missing
    assert.equal((await a.result).offset, 20);
    await assert.rejects(b.result, (error: Error & { code?: string }) => /INVALID_RECORD/.test(`${error.code} ${error.message}`));
    const retried = await broker.nextProduce(4);
    const batch = (await decodeRecordBatches(retried.batches.get('t-0')!))[0]!;
    assert.equal(Buffer.from(batch.records[0]!.value!).toString(), 'c');
    assert.equal(batch.baseSequence, 2, 'c takes the number b gave back');
    assert.equal(batch.producerEpoch, 0);
    assert.equal(batch.crcValid, true);
    broker.answer(retried, 21n);
    assert.equal((await c.result).offset, 21);
    // And the sequence goes on from there.
    const d = await sendInFlight(producer, broker, 'd', 5);
    assert.equal(d.batch.baseSequence, 3);
    broker.answer(d.seen, 22n);
    await d.result;
  }));

test('pipelining: a batch written but answered REQUEST_TIMED_OUT, then overtaken, is never written again under a new epoch', { timeout: 30_000 }, () =>
  withPipelinedProducer(async (producer, broker) => {
    // a is appended but answered REQUEST_TIMED_OUT; b..e are acknowledged after it. a's retry (a duplicate) and f
    // behind it (appended) are processed, but their answers are lost with the connection: the broker's last five
    // batches are now b..f, and a's next retry is answered OUT_OF_ORDER_SEQUENCE_NUMBER. Taken for lost broker
    // state, a was resent under epoch 1 from sequence 0 and written a second time, after f.
    const a = await sendInFlight(producer, broker, 'a', 1);
    const later = [];
    for (const [i, value] of ['b', 'c', 'd', 'e'].entries()) later.push(await sendInFlight(producer, broker, value, 2 + i));
    assert.deepEqual([a.batch.baseSequence, ...later.map((x) => x.batch.baseSequence)], [1, 2, 3, 4, 5]);
    broker.answer(a.seen, -1n, 7); // REQUEST_TIMED_OUT
    later.forEach((x, i) => broker.answer(x.seen, BigInt(11 + i)));
    await Promise.all(later.map((x) => x.result));
    const retry = await broker.nextProduce(6);
    const f = await sendInFlight(producer, broker, 'f', 7);
    assert.equal(f.batch.baseSequence, 6);
    retry.socket.destroy(); // both processed, neither answered
    const next = await broker.nextProduce(8);
    const resent = (await decodeRecordBatches(next.batches.get('t-0')!))[0]!;
    assert.deepEqual([Buffer.from(resent.records[0]!.value!).toString(), resent.baseSequence, resent.producerEpoch], ['a', 1, 0]);
    broker.answer(next, -1n, 45); // OUT_OF_ORDER_SEQUENCE_NUMBER: a is no longer among the broker's last five batches
    const after = await broker.nextProduce(9);
    const batch = (await decodeRecordBatches(after.batches.get('t-0')!))[0]!;
    assert.deepEqual([Buffer.from(batch.records[0]!.value!).toString(), batch.baseSequence, batch.producerEpoch], ['f', 6, 0],
      'only f is resent (byte for byte); a is not written again');
    broker.answer(after, 15n);
    assert.equal((await f.result).offset, 15);
    await assert.rejects(a.result, (error: Error & { delivery?: string }) => error.delivery === 'unknown', 'a is in the log: never told not-sent');
  }));

test('maxRequestBytes caps a Produce request: batches sealed together leave at once in several requests, none over the limit', { timeout: 30_000 }, async () => {
  // Java's max.request.size: a broker refuses (and disconnects) a request over its socket.request.max.bytes, and this
  // is how a user keeps under it. Eight batches of ~10 KB, sealed in one turn by a flush, are ready at once.
  const partitions = 8;
  const maxRequestBytes = 40 * 1024;
  const broker = await FakeBroker.start(partitions);
  const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 60_000, maxRequestBytes, batchMaxBytes: 16 * 1024 });
  try {
    // Connected and the topic's leaders known first, so nothing but the batches themselves (a metadata answer, say)
    // makes the worker send again.
    const warm = producer.send({ topic: 't', partition: 0, value: 'w' });
    void producer.flush();
    broker.answer(await broker.nextProduce(0), 0n);
    await warm;
    const records = [];
    for (let p = 0; p < partitions; p++) for (let i = 0; i < 10; i++) records.push({ topic: 't', partition: p, value: Buffer.alloc(1000, 65 + p) });
    const sent = inOneBatch(producer, records);
    // None is answered until every batch has left: up to maxInFlight (5) requests may be outstanding on the
    // connection, so the batches a full request left out go in the next one at once, not a round trip later.
    const produces: ProduceSeen[] = [];
    const carried = new Set<string>();
    while (carried.size < partitions) {
      const produce = await broker.nextProduce(1 + produces.length);
      produces.push(produce);
      for (const key of produce.batches.keys()) carried.add(key);
    }
    for (const produce of produces) broker.answer(produce, 0n);
    const requests = produces.map((produce) => [...produce.batches.values()].map((batch) => batch.length));
    for (const [n, sizes] of requests.entries()) {
      const bytes = sizes.reduce((sum, size) => sum + size, 0);
      assert.ok(bytes <= maxRequestBytes, `request ${n} carries ${bytes} bytes of batches, over maxRequestBytes ${maxRequestBytes}`);
    }
    assert.ok(requests.some((sizes) => sizes.length > 1), 'batches ready together still share a request');
    const results = await sent;
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, records.length, 'every record delivered');
  } finally {
    await producer.close({ timeoutMs: 1000 });
    await broker.close();
  }
});
