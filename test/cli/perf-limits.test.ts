/**
 * `ringkafka perf` against a stand-in producer (no broker): a run that cannot succeed stops, the calls in flight
 * are bounded by the producer's budgets with tiny records too, and flags the producer or Node cannot honour are
 * usage mistakes.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { PerfSummary } from '../../src/cli/perf.js';
import { UsageError } from '../../src/cli/args.js';
import type { ProducerRecord } from '../../src/main/index.js';
import { standInProducer, startPerf, type Failures, type SendBatch } from './fixtures/stand-in-producer.js';
import { AbortError, AuthenticationError, DeliveryTimeoutError } from '../../src/shared/producer-errors.js';

/** The producer stood in for with `sendBatch`; what timeoutMs its close was given. */
function standIn(t: TestContext, sendBatch: SendBatch): { closedWithin: () => number | undefined } {
  let closedWithin: number | undefined;
  standInProducer(t, { sendBatch, close: async (options) => void (closedWithin = options?.timeoutMs) });
  return { closedWithin: () => closedWithin };
}

const perf = startPerf;

const failAll = (records: readonly ProducerRecord[], reason: Error): Failures => ({ failures: records.map((_, index) => ({ index, reason })) });

test('the first group acknowledged nothing: the run stops there, says why, and exits 1', async (t) => {
  let calls = 0;
  // Retriable or not: a run whose first group cannot get through measures only how long each group takes to fail
  // (a topic that does not exist made each wait 60 s, 655 records at a time).
  standIn(t, async (records) => {
    calls++;
    return failAll(records, new DeliveryTimeoutError('not-sent', 'no result within deliveryTimeoutMs'));
  });
  const { run, stdout, stderr } = perf(['--records', '5000']);
  assert.equal(await run, 1);
  assert.equal(calls, 1, 'no group after the first');
  const summary = JSON.parse(stdout()) as PerfSummary;
  assert.deepEqual([summary.records, summary.failed], [0, 655]);
  assert.equal(summary.firstError, 'DeliveryTimeoutError: no result within deliveryTimeoutMs');
  assert.match(stderr(), /655 records failed; the first: DeliveryTimeoutError/);
  assert.match(stderr(), /stopped after 655 of 5,000 records: none of the first 655 records was acknowledged/);
});

test('a failure every later record would meet (refused credentials) stops a run under way: close fails the rest at once', async (t) => {
  let calls = 0;
  const reason = new AuthenticationError('SASL PLAIN authentication with 127.0.0.1:1 failed', {}, 'not-sent');
  const { closedWithin } = standIn(t, async (records) => {
    calls++;
    await new Promise((resolve) => setImmediate(resolve));
    return calls <= 3 ? { failures: [] } : failAll(records, reason);
  });
  const { run, stdout, stderr } = perf(['--records', '1e6']);
  assert.equal(await run, 1);
  const groups = Math.ceil(1e6 / 655);
  assert.ok(calls < 100, `${calls} of ${groups} groups sent`);
  const summary = JSON.parse(stdout()) as PerfSummary;
  assert.equal(summary.records, 3 * 655);
  assert.equal(summary.failed, (calls - 3) * 655);
  assert.match(stderr(), /stopped after [\d,]+ of 1,000,000 records: AuthenticationError \(SASL PLAIN .*\) would fail every later record the same way/);
  assert.equal(closedWithin(), 0);
});

/**
 * The sendBatch calls perf has made once it stops making more (the first is acknowledged, the others never settle
 * until Ctrl-C): the calls it keeps in flight, plus the first. Made one per turn of the event loop, so a loop that
 * made none for many turns is blocked. More than `ceiling` calls: the run is ended at once (no blow-up).
 */
async function callsInFlight(t: TestContext, argv: string[], ceiling: number): Promise<number> {
  let calls = 0;
  standIn(t, (records, { signal }) => {
    calls++;
    if (calls === 1) return Promise.resolve({ failures: [] });
    if (calls > ceiling) setImmediate(() => process.emit('SIGINT'));
    return new Promise((resolve) => {
      const release = (): void => resolve(failAll(records, new AbortError('not-sent', 'aborted')));
      if (signal!.aborted) release();
      else signal!.addEventListener('abort', release, { once: true });
    });
  });
  const { run } = perf(argv);
  let done = false;
  void run.finally(() => (done = true));
  for (let still = 0, seen = -1; still < 50 && !done; ) {
    await new Promise((resolve) => setImmediate(resolve));
    still = calls === seen ? still + 1 : 0;
    seen = calls;
  }
  const made = calls;
  if (!done) process.emit('SIGINT');
  assert.equal(await run, 1);
  return made;
}

