/**
 * The producer starts under the Node flags applications are run with — process-wide ones that a worker thread
 * refuses (`--max-old-space-size`, `--expose-gc`, `--stack-size`) and per-thread ones it takes (`--inspect`,
 * `--cpu-prof`, `--enable-source-maps`, `--import tsx`) — and under `node --test`, whose children carry many flags
 * of their own on Node 24. Each case is a child process that sends one record; the records are read back at the end.
 *
 * The built package is what applications run, so most cases use dist/, built first (by `npm test` once for all
 * files, or here when this file runs alone), so a stale dist/ is never tested. A few run the sources under tsx.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTopic, uniqueTopic, useBroker } from '../helpers/broker.js';
import { ensureDist } from '../helpers/build-dist.js';
import { consume } from '../helpers/readback.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SEND_ONE = fileURLToPath(new URL('./fixtures/send-one.mjs', import.meta.url));
const UNDER_NODE_TEST = fileURLToPath(new URL('./fixtures/send-under-node-test.mjs', import.meta.url));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function node(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    // The timeout only turns a hang into a failure (a killed child has no exit code 0); it measures nothing.
    execFile(process.execPath, args, { cwd: ROOT, env, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

let brokers: string[];
let topic: string;
const sent: string[] = [];
const profiles = mkdtempSync(join(tmpdir(), 'ringkafka-cpu-prof-'));

before(async () => {
  const build = await ensureDist();
  assert.equal(build.code, 0, `npm run build: ${build.output}`);
  brokers = await useBroker();
  topic = uniqueTopic('node-flags');
  await createTopic(topic, 1);
});

test.after(() => rmSync(profiles, { recursive: true, force: true }));

const CASES: { flags: string[]; build: 'dist' | 'source' }[] = [
  { flags: ['--max-old-space-size=512'], build: 'dist' },
  { flags: ['--expose-gc'], build: 'dist' },
  { flags: ['--stack-size=2000'], build: 'dist' },
  { flags: ['--inspect=0'], build: 'dist' },
  { flags: ['--cpu-prof', `--cpu-prof-dir=${profiles}`], build: 'dist' },
  { flags: ['--enable-source-maps'], build: 'dist' },
  { flags: ['--import', 'tsx'], build: 'dist' },
  { flags: ['--import', 'tsx', '--max-old-space-size=512', '--expose-gc', '--stack-size=2000', '--enable-source-maps'], build: 'source' },
];

for (const { flags, build } of CASES) {
  const label = `${build}: node ${flags.join(' ').replace(profiles, '<tmp>')}`;
  test(`sends a record under ${label}`, async () => {
    const run = await node([...flags, SEND_ONE, brokers.join(','), topic, label, build]);
    assert.match(run.stdout, /^delivered 0:\d+$/m, `${run.stdout}${run.stderr}`);
    assert.equal(run.code, 0, run.stderr);
    sent.push(label);
  });
}

test('--cpu-prof wrote its profiles where --cpu-prof-dir said (the flag reached the process)', () => {
  assert.ok(readdirSync(profiles).some((name) => name.endsWith('.cpuprofile')), `files: ${readdirSync(profiles).join(', ')}`);
});

test('sends a record from a test file run by node --test', async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, KAFKA_BROKERS: brokers.join(','), RINGKAFKA_TEST_TOPIC: topic };
  delete env.NODE_TEST_CONTEXT; // set by the runner running this file; it would make the inner runner skip its files
  const run = await node(['--test', '--test-reporter=tap', UNDER_NODE_TEST], env);
  assert.match(run.stdout, /^# pass 1$/m, `${run.stdout}${run.stderr}`);
  assert.equal(run.code, 0, run.stderr);
  sent.push('node --test');
});

test('every record sent above is in the topic', async () => {
  assert.equal(sent.length, CASES.length + 1, 'every case above passed');
  const records = await consume(brokers, topic, sent.length);
  assert.deepEqual(records.map((r) => r.value).sort(), [...sent].sort());
});
