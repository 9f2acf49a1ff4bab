/**
 * Byte budget micro benchmarks, registered on a tinybench `Bench` by bench/micro.ts.
 *
 *   uncontended  the per-`send` hot path when the buffer has room: tryAcquire or acquire's fast path (which
 *                returns a shared resolved promise), then a release with an empty queue — no allocation
 *   contended    a full buffer with 64 queued sends, all granted by one release, as when a completed batch
 *                frees room: the slow path, one promise and one queue node per waiter
 */
import type { Bench } from 'tinybench';
import { ByteBudget } from '../../src/main/byte-budget.js';
import { createControlBlock } from '../../src/shared/control-block.js';

export interface BudgetBenchTask {
  readonly name: string;
  /** Acquire/release pairs per iteration. */
  readonly recordsPerOp: number;
}

const WAITERS = 64;
/** Shared, as the producer shares one options object for sends without a signal. */
const FOREVER = { timeoutMs: Infinity };

export function registerBudgetBench(bench: Bench): BudgetBenchTask[] {
  const budget = new ByteBudget(createControlBlock(), { maxBytes: 64 * 1024 * 1024, maxRecords: 1_000_000 });

  bench.add('budget tryAcquire+release', () => {
    if (!budget.tryAcquire(100)) throw new Error('budget should have room');
    budget.release(100);
  });

  bench.add('budget acquire (fast path)+release', () => {
    void budget.acquire(100, FOREVER);
    budget.release(100);
  });

  const full = new ByteBudget(createControlBlock(), { maxBytes: WAITERS * 100, maxRecords: 1_000_000 });
  const contended = `budget ${WAITERS} waiters granted by one release`;
  bench.add(contended, async () => {
    full.tryAcquire(WAITERS * 100);
    const granted: Promise<void>[] = [];
    for (let i = 0; i < WAITERS; i++) granted.push(full.acquire(100, FOREVER));
    full.release(WAITERS * 100);
    await Promise.all(granted);
    full.release(WAITERS * 100, WAITERS);
  });

  return [
    { name: 'budget tryAcquire+release', recordsPerOp: 1 },
    { name: 'budget acquire (fast path)+release', recordsPerOp: 1 },
    { name: contended, recordsPerOp: WAITERS },
  ];
}
