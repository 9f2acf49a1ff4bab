import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { acquireLock, isRunning, withLock } from '../../../scripts/kafka/start-lock.js';

const LOCK_MODULE = fileURLToPath(new URL('../../../scripts/kafka/start-lock.ts', import.meta.url));
/** Far above what any wait here takes when the lock works: the tests that must get it never wait that long. */
const PATIENT = { maxWaitMs: 30_000, pollMs: 5 };

/** The PID of a process that has run and exited, as a lock left behind by a crash names. */
async function exitedPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await once(child, 'exit');
  return child.pid!;
}

/**
 * Starts acquiring `path` and resolves once that finds it held, with the holder it names, or rejects when the lock
 * was got without waiting (so a lock that does not exclude fails here instead of leaving the test waiting).
 */
async function acquireExpectingWait(path: string): Promise<{ holder: number | null; acquired: Promise<() => void>; holds: () => boolean }> {
  let foundHeld!: (holder: number | null) => void;
  const waiting = new Promise<number | null>((resolve) => (foundHeld = resolve));
  let holds = false;
  const acquired = acquireLock(path, { ...PATIENT, onWait: foundHeld }).then((release) => {
    holds = true;
    return release;
  });
  const first = await Promise.race([waiting, acquired.then(() => 'acquired' as const)]);
  if (first === 'acquired') throw new assert.AssertionError({ message: 'got the lock at once, while it was held' });
  return { holder: first, acquired, holds: () => holds };
}

