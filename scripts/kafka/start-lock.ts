/**
 * A lock file that lets one process at a time start or stop the local cluster (cluster.ts holds it around both).
 *
 * Why: `node --test` runs test files in parallel processes, and each file run without KAFKA_BROKERS starts the
 * broker (test/helpers/broker.ts). Two processes calling start() at once both found no node running and both
 * spawned a JVM for node 1; the second overwrote the PID file, so the first reported "node 1 (pid N) exited while
 * starting" while its JVM, no longer named by any PID file, could be left running. Installing the jars, making
 * the certificates and formatting storage each remove and rewrite folders, which two processes must not do at
 * once either. Under the lock the second caller simply finds the node running, and leaves it be.
 *
 * The lock is a file created exclusively (`wx`), holding its holder's PID. A process that finds it held polls until
 * it is gone, for a bounded time. A holder killed before it could remove the file (SIGKILL, Ctrl-C of
 * `npm run kafka -- start`) leaves it behind: a lock whose PID no longer runs is taken over. Deciding that and
 * removing the file happen under a second, short-lived exclusive file (`<lock>.takeover`), so that two waiters
 * which both judged one lock stale cannot have the second remove the lock the first has just taken.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LockOptions {
  /** Longest total wait for the lock held by another; past it acquisition fails, naming the holder. */
  readonly maxWaitMs: number;
  /** Pause between two looks at a held lock. Default 100 ms. */
  readonly pollMs?: number;
  /** Told once, when the lock is first found held, with its holder's PID (null: not written in it yet). */
  readonly onWait?: (holder: number | null) => void;
}

/** Whether process `pid` runs: signal 0 checks without signalling. EPERM: it runs, as another user. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Creates the file at `path` holding our PID, unless it exists. */
function tryCreate(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, `${process.pid}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * The PID a lock file names; null while it names none (its holder has created it but not yet written it);
 * 'gone' when there is no such file (released meanwhile).
 */
function holderOf(path: string): number | null | 'gone' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw error;
  }
  const pid = /^\d+\n$/.test(text) ? Number.parseInt(text, 10) : 0;
  return pid > 0 ? pid : null;
}

function unlinkIfThere(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/**
 * Removes the lock at `path` if it still names a process that no longer runs; false when another waiter is doing
 * that now. Under `<path>.takeover` nothing else can replace the lock between the look and the removal: its holder
 * is gone, other waiters cannot create it while it exists, and no other waiter removes it meanwhile.
 */
function removeIfStale(path: string): boolean {
  const guard = `${path}.takeover`;
  if (!tryCreate(guard)) {
    // Held for a few synchronous calls only: one left behind was left by a waiter killed in them.
    const taker = holderOf(guard);
    if (typeof taker === 'number' && !isRunning(taker)) unlinkIfThere(guard);
    return false;
  }
  try {
    const holder = holderOf(path);
    if (typeof holder === 'number' && !isRunning(holder)) unlinkIfThere(path);
  } finally {
    unlinkIfThere(guard);
  }
  return true;
}

/**
 * Takes the lock at `path` (its folder made if missing), waiting while another live process holds it. Resolves
 * with the function that releases it. Rejects after `maxWaitMs` of waiting, naming the holder.
 */
export async function acquireLock(path: string, options: LockOptions): Promise<() => void> {
  mkdirSync(dirname(path), { recursive: true });
  const deadline = Date.now() + options.maxWaitMs;
  let told = false;
  for (;;) {
    if (tryCreate(path)) {
      let released = false;
      // Once only: a second call would remove the lock of whoever took it next in this same process.
      return () => {
        if (!released) release(path);
        released = true;
      };
    }
    const holder = holderOf(path);
    if (holder === 'gone') continue; // released between our two looks: try again at once
    if (holder !== null && !isRunning(holder) && removeIfStale(path)) continue;
    if (!told) {
      told = true;
      options.onWait?.(holder);
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `${path} is still held after ${options.maxWaitMs} ms, ` +
          `${holder === null ? 'by a process that has not written its PID in it' : `by pid ${holder}`}: ` +
          'another start or stop of the local cluster is under way. If none is, remove the file.',
      );
    }
    await sleep(options.pollMs ?? 100);
  }
}

/** Removes the lock if it is still ours: one taken over from us by mistake is its new holder's to remove. */
function release(path: string): void {
  if (holderOf(path) === process.pid) unlinkIfThere(path);
}

/** Runs `body` holding the lock at `path`, released however `body` ends. */
export async function withLock<T>(path: string, options: LockOptions, body: () => Promise<T>): Promise<T> {
  const releaseLock = await acquireLock(path, options);
  try {
    return await body();
  } finally {
    releaseLock();
  }
}
