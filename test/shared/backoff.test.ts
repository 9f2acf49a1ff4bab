import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffMs } from '../../src/shared/backoff.js';
import { MAX_TIMER_MS } from '../../src/shared/timers.js';

const settings = { retryBackoffMs: 100, retryBackoffMaxMs: 1000 };
/** random() = 0.5 is the middle of the jitter range: the factor is exactly 1. */
const middle = (): number => 0.5;

describe('backoffMs', () => {
  it('starts at retryBackoffMs and doubles per attempt', () => {
    assert.deepEqual([0, 1, 2, 3].map((attempt) => backoffMs(attempt, settings, middle)), [100, 200, 400, 800]);
  });

  it('stops growing at retryBackoffMaxMs', () => {
    assert.equal(backoffMs(4, settings, middle), 1000);
    assert.equal(backoffMs(1000, settings, middle), 1000);
    assert.equal(backoffMs(Infinity, settings, middle), 1000);
  });

  it('treats a negative attempt as the first', () => {
    assert.equal(backoffMs(-1, settings, middle), 100);
  });

  it('spreads each pause over ±20 %', () => {
    assert.equal(backoffMs(0, settings, () => 0), 80);
    assert.ok(Math.abs(backoffMs(0, settings, () => 1 - Number.EPSILON) - 120) < 1e-9);
    assert.equal(backoffMs(10, settings, () => 0), 800);
    assert.ok(Math.abs(backoffMs(10, settings, () => 1 - Number.EPSILON) - 1200) < 1e-9);
  });

  it('stays finite when retryBackoffMaxMs does not bound it', () => {
    const unbounded = { retryBackoffMs: 1, retryBackoffMaxMs: Number.MAX_VALUE };
    assert.equal(backoffMs(10_000, unbounded, middle), 2 ** 20);
  });

  it("never exceeds Node's timer limit, though the settings and jitter may (a longer timer fires after 1 ms)", () => {
    const largest = { retryBackoffMs: MAX_TIMER_MS, retryBackoffMaxMs: MAX_TIMER_MS };
    assert.equal(backoffMs(30, largest, () => 1 - Number.EPSILON), MAX_TIMER_MS);
    assert.equal(backoffMs(0, largest, () => 0), MAX_TIMER_MS * 0.8);
  });

  it('uses Math.random by default', () => {
    for (let i = 0; i < 100; i++) {
      const wait = backoffMs(2, settings);
      assert.ok(wait >= 320 && wait < 480, `${wait}`);
    }
  });

  it('is 0 with retryBackoffMs 0', () => {
    assert.equal(backoffMs(5, { retryBackoffMs: 0, retryBackoffMaxMs: 1000 }), 0);
  });
});
