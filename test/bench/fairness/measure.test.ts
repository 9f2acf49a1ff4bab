import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countOvertaken, Observations } from '../../../bench/fairness/measure.js';

describe('countOvertaken', () => {
  it('is 0 for grants in request order', () => {
    assert.equal(countOvertaken([0, 1, 2, 3]), 0);
  });

  it('counts each grant that came after a later request', () => {
    assert.equal(countOvertaken([1, 0, 2]), 1);
    assert.equal(countOvertaken([3, 0, 1, 2]), 3);
  });
});

describe('Observations.summarise', () => {
  it('computes waits, Jain and FIFO from what was recorded', () => {
    const o = new Observations();
    for (const w of [0, 1, 2, 3]) o.waitsMs.push(w);
    o.grantOrder.push(0, 2, 1);
    o.senderProgress(0, 100, 0, 10);
    o.senderProgress(1, 100, 0, 10);
    o.completed = 3;
    const row = o.summarise('x', 3, 5, 'note');
    assert.equal(row.fifoViolations, 1);
    assert.equal(row.jainIndex, 1);
    assert.equal(row.waitMaxMs, 3);
    assert.equal(row.wakeLatencyP99Us, null);
  });
});