test('--record-size 1: the calls in flight count each record\'s overhead in the producer, not its byte alone', async (t) => {
  // 65,536 records a call; 1 MiB of budget at 1 byte a record let 16 calls (a million records) wait at once. At
  // about 70 bytes a record, the floor of 2 calls.
  const made = await callsInFlight(t, ['--records', '1e7', '--record-size', '1', '--buffer-bytes', String(1024 * 1024)], 40);
  assert.ok(made <= 3, `${made} calls made: the first and 2 in flight were expected`);
});

test('--record-size 0: the calls in flight are capped by maxBufferedRecords (a million) as well as by bytes', async (t) => {
  // With a 2 GiB budget, bytes alone allow 469 calls of 65,536 records at 70 bytes each (32,768 calls at the
  // one byte a record counted before): the records' limit is 16 calls.
  const made = await callsInFlight(t, ['--records', '1e9', '--record-size', '0', '--buffer-bytes', '2147483647'], 40);
  assert.ok(made <= 17, `${made} calls made: the first and 16 in flight were expected`);
});

test('--report-interval-ms above 2^31 - 1 (Node then fires the interval every millisecond) is a usage mistake naming the flag', async (t) => {
  standIn(t, async () => ({ failures: [] }));
  await assert.rejects(
    perf(['--records', '10', '--report-interval-ms', '2147483648']).run,
    (error: unknown) => error instanceof UsageError && /^--report-interval-ms must be an integer from 100 to 2147483647/.test(error.message),
  );
  assert.equal(await perf(['--records', '10', '--report-interval-ms', '2147483647']).run, 0);
});

test('a --record-size no Produce request can carry (framed in a batch, over maxRequestBytes) is a usage mistake naming the limit', async (t) => {
  let calls = 0;
  standIn(t, async () => {
    calls++;
    return { failures: [] };
  });
  // 1 MiB of value is 1 MiB + 97 bytes framed in a batch: every record failed, after the connection and metadata.
  await assert.rejects(
    perf(['--records', '10', '--record-size', String(1024 * 1024)]).run,
    (error: unknown) => error instanceof UsageError && /^--record-size 1048576 is too large: .*exceeds maxRequestBytes \(1048576\)/.test(error.message),
  );
  // The key counts too: "key-9" is 5 bytes.
  const fits = 1024 * 1024 - 97;
  await assert.rejects(
    perf(['--records', '10', '--keys', '10', '--record-size', String(fits)]).run,
    (error: unknown) => error instanceof UsageError && /with its key of 5 bytes/.test(error.message),
  );
  assert.equal(calls, 0);
  assert.equal(await perf(['--records', '10', '--record-size', String(fits)]).run, 0);
});

test('a --buffer-bytes too small for one record is the flag named, not --record-size (which was said to be too large)', async (t) => {
  let calls = 0;
  standIn(t, async () => {
    calls++;
    return { failures: [] };
  });
  await assert.rejects(
    perf(['--records', '10', '--buffer-bytes', '10']).run,
    (error: unknown) => error instanceof UsageError &&
      error.message === '--buffer-bytes 10 is too small for a record of --record-size 100: record of 100 bytes exceeds maxBufferedBytes (10)',
  );
  await assert.rejects(
    perf(['--records', '10', '--keys', '10', '--record-size', '100', '--buffer-bytes', '104']).run,
    (error: unknown) => error instanceof UsageError &&
      error.message === '--buffer-bytes 104 is too small for a record of --record-size 100 with its key of 5 bytes: record of 105 bytes exceeds maxBufferedBytes (104)',
  );
  assert.equal(calls, 0);
  assert.equal(await perf(['--records', '10', '--keys', '10', '--record-size', '100', '--buffer-bytes', '105']).run, 0);
});
