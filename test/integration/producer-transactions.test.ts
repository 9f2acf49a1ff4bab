/**
 * Transactions against the real broker, each outcome read back by Kafka's own console consumer with
 * `--isolation-level read_committed` (and read_uncommitted, to show aborted records were written and then hidden),
 * Kafka's consumer-group tool for committed offsets, and DumpLogSegments for the producer epochs:
 * - committed records are visible, aborted ones never; counts exact and in order;
 * - a producer killed (kill -9) mid-transaction is fenced by its successor, and its open transaction aborted;
 * - of two live producers with the same transactionalId, the older one gets ProducerFencedError;
 * - consume-transform-produce: committed group offsets match the output records exactly across an injected abort;
 * - a transaction spanning partitions of two workers, one of which crashes, aborts and never commits half;
 * - a record failed in a failures-only `tx.sendBatch` refuses the commit, as one in a full result does;
 * - a transaction with nothing to send commits.
 * With KAFKA_TRANSACTION_VERSION=1 (a cluster finalizing transaction protocol v1, .ci/run's three-node step) the same
 * tests run through the v1 path (AddPartitionsToTxn, AddOffsetsToTxn, Produce v11).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Producer } from '../../src/main/producer.js';
import type { ProducerOptions } from '../../src/main/types.js';
import { WorkerCrashedError } from '../../src/shared/producer-errors.js';
import { ProducerFencedError, TransactionAbortableError, TransactionStateError } from '../../src/shared/transaction-errors.js';
import { ROOT } from '../../scripts/kafka/config.js';
import { createTopic, uniqueTopic, useBroker } from '../helpers/broker.js';
import { consume, dumpBatches, dumpControlRecords, groupOffsets, localSegments, until } from '../helpers/readback.js';
import { WorkerThreads } from '../helpers/worker-threads.js';

const threads = new WorkerThreads();
const open = new Set<Producer>();
/** Transactional ids must not collide across runs against the same broker. */
const run = `${process.pid}-${Date.now()}`;

before(() => threads.start());
after(async () => {
  await Promise.allSettled([...open].map((p) => p.close({ timeoutMs: 5000 })));
  threads.stop();
});

function producer(options: ProducerOptions): Producer {
  const p = new Producer(options);
  open.add(p);
  return p;
}

const values = (prefix: string, n: number, topic: string, partition?: number) =>
  Array.from({ length: n }, (_, i) => ({ topic, value: `${prefix}-${i}`, ...(partition !== undefined && { partition }) }));

/** Reads every record read_committed sees (one more than expected is asked for, so an extra one would show). */
async function committed(brokers: string[], topic: string, expected: number) {
  return consume(brokers, topic, expected + 1, { isolationLevel: 'read_committed', idleMs: 8000 });
}

