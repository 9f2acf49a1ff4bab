/**
 * What the producer does with a Produce answer a healthy broker will not give on demand, staged by the fake broker
 * (test/helpers/fake-broker.ts) and observed only through the public Producer, so the tests hold whatever the
 * worker's insides become:
 * - DUPLICATE_SEQUENCE_NUMBER (46) means the broker already has the batch: the records are delivered, not failed
 *   and not resent;
 * - a request the broker never answers is released by the main thread's delivery-timeout sweep, even while the
 *   worker keeps retrying it (an unanswered request may have been written, so the worker may not give it up);
 * - close() without timeoutMs still ends when the broker never answers: what the delivery timeout released is given
 *   up one request timeout after the flush;
 * - a partition the worker's own metadata gives no leader is reported to the main thread, whose partitioner then
 *   avoids it;
 * - KIP-467 record errors (Produce v8) fail only the records they name with the broker's error; the rest of the
 *   batch fails RejectedWithBatchError ('not-sent', retriable), and an index outside the batch is ignored;
 * - throttle_time_ms is honoured by the client itself (KIP-219, from Produce v6): nothing is sent on the throttled
 *   connection before the answer's arrival + throttle_time_ms.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Producer } from '../../src/main/producer.js';
import type { RecordMetadata } from '../../src/main/types.js';
import { DeliveryTimeoutError, ProducerClosedError, RejectedWithBatchError } from '../../src/shared/producer-errors.js';
import { BrokerError } from '../../src/shared/errors.js';
import { TransactionAbortableError } from '../../src/shared/transaction-errors.js';
import { FAKE_API, FakeBroker } from '../helpers/fake-broker.js';
import { inOneBatch } from '../helpers/in-one-batch.js';

const DUPLICATE_SEQUENCE_NUMBER = 46;

/**
 * Rejects once the broker has seen `count` Produce requests: a guard raced against an outcome the test expects
 * first, so a producer that resends instead of settling fails the test at once rather than hanging it. Aborting
 * `signal` removes its listener.
 */
async function failAtProduce(broker: FakeBroker, count: number, what: string, signal: AbortSignal): Promise<never> {
  while (broker.produces.length < count) await once(broker, 'produce', { signal });
  assert.fail(`${what}: the broker saw ${count} Produce requests first`);
}

/** Races `outcome` against `failAtProduce`, and always removes the guard's listener. */
async function before<T>(outcome: Promise<T>, broker: FakeBroker, count: number, what: string): Promise<T> {
  const guard = new AbortController();
  try {
    return await Promise.race([outcome, failAtProduce(broker, count, what, guard.signal)]);
  } finally {
    guard.abort();
  }
}

test('DUPLICATE_SEQUENCE_NUMBER on one partition of an answer: its records are delivered, not failed and not resent', { timeout: 30_000 }, async () => {
  const broker = await FakeBroker.start(2);
  const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 60_000, retryBackoffMs: 1, retryBackoffMaxMs: 5 });
  try {
    const sent = inOneBatch(producer, [
      { topic: 'dup', partition: 0, value: 'a' },
      { topic: 'dup', partition: 1, value: 'b' },
    ]);
    const produce = await broker.nextProduce(0);
    assert.deepEqual([...produce.partitions.get('dup')!].sort(), [0, 1], 'both partitions in the one request');
    broker.reply(produce, {
      partitions: (_topic, partition) => (partition === 1 ? { errorCode: DUPLICATE_SEQUENCE_NUMBER, baseOffset: -1n } : { baseOffset: 10n }),
    });
    const results = await before(sent, broker, 2, 'a record answered DUPLICATE_SEQUENCE_NUMBER');
    assert.deepEqual(results.map((r) => (r.status === 'fulfilled' ? 'delivered' : String(r.reason))), ['delivered', 'delivered']);
    assert.equal((results[0] as PromiseFulfilledResult<RecordMetadata>).value.offset, 10);
    assert.equal(producer.metrics().recordsFailed, 0);
  } finally {
    await producer.close({ timeoutMs: 1000 });
    await broker.close();
  }
});

