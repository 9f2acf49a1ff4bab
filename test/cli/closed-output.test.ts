/**
 * The `ringkafka` commands with a stdout or stderr that can no longer be written, as `2>&1 | head -1` or `| true`
 * leave them: the child's pipe is closed at our end before it starts, so its first write there fails with EPIPE.
 * Before, that write's 'error' event went unhandled: the process died with a stack trace, `produce` before closing
 * its producer (the lines read and not yet sent lost), `perf` at its first progress line or at its summary.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type StdioOptions } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createTopic, uniqueTopic, useBroker } from '../helpers/broker.js';
import { endOffsets } from '../helpers/readback.js';
import { MAIN, ROOT, type Run } from './fixtures/command.js';

/**
 * Runs the command with `closed` (stdout or stderr) closed by its reader at once, or, for 'full', stdout on
 * /dev/full (every write fails with ENOSPC).
 */
function ringkafka(args: readonly string[], closed: 'stdout' | 'stderr' | 'full', stdin = ''): Promise<Run> {
  const full = closed === 'full' ? openSync('/dev/full', 'w') : undefined;
  const stdio: StdioOptions = ['pipe', full ?? 'pipe', 'pipe'];
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, stdio });
  if (full !== undefined) closeSync(full);
  if (closed === 'stdout') child.stdout?.destroy();
  if (closed === 'stderr') child.stderr?.destroy();
  return new Promise<Run>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    if (closed !== 'stdout') child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    if (closed !== 'stderr') child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // A child that dies early closes its stdin before taking all of it: not this test's failure to report.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(stdin);
    // Only turns a hang into a failure; it measures nothing.
    const limit = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(limit);
      resolve({ code, stdout, stderr });
    });
  });
}

const sum = (offsets: Map<number, number>): number => [...offsets.values()].reduce((a, b) => a + b, 0);

test('--help with stdout closed: no stack trace, exit 0 (the reader left; nothing was lost to it)', { timeout: 60_000 }, async () => {
  const run = await ringkafka(['--help'], 'stdout');
  assert.equal(run.code, 0, run.stderr);
  assert.doesNotMatch(run.stderr, /Unhandled|EPIPE/);
});

test('perf --help with stdout on a full disk: the failure is named on stderr, exit 1', { timeout: 60_000 }, async () => {
  const run = await ringkafka(['perf', '--help'], 'full');
  assert.equal(run.code, 1);
  assert.equal(run.stderr, 'ringkafka: could not write stdout: ENOSPC: no space left on device, write\n');
});

test('a usage mistake with stderr closed: exit 2 still, not a crash', { timeout: 60_000 }, async () => {
  const run = await ringkafka(['perf', '--topic', 't', '--records', '0'], 'stderr');
  assert.equal(run.code, 2);
  assert.equal(run.stdout, '');
});

let brokers: string[];
before(async () => {
  brokers = await useBroker();
});

test('produce with stderr closed: a bad first line is not the end; every valid line is sent, the producer closed, exit 1', { timeout: 300_000 }, async () => {
  const topic = uniqueTopic('cli-epipe-produce');
  await createTopic(topic, 1);
  const valid = 20_000;
  const stdin = `{bad\n${Array.from({ length: valid }, (_, i) => `{"i":${i}}`).join('\n')}\n`;
  const run = await ringkafka(['produce', '--brokers', brokers.join(','), '--topic', topic, '--format', 'ndjson'], 'stderr', stdin);
  assert.equal(run.code, 1, 'the bad line still fails the run, as with stderr open');
  assert.equal(run.stdout, '');
  assert.equal(sum(await endOffsets(brokers, topic)), valid, 'every valid line is in the topic');
});

test('perf with stdout closed: no stack trace, every record sent, exit 0', { timeout: 300_000 }, async () => {
  const topic = uniqueTopic('cli-epipe-perf-out');
  await createTopic(topic, 1);
  const run = await ringkafka(['perf', '--brokers', brokers.join(','), '--topic', topic, '--records', '1000'], 'stdout');
  assert.equal(run.code, 0, run.stderr);
  assert.doesNotMatch(run.stderr, /Unhandled|EPIPE/);
  assert.equal(sum(await endOffsets(brokers, topic)), 1000);
});

test('perf with stderr closed: its progress lines are dropped, the run goes on to its summary, exit 0', { timeout: 300_000 }, async () => {
  const topic = uniqueTopic('cli-epipe-perf-err');
  await createTopic(topic, 1);
  // At 1,000 records/s the 500 records take at least half a second, so a progress line every 100 ms is written
  // (and fails) during the run whatever the machine's speed.
  const run = await ringkafka(['perf', '--brokers', brokers.join(','), '--topic', topic, '--records', '500', '--throughput', '1000', '--report-interval-ms', '100'], 'stderr');
  assert.equal(run.code, 0);
  assert.match(run.stdout, /^500 records sent, /);
  assert.equal(sum(await endOffsets(brokers, topic)), 500);
});
