/**
 * The byte budget's bounds and messages, found by mutation testing (`npm run test:mutation`): each case below
 * failed to notice a planted change to src/main/byte-budget.ts — an off-by-one limit, a dropped range check, a
 * waiter that could not leave from the middle of the queue, a timer armed past Node's limit.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ByteBudget } from '../../src/main/byte-budget.js';
import { ConfigError } from '../../src/shared/errors.js';
import { createControlBlock } from '../../src/shared/control-block.js';
import { AbortError, BufferTimeoutError, RecordTooLargeError } from '../../src/shared/producer-errors.js';

const LIMIT = 2 ** 31 - 1;
const FOREVER = { timeoutMs: Infinity };

const budgetOf = (maxBytes: number, maxRecords: number): ByteBudget => new ByteBudget(createControlBlock(), { maxBytes, maxRecords });

describe('ByteBudget limits', () => {
  it('accepts 1 and 2^31 - 1 for each limit and rejects 0 and 2^31, naming the option', () => {
    for (const limit of [1, LIMIT]) {
      assert.equal(budgetOf(limit, 1).maxBytes, limit);
      assert.equal(budgetOf(1, limit).maxRecords, limit);
    }
    for (const bad of [0, LIMIT + 1, 1.5]) {
      assert.throws(() => budgetOf(bad, 1), (e: unknown) => e instanceof ConfigError && /^maxBufferedBytes must be an integer from 1 to 2147483647/.test(e.message));
      assert.throws(() => budgetOf(1, bad), (e: unknown) => e instanceof ConfigError && /^maxBufferedRecords must be an integer from 1 to 2147483647/.test(e.message));
    }
  });

  it('takes requests of exactly the limits, and zero bytes, at once', async () => {
    const budget = budgetOf(100, 3);
    assert.equal(budget.tryAcquire(0, 3), true, 'zero bytes, every record');
    budget.release(0, 3);
    assert.equal(budget.tryAcquire(100, 1), true, 'every byte');
    budget.release(100, 1);
    await budget.acquire(0, { ...FOREVER, records: 3 });
    budget.release(0, 3);
    await budget.acquire(1, { ...FOREVER, records: 0 });
    budget.release(1, 0);
    await budget.acquire(100, FOREVER);
    assert.deepEqual([budget.bufferedBytes, budget.bufferedRecords], [100, 1]);
  });

  it('rejects negative requests with ConfigError and requests beyond a limit with RecordTooLargeError naming it', async () => {
    const budget = budgetOf(100, 3);
    const negative = /^bytes and records must be non-negative numbers, got -?\d+ and -?\d+$/;
    for (const [bytes, records] of [[-1, 1], [1, -1], [-1, 3]] as const) {
      assert.throws(() => budget.tryAcquire(bytes, records), (e: unknown) => e instanceof ConfigError && negative.test(e.message));
      await assert.rejects(budget.acquire(bytes, { ...FOREVER, records }), (e: unknown) => e instanceof ConfigError && negative.test(e.message));
    }
    const tooManyRecords = (e: unknown): boolean => e instanceof RecordTooLargeError && e.message === '4 records exceed maxBufferedRecords 3';
    assert.throws(() => budget.tryAcquire(100, 4), tooManyRecords, 'all the bytes and too many records: the records are the problem');
    await assert.rejects(budget.acquire(100, { ...FOREVER, records: 4 }), tooManyRecords);
    await assert.rejects(budget.acquire(101, FOREVER), (e: unknown) => e instanceof RecordTooLargeError && e.message === 'record of 101 bytes exceeds maxBufferedBytes 100');
    assert.deepEqual([budget.bufferedBytes, budget.bufferedRecords, budget.waiting], [0, 0, 0], 'nothing taken');
  });
});

describe('ByteBudget release', () => {
  it('refuses to release more bytes, more records or a negative amount than is held, changing nothing', () => {
    const budget = budgetOf(100, 10);
    assert.equal(budget.tryAcquire(50, 5), true);
    for (const [bytes, records] of [[51, 1], [1, 6], [-1, 0], [0, -1]] as const) {
      assert.throws(() => budget.release(bytes, records), (e: unknown) => e instanceof RangeError && /^released -?\d+ bytes \/ -?\d+ records but 50 \/ 5 are held$/.test(e.message));
    }
    budget.release(0, 1); // zero bytes is a legal release
    assert.deepEqual([budget.bufferedBytes, budget.bufferedRecords], [50, 4]);
  });
});

describe('ByteBudget queue', () => {
  it('lets a waiter in the middle of the queue leave on abort; the others are granted in order', async () => {
    const budget = budgetOf(100, 10);
    assert.equal(budget.tryAcquire(100), true);
    const order: string[] = [];
    const controller = new AbortController();
    const first = budget.acquire(40, FOREVER).then(() => order.push('first'));
    const middle = budget.acquire(40, { ...FOREVER, signal: controller.signal });
    const last = budget.acquire(40, FOREVER).then(() => order.push('last'));
    controller.abort();
    assert.equal(budget.waiting, 2, 'the aborted waiter left at once');
    await assert.rejects(middle, (e: unknown) => e instanceof AbortError && e.delivery === 'not-sent' && e.message === 'send aborted while waiting for buffer space');
    budget.release(100);
    await Promise.all([first, last]);
    assert.deepEqual(order, ['first', 'last']);
    assert.equal(budget.bufferedBytes, 80);
  });

  it('a wait longer than 2^31 - 1 ms has no timer (Node would fire it at once), and a timeout names the request', async () => {
    const budget = budgetOf(10, 10);
    assert.equal(budget.tryAcquire(10), true);
    const outcome: string[] = [];
    const long = budget.acquire(5, { timeoutMs: 2 ** 31 }).then(() => outcome.push('granted'), (e: unknown) => outcome.push(String(e)));
    const short = budget.acquire(5, { timeoutMs: 1 });
    // The 1 ms timer fires first: a clamped timer for the long wait would have fired with it.
    await assert.rejects(short, (e: unknown) => e instanceof BufferTimeoutError && e.message === 'no buffer space for 5 bytes within 1 ms (maxBufferedBytes 10)');
    await sleep(5);
    assert.deepEqual(outcome, [], 'the long wait is still waiting');
    budget.release(10);
    await long;
    assert.deepEqual(outcome, ['granted']);
  });
});