test('a request the broker never answers: the caller gets DeliveryTimeoutError (delivery unknown) at deliveryTimeoutMs', { timeout: 30_000 }, async () => {
  // The broker reads every Produce and answers none: each attempt times out after requestTimeoutMs and, since it
  // may have been written, the worker retries it without a deadline. Only the main thread's sweep can release the
  // caller; without it the fifth unanswered attempt fails the test.
  const broker = await FakeBroker.start(1);
  const producer = new Producer({
    brokers: [broker.address], workers: 1, lingerMs: 0, requestTimeoutMs: 1000, deliveryTimeoutMs: 1000, retryBackoffMs: 1, retryBackoffMaxMs: 5,
  });
  try {
    const sent = producer.send({ topic: 'stalled', partition: 0, value: 'v' }).then(
      () => assert.fail('delivered, though the broker answered nothing'),
      (error: unknown) => error,
    );
    await broker.nextProduce(0);
    const error = await before(sent, broker, 5, 'a record whose requests are never answered');
    assert.ok(error instanceof DeliveryTimeoutError, `expected DeliveryTimeoutError, got ${String(error)}`);
    assert.equal(error.code, 'ERR_DELIVERY_TIMEOUT');
    assert.equal(error.delivery, 'unknown', 'it was in a request: the broker may have written it');
  } finally {
    await producer.close({ timeoutMs: 1000 });
    await broker.close();
  }
});

test('a broker error says whether the record may be in the log: unknown after an attempt that went unanswered, not-sent for a refusal alone', { timeout: 30_000 }, async () => {
  // The retry of a batch whose first attempt got no answer is refused (an ACL revoked meanwhile): the first attempt
  // may have been written, and a caller told nothing (as every broker error was) could resend it and write it twice.
  const TOPIC_AUTHORIZATION_FAILED = 29;
  const broker = await FakeBroker.start(1);
  let dropped = false;
  broker.tamper = (apiKey, frame) => {
    if (apiKey !== FAKE_API.produce || dropped) return frame;
    dropped = true;
    return null; // the first attempt goes unanswered
  };
  broker.on('produce', (seen) => broker.answer(seen, 0n, TOPIC_AUTHORIZATION_FAILED));
  const producer = new Producer({
    brokers: [broker.address], workers: 1, lingerMs: 0, requestTimeoutMs: 300, deliveryTimeoutMs: 5000, retryBackoffMs: 10, retryBackoffMaxMs: 50,
  });
  try {
    const afterLoss = await producer.send({ topic: 't', partition: 0, value: 'v' }).then(() => assert.fail('delivered'), (e: unknown) => e);
    assert.ok(afterLoss instanceof BrokerError, String(afterLoss));
    assert.equal(afterLoss.errorCode, TOPIC_AUTHORIZATION_FAILED);
    assert.equal(afterLoss.delivery, 'unknown');
    assert.match(afterLoss.message, /may have been written/);
    const refused = await producer.send({ topic: 't', partition: 0, value: 'w' }).then(() => assert.fail('delivered'), (e: unknown) => e);
    assert.ok(refused instanceof BrokerError, String(refused));
    assert.equal(refused.delivery, 'not-sent', 'refused at its only attempt');
  } finally {
    await producer.close({ timeoutMs: 1000 });
    await broker.close();
  }
});

