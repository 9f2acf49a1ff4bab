/**
 * The leak guard (test/helpers/leak-guard.mjs) fails a test file whose process outlives its last test, naming what
 * keeps it alive, on every Node line (Node 24's runner otherwise waits for it for ever), and leaves a clean file be.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const GUARD = fileURLToPath(new URL('./leak-guard.mjs', import.meta.url));

/** Runs Node's test runner on one file with the guard loaded, as `npm test` does; resolves with its status and output. */
function runGuarded(file: string): Promise<{ status: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, LEAK_GUARD_MS: '200' };
  delete env.NODE_TEST_CONTEXT; // else the nested runner reports to this one instead of running its own
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', GUARD, '--test', '--test-reporter=spec', file], { env });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, output })));
}

describe('the leak guard', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'leak-guard-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('fails a file that leaves a timer running, and names it', async () => {
    const file = join(dir, 'leaks.test.mjs');
    await writeFile(file, "import { it } from 'node:test';\nit('passes but leaks', () => { setInterval(() => {}, 60_000); });\n");
    const { status, output } = await runGuarded(file);
    assert.notEqual(status, 0, output);
    assert.match(output, /# leak guard: still running 200 ms after its last test; active: .*Timeout/);
  });

  it('leaves a file that lets go of everything passing, worker threads started with its flags included', async () => {
    // The worker gets the guard among its flags, as the producer's workers do: a TypeScript guard stopped them
    // from starting on Node 20.
    const file = join(dir, 'clean.test.mjs');
    await writeFile(file, [
      "import { it } from 'node:test';",
      "import { Worker } from 'node:worker_threads';",
      "it('passes', async () => { await new Promise((r) => setTimeout(r, 5)); });",
      "it('starts a worker', async () => {",
      '  // Its preloads (the guard among them); the process-wide flags of Node 24\'s test processes are refused in a worker.',
      "  const execArgv = process.execArgv.flatMap((flag, i, all) => (flag === '--import' ? [flag, all[i + 1]] : []));",
      "  const worker = new Worker('require(\"node:worker_threads\").parentPort.postMessage(1)', { eval: true, execArgv });",
      "  await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });",
      '  await worker.terminate();',
      '});',
      '',
    ].join('\n'));
    const { status, output } = await runGuarded(file);
    assert.equal(status, 0, output);
    assert.doesNotMatch(output, /leak guard/);
  });
});
