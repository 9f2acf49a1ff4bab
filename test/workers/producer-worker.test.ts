/**
 * Idempotence when the broker's sequence state does not match ours. A healthy broker will not stage this, so a
 * fake one answers the first Produce with OUT_OF_ORDER_SEQUENCE_NUMBER (45): the producer must resend the same
 * records under the next producer epoch with their sequences restarted at 0 (docs/kafka-protocol.md), not fail them and
 * not reuse the old epoch's numbers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Producer } from '../../src/main/producer.js';
import { FakeBroker, FAKE_PRODUCER_ID } from '../helpers/fake-broker.js';
import { decodeRecordBatches } from '../../src/protocol/record-batch-decoder.js';

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
