import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planSleep, type LoopState } from '../../src/workers/sleep-plan.js';

const quiet: LoopState = { hasOpen: false, readRecords: false, timedOut: false, sendNow: false, lingerMs: 5, lingerWait: undefined, sweepWait: undefined };

describe('planSleep', () => {
  it('an idle worker (nothing open, nothing read) sleeps until woken, not lingering', () => {
    assert.deepEqual(planSleep(quiet), { lingering: false, timeoutMs: undefined, wakeOnDemand: false });
  });

  it('with batches open it lingers until the oldest must be sealed, and the demand wakes it', () => {
    assert.deepEqual(planSleep({ ...quiet, hasOpen: true, readRecords: true, lingerWait: 3 }), { lingering: true, timeoutMs: 3, wakeOnDemand: true });
  });

  it('with none open after a turn its linger timeout began that read records, it lingers a whole lingerMs, and the demand wakes it', () => {
    assert.deepEqual(planSleep({ ...quiet, readRecords: true, timedOut: true }), { lingering: true, timeoutMs: 5, wakeOnDemand: true });
  });

  it('with none open after a turn a wake-up began (bytes, an answer: a busy worker), it does not linger', () => {
    assert.deepEqual(planSleep({ ...quiet, readRecords: true }), { lingering: false, timeoutMs: undefined, wakeOnDemand: false });
  });

  it('does not linger while sendNow is set; open batches still make the demand wake it', () => {
    assert.deepEqual(planSleep({ ...quiet, readRecords: true, timedOut: true, sendNow: true }), { lingering: false, timeoutMs: undefined, wakeOnDemand: false });
    assert.deepEqual(planSleep({ ...quiet, hasOpen: true, sendNow: true, lingerWait: 0 }), { lingering: false, timeoutMs: 0, wakeOnDemand: true });
  });

  it('an idle worker holding memory a sweep may release wakes for the sweep; lingering, it wakes for whichever comes first', () => {
    assert.deepEqual(planSleep({ ...quiet, sweepWait: 30_000 }), { lingering: false, timeoutMs: 30_000, wakeOnDemand: false });
    assert.deepEqual(planSleep({ ...quiet, hasOpen: true, lingerWait: 3, sweepWait: 30_000 }), { lingering: true, timeoutMs: 3, wakeOnDemand: true });
    assert.deepEqual(planSleep({ ...quiet, hasOpen: true, lingerWait: 3, sweepWait: 0 }), { lingering: true, timeoutMs: 0, wakeOnDemand: true });
  });

  it('with lingerMs 0 a turn that read records does not make it linger', () => {
    assert.deepEqual(planSleep({ ...quiet, lingerMs: 0, readRecords: true, timedOut: true }), { lingering: false, timeoutMs: undefined, wakeOnDemand: false });
  });
});
