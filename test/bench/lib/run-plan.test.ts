import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolvePlan } from '../../../bench/lib/run-plan.js';

describe('resolvePlan', () => {
  it('gives the newcomer default without flags: 100,000 records, median of 3, rate scenarios once for 10 s', () => {
    const plan = resolvePlan({});
    assert.equal(plan.preset, 'default');
    assert.equal(plan.records, 100_000);
    assert.equal(plan.warmupRecords, 10_000);
    assert.equal(plan.repeats, 3);
    assert.equal(plan.rateRepeats, 1);
    assert.equal(plan.rateSeconds, 10);
    assert.equal(plan.rateWarmupSeconds, 2);
  });

  it('keeps the million-record runs behind --full', () => {
    const plan = resolvePlan({ full: true });
    assert.equal(plan.records, 1_000_000);
    assert.equal(plan.warmupRecords, 100_000);
    assert.equal(plan.rateRepeats, 3);
    assert.equal(plan.rateSeconds, 60);
  });

  it('makes --quick shorter than the default', () => {
    const quick = resolvePlan({ quick: true });
    const normal = resolvePlan({});
    assert.ok(quick.records < normal.records);
    assert.ok(quick.repeats < normal.repeats);
    assert.ok(quick.rateSeconds < normal.rateSeconds);
    assert.equal(quick.rateWarmupSeconds, 1);
  });

  it('lets --records, --repeat and --rate-seconds override the preset; --repeat covers every scenario', () => {
    const plan = resolvePlan({ full: true, records: '500000', repeat: '2', rateSeconds: '7' });
    assert.equal(plan.records, 500_000);
    assert.equal(plan.warmupRecords, 50_000);
    assert.equal(plan.repeats, 2);
    assert.equal(plan.rateRepeats, 2);
    assert.equal(plan.rateSeconds, 7);
  });

  it('refuses what is not a positive integer, and --quick with --full', () => {
    assert.throws(() => resolvePlan({ records: '0' }), /--records/);
    assert.throws(() => resolvePlan({ repeat: '1.5' }), /--repeat/);
    assert.throws(() => resolvePlan({ rateSeconds: 'x' }), /--rate-seconds/);
    assert.throws(() => resolvePlan({ quick: true, full: true }), /exclude/);
  });
});