describe('transactions', { timeout: 180_000 }, () => {
  test('committed records are visible to read_committed readers, aborted ones never; exact counts, in order', async () => {
    const brokers = await useBroker();
    const topic = uniqueTopic('txn-basic');
    await createTopic(topic, 3);
    const p = producer({ brokers, transactionalId: `basic-${run}`, workers: 2 });

    await p.transaction(async (tx) => {
      const results = await tx.sendBatch(values('first', 300, topic));
      assert.ok(results.every((r) => r.status === 'fulfilled'));
    });
    const injected = new Error('injected');
    await assert.rejects(
      p.transaction(async (tx) => {
        await tx.sendBatch(values('aborted', 200, topic));
        throw injected;
      }),
      (error) => error === injected,
    );
    await p.beginTransaction();
    await Promise.all(values('second', 100, topic).map((record) => p.send(record)));
    await p.commitTransaction();

    const visible = await committed(brokers, topic, 400);
    assert.equal(visible.length, 400, 'exactly the committed records');
    assert.ok(visible.every((r) => !r.value.startsWith('aborted')), 'no aborted record is visible');
    // In order within each partition: each transaction's numbering rises, and the first precedes the second.
    for (const partition of [0, 1, 2]) {
      const seen = visible.filter((r) => r.partition === partition).map((r) => r.value);
      const firsts = seen.filter((v) => v.startsWith('first-')).map((v) => Number(v.split('-')[1]));
      const seconds = seen.filter((v) => v.startsWith('second-')).map((v) => Number(v.split('-')[1]));
      assert.deepEqual(firsts, [...firsts].sort((a, b) => a - b), `partition ${partition}: first transaction in order`);
      assert.deepEqual(seconds, [...seconds].sort((a, b) => a - b), `partition ${partition}: second transaction in order`);
      if (firsts.length > 0 && seconds.length > 0) assert.ok(seen.indexOf(`first-${firsts.at(-1)}`) < seen.indexOf(`second-${seconds[0]}`));
    }
    assert.deepEqual(new Set(visible.map((r) => r.value)), new Set([...values('first', 300, topic), ...values('second', 100, topic)].map((r) => r.value)));
    const everything = await consume(brokers, topic, 601, { isolationLevel: 'read_uncommitted', idleMs: 8000 });
    assert.equal(everything.length, 600, 'the aborted records were written, and hidden by the abort marker');

    // A send outside a transaction is refused with a clear error.
    await assert.rejects(p.send({ topic, value: 'outside' }), TransactionStateError);

    // Transaction protocol v2 bumps the epoch at every EndTxn; v1 keeps it across commits (an abort with nothing
    // failed keeps it too). DumpLogSegments shows the epoch each transaction's batches carried.
    const segments = localSegments(topic, 3);
    if ('files' in segments) {
      const batches = [...(await dumpBatches(segments.files)).values()].flat().filter((b) => b.producerId >= 0n);
      const epochs = new Set(batches.map((b) => b.producerEpoch));
      if (process.env.KAFKA_TRANSACTION_VERSION === '1') assert.equal(epochs.size, 1, `v1: one epoch for all three transactions, got ${[...epochs]}`);
      else assert.ok(epochs.size >= 3, `v2: a new epoch per transaction, got ${[...epochs]}`);
    }
  });

  test("tx.sendBatch with results: 'failures': a failed record refuses the commit; none of the transaction's records become visible", async () => {
    const brokers = await useBroker();
    const topic = uniqueTopic('txn-failures');
    await createTopic(topic, 1);
    const p = producer({ brokers, transactionalId: `failures-${run}`, workers: 1 });
    const bad = { topic, value: 7 as unknown as string };
    const outcome = await p.transaction(async (tx) => {
      // The function does not throw: the failure is seen in the failures-only result, by the transaction itself.
      const { failures } = await tx.sendBatch([...values('doomed', 20, topic), bad], { results: 'failures' });
      assert.deepEqual(failures.map((f) => f.index), [20]);
    }).then(() => 'committed', (error: unknown) => error);
    assert.ok(outcome instanceof TransactionAbortableError, `the commit is refused as abortable, got ${String(outcome)}`);
    await p.transaction(async (tx) => {
      const { failures } = await tx.sendBatch(values('kept', 10, topic), { results: 'failures' });
      assert.deepEqual(failures, []);
    });
    const visible = await committed(brokers, topic, 10);
    assert.deepEqual(visible.map((r) => r.value), values('kept', 10, topic).map((r) => r.value), 'only the committed transaction, in order');
  });

  test('a transaction with nothing to send (sendBatch([]), sendOffsets of no offsets) commits, and so does the next', async () => {
    // A consume-transform-produce loop whose poll left nothing: the empty sendBatch marked the transaction as known
    // to its coordinator, and under protocol v2 the broker refused its EndTxn(commit) with INVALID_TXN_STATE, fatal.
    const brokers = await useBroker();
    const topic = uniqueTopic('txn-empty');
    await createTopic(topic, 1);
    const p = producer({ brokers, transactionalId: `empty-${run}`, workers: 1 });
    await p.transaction(async (tx) => {
      assert.deepEqual(await tx.sendBatch([]), []);
      await tx.sendOffsets({ groupId: `empty-group-${run}`, offsets: [] });
    });
    await p.transaction(async (tx) => {
      await tx.sendBatch(values('after-empty', 5, topic));
    });
    const visible = await committed(brokers, topic, 5);
    assert.deepEqual(visible.map((r) => r.value), values('after-empty', 5, topic).map((r) => r.value));
  });

  test('two producers with one transactionalId: the newer one fences the older, which gets ProducerFencedError', async () => {
    const brokers = await useBroker();
    const topic = uniqueTopic('txn-fence');
    await createTopic(topic, 1);
    const transactionalId = `fence-${run}`;
    const older = producer({ brokers, transactionalId });
    await older.beginTransaction();
    await older.sendBatch(values('older', 20, topic));

    const newer = producer({ brokers, transactionalId });
    await newer.connect(); // InitProducerId: fences `older` and aborts its open transaction
    const error = await older.commitTransaction().then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof ProducerFencedError, `older commit: ProducerFencedError, got ${String(error)}`);
    assert.equal(error.category, 'fatal');
    await assert.rejects(older.beginTransaction(), ProducerFencedError, 'fatal: every later operation fails the same way');

    await newer.transaction(async (tx) => void (await tx.sendBatch(values('newer', 10, topic))));
    const visible = await committed(brokers, topic, 10);
    assert.deepEqual(visible.map((r) => r.value), values('newer', 10, topic).map((r) => r.value));
  });

  test('a producer killed (kill -9) mid-transaction: its successor fences it and its records never become visible', async () => {
    const brokers = await useBroker();
    const topic = uniqueTopic('txn-kill');
    await createTopic(topic, 2);
    const transactionalId = `kill-${run}`;
    const child = spawn(process.execPath, ['--import', 'tsx', join('test', 'integration', 'fixtures', 'open-transaction.ts'), brokers.join(','), topic, transactionalId, '50'], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    await until(() => output.includes('sent') || output.includes('failed') || child.exitCode !== null, 'the child to send its records', 90_000);
    assert.match(output, /^sent/, 'the child wrote 50 records in an open transaction');
    child.kill('SIGKILL');
    await once(child, 'exit');

    const successor = producer({ brokers, transactionalId });
    await successor.transaction(async (tx) => void (await tx.sendBatch(values('successor', 10, topic))));
    const visible = await committed(brokers, topic, 10);
    assert.deepEqual(visible.map((r) => r.value).sort(), values('successor', 10, topic).map((r) => r.value).sort());
    const everything = await consume(brokers, topic, 61, { isolationLevel: 'read_uncommitted', idleMs: 8000 });
    assert.equal(everything.length, 60, "the killed producer's 50 records are in the log, aborted");
  });

  test('consume-transform-produce: committed group offsets match the committed output exactly, across an abort', async () => {
    const brokers = await useBroker();
    const input = uniqueTopic('txn-in');
    const output = uniqueTopic('txn-out');
    await createTopic(input, 1);
    await createTopic(output, 2);
    const groupId = `ctp-${run}`;
    const plain = producer({ brokers });
    await plain.sendBatch(values('in', 30, input, 0));
    // The input as a consumer would have read it: offsets 0..29 of partition 0.
    const consumed = await consume(brokers, input, 30);
    assert.equal(consumed.length, 30);

    const p = producer({ brokers, transactionalId: `ctp-${run}` });
    const processChunk = async (from: number, abort: boolean): Promise<void> => {
      await p.beginTransaction();
      await p.sendBatch(consumed.slice(from, from + 10).map((r) => ({ topic: output, key: `k-${r.offset}`, value: `T(${r.value})` })));
      await p.sendOffsets({ groupId, offsets: [{ topic: input, partition: 0, offset: from + 10 }] });
      if (abort) await p.abortTransaction();
      else await p.commitTransaction();
    };
    await processChunk(0, false);
    await processChunk(10, true); // injected failure: neither the output nor the offsets of this chunk count
    assert.equal((await groupOffsets(brokers, groupId)).get(`${input}:0`), 10, 'the aborted chunk moved no offset');
    await processChunk(10, false);
    await processChunk(20, false);

    assert.equal((await groupOffsets(brokers, groupId)).get(`${input}:0`), 30);
    const out = await committed(brokers, output, 30);
    assert.equal(out.length, 30, 'each input record transformed exactly once');
    assert.deepEqual(out.map((r) => r.value).sort(), consumed.map((r) => `T(${r.value})`).sort());
  });

  test("close aborts an open transaction, and transaction()'s signal aborts one: neither's records become visible", async () => {
    const brokers = await useBroker();
    const topic = uniqueTopic('txn-close');
    await createTopic(topic, 1);
    const transactionalId = `close-${run}`;
    const first = producer({ brokers, transactionalId });
    await first.beginTransaction();
    await first.sendBatch(values('closed', 10, topic));
    await first.close(); // with the transaction open

    const second = producer({ brokers, transactionalId });
    const controller = new AbortController();
    const aborted = second.transaction(async (tx) => {
      await tx.sendBatch(values('cancelled', 10, topic));
      controller.abort(new Error('the caller gave up'));
      await new Promise<void>((resolve) => tx.signal.addEventListener('abort', () => resolve(), { once: true }));
    }, { signal: controller.signal });
    await assert.rejects(aborted, (error: Error) => error.name === 'AbortError');
    await second.transaction(async (tx) => void (await tx.sendBatch(values('kept', 5, topic))));

    const visible = await committed(brokers, topic, 5);
    assert.deepEqual(visible.map((r) => r.value), values('kept', 5, topic).map((r) => r.value));
    const segments = localSegments(topic, 1);
    if ('files' in segments) {
      const markers = [...(await dumpControlRecords(segments.files)).values()].flat().map((m) => m.type);
      assert.deepEqual(markers, ['ABORT', 'ABORT', 'COMMIT'], 'close and the signal each wrote an abort marker');
    }
  });

  test('a transaction over two workers where one crashes: it aborts, never commits half; the next one commits', async () => {
    const brokers = await useBroker();
    const topic = uniqueTopic('txn-crash');
    await createTopic(topic, 2);
    // Two workers, one partition each; a long linger keeps the records buffered until the crash.
    const earlier = threads.known(); // earlier tests' producers
    const p = producer({ brokers, transactionalId: `crash-${run}`, workers: 2, lingerMs: 60_000 });
    await p.connect();
    const ours = () => threads.startedSince(earlier);
    await until(() => ours().length === 2, "this producer's two worker threads");
    const workers = ours();
    const outcome = await p.transaction(async (tx) => {
      const results = tx.sendBatch([...values('half-0', 5, topic, 0), ...values('half-1', 5, topic, 1)]);
      await until(() => p.metrics().bufferedRecords === 10, 'ten records buffered');
      await threads.crash(workers[0]!);
      await p.flush(); // the survivor's records go now, not after the linger
      const settled = await results;
      const crashed = settled.filter((r) => r.status === 'rejected');
      assert.ok(crashed.length >= 5, 'the dead worker\'s records failed');
      assert.ok(crashed.every((r) => r.status === 'rejected' && r.reason instanceof WorkerCrashedError));
    }).then(() => 'committed', (error: unknown) => error);
    assert.ok(outcome instanceof TransactionAbortableError, `the commit is refused as abortable, got ${String(outcome)}`);

    // Not awaited in the function: the commit itself makes the workers send what lingers, then waits for it.
    let whole: Promise<PromiseSettledResult<unknown>[]> | undefined;
    await p.transaction(async (tx) => {
      whole = tx.sendBatch([...values('whole-0', 5, topic, 0), ...values('whole-1', 5, topic, 1)]);
    });
    assert.ok((await whole!).every((r) => r.status === 'fulfilled'));
    const visible = await committed(brokers, topic, 10);
    assert.deepEqual(visible.map((r) => r.value).sort(), [...values('whole-0', 5, topic), ...values('whole-1', 5, topic)].map((r) => r.value).sort());
  });
});
