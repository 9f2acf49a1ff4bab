/**
 * How a worker that cannot start is reported, for both ways Node and piscina report it: flags Node refuses throw
 * from the pool's constructor; a failure inside the new thread rejects the start task. And why a running worker
 * died, when Node tells it only as the thread exits (out of memory).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { WorkerPool } from '../../src/main/worker-pool.js';
import { WorkerStartError } from '../../src/shared/producer-errors.js';
import type { WorkerInit } from '../../src/shared/worker-protocol.js';

/** Never read: the threads in these tests fail before the worker entry runs. */
const INIT = { workerIndex: 0 } as unknown as Omit<WorkerInit, 'port'>;

test('flags Node refuses in a worker: the constructor throws WorkerStartError, the error from Node as cause', () => {
  assert.throws(
    () => new WorkerPool(2, { execArgv: ['--expose-gc'] }),
    (error: unknown) =>
      error instanceof WorkerStartError &&
      error.code === 'ERR_WORKER_START' &&
      (error.cause as { code?: string }).code === 'ERR_WORKER_INVALID_EXEC_ARGV' &&
      error.message.includes('--expose-gc'),
  );
});

test('a thread that fails before the worker loop runs: `started` rejects with WorkerStartError, `done` rejects', async () => {
  const hook = `data:text/javascript,${encodeURIComponent("throw new Error('refused by the test hook')")}`;
  const pool = new WorkerPool(1, { execArgv: ['--import', hook] });
  try {
    const running = pool.start(INIT);
    await assert.rejects(running.started, (error: unknown) => {
      assert.ok(error instanceof WorkerStartError);
      assert.equal(error.code, 'ERR_WORKER_START');
      assert.equal((error.cause as Error).message, 'refused by the test hook');
      return true;
    });
    await assert.rejects(running.done);
  } finally {
    await pool.destroy();
  }
});

test("a worker thread that runs out of memory: the crash's cause is Node's ERR_WORKER_OUT_OF_MEMORY", async () => {
  // Node reports it with the thread's exit, after the thread's port has closed: reported at the port's close, the
  // crash said only "its thread exited". In a process of its own, with a small heap for its threads too.
  const fixture = fileURLToPath(new URL('fixtures/worker-out-of-memory.ts', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, ['--max-old-space-size=64', '--import', 'tsx', fixture]);
  const crash = JSON.parse(stdout.trim().split('\n').at(-1)!) as { message: string; cause: string | null };
  assert.equal(crash.cause, 'ERR_WORKER_OUT_OF_MEMORY', crash.message);
  assert.match(crash.message, /worker 0 died: .*memory limit/);
});

test('destroy() twice, as close and a failed start both end a pool: no thread is left running, none started again', async () => {
  // A second piscina destroy() found no threads and cleared piscina's "destroying" flag while the first still waited
  // for its threads to exit; piscina then took those exits for crashes and started replacements in the destroyed
  // pool, which nobody ended (two threads left by each producer closed while its workers started).
  const live = new Set<unknown>();
  const onWorker = (worker: import('node:worker_threads').Worker): void => {
    live.add(worker);
    worker.once('exit', () => live.delete(worker));
  };
  process.on('worker', onWorker);
  try {
    const pool = new WorkerPool(2);
    for (let i = 0; i < 200 && live.size < 2; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    assert.equal(live.size, 2, 'the pool started its threads');
    await Promise.all([pool.destroy(), pool.destroy()]);
    for (let i = 0; i < 80 && live.size > 0; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    assert.equal(live.size, 0, 'threads left running after the pool was destroyed');
  } finally {
    process.off('worker', onWorker);
  }
});
