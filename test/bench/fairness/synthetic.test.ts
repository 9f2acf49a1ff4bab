import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { harness, lostWakeUp, withHangDetector } from '../../../bench/fairness/synthetic.js';
import { makePlan } from '../../../bench/fairness/plan.js';

describe('synthetic fairness harness', () => {
  it('runs the lost-wake-up case to completion in grant order', async () => {
    const row = await lostWakeUp({ ...makePlan(true), lostWakeupRounds: 20 });
    assert.equal(row.completed, 60);
    assert.equal(row.expected, 60);
    assert.equal(row.lostWakeups, 0);
    assert.equal(row.fifoViolations, 0);
  });

  it('counts a waiter nobody can wake as a lost wake-up and ends the scenario', async () => {
    const h = harness(100, 1);
    // bytes taken behind the drain's back: no release will ever come
    assert.equal(h.budget.tryAcquire(100), true);
    const stuck = h.admit(50);
    await withHangDetector(h, stuck, 50);
    assert.equal(h.observations.lostWakeups, 1);
    assert.equal(h.budget.waiting, 0);
  });
});
