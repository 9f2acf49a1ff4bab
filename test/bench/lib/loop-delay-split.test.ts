import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OwnLoopDelayWatch, ownSpans, p99AsLoopDelay, threadWaitReader } from '../../../bench/lib/loop-delay-split.js';

describe('ownSpans', () => {
  it('takes from each span between two ticks the run-queue wait in it', () => {
    const ticks = [
      { at: 0, waitedMs: 0 },
      { at: 2, waitedMs: 0 }, // on time
      { at: 16, waitedMs: 0 }, // 14 ms, no wait: the thread's own work
      { at: 30, waitedMs: 12 }, // 14 ms, 12 of them waiting for a CPU
      { at: 42, waitedMs: 16 }, // 12 ms, 4 of them waiting
    ];
    assert.deepEqual(ownSpans(ticks, 2), [2, 14, 2, 8]);
  });

  it('never goes below the interval where the thread waited longer than the span less it', () => {
    assert.deepEqual(ownSpans([{ at: 0, waitedMs: 0 }, { at: 5, waitedMs: 9 }], 2), [2]);
  });

  it('has no span for fewer than two ticks', () => {
    assert.deepEqual(ownSpans([{ at: 0, waitedMs: 0 }], 2), []);
    assert.deepEqual(ownSpans([], 2), []);
  });
});

describe('p99AsLoopDelay', () => {
  it('reads a p99 as monitorEventLoopDelay does: of 50 spans the largest, of 150 the second largest', () => {
    const spans = (n: number): number[] => [...Array.from({ length: n - 2 }, () => 2), 30, 40];
    assert.ok(Math.abs(p99AsLoopDelay(spans(50))! - 40) < 0.1, `${p99AsLoopDelay(spans(50))}`);
    assert.ok(Math.abs(p99AsLoopDelay(spans(150))! - 30) < 0.1, `${p99AsLoopDelay(spans(150))}`);
  });

  it('is undefined for no spans', () => {
    assert.equal(p99AsLoopDelay([]), undefined);
  });
});

describe('OwnLoopDelayWatch', () => {
  it('gives the p99 of the own spans of the ticks it took, from its clock and wait readings', async () => {
    // Scripted readings, one pair per tick of 1 ms: span 2 is 21 ms of the thread's own work, span 3 is 31 ms of
    // which 30 waiting for a CPU.
    const clock = [0, 1, 22, 53, 54];
    const waits = [0, 0, 0, 30, 30];
    let ticks = 0;
    let allTaken!: () => void;
    const taken = new Promise<void>((resolve) => (allTaken = resolve));
    const watch = new OwnLoopDelayWatch(
      () => {
        const waited = waits[Math.min(ticks, waits.length - 1)]!;
        if (++ticks === waits.length) allTaken();
        return waited;
      },
      1,
      () => clock[Math.min(ticks, clock.length - 1)]!,
    );
    await taken; // stopped in the turn of the last scripted tick: no tick after it
    assert.ok(Math.abs(watch.stop()! - 21) < 0.05, 'the own 21 ms span, not the 31 ms one that mostly waited');
  });

  it('reports nothing when it was stopped before a second tick', () => {
    const watch = new OwnLoopDelayWatch(() => 0, 1000);
    assert.equal(watch.stop(), undefined);
  });
});

describe('threadWaitReader', () => {
  it('reads this thread\'s run-queue wait in ms, never going back', { skip: process.platform !== 'linux' && 'schedstat is Linux only' }, () => {
    const reader = threadWaitReader();
    if (reader === undefined) return; // a kernel built without schedstat: the watch reports nothing there
    try {
      const first = reader.read();
      const second = reader.read();
      assert.ok(Number.isFinite(first) && first >= 0, `a wait in ms: ${first}`);
      assert.ok(second >= first, `${second} after ${first}`);
    } finally {
      reader.close();
    }
  });
});
