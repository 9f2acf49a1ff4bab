/**
 * A worker thread that cannot start is an ordinary error: connect() and the sends waiting for it reject with
 * WorkerStartError, nothing is thrown past the caller, nothing is left running, and a later connect() tries again.
 * The failure is real, not simulated: a preload hook (`--import`, which Node passes to workers) throws in the
 * worker threads of a child process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createTopic, uniqueTopic, useBroker } from '../helpers/broker.js';
import { consume } from '../helpers/readback.js';

const HOOK = `data:text/javascript,${encodeURIComponent(
  `import { isMainThread } from 'node:worker_threads';
   if (!isMainThread && process.env.RINGKAFKA_FAIL_WORKER_START) throw new Error('worker start refused by the test hook');`,
)}`;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runFixture(brokers: readonly string[], topic: string, mode: string): Promise<Run> {
  const script = fileURLToPath(new URL('./fixtures/worker-start-failure.ts', import.meta.url));
  return new Promise((resolve) => {
    // The timeout only turns a hang into a failure (a killed child has no exit code 0); it measures nothing.
    execFile(process.execPath, ['--import', 'tsx', '--import', HOOK, script, brokers.join(','), topic, mode], { timeout: 90_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

function report(run: Run): { connect: Record<string, unknown>; send: Record<string, unknown>; sameError: boolean; delivery?: string } {
  const line = run.stdout.split('\n').find((l) => l.startsWith('{'));
  assert.ok(line !== undefined, `the child reported (stdout: ${run.stdout}, stderr: ${run.stderr})`);
  return JSON.parse(line) as ReturnType<typeof report>;
}

const expected = { status: 'rejected', name: 'WorkerStartError', code: 'ERR_WORKER_START', cause: 'worker start refused by the test hook' };

test('connect() and a waiting send reject with ERR_WORKER_START; nothing is left running, the process exits', async () => {
  const brokers = await useBroker();
  const topic = uniqueTopic('worker-start');
  await createTopic(topic, 1);
  const run = await runFixture(brokers, topic, 'fail');
  const { connect, send, sameError, delivery } = report(run);
  assert.deepEqual(connect, expected);
  assert.deepEqual(send, expected);
  assert.ok(sameError, 'the waiting send failed with the start error itself, not an attempt of its own');
  assert.equal(delivery, 'not-sent', 'the record\'s error says it was not sent');
  // Exit code 0: no unhandled rejection or uncaught exception (either ends the process with 1), and no hang.
  assert.equal(run.code, 0, `the process exited by itself (stderr: ${run.stderr})`);
});

test('a later connect() starts the workers again, and the record lands', async () => {
  const brokers = await useBroker();
  const topic = uniqueTopic('worker-start-retry');
  await createTopic(topic, 1);
  const run = await runFixture(brokers, topic, 'retry');
  assert.deepEqual(report(run).connect, expected);
  assert.match(run.stdout, /^delivered 0:0$/m, `the retry delivered (stderr: ${run.stderr})`);
  assert.equal(run.code, 0, `the process exited by itself (stderr: ${run.stderr})`);
  const records = await consume(brokers, topic, 1);
  assert.deepEqual(records.map((r) => r.value), ['sent after the retry'], 'only the record sent after the retry was written');
});
