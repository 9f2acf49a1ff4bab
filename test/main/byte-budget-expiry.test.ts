/**
 * The byte budget's timeouts: one timer for the whole queue, and what each firing costs. A firing used to walk the
 * whole queue twice (the expired, then the earliest deadline left); with sends queued a millisecond apart during a
 * broker outage it fires every millisecond, so the main thread saturated exactly while the broker was down. The
 * cost is counted, not timed: ByteBudget.timeoutChecks is the number of waiters the timer has compared with the
 * clock, which a walk of the queue makes grow with the queue's length.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteBudget } from '../../src/main/byte-budget.js';
import { createControlBlock } from '../../src/shared/control-block.js';
import { AbortError, BufferTimeoutError, ProducerClosedError } from '../../src/shared/producer-errors.js';
import { trackTimers } from '../helpers/timers.js';
import { mulberry32 } from '../helpers/prng.js';

const budgetOf = (maxBytes: number, maxRecords = 1_000_000): ByteBudget => new ByteBudget(createControlBlock(), { maxBytes, maxRecords });

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ByteBudget timeouts', () => {
  it('a firing looks only at the waiters that time out, plus the one it stops at, however long the queue', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    const budget = budgetOf(100);
    assert.equal(budget.tryAcquire(100), true, 'full, and nothing comes back: a broker that does not answer');
    const failedAt: number[] = [];
    // A thousand patient waiters at the head (a walk would pass them on every firing) …
    for (let i = 0; i < 1000; i++) budget.wait(1, 1, 10_000_000, undefined, () => {}, (error) => assert.ok(error instanceof ProducerClosedError, 'not due'));
    // … then five sends a millisecond, each giving up after 500 ms: the timer falls due every millisecond.
    let queued = 0;
    let firings = 0;
    for (let ms = 0; ms < 3000; ms++) {
      for (let i = 0; ms < 2000 && i < 5; i++, queued++) {
        const seq = queued;
        budget.wait(1, 1, 500, undefined, () => assert.fail('never granted'), (error) => {
          assert.ok(error instanceof BufferTimeoutError);
          assert.equal(failedAt.length, seq, 'timed out in queue order');
          failedAt.push(Date.now());
        });
      }
      const checks = budget.timeoutChecks;
      const failed = failedAt.length;
      t.mock.timers.tick(1);
      const looked = budget.timeoutChecks - checks;
      if (looked > 0) firings++;
      assert.ok(looked <= failedAt.length - failed + 1,
        `at ${Date.now()} ms the timer looked at ${looked} waiters to time out ${failedAt.length - failed}, with ${budget.waiting} queued`);
    }
    assert.equal(failedAt.length, 10_000);
    failedAt.forEach((at, seq) => assert.equal(at, Math.floor(seq / 5) + 500, `waiter ${seq} at its own deadline`));
    assert.equal(firings, 2000, 'one firing per millisecond of deadlines');
    assert.equal(budget.timeoutChecks, 10_000 + 2000, 'each timed-out waiter once, plus one per firing: O(K + N)');
    assert.equal(budget.waiting, 1000, 'the patient ones still wait');
    budget.failAll(new ProducerClosedError('not-sent', 'closed'));
  });

  it('a granted or aborted waiter leaves the deadline order at once: it never times out, and no firing looks at it', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    const budget = budgetOf(10_000);
    assert.equal(budget.tryAcquire(10_000), true);
    const log: string[] = [];
    const controller = new AbortController();
    for (let i = 0; i < 3000; i++) {
      const name = i % 3 === 0 ? `aborted${i}` : `granted${i}`;
      budget.wait(1, 1, 1000, i % 3 === 0 ? controller.signal : undefined, () => log.push(name), (e) => log.push(`${name}!${e.name}`));
    }
    const late: Promise<void>[] = [];
    for (let i = 0; i < 3; i++) late.push(budget.acquire(10_000, { timeoutMs: 2000 }));
    controller.abort();
    assert.equal(log.filter((entry) => entry.endsWith('!AbortError')).length, 1000, 'the aborted left at once');
    budget.release(10_000);
    assert.equal(log.filter((entry) => entry.startsWith('granted') && !entry.includes('!')).length, 2000);
    assert.equal(budget.waiting, 3, 'the three that want the whole budget wait behind the granted 2000 bytes');
    const checks = budget.timeoutChecks;
    t.mock.timers.tick(1000); // the 3,000 deadlines of the granted and the aborted fall due here
    assert.equal(log.filter((entry) => entry.includes('!BufferTimeout')).length, 0);
    assert.ok(budget.timeoutChecks - checks <= 1, `the firing looked at ${budget.timeoutChecks - checks} waiters, not just the one on top`);
    t.mock.timers.tick(1000);
    for (const waiter of late) await assert.rejects(waiter, BufferTimeoutError);
    assert.equal(budget.waiting, 0);
    assert.equal(budget.bufferedBytes, 2000, 'timed-out requests hold nothing');
  });

  it('each waiter times out at its own deadline, whatever order the deadlines were queued in', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    const budget = budgetOf(10);
    assert.equal(budget.tryAcquire(10), true);
    const log: string[] = [];
    const fail = (name: string) => (error: Error): void => void log.push(`${name}@${Date.now()}:${error.name}`);
    // Later deadlines queued before earlier ones, equal deadlines apart, a wait with none, and one of 0 ms.
    for (const [name, timeoutMs] of [['a', 5000], ['b', 1000], ['c', 3000], ['d', 1000], ['forever', Infinity], ['e', 0], ['f', 2000]] as const) {
      budget.wait(1, 1, timeoutMs, undefined, () => log.push(name), fail(name));
    }
    // One that, timing out, queues again at once (a stream's next write): it waits its whole timeout once more.
    budget.wait(1, 1, 1000, undefined, () => log.push('g'), (error) => {
      fail('g')(error);
      budget.wait(1, 1, 1000, undefined, () => log.push('g2'), fail('g2'));
    });
    for (let ms = 0; ms < 6000; ms++) t.mock.timers.tick(1);
    assert.deepEqual(log, [
      'e@1:BufferTimeoutError', // a 0 ms wait still waits for the timer: it never fails inside wait()
      'b@1000:BufferTimeoutError', 'd@1000:BufferTimeoutError', 'g@1000:BufferTimeoutError', // same deadline: queue order
      'f@2000:BufferTimeoutError', 'g2@2000:BufferTimeoutError',
      'c@3000:BufferTimeoutError',
      'a@5000:BufferTimeoutError',
    ]);
    assert.equal(budget.waiting, 1, 'the wait without a limit');
    budget.release(10);
    assert.equal(log.at(-1), 'forever');
  });

  it('waiters due together are told in queue order even when their deadlines are not', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    const budget = budgetOf(10);
    assert.equal(budget.tryAcquire(10), true);
    const log: string[] = [];
    for (const [name, timeoutMs] of [['first', 300], ['second', 100], ['third', 200]] as const) {
      budget.wait(1, 1, timeoutMs, undefined, () => log.push(name), () => log.push(`${name}@${Date.now()}`));
    }
    // The event loop was busy for 400 ms (one tick, as a blocked loop would), so the three are due in one firing.
    t.mock.timers.tick(400);
    assert.deepEqual(log, ['first@400', 'second@400', 'third@400']);
  });

  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`model check (seed ${seed}): random deadlines, grants, aborts and clock steps`, async (t) => {
      t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
      const MAX_BYTES = 100;
      const budget = budgetOf(MAX_BYTES, 10);
      const rand = mulberry32(seed);
      type Entry = { id: number; bytes: number; deadline: number; outcome?: string; controller?: AbortController };
      const entries: Entry[] = [];
      const held: Entry[] = [];
      const granted: number[] = [];
      let timeouts = 0;
      const step = (): void => {
        const r = rand();
        if (r < 0.45) {
          const bytes = 1 + Math.floor(rand() ** 2 * MAX_BYTES);
          const timeoutMs = rand() < 0.1 ? Infinity : Math.floor(rand() * 400);
          const entry: Entry = { id: entries.length, bytes, deadline: Date.now() + timeoutMs };
          if (rand() < 0.2) entry.controller = new AbortController();
          entries.push(entry);
          budget.wait(bytes, 1, timeoutMs, entry.controller?.signal, () => {
            assert.equal(entry.outcome, undefined, `${entry.id} settled twice`);
            entry.outcome = 'granted';
            granted.push(entry.id);
            held.push(entry);
          }, (error) => {
            assert.equal(entry.outcome, undefined, `${entry.id} settled twice`);
            entry.outcome = error.name;
            if (error instanceof BufferTimeoutError) {
              timeouts++;
              assert.ok(Date.now() >= entry.deadline, `${entry.id} timed out at ${Date.now()}, before its deadline ${entry.deadline}`);
            } else assert.ok(error instanceof AbortError || error instanceof ProducerClosedError, String(error));
          });
        } else if (r < 0.7 && held.length > 0) {
          const [done] = held.splice(Math.floor(rand() * held.length), 1);
          budget.release(done!.bytes);
        } else if (r < 0.8) {
          const waiting = entries.filter((entry) => entry.outcome === undefined && entry.controller !== undefined);
          if (waiting.length > 0) waiting[Math.floor(rand() * waiting.length)]!.controller!.abort();
        } else {
          const before = Date.now();
          t.mock.timers.tick(Math.floor(rand() * 60));
          for (const entry of entries) {
            if (entry.outcome === undefined) assert.ok(entry.deadline > Date.now(), `${entry.id} (deadline ${entry.deadline}) still waits at ${Date.now()}`);
            if (entry.outcome === 'BufferTimeoutError' && entry.deadline > before) assert.ok(entry.deadline <= Date.now());
          }
        }
        assert.equal(budget.waiting, entries.filter((entry) => entry.outcome === undefined).length);
      };
      for (let i = 0; i < 4000; i++) step();
      assert.ok(timeouts > 100 && granted.length > 100, `exercised: ${timeouts} timeouts, ${granted.length} grants`);
      for (let i = 1; i < granted.length; i++) assert.ok(granted[i - 1]! < granted[i]!, 'grants in FIFO order');
      const closed = new ProducerClosedError('not-sent', 'closed');
      budget.failAll(closed);
      assert.ok(entries.every((entry) => entry.outcome !== undefined), 'failAll settled everyone');
      assert.equal(budget.waiting, 0);
      const checks = budget.timeoutChecks;
      t.mock.timers.tick(10_000);
      assert.equal(budget.timeoutChecks, checks, 'no firing after close: its timer was cleared');
      await settle();
    });
  }

  it('close fails every waiter, whatever their deadlines, and leaves no timer; the budget still works after', async (t) => {
    const timers = trackTimers(t);
    const budget = budgetOf(100);
    assert.equal(budget.tryAcquire(100), true);
    const rand = mulberry32(7);
    const outcomes: string[] = [];
    const controller = new AbortController();
    for (let i = 0; i < 1000; i++) {
      const timeoutMs = rand() < 0.1 ? Infinity : 10_000 + Math.floor(rand() * 50_000);
      budget.wait(1, 1, timeoutMs, i % 10 === 0 ? controller.signal : undefined, () => outcomes.push('granted'), (e) => outcomes.push(e.name));
    }
    assert.equal(timers.size, 1, 'one timer for them all');
    budget.release(20); // grants the first 20 (two of them with the signal)
    controller.abort(); // the other 98 with the signal leave
    budget.failAll(new ProducerClosedError('not-sent', 'closed'));
    const count = (name: string): number => outcomes.filter((outcome) => outcome === name).length;
    assert.deepEqual([count('granted'), count('AbortError'), count('ProducerClosedError')], [20, 98, 882]);
    assert.equal(budget.waiting, 0);
    assert.equal(timers.size, 0, 'no timer left');
    // Queues again from scratch: a fresh deadline order, a fresh timer.
    await assert.rejects(budget.acquire(1, { timeoutMs: 1 }), BufferTimeoutError);
    assert.equal(timers.size, 0);
    budget.release(20);
    assert.equal(budget.bufferedBytes, 80);
  });
});
