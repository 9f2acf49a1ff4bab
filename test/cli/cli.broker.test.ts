/**
 * The `ringkafka` command against the real broker, as a user runs it: a child process, its exit status and output;
 * what it wrote is read back with Kafka's own console consumer.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SASL_USER, createTopic, uniqueTopic, useBroker, useSecureBroker } from '../helpers/broker.js';
import { consume, endOffsets } from '../helpers/readback.js';
import { MAIN, ROOT, type Run } from './fixtures/command.js';

/** The command as a child process whose stdin the caller writes and ends; `run` settles when it exits. */
function startRingkafka(args: readonly string[], env: NodeJS.ProcessEnv = process.env): { child: ChildProcessWithoutNullStreams; run: Promise<Run> } {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env });
  const run = new Promise<Run>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Only turns a hang into a failure; it measures nothing.
    const limit = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(limit);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, run };
}

function ringkafka(args: readonly string[], options: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  const { child, run } = startRingkafka(args, options.env);
  child.stdin.end(options.stdin ?? '');
  return run;
}

let brokers: string[];
before(async () => {
  brokers = await useBroker();
});

test('perf: sends exactly --records records of --record-size over --keys keys, and reports them as JSON', { timeout: 300_000 }, async () => {
  const topic = uniqueTopic('cli-perf');
  await createTopic(topic, 3);
  const run = await ringkafka(['perf', '--brokers', brokers.join(','), '--topic', topic, '--records', '3e3', '--record-size', '50', '--keys', '10', '--compression', 'lz4', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const summary = JSON.parse(run.stdout) as { records: number; failed: number; recordsPerSec: number; latencyMs: { p50: number; max: number } };
  assert.equal(summary.records, 3000);
  assert.equal(summary.failed, 0);
  assert.ok(summary.recordsPerSec > 0 && summary.latencyMs.max >= summary.latencyMs.p50);
  const read = await consume(brokers, topic, 3000);
  assert.equal(read.length, 3000);
  assert.ok(read.every((r) => /^[a-z]{50}$/.test(r.value)), 'values are 50 random letters');
  assert.deepEqual(new Set(read.map((r) => r.key)), new Set(Array.from({ length: 10 }, (_, i) => `key-${i}`)));
});

test('produce: NDJSON lines keyed by a field, sent unchanged; bad lines are named by number and skipped; exit 1', { timeout: 300_000 }, async () => {
  const topic = uniqueTopic('cli-produce');
  await createTopic(topic, 1);
  const stdin = ['{"id":"a","n":1}', 'not json', '', '{"n":2}', '{"id":7,"n":3}', '{"id":"a","n":4}'].join('\n');
  const run = await ringkafka(['produce', '--brokers', brokers.join(','), '--topic', topic, '--format', 'ndjson', '--key-field', 'id'], { stdin });
  assert.equal(run.code, 1, 'some lines failed');
  assert.match(run.stderr, /line 2: not JSON/);
  assert.match(run.stderr, /line 4: no "id" field/);
  assert.match(run.stderr, /3 records delivered to .*, 2 failed/);
  const read = await consume(brokers, topic, 3);
  assert.deepEqual(read.map((r) => [r.key, r.value]), [['a', '{"id":"a","n":1}'], ['7', '{"id":7,"n":3}'], ['a', '{"id":"a","n":4}']]);
});

test('produce --batch-bytes and --acks reach the producer: small lines spread over partitions as batches fill', { timeout: 300_000 }, async () => {
  const topic = uniqueTopic('cli-batch');
  await createTopic(topic, 3);
  // 300 lines of 100 B: under the default 1 MiB batch the sticky partitioner keeps them all on one partition; with
  // 1 KiB batches it moves on every few records (it changes partition as a batch's bytes fill).
  const stdin = Array.from({ length: 300 }, (_, i) => String(i).padStart(100, 'x')).join('\n');
  const run = await ringkafka(['produce', '--brokers', brokers.join(','), '--topic', topic, '--batch-bytes', '1024', '--acks', '1'], { stdin });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /300 records delivered/);
  const ends = await endOffsets(brokers, topic);
  assert.equal([...ends.values()].reduce((a, b) => a + b, 0), 300);
  assert.ok([...ends.values()].filter((end) => end > 0).length > 1, `more than one partition written: ${JSON.stringify([...ends])}`);
  const read = await consume(brokers, topic, 300);
  assert.deepEqual(new Set(read.map((r) => Number(r.value.replace(/^x+/, '')))).size, 300);
});

test('produce sends lines as they arrive, stdin still open; SIGINT stops reading, what was read is delivered, exit 1', { timeout: 300_000 }, async () => {
  // It used to hold lines until a thousand had arrived or stdin closed: `tail -f log | ringkafka produce` sent
  // nothing, and Ctrl-C lost what it held.
  const topic = uniqueTopic('cli-produce-trickle');
  await createTopic(topic, 1);
  const { child, run } = startRingkafka(['produce', '--brokers', brokers.join(','), '--topic', topic]);
  try {
    child.stdin.write('one\ntwo\nthree\n');
    const read = await consume(brokers, topic, 3);
    assert.deepEqual(read.map((r) => r.value), ['one', 'two', 'three'], 'read back while the command still reads stdin');
    assert.equal(child.exitCode, null, 'the command is still running');
    child.kill('SIGINT');
    const { code, stderr } = await run;
    assert.equal(code, 1, 'interrupted');
    assert.match(stderr, /3 records delivered to .*, 0 failed \(interrupted: stopped reading\)/);
  } finally {
    child.kill('SIGKILL');
  }
});

test('produce over SASL_SSL with the password from the environment', { timeout: 300_000 }, async (t) => {
  const secure = await useSecureBroker();
  if ('skip' in secure) return t.skip(secure.skip);
  const plainTopic = uniqueTopic('cli-sasl');
  await createTopic(plainTopic, 1);
  const ca = join(mkdtempSync(join(tmpdir(), 'ringkafka-cli-')), 'ca.pem');
  writeFileSync(ca, secure.ca);
  const env = { ...process.env, RINGKAFKA_SASL_PASSWORD: SASL_USER.password };
  const run = await ringkafka(
    ['produce', '--brokers', secure.saslSsl.join(','), '--topic', plainTopic, '--tls-ca', ca, '--sasl-mechanism', 'scram-sha-256', '--sasl-username', SASL_USER.username],
    { stdin: 'one\ntwo\n', env },
  );
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual((await consume(brokers, plainTopic, 2)).map((r) => r.value), ['one', 'two']);
});

test('--help for each command, and usage mistakes exit 2 naming the flag', { timeout: 120_000 }, async () => {
  for (const command of ['perf', 'produce']) {
    const help = await ringkafka([command, '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, new RegExp(`^Usage: ringkafka ${command} --topic TOPIC`));
  }
  const top = await ringkafka(['--help']);
  assert.match(top.stdout, /Commands:\n {2}perf .*\n {2}produce /);
  const unknown = await ringkafka(['consume']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "consume"/);
  const typo = await ringkafka(['prodcue']);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /unknown command "prodcue" \(did you mean produce\?\)/);
  // No command at all printed the usage with status 0, though the usage says a mistake exits 2.
  const none = await ringkafka([]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^ringkafka: no command given\n\nUsage: ringkafka <command>/);
  const helpFor = await ringkafka(['help', 'produce']);
  assert.equal(helpFor.code, 0);
  assert.match(helpFor.stdout, /^Usage: ringkafka produce --topic TOPIC/);
  // It printed the general usage with status 0, as if there were such a command.
  const helpUnknown = await ringkafka(['help', 'consume']);
  assert.equal(helpUnknown.code, 2);
  assert.match(helpUnknown.stderr, /unknown command "consume"/);
  const missing = await ringkafka(['perf']);
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr, "ringkafka perf: --topic is required\nUsage: ringkafka perf --topic TOPIC [options]\n'ringkafka perf --help' lists the options.\n");
  const keyField = await ringkafka(['produce', '--topic', 't', '--key-field', 'id']);
  assert.equal(keyField.code, 2);
  assert.match(keyField.stderr, /--key-field needs --format ndjson/);
});
