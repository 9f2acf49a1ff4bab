/**
 * `ringkafka perf` against a stand-in producer (no broker): what it counts, what it holds, and what it times.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { PerfSummary } from '../../src/cli/perf.js';
import { standInProducer, startPerf, type SendBatch } from './fixtures/stand-in-producer.js';
import { AbortError } from '../../src/shared/producer-errors.js';

/** Replaces the producer's methods for one test: connect and close do nothing unless given, sendBatch as given. */
function standIn(t: TestContext, sendBatch: SendBatch, close?: () => Promise<void>): void {
  standInProducer(t, { sendBatch, ...(close !== undefined && { close }) });
}

async function perf(argv: string[]): Promise<{ status: number; summary: PerfSummary; stderr: string }> {
  const { run, stdout, stderr } = startPerf(argv);
  const status = await run;
  return { status, summary: JSON.parse(stdout()) as PerfSummary, stderr: stderr() };
}

test('Ctrl-C: the records its signal released are counted as interrupted, not as failed, and the status is 1', async (t) => {
  let calls = 0;
  let sent = 0;
  const waiting: (() => void)[] = [];
  standIn(t, (records, { signal }) => {
    calls++;
    sent += records.length;
    // The first call is acknowledged; the rest wait until the signal releases them, as the producer's sends do.
    if (calls === 1) return Promise.resolve({ failures: [] });
    if (calls === 2) {
      signal!.addEventListener('abort', () => waiting.forEach((release) => release()), { once: true });
      setImmediate(() => process.emit('SIGINT'));
    }
    const reason = new AbortError('unknown', 'aborted: the record was in a request');
    return new Promise((resolve) => waiting.push(() => resolve({ failures: records.map((_, index) => ({ index, reason })) })));
  });
  const { status, summary, stderr } = await perf(['--records', '100000']);
  assert.equal(status, 1);
  assert.equal(summary.failed, 0, 'nothing failed: the records were released by the interruption');
  assert.equal(summary.firstError, null);
  assert.equal(summary.records, 655, 'the first group (64 KiB of 100 B records) was acknowledged');
  assert.ok(sent > 655);
  assert.equal(summary.interrupted, sent - 655, 'the others were released by the interruption');
  assert.match(stderr, /\d+ records were not acknowledged: interrupted/);
  assert.doesNotMatch(stderr, /records failed/);
});

test('a failure that is not the interruption still counts as failed', async (t) => {
  standIn(t, async (records) => ({ failures: [{ index: records.length - 1, reason: new Error('broker said no') }] }));
  const { status, summary } = await perf(['--records', '1310']);
  assert.equal(status, 1);
  assert.deepEqual([summary.records, summary.failed, summary.interrupted], [1308, 2, 0]);
  assert.equal(summary.firstError, 'Error: broker said no');
});

test('the first group is settled before the next call is made: it brings the topic\'s metadata, for which every record of a call made meanwhile waits as an object of its own', async (t) => {
  let calls = 0;
  let callsBeforeFirstSettled = 0;
  let firstSettled = false;
  standIn(t, async () => {
    calls++;
    if (!firstSettled) callsBeforeFirstSettled = calls;
    if (calls === 1) await new Promise((resolve) => setTimeout(resolve, 20));
    firstSettled = true;
    return { failures: [] };
  });
  const { summary } = await perf(['--records', '100000']);
  assert.equal(summary.records, 100_000);
  assert.equal(callsBeforeFirstSettled, 1);
});

test('--record-size 1,000,000: at most 16 MiB of distinct values (1,024 of them were made whatever their size: 64 GiB at 64 MiB)', async (t) => {
  const values = new Set<unknown>();
  standIn(t, async (records) => {
    for (const record of records) values.add(record.value);
    return { failures: [] };
  });
  const { summary } = await perf(['--records', '40', '--record-size', '1000000']);
  assert.equal(summary.records, 40);
  assert.equal(values.size, 16);
});

test('records/s runs from the first send to the last acknowledgement: the producer\'s close is not counted', async (t) => {
  const realNow = performance.now;
  let skipped = 0;
  performance.now = () => realNow.call(performance) + skipped;
  t.after(() => {
    performance.now = realNow;
  });
  // A close that takes 1,000 s by the clock perf reads.
  standIn(t, async () => ({ failures: [] }), async () => {
    skipped += 1_000_000;
  });
  const { summary } = await perf(['--records', '10000']);
  assert.equal(summary.records, 10_000);
  assert.ok(summary.seconds < 100, `${summary.seconds} s: close was counted`);
});

test('Ctrl-C while --throughput paces the next group ends the wait: no group is sent after the signal', async (t) => {
  let calls = 0;
  standIn(t, async () => {
    calls++;
    // At 1 record/s the second group is due a second after the first: the signal comes during that wait.
    if (calls === 1) setTimeout(() => process.emit('SIGINT'), 50);
    return { failures: [] };
  });
  const { status, summary } = await perf(['--records', '3', '--throughput', '1']);
  assert.equal(status, 1);
  assert.equal(calls, 1, 'the group due after the signal was not sent');
  assert.equal(summary.records, 1);
});

test('--acks=-1, Kafka\'s own name for all (its perf tool takes it), is taken: it was refused as not one of all, 1, 0', async (t) => {
  standIn(t, async () => ({ failures: [] }));
  const { status, summary } = await perf(['--records', '10', '--acks=-1']);
  assert.equal(status, 0);
  assert.equal(summary.records, 10);
  await assert.rejects(startPerf(['--records', '10', '--acks=2']).run, /--acks must be one of all, -1, 1, 0, got "2"/);
});

test('--acks -1 and --throughput -1, as Kafka\'s perf tool is given them: taken (the first was refused as ambiguous)', async (t) => {
  standIn(t, async () => ({ failures: [] }));
  const { status, summary } = await perf(['--records', '10', '--acks', '-1', '--throughput', '-1']);
  assert.equal(status, 0);
  assert.equal(summary.records, 10);
  await assert.rejects(startPerf(['--records', '10', '--throughput', '-2']).run, /--throughput must be .*got "-2"/);
});
