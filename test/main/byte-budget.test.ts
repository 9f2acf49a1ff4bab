import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { ByteBudget, type ByteBudgetOptions } from '../../src/main/byte-budget.js';
import { ConfigError } from '../../src/shared/errors.js';
import { ControlSlot, createControlBlock, type ControlBlock } from '../../src/shared/control-block.js';
import { AbortError, BufferTimeoutError, ProducerClosedError, RecordTooLargeError } from '../../src/shared/producer-errors.js';
import { mulberry32 } from '../helpers/prng.js';

const FOREVER = { timeoutMs: Infinity };

function budgetOf(options: ByteBudgetOptions): { budget: ByteBudget; control: ControlBlock } {
  const control = createControlBlock();
  return { budget: new ByteBudget(control, options), control };
}

/** Lets granted/rejected promises run their callbacks. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Records the order in which requests settle: `name` when granted, `name!` when rejected. */
function track(log: string[], name: string, promise: Promise<void>): Promise<void> {
  return promise.then(() => void log.push(name), () => void log.push(`${name}!`));
}

describe('ByteBudget', () => {
  it('validates its limits', () => {
    const control = createControlBlock();
    for (const maxBytes of [0, -1, 1.5, 2 ** 31]) {
      assert.throws(() => new ByteBudget(control, { maxBytes, maxRecords: 1 }), ConfigError);
    }
    assert.throws(() => new ByteBudget(control, { maxBytes: 1, maxRecords: 0 }), ConfigError);
  });

  it('wakes every waiter that fits when bytes come back (the lost wake-up of invariant 1)', async () => {
    // Buffer of 100 bytes: A = 100 fills it, B = 50 and C = 50 wait; when A completes both must proceed.
    const { budget, control } = budgetOf({ maxBytes: 100, maxRecords: 100 });
    const log: string[] = [];
    await budget.acquire(100, FOREVER);
    const b = track(log, 'B', budget.acquire(50, FOREVER));
    const c = track(log, 'C', budget.acquire(50, FOREVER));
    assert.equal(budget.waiting, 2);
    assert.equal(control.waiters, 2, 'WAITERS mirrors the queue for the workers');
    budget.release(100);
    await Promise.all([b, c]);
    assert.deepEqual(log, ['B', 'C']);
    assert.equal(budget.bufferedBytes, 100);
    assert.equal(budget.bufferedRecords, 2);
    assert.equal(control.waiters, 0);
  });

  it('keeps strict FIFO: a large head holds back small waiters, and nothing overtakes the queue', async () => {
    const { budget, control } = budgetOf({ maxBytes: 100, maxRecords: 100 });
    const log: string[] = [];
    assert.equal(budget.tryAcquire(60), true);
    const big = track(log, 'big', budget.acquire(80, FOREVER));
    const small = track(log, 'small', budget.acquire(10, FOREVER));
    assert.equal(budget.tryAcquire(10), false, '10 bytes would fit, but someone is queued');
    budget.release(30, 0);
    await settle();
    assert.deepEqual(log, [], '30 + 80 > 100: the head still waits, and the small one behind it too');
    assert.equal(budget.waiting, 2);
    budget.release(30, 1);
    await Promise.all([big, small]);
    assert.deepEqual(log, ['big', 'small']);
    assert.equal(budget.bufferedBytes, 90);
    assert.equal(budget.tryAcquire(10), true, 'queue empty, fits');
    assert.equal(budget.tryAcquire(1), false, 'full');
  });

  it('counts records as well as bytes', async () => {
    const { budget, control } = budgetOf({ maxBytes: 1000, maxRecords: 3 });
    assert.equal(budget.tryAcquire(1, 2), true);
    const log: string[] = [];
    const waiting = track(log, 'two', budget.acquire(1, { ...FOREVER, records: 2 }));
    await settle();
    assert.deepEqual(log, []);
    budget.release(1, 1);
    await waiting;
    assert.equal(budget.bufferedRecords, 3);
  });

  it('rejects a request larger than the whole budget at once, even with an empty queue', async () => {
    const { budget, control } = budgetOf({ maxBytes: 100, maxRecords: 5 });
    await assert.rejects(budget.acquire(101, FOREVER), RecordTooLargeError);
    await assert.rejects(budget.acquire(1, { ...FOREVER, records: 6 }), RecordTooLargeError);
    assert.throws(() => budget.tryAcquire(101), RecordTooLargeError);
    assert.throws(() => budget.tryAcquire(-1), ConfigError);
    await assert.rejects(budget.acquire(Number.NaN, FOREVER), ConfigError);
    assert.equal(budget.waiting, 0);
    assert.equal(budget.bufferedBytes, 0);
  });

  it('abort takes no bytes, removes its listener, and lets the next waiter in', async () => {
    const { budget, control } = budgetOf({ maxBytes: 100, maxRecords: 100 });
    const log: string[] = [];
    budget.tryAcquire(50);
    const controller = new AbortController();
    const head = budget.acquire(80, { ...FOREVER, signal: controller.signal });
    const behind = track(log, 'behind', budget.acquire(40, FOREVER));
    assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
    controller.abort(new Error('caller gave up'));
    await assert.rejects(head, (error: unknown) => {
      assert.ok(error instanceof AbortError);
      assert.equal(error.delivery, 'not-sent');
      assert.equal((error.cause as Error).message, 'caller gave up');
      return true;
    });
    await behind;
    assert.deepEqual(log, ['behind'], '50 + 40 fits once the head left');
    assert.equal(budget.bufferedBytes, 90);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    assert.equal(control.waiters, 0);
    await assert.rejects(budget.acquire(80, { ...FOREVER, signal: controller.signal }), AbortError);
    assert.equal(budget.waiting, 0, 'an already aborted signal never queues');
    budget.release(90, 2);
    await assert.rejects(budget.acquire(1, { ...FOREVER, signal: controller.signal }), AbortError);
    assert.equal(budget.bufferedBytes, 0, '… and takes no bytes even when there is room');
  });

  it('never grants a waiter whose signal has aborted, even when bytes come back before its own abort listener runs', async () => {
    // Another listener of the same signal, registered first, gives bytes back (as the settlement does when it
    // takes a queued record back): the grant loop runs before this waiter has heard of the abort.
    const { budget, control } = budgetOf({ maxBytes: 100, maxRecords: 100 });
    const controller = new AbortController();
    await budget.acquire(100, FOREVER);
    controller.signal.addEventListener('abort', () => budget.release(100), { once: true });
    let granted = false;
    const waiting = budget.acquire(60, { ...FOREVER, signal: controller.signal, onGranted: () => (granted = true) });
    const next = budget.acquire(40, FOREVER);
    controller.abort();
    await assert.rejects(waiting, (error: Error) => error instanceof AbortError && error.delivery === 'not-sent');
    await next;
    assert.equal(granted, false);
    assert.equal(budget.bufferedBytes, 40, 'the aborted waiter holds nothing; the one behind it was granted');
    assert.equal(control.waiters, 0);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });

  it('a granted waiter leaves no abort listener behind', async () => {
    const { budget } = budgetOf({ maxBytes: 100, maxRecords: 100 });
    budget.tryAcquire(100);
    const controller = new AbortController();
    const waiting = budget.acquire(10, { ...FOREVER, signal: controller.signal });
    budget.release(100);
    await waiting;
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });

  it('timeout takes no bytes, clears its timer, and lets the next waiter in', async (t) => {
    // Date too: the one timer of the queue compares each waiter's deadline with the clock when it fires.
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const { budget, control } = budgetOf({ maxBytes: 100, maxRecords: 100 });
    const log: string[] = [];
    budget.tryAcquire(50);
    const head = track(log, 'head', budget.acquire(80, { timeoutMs: 1000 }));
    const behind = track(log, 'behind', budget.acquire(40, { timeoutMs: 5000 }));
    const late = assert.rejects(
      budget.acquire(80, { timeoutMs: 1001 }),
      (error: unknown) => error instanceof BufferTimeoutError && error.retriable,
    );
    t.mock.timers.tick(999);
    await settle();
    assert.deepEqual(log, []);
    t.mock.timers.tick(1);
    await Promise.all([head, behind]);
    assert.deepEqual(log, ['head!', 'behind'], 'head timed out; 50 + 40 fits');
    assert.equal(budget.bufferedBytes, 90);
    assert.equal(budget.waiting, 1);
    t.mock.timers.tick(1);
    await late;
    assert.equal(budget.waiting, 0);
    assert.equal(budget.bufferedBytes, 90, 'timed-out requests hold nothing');
    // The 5000 ms timer of `behind` must not touch it now that it is granted.
    t.mock.timers.tick(10_000);
    await settle();
    assert.deepEqual(log, ['head!', 'behind']);
  });

  it('holds one timer for all its waiters, and none once grant, abort and failAll have emptied the queue', async () => {
    // Real timers: a leftover one would keep the process alive for a minute after the producer is done.
    const timers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = timers();
    const { budget } = budgetOf({ maxBytes: 10, maxRecords: 100 });
    budget.tryAcquire(10);
    const controller = new AbortController();
    const granted = budget.acquire(5, { timeoutMs: 60_000 });
    const aborted = budget.acquire(10, { timeoutMs: 60_000, signal: controller.signal });
    const failed = budget.acquire(5, { timeoutMs: 60_000 });
    assert.equal(timers(), before + 1, 'one timer for the three, not one each');
    budget.release(5);
    await granted;
    controller.abort();
    await assert.rejects(aborted, AbortError);
    budget.failAll(new ProducerClosedError('not-sent', 'closed'));
    await assert.rejects(failed, ProducerClosedError);
    assert.equal(timers(), before);
  });

  it('failAll rejects every waiter, holds nothing for them, and cleans up', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const { budget, control } = budgetOf({ maxBytes: 10, maxRecords: 100 });
    budget.tryAcquire(10);
    const controller = new AbortController();
    const closed = new ProducerClosedError('not-sent', 'producer closed');
    const waiters = [
      budget.acquire(5, { timeoutMs: 1000 }),
      budget.acquire(5, { ...FOREVER, signal: controller.signal }),
      budget.acquire(1, FOREVER),
    ];
    budget.failAll(closed);
    for (const waiter of waiters) await assert.rejects(waiter, (error) => error === closed);
    assert.equal(budget.waiting, 0);
    assert.equal(control.waiters, 0);
    assert.equal(budget.bufferedBytes, 10);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    controller.abort();
    t.mock.timers.tick(2000);
    budget.release(10);
    assert.equal(budget.bufferedBytes, 0);
  });

  it('refuses to release more than it holds, changing nothing', () => {
    const { budget, control } = budgetOf({ maxBytes: 100, maxRecords: 100 });
    budget.tryAcquire(10);
    assert.throws(() => budget.release(11), RangeError);
    assert.throws(() => budget.release(1, 2), RangeError);
    assert.equal(budget.bufferedBytes, 10);
    assert.equal(budget.bufferedRecords, 1);
    budget.release(10);
    assert.equal(budget.bufferedBytes, 0);
    assert.equal(budget.bufferedRecords, 0);
  });

  it('calls onWaiting when the queue becomes non-empty, so lingering workers can be woken', async () => {
    let calls = 0;
    const { budget } = budgetOf({ maxBytes: 10, maxRecords: 100, onWaiting: () => calls++ });
    budget.tryAcquire(10);
    const first = budget.acquire(5, FOREVER);
    const second = budget.acquire(5, FOREVER);
    assert.equal(calls, 1);
    budget.release(10);
    await Promise.all([first, second]);
    const third = budget.acquire(5, FOREVER);
    assert.equal(calls, 2);
    budget.release(10);
    await third;
  });

  it('a grant callback that throws fails only its own waiter, holds nothing, and the next waiter is granted', async () => {
    const { budget, control } = budgetOf({ maxBytes: 10, maxRecords: 100 });
    const log: string[] = [];
    budget.tryAcquire(10);
    const broken = new Error('the taker failed');
    const a = budget.acquire(4, { ...FOREVER, onGranted: () => { throw broken; } });
    const b = budget.acquire(6, { ...FOREVER, onGranted: () => log.push('b taken') });
    const failed = a.then(() => 'granted', (error: unknown) => error);
    assert.doesNotThrow(() => budget.release(10), 'release must not throw into the completion loop');
    assert.equal(await failed, broken);
    await b;
    assert.deepEqual(log, ['b taken']);
    assert.equal(budget.bufferedBytes, 6, 'the failed grant gave its 4 bytes back');
    assert.equal(budget.bufferedRecords, 1);
    assert.equal(budget.waiting, 0);
    assert.equal(control.waiters, 0);
  });

  it('a grant callback that throws on the fast path rejects and holds nothing', async () => {
    const { budget, control } = budgetOf({ maxBytes: 10, maxRecords: 100 });
    const broken = new Error('the taker failed');
    await assert.rejects(budget.acquire(4, { ...FOREVER, onGranted: () => { throw broken; } }), (error) => error === broken);
    assert.equal(budget.bufferedBytes, 0);
    assert.equal(budget.tryAcquire(10), true);
  });

  it('times each waiter out at its own deadline with one timer, whatever order the deadlines come in', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const { budget } = budgetOf({ maxBytes: 100, maxRecords: 100 });
    budget.tryAcquire(100);
    const log: string[] = [];
    const slow = track(log, 'slow', budget.acquire(10, { timeoutMs: 5000 }));
    // Queued behind `slow` with an earlier deadline: the one timer is brought forward for it.
    const quick = track(log, 'quick', budget.acquire(10, { timeoutMs: 1000 }));
    const third = track(log, 'third', budget.acquire(10, { timeoutMs: 3000 }));
    t.mock.timers.tick(999);
    await settle();
    assert.deepEqual(log, []);
    t.mock.timers.tick(1);
    await quick;
    assert.deepEqual(log, ['quick!']);
    budget.release(10); // `slow`, the head, is granted: the timer is then due for `third`, not for it
    await slow;
    t.mock.timers.tick(1999);
    await settle();
    assert.deepEqual(log, ['quick!', 'slow']);
    t.mock.timers.tick(1);
    await third;
    assert.deepEqual(log, ['quick!', 'slow', 'third!']);
    assert.equal(budget.waiting, 0);
    assert.equal(budget.bufferedBytes, 100, 'the granted 10 replaced the released 10; the timed-out hold nothing');
  });

  describe('wait (a send\'s wait, without a promise)', () => {
    /** Calls wait() and notes which callback ran: `name` on grant, `name!<error name>` on failure. */
    const waitFor = (
      budget: ByteBudget, log: string[], name: string, bytes: number, timeoutMs = Infinity, signal?: AbortSignal,
      onGranted: () => void = () => {},
    ): void => budget.wait(bytes, 1, timeoutMs, signal, () => { onGranted(); log.push(name); }, (error) => void log.push(`${name}!${error.name}`));

    it('grants at once when there is room and nobody waits, before it returns', () => {
      const { budget } = budgetOf({ maxBytes: 10, maxRecords: 100 });
      const log: string[] = [];
      waitFor(budget, log, 'a', 6);
      assert.deepEqual(log, ['a']);
      assert.equal(budget.bufferedBytes, 6);
    });

    it('queues in FIFO order with acquire()\'s waiters and is granted inside release()', async () => {
      const { budget } = budgetOf({ maxBytes: 10, maxRecords: 100 });
      budget.tryAcquire(10);
      const log: string[] = [];
      const first = track(log, 'first', budget.acquire(5, FOREVER));
      waitFor(budget, log, 'second', 5);
      waitFor(budget, log, 'third', 1);
      assert.equal(budget.waiting, 3);
      budget.release(10);
      assert.deepEqual(log, ['second'], 'called inside the grant; the promise of `first` settles later');
      await first;
      assert.deepEqual(log, ['second', 'first']);
      assert.equal(budget.waiting, 1, '5 + 5 fill it: `third` waits');
    });

    it('fails, holding nothing, when it could never fit or its signal has already aborted', () => {
      const { budget } = budgetOf({ maxBytes: 10, maxRecords: 100 });
      const log: string[] = [];
      waitFor(budget, log, 'huge', 11);
      waitFor(budget, log, 'aborted', 1, Infinity, AbortSignal.abort());
      assert.deepEqual(log, ['huge!RecordTooLargeError', 'aborted!AbortError']);
      assert.equal(budget.bufferedBytes, 0);
    });

    it('fails on timeout, on abort and on failAll, each exactly once and holding nothing', async (t) => {
      t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
      const { budget } = budgetOf({ maxBytes: 10, maxRecords: 100 });
      budget.tryAcquire(10);
      const log: string[] = [];
      const controller = new AbortController();
      waitFor(budget, log, 'timed', 5, 1000);
      waitFor(budget, log, 'aborted', 5, Infinity, controller.signal);
      waitFor(budget, log, 'closed', 5);
      t.mock.timers.tick(1000);
      controller.abort();
      budget.failAll(new ProducerClosedError('not-sent', 'closed'));
      t.mock.timers.tick(10_000);
      budget.release(10);
      await settle();
      assert.deepEqual(log, ['timed!BufferTimeoutError', 'aborted!AbortError', 'closed!ProducerClosedError']);
      assert.equal(budget.bufferedBytes, 0);
      assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    });

    it('fails a waiter whose grant callback throws, gives its bytes back, and grants the next', () => {
      const { budget } = budgetOf({ maxBytes: 10, maxRecords: 100 });
      budget.tryAcquire(10);
      const log: string[] = [];
      waitFor(budget, log, 'broken', 4, Infinity, undefined, () => { throw new TypeError('the taker failed'); });
      waitFor(budget, log, 'next', 6);
      budget.release(10);
      assert.deepEqual(log, ['broken!TypeError', 'next']);
      assert.equal(budget.bufferedBytes, 6);
      // and on the fast path
      const idle = budgetOf({ maxBytes: 10, maxRecords: 100 }).budget;
      waitFor(idle, log, 'fast', 4, Infinity, undefined, () => { throw new TypeError('the taker failed'); });
      assert.equal(log.at(-1), 'fast!TypeError');
      assert.equal(idle.bufferedBytes, 0);
    });
  });

  for (const seed of [1, 2, 3, 4, 5]) {
    it(`stress (seed ${seed}): random sizes, random release order, aborts — FIFO grants, no deadlock`, async () => {
      const MAX_BYTES = 1000;
      const MAX_RECORDS = 8;
      const { budget, control } = budgetOf({ maxBytes: MAX_BYTES, maxRecords: MAX_RECORDS });
      const rand = mulberry32(seed);
      const granted: number[] = [];
      const aborted = new Set<number>();
      const held: { id: number; bytes: number }[] = [];
      const controllers = new Map<number, AbortController>();
      let nextId = 0;
      const REQUESTS = 3000;

      const request = (): void => {
        const id = nextId++;
        // Squared: mostly small, sometimes close to the whole budget, so large heads block small tails.
        const bytes = 1 + Math.floor(rand() ** 2 * MAX_BYTES);
        if (rand() < 0.15 && budget.tryAcquire(bytes)) {
          granted.push(id);
          held.push({ id, bytes });
          return;
        }
        let signal: AbortSignal | undefined;
        if (rand() < 0.1) {
          const controller = new AbortController();
          controllers.set(id, controller);
          signal = controller.signal;
        }
        budget.acquire(bytes, { timeoutMs: Infinity, signal }).then(
          () => {
            granted.push(id);
            held.push({ id, bytes });
          },
          (error: unknown) => {
            assert.ok(error instanceof AbortError, String(error));
            aborted.add(id);
          },
        );
      };

      const checkInvariants = (): void => {
        assert.equal(control.waiters, budget.waiting);
        assert.ok(budget.bufferedBytes <= MAX_BYTES && budget.bufferedRecords <= MAX_RECORDS);
        // Every request fits an empty budget, so an empty budget with waiters is a deadlock.
        if (budget.bufferedBytes === 0) assert.equal(budget.waiting, 0, 'deadlock: nothing held, someone waits');
      };

      while (nextId < REQUESTS || held.length > 0 || budget.waiting > 0) {
        const r = rand();
        if (nextId < REQUESTS && r < 0.5) {
          request();
        } else if (r < 0.93 && held.length > 0) {
          const [done] = held.splice(Math.floor(rand() * held.length), 1);
          budget.release(done!.bytes);
        } else if (controllers.size > 0) {
          const ids = [...controllers.keys()];
          const id = ids[Math.floor(rand() * ids.length)]!;
          controllers.get(id)!.abort();
          controllers.delete(id);
        }
        checkInvariants();
        await settle();
      }

      assert.equal(granted.length + aborted.size, REQUESTS, 'every request settled');
      for (let i = 1; i < granted.length; i++) {
        assert.ok(granted[i - 1]! < granted[i]!, `granted out of order: ${granted[i - 1]} before ${granted[i]}`);
      }
      assert.equal(budget.bufferedBytes, 0);
      assert.equal(budget.bufferedRecords, 0);
      assert.equal(new Int32Array(control.buffer)[ControlSlot.WAITERS], 0);
    });
  }
});