describe('the start lock', () => {
  // A folder of its own, never .kafka: these tests must not touch the lock of a broker in use.
  let dir: string;
  let n = 0;
  /** A lock path of each test's own, in a folder that exists (acquireLock makes it too; tests write the file first). */
  const lockPath = (): string => {
    const folder = join(dir, `lock-${++n}`);
    mkdirSync(folder);
    return join(folder, 'start.lock');
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'start-lock-'));
  });

  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('makes a second acquirer wait while the first holds it, and gives it to the second once the first releases', async () => {
    const path = lockPath();
    const releaseFirst = await acquireLock(path, PATIENT);
    assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`, 'the lock names its holder');
    const second = await acquireExpectingWait(path);
    assert.equal(second.holder, process.pid, 'the second found the lock held, by the first');
    assert.equal(second.holds(), false);
    releaseFirst();
    const releaseSecond = await second.acquired;
    assert.equal(second.holds(), true);
    assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`);
    releaseSecond();
    assert.equal(existsSync(path), false, 'the lock file is gone after release');
  });

  it('waits for a lock held by another process until that process releases it', async () => {
    const path = lockPath();
    // The holder is a process of its own, as two test files calling start() are.
    const holder = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', `
        const { acquireLock } = await import(process.argv[1]);
        const release = await acquireLock(process.argv[2], { maxWaitMs: 30000 });
        console.log('held');
        process.stdin.once('data', () => { release(); console.log('released'); process.exit(0); });
      `, LOCK_MODULE, path],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    try {
      const said = createInterface({ input: holder.stdout! })[Symbol.asyncIterator]();
      assert.equal((await said.next()).value, 'held');
      const ours = await acquireExpectingWait(path);
      assert.equal(ours.holder, holder.pid, 'the wait names the holder\'s PID');
      assert.equal(ours.holds(), false);
      holder.stdin!.write('release\n');
      assert.equal((await said.next()).value, 'released');
      const release = await ours.acquired;
      assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`);
      release();
      assert.equal(existsSync(path), false);
    } finally {
      if (holder.exitCode === null) holder.kill('SIGKILL');
    }
  });

  it('lets never two acquirers hold it at once, however many ask together', async () => {
    const path = lockPath();
    let inside = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        withLock(path, PATIENT, async () => {
          inside++;
          most = Math.max(most, inside);
          // Give the others every chance to get in meanwhile, as a start awaiting its broker does.
          for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
          order.push(i);
          inside--;
        }),
      ),
    );
    assert.equal(most, 1);
    assert.equal(order.length, 6);
    assert.equal(existsSync(path), false);
  });

  it('takes over a lock left by a process that no longer runs', async () => {
    const path = lockPath();
    const gone = await exitedPid();
    assert.equal(isRunning(gone), false);
    writeFileSync(path, `${gone}\n`);
    const release = await acquireLock(path, PATIENT);
    assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`, 'ours now');
    assert.equal(existsSync(`${path}.takeover`), false, 'the takeover leaves nothing behind');
    release();
    assert.equal(existsSync(path), false);
  });

  it('lets one process at a time hold it when several find the same stale lock together', async () => {
    const path = lockPath();
    const journal = join(dir, `journal-${n}`);
    writeFileSync(journal, '');
    writeFileSync(path, `${await exitedPid()}\n`);
    const children = Array.from({ length: 4 }, () =>
      spawn(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', `
          const { appendFileSync } = await import('node:fs');
          const { withLock } = await import(process.argv[1]);
          await withLock(process.argv[2], { maxWaitMs: 30000, pollMs: 5 }, async () => {
            appendFileSync(process.argv[3], 'in ' + process.pid + '\\n');
            await new Promise((resolve) => setTimeout(resolve, 20));
            appendFileSync(process.argv[3], 'out ' + process.pid + '\\n');
          });
        `, LOCK_MODULE, path, journal],
        { stdio: ['ignore', 'inherit', 'inherit'] },
      ));
    const codes = await Promise.all(children.map(async (child) => (await once(child, 'exit'))[0] as number | null));
    assert.deepEqual(codes, [0, 0, 0, 0]);
    const entries = readFileSync(journal, 'utf8').trimEnd().split('\n');
    assert.equal(entries.length, 8);
    // Each holder leaves before the next enters: in, out, in, out… with one PID per pair.
    for (let i = 0; i < entries.length; i += 2) {
      const pid = entries[i]!.replace(/^in /, '');
      assert.deepEqual([entries[i], entries[i + 1]], [`in ${pid}`, `out ${pid}`], entries.join(', '));
    }
    assert.equal(existsSync(path), false);
  });

  it('is not taken from a live process: the wait ends in an error naming its PID, the lock left as it was', async () => {
    const path = lockPath();
    const live = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      await once(live, 'spawn');
      writeFileSync(path, `${live.pid}\n`);
      await assert.rejects(acquireLock(path, { maxWaitMs: 200, pollMs: 10 }), new RegExp(`still held after 200 ms, by pid ${live.pid}:`));
      assert.equal(readFileSync(path, 'utf8'), `${live.pid}\n`);
    } finally {
      live.kill('SIGKILL');
    }
  });

  it('is not taken while its holder has not written its PID in it yet', async () => {
    const path = lockPath();
    writeFileSync(path, '');
    await assert.rejects(acquireLock(path, { maxWaitMs: 200, pollMs: 10 }), /by a process that has not written its PID in it/);
    assert.equal(readFileSync(path, 'utf8'), '');
  });

  it('is released when the body throws, and the body\'s error comes out', async () => {
    const path = lockPath();
    await assert.rejects(withLock(path, PATIENT, async () => {
      assert.equal(existsSync(path), true);
      throw new Error('the broker did not answer');
    }), /the broker did not answer/);
    assert.equal(existsSync(path), false);
  });

  it('removes on release only a lock that still names this process, and only once', async () => {
    const path = lockPath();
    const release = await acquireLock(path, PATIENT);
    release();
    // Taken next by another acquirer of this process: a second call of the first release leaves it.
    const next = await acquireLock(path, PATIENT);
    release();
    assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`);
    next();
    // A lock now naming another process (taken over by mistake) is not ours to remove.
    const mine = await acquireLock(path, PATIENT);
    writeFileSync(path, '1\n');
    mine();
    assert.equal(readFileSync(path, 'utf8'), '1\n');
  });
});
