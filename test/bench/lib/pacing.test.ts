import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dueAtMs, dueBy, eluLessSleep, paced, pacerWait, SLEEP_SLICE_MS, sleepSliceMs, TIMER_MIN_MS } from '../../../bench/lib/pacing.js';

describe('the fixed-rate schedule', () => {
  it('spaces records 1/rate apart from the start', () => {
    assert.equal(dueAtMs(0, 20_000), 0);
    assert.equal(dueAtMs(1, 20_000), 0.05);
    assert.equal(dueAtMs(20_000, 20_000), 1000);
    assert.equal(dueAtMs(3, 2000), 1.5);
  });

  it('counts the records due by a time, the one due exactly then included, never more than the total', () => {
    assert.equal(dueBy(-1, 2000, 100), 0);
    assert.equal(dueBy(0, 2000, 100), 1);
    assert.equal(dueBy(0.49, 2000, 100), 1);
    assert.equal(dueBy(0.5, 2000, 100), 2);
    assert.equal(dueBy(10, 2000, 100), 21);
    assert.equal(dueBy(1_000_000, 2000, 100), 100);
  });

  it('agrees with dueAtMs: record dueBy(t) - 1 is due by t and record dueBy(t) is not', () => {
    for (const t of [0.3, 7.77, 123.4, 999.99]) {
      const n = dueBy(t, 20_000, 1e9);
      assert.ok(dueAtMs(n - 1, 20_000) <= t);
      assert.ok(dueAtMs(n, 20_000) > t);
    }
  });
});

describe('paced', () => {
  it('hands over every record exactly once, in order, with its due time', async () => {
    const seen: number[] = [];
    const dues: number[] = [];
    await paced(50, 100_000, Infinity, async (first, end, dueAt) => {
      for (let i = first; i < end; i++) {
        seen.push(i);
        dues.push(dueAt(i));
      }
    });
    assert.deepEqual(seen, Array.from({ length: 50 }, (_, i) => i));
    assert.ok(Math.abs(dues[10]! - dues[0]! - 0.1) < 1e-9);
  });

  it('keeps at most `window` emits outstanding and gathers what fell due meanwhile into the next', async () => {
    let outstanding = 0;
    let most = 0;
    const sizes: number[] = [];
    await paced(200, 1_000_000, 1, async (first, end) => {
      outstanding++;
      most = Math.max(most, outstanding);
      sizes.push(end - first);
      await new Promise((resolve) => setImmediate(resolve));
      outstanding--;
    });
    assert.equal(most, 1);
    assert.equal(sizes.reduce((a, b) => a + b, 0), 200);
  });

  it('hands no record over before its due time, whether it waited on a timer or in turns', async () => {
    // 500/s: 2 ms between records, a timer then turns; 20,000/s: 0.05 ms, turns only
    for (const rate of [500, 20_000]) {
      const early: number[] = [];
      await paced(40, rate, Infinity, async (first, end, dueAt) => {
        const now = performance.now();
        for (let i = first; i < end; i++) if (now < dueAt(i)) early.push(i);
      });
      assert.deepEqual(early, [], `${rate}/s`);
    }
  });
});

describe('how the pacer waits', () => {
  it('sets a timer only for waits a timer cannot overshoot, waking before the due time', () => {
    for (const wait of [TIMER_MIN_MS, 5, 1000]) {
      const how = pacerWait(wait);
      assert.equal(how.kind, 'timeout', `${wait} ms`);
      if (how.kind === 'timeout') assert.ok(how.ms > 0 && how.ms <= wait - 1, `${wait} ms: set for ${how.ms}`);
    }
  });

  it('waits in turns of the event loop (setImmediate) for short waits and overdue records', () => {
    for (const wait of [1.99, 1, 0.5, 0.05, 0, -3]) assert.equal(pacerWait(wait).kind, 'immediate', `${wait} ms`);
  });

  it('sleeps in a turn no longer than the slice and never past the due time', () => {
    assert.equal(sleepSliceMs(0.05), 0.05);
    assert.equal(sleepSliceMs(1.5), SLEEP_SLICE_MS);
    assert.equal(sleepSliceMs(0), 0);
    assert.equal(sleepSliceMs(-1), 0);
    assert.ok(SLEEP_SLICE_MS < 1, 'a slice shorter than a timer tick');
  });

  it("counts the pacer's sleeps as idle in the event-loop utilisation", () => {
    assert.equal(eluLessSleep({ idle: 100, active: 900 }, 600), 0.3);
    assert.equal(eluLessSleep({ idle: 100, active: 900 }, 0), 0.9);
    assert.equal(eluLessSleep({ idle: 0, active: 10 }, 12), 0, 'two clocks: never below zero');
    assert.equal(eluLessSleep({ idle: 0, active: 0 }, 0), 0);
  });
});
