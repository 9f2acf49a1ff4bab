/**
 * The workers' flags against Node itself: for a catalogue of flags people run with (and those Node's own test
 * runner hands its children), the filter keeps exactly the ones a real Worker accepts on the Node running the test.
 * The answer differs between Node versions, which is why CI runs this on each of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { NODE_STRIPS_TYPES, flagUnits, workerExecArgv } from '../../src/main/worker-exec-argv.js';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const profiles = mkdtempSync(join(tmpdir(), 'ringkafka-exec-argv-'));
test.after(() => rmSync(profiles, { recursive: true, force: true }));

/** A flag each (with its value where it takes one as a separate argument; --cpu-prof with the folder it writes to). */
const CATALOGUE: string[][] = [
  // Process-wide flags people start applications with.
  ['--max-old-space-size=512'], ['--max-semi-space-size=16'], ['--expose-gc'], ['--stack-size=2000'],
  ['--stack-trace-limit=50'], ['--jitless'], ['--abort-on-uncaught-exception'], ['--title=app'],
  ['--v8-pool-size=4'], ['--secure-heap=0'], ['--secure-heap-min=2'], ['--openssl-legacy-provider'],
  ['--zero-fill-buffers'], ['--max-old-space-size-percentage=50'], ['--use-largepages=off'],
  // Flags a worker takes (or does not, depending on the version).
  ['--enable-source-maps'], ['--import', 'tsx'], ['--import=tsx'], ['--conditions', 'development'], ['-C', 'x'],
  ['--no-warnings'], ['--no-deprecation'], ['--trace-warnings'], ['--disable-warning=ExperimentalWarning'],
  ['--unhandled-rejections=strict'], ['--experimental-vm-modules'], ['--experimental-strip-types'],
  ['--no-experimental-require-module'], ['--experimental-permission'], ['--input-type=module'],
  ['--inspect=0'], ['--inspect-port=0'], ['--cpu-prof', `--cpu-prof-dir=${profiles}`], ['--heap-prof-interval=524288'],
  ['--watch'], ['--test'], ['--test-reporter=spec'], ['--test-isolation=process'], ['--test-concurrency=0'],
  ['--max-http-header-size=16384'], ['--heapsnapshot-near-heap-limit=0'], ['--preserve-symlinks'],
];

/** Whether `new Worker` takes `flags`: refused flags throw in the constructor; accepted ones start a thread. */
async function workerAccepts(flags: readonly string[]): Promise<boolean> {
  let worker: Worker;
  try {
    worker = new Worker('', { eval: true, execArgv: [...flags] });
  } catch (error) {
    assert.equal((error as { code?: unknown }).code, 'ERR_WORKER_INVALID_EXEC_ARGV', String(error));
    return false;
  }
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  worker.on('error', () => undefined);
  await worker.terminate();
  await exited;
  return true;
}

test('the constructor refuses a bad flag synchronously (what the filter relies on), naming it', () => {
  assert.throws(
    () => new Worker('', { eval: true, execArgv: ['--expose-gc'] }),
    (error: Error & { code?: string }) => error.code === 'ERR_WORKER_INVALID_EXEC_ARGV' && error.message.includes('--expose-gc'),
  );
});

test(`each flag is kept exactly when a Worker accepts it on this Node (${process.version})`, async () => {
  const kept: string[] = [];
  const dropped: string[] = [];
  for (const unit of CATALOGUE) {
    const accepts = await workerAccepts(unit);
    const filtered = workerExecArgv(unit, { fromSource: true });
    assert.deepEqual(filtered, accepts ? unit : [], `${unit.join(' ')}: a Worker ${accepts ? 'accepts' : 'refuses'} it`);
    (accepts ? kept : dropped).push(unit.join(' '));
  }
  // Both sides must be exercised, or the comparison above proves little.
  assert.ok(kept.includes('--enable-source-maps') && kept.includes('--import tsx'), `kept: ${kept.join(', ')}`);
  assert.ok(dropped.includes('--max-old-space-size=512') && dropped.includes('--expose-gc'), `dropped: ${dropped.join(', ')}`);
});

test('the whole catalogue at once filters to flags a Worker accepts together, in their order', async () => {
  const all = CATALOGUE.flat();
  const filtered = workerExecArgv(all, { fromSource: true });
  assert.ok(await workerAccepts(filtered), `accepted together: ${filtered.join(' ')}`);
  const expected: string[] = [];
  for (const unit of CATALOGUE) if (await workerAccepts(unit)) expected.push(...unit);
  assert.deepEqual(filtered, expected);
});

test('from dist/ a tsx loader is left out, in every spelling; from source it is kept', () => {
  const argv = ['--import', 'tsx', '--import=tsx/esm', '--require', 'tsx/cjs', '--enable-source-maps', '--import', 'file:///app/node_modules/tsx/dist/loader.mjs'];
  assert.deepEqual(workerExecArgv(argv, { fromSource: false }), ['--enable-source-maps']);
  assert.deepEqual(workerExecArgv(argv, { fromSource: true }), argv);
});

test(`from dist/ a worker starts under a TypeScript preload, which runs in it where Node can (${process.version})`, async () => {
  // Before, the tsx loader was left out and the preload kept: no worker could load the file, and none started.
  const preload = fileURLToPath(new URL('./fixtures/typescript-preload.ts', import.meta.url));
  const flags = workerExecArgv(['--import', 'tsx', '--import', preload], { fromSource: false });
  const entry = join(profiles, 'report-preload.mjs');
  writeFileSync(entry, "import { parentPort } from 'node:worker_threads'; parentPort.postMessage(globalThis.typescriptPreload ?? 'none');");
  const worker = new Worker(entry, { execArgv: flags });
  const reported = await new Promise<unknown>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  assert.equal(reported, NODE_STRIPS_TYPES ? 'typescript preload ran' : 'none');
  assert.deepEqual(workerExecArgv(['--import', 'tsx', '--import', './otel.mjs'], { fromSource: false }), ['--import', './otel.mjs'], 'a JavaScript preload stays');
});

test('a flag and its separate value form one unit', () => {
  assert.deepEqual(flagUnits(['--import', 'tsx', '--expose-gc', '-C', 'dev', '--no-warnings']), [
    ['--import', 'tsx'], ['--expose-gc'], ['-C', 'dev'], ['--no-warnings'],
  ]);
});

test("a worker's heap limit follows the parent's --max-old-space-size (so no resourceLimits are passed on)", async () => {
  const script = `
    const { Worker } = require('node:worker_threads');
    const { getHeapStatistics } = require('node:v8');
    const worker = new Worker("require('node:worker_threads').parentPort.postMessage(require('node:v8').getHeapStatistics().heap_size_limit)", { eval: true });
    worker.once('message', (limit) => { console.log(JSON.stringify([getHeapStatistics().heap_size_limit, limit])); worker.terminate(); });
  `;
  const run = (flags: string[]): Promise<[number, number]> =>
    new Promise((resolve, reject) => {
      execFile(process.execPath, [...flags, '-e', script], (error, stdout) => {
        if (error) reject(error);
        else resolve(JSON.parse(stdout) as [number, number]);
      });
    });
  const [mainLimited, workerLimited] = await run(['--max-old-space-size=256']);
  const [mainDefault] = await run([]);
  assert.notEqual(mainLimited, mainDefault, 'the flag changed the main heap limit');
  assert.equal(workerLimited, mainLimited, "the worker's limit is the parent's");
});
