/**
 * Loaded into every test file's process by `npm test` (scripts/test.ts, `--import`): once the file's last test has
 * ended, a process still running LEAK_GUARD_MS later (default 120 s) is kept alive by something a test left behind
 * (a timer, a socket, a worker thread), so it prints what is still active and exits with status 1, failing the file.
 *
 * Why: Node 24's runner waits for a test file's process to exit, with no limit, so a leaked handle hung the whole run
 * until CI's step limit cut it off with nothing said; Node 20 and 22 failed such a file only once --test-timeout
 * capped it (5 minutes), naming nothing. The timer is unreferenced: a file that lets go of everything exits as before.
 * It starts before the file's own top-level `after` hooks run (this one is registered first), so their time counts.
 *
 * Plain JavaScript, and inert outside a test file's main thread: the producer's worker threads start with the test
 * process's flags, this preload among them, and on Node 20 a worker's TypeScript loader does not reach the preloads
 * (a .ts guard stopped every worker from starting).
 */
import { isMainThread } from 'node:worker_threads';

const DEFAULT_GRACE_MS = 120_000;

if (isMainThread && process.env.NODE_TEST_CONTEXT !== undefined) {
  const { after } = await import('node:test');
  after(() => {
    const graceMs = Number(process.env.LEAK_GUARD_MS ?? DEFAULT_GRACE_MS);
    setTimeout(() => {
      // stdout and stderr themselves are among the resources (PipeWrap or TTYWrap): the rest is what leaked.
      console.error(`# leak guard: still running ${graceMs} ms after its last test; active: ${process.getActiveResourcesInfo().join(', ')}`);
      process.exit(1);
    }, graceMs).unref();
  });
}
