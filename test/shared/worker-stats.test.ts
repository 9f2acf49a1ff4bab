/**
 * WorkerStats (src/shared/worker-stats.ts): the counters a worker keeps for producer.metrics().
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkerStat, WorkerStats, createWorkerStats, sumWorkerStats } from '../../src/shared/worker-stats.js';

describe('WorkerStats', () => {
  it('counts past 2^31 (a sum of throttle_time_ms reaches it in hours) without going negative', () => {
    const buffer = createWorkerStats();
    const worker = new WorkerStats(buffer);
    for (let i = 0; i < 3; i++) worker.add(WorkerStat.THROTTLE_MS, 2 ** 30);
    const main = new WorkerStats(buffer);
    assert.equal(main.get(WorkerStat.THROTTLE_MS), 3 * 2 ** 30);
    assert.equal(sumWorkerStats([main, main]).throttleTimeMs, 6 * 2 ** 30);
  });

  it('carries the totals of the worker it replaced, all but its requests in flight', () => {
    const dead = new WorkerStats(createWorkerStats());
    dead.add(WorkerStat.RETRIES, 3);
    dead.add(WorkerStat.REQUESTS_IN_FLIGHT, 4);
    const next = new WorkerStats(createWorkerStats());
    next.carryFrom(dead);
    next.add(WorkerStat.RETRIES);
    assert.equal(next.get(WorkerStat.RETRIES), 4);
    assert.equal(next.get(WorkerStat.REQUESTS_IN_FLIGHT), 0);
  });
});