test('close() without timeoutMs ends while the broker never answers: what is still unanswered after the delivery timeout is given up one request timeout later', { timeout: 30_000 }, async () => {
  // The unanswered batch stays ambiguous, so the worker would retry it for as long as the producer runs. Its caller
  // was released by the delivery timeout; close must not wait for the broker for ever (it did: every retry below is
  // one more Produce, and the guard fails the test at the sixth).
  const broker = await FakeBroker.start(1);
  const producer = new Producer({
    brokers: [broker.address], workers: 1, lingerMs: 0, requestTimeoutMs: 1000, deliveryTimeoutMs: 1000, retryBackoffMs: 1, retryBackoffMaxMs: 5,
  });
  let closed = false;
  try {
    const late: unknown[] = [];
    producer.on('lateOutcome', (outcome: unknown) => late.push(outcome));
    const sent = producer.send({ topic: 'stalled', partition: 0, value: 'v' }).then(
      () => assert.fail('delivered, though the broker answered nothing'),
      (error: unknown) => error,
    );
    await broker.nextProduce(0);
    assert.ok((await before(sent, broker, 3, 'a record whose requests are never answered')) instanceof DeliveryTimeoutError);
    await before(producer.close(), broker, broker.produces.length + 3, 'close() without timeoutMs');
    closed = true;
    assert.equal(late.length, 1, 'the released record still gets its outcome, as a lateOutcome');
    const { error } = late[0] as { error?: unknown };
    assert.ok(error instanceof ProducerClosedError, `expected ProducerClosedError, got ${String(error)}`);
    assert.equal(error.delivery, 'unknown', 'it was in a request: the broker may have written it');
  } finally {
    if (!closed) await producer.close({ timeoutMs: 1000 });
    await broker.close();
  }
});

test('close() without timeoutMs of a transactional producer ends while the broker never answers a record of the open transaction', { timeout: 60_000 }, async () => {
  // The abort close makes waits for the workers to report every record of the transaction, and the unanswered batch
  // is retried for as long as the producer runs: close waited for ever. Each retry is one more Produce; the guard
  // fails the test after a few more than the bound allows.
  const broker = await FakeBroker.start(1, () => false, { transactions: true });
  const producer = new Producer({
    brokers: [broker.address], workers: 1, lingerMs: 0, requestTimeoutMs: 1000, deliveryTimeoutMs: 1000, retryBackoffMs: 1, retryBackoffMaxMs: 5,
    transactionalId: 'tx-stalled',
  });
  let closed = false;
  try {
    await producer.beginTransaction();
    const sent = producer.send({ topic: 'stalled', partition: 0, value: 'v' }).then(
      () => assert.fail('delivered, though the broker answered nothing'),
      (error: unknown) => error,
    );
    await broker.nextProduce(0);
    assert.ok((await before(sent, broker, 3, 'a record whose requests are never answered')) instanceof DeliveryTimeoutError);
    await before(producer.close(), broker, broker.produces.length + 6, 'close() without timeoutMs');
    closed = true;
    assert.equal(producer.metrics().bufferedRecords, 0, 'nothing is left held');
  } finally {
    if (!closed) await producer.close({ timeoutMs: 1000 });
    await broker.close();
  }
});

test('a partition the worker finds without a leader in its own metadata is reported to the main thread, whose partitioner then leaves it alone', { timeout: 60_000 }, async () => {
  // The worker learns of the lost leader from a refresh, not from an answer: only an answer used to make it tell
  // the main thread, whose sticky partitioner then kept sending keyless records there until its next max-age
  // refresh (5 minutes), each failing at its delivery timeout.
  const broker = await FakeBroker.start(2, () => false, { autoAck: true });
  const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 0, batchMaxBytes: 1024, requestTimeoutMs: 500, deliveryTimeoutMs: 1000 });
  try {
    const warm = await Promise.all(Array.from({ length: 20 }, () => producer.send({ topic: 't', value: 'x'.repeat(200) })));
    assert.deepEqual(new Set(warm.map((m) => m.partition)), new Set([0, 1]), 'the main thread knows both partitions, with a leader');
    broker.leaderOf = (topic, partition) => (topic === 't' && partition === 1 ? -1 : 1);
    // A new topic makes the worker refresh, 't' included: from then on its metadata gives partition 1 no leader.
    await producer.send({ topic: 'other', value: 'v' });
    // The worker meets the leaderless partition through a record addressed to it.
    await assert.rejects(producer.send({ topic: 't', partition: 1, value: 'to p1' }), DeliveryTimeoutError);
    // Keyless records, a round at a time: once the main thread has refreshed, a round lands whole on partition 0.
    // Without the report every round put about half of its records on partition 1, where they failed.
    let clean = false;
    for (let round = 0; round < 5 && !clean; round++) {
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => producer.send({ topic: 't', value: 'x'.repeat(200) })));
      clean = results.every((r) => r.status === 'fulfilled' && r.value.partition === 0);
    }
    assert.ok(clean, 'keyless records kept going to the partition without a leader');
  } finally {
    await producer.close({ timeoutMs: 1000 });
    await broker.close();
  }
});

