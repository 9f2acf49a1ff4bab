import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BudgetRuns } from '../../src/main/budget-runs.js';
import { ByteBudget } from '../../src/main/byte-budget.js';
import { createControlBlock } from '../../src/shared/control-block.js';
import { AbortError, BufferTimeoutError } from '../../src/shared/producer-errors.js';

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function setup(maxBytes: number, options: { sliceBytes: number; sliceRecords?: number; deadline?: number; signal?: AbortSignal }) {
  const budget = new ByteBudget(createControlBlock(), { maxBytes, maxRecords: 1000 });
  const accepted: string[] = [];
  const failed: [string, Error][] = [];
  const runs = new BudgetRuns<string[]>({
    budget,
    sliceBytes: options.sliceBytes,
    sliceRecords: options.sliceRecords ?? 1000,
    deadline: options.deadline ?? Date.now() + 60_000,
    timeoutMs: 60_000,
    signal: options.signal,
    newSlice: () => [],
    accept: (slice) => accepted.push(...slice),
    fail: (slice, e) => failed.push(...slice.map((r): [string, Error] => [r, e])),
  });
  /** Appends a record of `bytes` to the slice the runs give it. */
  const add = (record: string, bytes: number): void => {
    runs.sliceFor(bytes).push(record);
  };
  return { budget, runs, add, accepted, failed };
}

describe('BudgetRuns', () => {
  it('asks in slices of at most sliceBytes, granted in order as bytes come back', async () => {
    const { budget, runs, add, accepted } = setup(100, { sliceBytes: 30 });
    assert.equal(budget.tryAcquire(100, 0), true); // full (bytes only)
    for (let i = 0; i < 7; i++) add(`r${i}`, 10);
    runs.flush();
    assert.equal(budget.waiting, 3, 'three slices: 30 + 30 + 10 bytes');
    budget.release(30, 0);
    assert.deepEqual(accepted, ['r0', 'r1', 'r2'], 'one slice granted, synchronously, in order');
    budget.release(40, 0);
    assert.deepEqual(accepted, ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
    assert.equal(budget.bufferedBytes, 100);
    assert.equal(budget.bufferedRecords, 7);
  });

  it('keeps every later record of the call behind one that waited, and nothing overtakes the queued slices', async () => {
    const { budget, runs, add, accepted } = setup(100, { sliceBytes: 50 });
    budget.tryAcquire(90);
    add('big', 20); // does not fit now: the run is active
    assert.equal(runs.active, true);
    add('small', 5); // would fit, but must stay behind 'big'
    runs.flush();
    assert.equal(budget.tryAcquire(5), false, 'a new send cannot overtake the queued slice');
    budget.release(90);
    assert.deepEqual(accepted, ['big', 'small']);
  });

  it('a slice holds at most sliceRecords records, whatever their bytes', () => {
    const { budget, runs, add, accepted } = setup(100, { sliceBytes: 100, sliceRecords: 2 });
    budget.tryAcquire(100);
    for (let i = 0; i < 5; i++) add(`r${i}`, 1);
    runs.flush();
    assert.equal(budget.waiting, 3, 'slices of 2 + 2 + 1 records');
    budget.release(2, 0);
    assert.deepEqual(accepted, ['r0', 'r1'], 'one slice of two granted');
    // The two slices left would hold the process for their minute-long deadline.
    budget.release(98, 0);
    assert.equal(budget.waiting, 0);
  });

  it('a record larger than a slice is a slice of its own', () => {
    const { budget, runs, add, accepted } = setup(100, { sliceBytes: 10 });
    add('a', 5);
    add('huge', 80);
    add('b', 5);
    runs.flush();
    assert.deepEqual(accepted, ['a', 'huge', 'b'], 'room for all: granted at once');
    assert.equal(budget.waiting, 0);
  });

  it('a slice that times out or is aborted fails each of its records and holds nothing', async () => {
    const controller = new AbortController();
    const { budget, runs, add, accepted, failed } = setup(100, { sliceBytes: 100, signal: controller.signal });
    budget.tryAcquire(100);
    add('x', 10);
    add('y', 10);
    runs.flush();
    controller.abort();
    await settle();
    assert.deepEqual(failed.map(([r]) => r), ['x', 'y']);
    for (const [, error] of failed) assert.ok(error instanceof AbortError && error.delivery === 'not-sent');
    assert.deepEqual(accepted, []);
    assert.equal(budget.bufferedBytes, 100);
    assert.equal(budget.waiting, 0);

    const late = setup(100, { sliceBytes: 100, deadline: Date.now() });
    late.budget.tryAcquire(100);
    late.add('z', 10);
    late.runs.flush();
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(late.failed.length, 1);
    assert.ok(late.failed[0]![1] instanceof BufferTimeoutError);
    // The call's wait, not what was left of it to this slice (0 ms here): "within 0 ms" read as no wait at all.
    assert.equal(late.failed[0]![1].message, 'no buffer space for 10 bytes within 60000 ms (maxBufferedBytes 100)');
  });
});