test('KIP-467 record errors (Produce v8): the records the broker names fail with its error, their batch-mates with RejectedWithBatchError, and a hostile index moves none', { timeout: 30_000 }, async () => {
  const INVALID_RECORD = 87;
  const broker = await FakeBroker.start(1, undefined, { produceVersion: 8 });
  const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 60_000, retryBackoffMs: 1, retryBackoffMaxMs: 5 });
  try {
    const records = ['a', 'b', 'c', 'd'].map((value) => ({ topic: 'compacted', partition: 0, value }));
    const settled = inOneBatch(producer, records);
    const produce = await broker.nextProduce(0);
    assert.equal(produce.version, 8);
    assert.equal(produce.recordCounts.get('compacted-0'), 4, 'one batch');
    const recordErrors = [{ batchIndex: 1, message: 'no key' }, { batchIndex: 9, message: 'past the end' }, { batchIndex: 1, message: 'again' }];
    broker.reply(produce, { partitions: () => ({ errorCode: INVALID_RECORD, baseOffset: -1n, recordErrors, errorMessage: 'batch refused' }) });
    const results = await before(settled, broker, 2, 'a refused batch was sent again');
    const reasons = results.map((r) => (r.status === 'rejected' ? r.reason : assert.fail('delivered')));
    const bad = reasons[1];
    assert.ok(bad instanceof BrokerError, String(bad));
    assert.equal(bad.errorCode, INVALID_RECORD);
    assert.equal(bad.delivery, 'not-sent');
    assert.match(bad.message, /INVALID_RECORD: no key/);
    for (const i of [0, 2, 3]) {
      const mate = reasons[i];
      assert.ok(mate instanceof RejectedWithBatchError, `record ${i}: ${String(mate)}`);
      assert.equal(mate.delivery, 'not-sent');
      assert.equal(mate.retriable, true);
      assert.match(mate.message, /another record of it was invalid \(INVALID_RECORD: no key\)/);
    }
  } finally {
    await producer.close({ timeoutMs: 1000 });
    await broker.close();
  }
});

test('throttle_time_ms (Produce v6+): nothing is sent on the throttled connection before the throttle ends', { timeout: 30_000 }, async () => {
  const throttleMs = 300;
  const broker = await FakeBroker.start(1, undefined, { produceVersion: 7 });
  const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 0, retryBackoffMs: 1, retryBackoffMaxMs: 5 });
  try {
    const first = producer.send({ topic: 'throttled', partition: 0, value: 'a' });
    const throttled = await broker.nextProduce(0);
    assert.ok(throttled.version >= 6, `Produce v${throttled.version}: the client must throttle itself from v6`);
    // Read before the answer is written, so `deadline` is no later than the client's own deadline (a lower bound).
    const deadline = Date.now() + throttleMs;
    broker.reply(throttled, { partitions: () => ({ baseOffset: 0n }), throttleTimeMs: throttleMs });
    assert.equal((await first).offset, 0);

    // Sent at once by the caller: only the throttle may hold it back.
    const second = producer.send({ topic: 'throttled', partition: 0, value: 'b' });
    second.catch(() => undefined); // a failed assertion below closes the producer under it
    const next = await broker.nextProduce(1);
    assert.ok(next.at >= deadline, `the next Produce came ${deadline - next.at} ms before the throttle ended`);
    const early = broker.requests.filter((r) => r.socket === throttled.socket && r.at > throttled.at && r.at < deadline);
    assert.deepEqual(early.map((r) => r.apiKey), [], 'requests on the throttled connection before the throttle ended');
    broker.reply(next, { partitions: () => ({ baseOffset: 1n }) });
    assert.equal((await second).offset, 1);
    assert.ok(producer.metrics().throttleTimeMs >= throttleMs, 'the throttle time is reported');
  } finally {
    await producer.close({ timeoutMs: 1000 });
    await broker.close();
  }
});

/**
 * A transaction's record whose batch's first attempt goes unanswered, and every ApiVersions answer after it rewritten
 * by `rewrite` (the worker's next connection among them, whichever of the producer's connections asks first): the
 * commit must fail saying `why`, the record `'unknown'`, and no second Produce go out.
 */
async function unansweredThenApiVersions(transactionalId: string, rewrite: (frame: Buffer) => Buffer, why: RegExp): Promise<void> {
  const broker = await FakeBroker.start(1, () => false, { transactions: true });
  let dropped = false;
  let rewritten = 0;
  broker.tamper = (apiKey, frame) => {
    if (apiKey === FAKE_API.produce && !dropped) {
      dropped = true;
      return null; // the batch's first attempt goes unanswered
    }
    if (apiKey !== FAKE_API.apiVersions || !dropped) return frame;
    rewritten++;
    return rewrite(frame);
  };
  broker.on('produce', (seen) => broker.answer(seen, 0n));
  const producer = new Producer({
    brokers: [broker.address], workers: 1, transactionalId, lingerMs: 0, requestTimeoutMs: 300, bufferTimeoutMs: 700,
    deliveryTimeoutMs: 1000, retryBackoffMs: 10, retryBackoffMaxMs: 100, reconnectBackoffMs: 10, reconnectBackoffMaxMs: 100,
  });
  try {
    await producer.beginTransaction();
    const sent = producer.send({ topic: 't', partition: 0, value: 'v' });
    await assert.rejects(producer.commitTransaction(), (e: Error) => e instanceof TransactionAbortableError && why.test(e.message));
    await assert.rejects(sent, (e: Error) => e instanceof DeliveryTimeoutError && (e as DeliveryTimeoutError).delivery === 'unknown');
    assert.ok(rewritten > 0, 'the retry met the rewritten ApiVersions answer');
    assert.equal(broker.produces.length, 1, 'never sent again');
  } finally {
    await producer.close({ timeoutMs: 1000 });
    await broker.close();
  }
}

test('an unanswered batch whose leader then refuses every ApiVersions version fails at its deadline, and the commit waiting on it settles', { timeout: 30_000 }, async () => {
  // The handshake's own refusal (no connection opens) left the batch waiting for a connection for ever, as the
  // refusal of its Produce version once did.
  await unansweredThenApiVersions('tx-no-handshake', (frame) => {
    const answer = Buffer.from(frame);
    answer.writeInt16BE(35, 8); // UNSUPPORTED_VERSION, after the size and the correlation id
    return answer;
  }, /no connection to its leader could be opened/);
});

test('an unanswered batch whose retries the broker\'s ApiVersions leave no Produce version for fails at its deadline, and the commit waiting on it settles', { timeout: 30_000 }, async () => {
  // Retried until a broker answers (it may have been written), it was never sent again: the worker retried it for
  // ever, and commitTransaction waited for it for ever.
  await unansweredThenApiVersions('tx-no-version', (frame) => {
    // Produce (key 0, offered as v3 only) at v2 only.
    const at = frame.indexOf(Buffer.from([0, 0, 0, 3, 0, 3]), 8);
    assert.ok(at > 0, 'the Produce entry of the ApiVersions answer');
    const older = Buffer.from(frame);
    older.writeInt16BE(2, at + 2);
    older.writeInt16BE(2, at + 4);
    return older;
  }, /could not be sent/);
});
