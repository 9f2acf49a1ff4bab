import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jainIndex, percentileOfSorted, percentiles, round, seededRandom } from '../../../bench/lib/stats.js';

describe('percentiles (nearest rank)', () => {
  it('picks the value at rank ceil(q·n)', () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    assert.equal(percentileOfSorted(sorted, 0.5), 5);
    assert.equal(percentileOfSorted(sorted, 0.99), 10);
    assert.equal(percentileOfSorted(sorted, 0), 1);
    assert.equal(percentileOfSorted(sorted, 1), 10);
  });

  it('sorts numerically, not as strings, and leaves the input alone', () => {
    const values = [100, 9, 20, 3];
    assert.deepEqual(percentiles(values, 0.5, 1), [9, 100]);
    assert.deepEqual(values, [100, 9, 20, 3]);
  });

  it('gives p99.9 and the maximum the same way (the rate scenarios\' tail)', () => {
    const values = Array.from({ length: 2000 }, (_, i) => 2000 - i);
    assert.deepEqual(percentiles(values, 0.999, 1), [1998, 2000]);
  });

  it('is undefined for no samples', () => {
    assert.deepEqual(percentiles([], 0.5), [undefined]);
  });
});

describe('jainIndex', () => {
  it('is 1 for equal shares and 1/n when one sender takes everything', () => {
    assert.equal(jainIndex([5, 5, 5, 5]), 1);
    assert.equal(jainIndex([8, 0, 0, 0]), 0.25);
  });

  it('matches the formula for uneven shares', () => {
    // (1+2+3)² / (3·(1+4+9)) = 36/42
    assert.ok(Math.abs(jainIndex([1, 2, 3])! - 36 / 42) < 1e-12);
  });

  it('is undefined without senders', () => {
    assert.equal(jainIndex([]), undefined);
  });
});

describe('seededRandom', () => {
  it('repeats for a seed and stays in [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    for (let i = 0; i < 1000; i++) {
      const x = a();
      assert.equal(x, b());
      assert.ok(x >= 0 && x < 1);
    }
  });
});

describe('round', () => {
  it('keeps 3 significant digits below 100 and whole numbers above', () => {
    assert.equal(round(0.012345), 0.0123);
    assert.equal(round(12.345), 12.3);
    assert.equal(round(12345.6), 12346);
    assert.equal(round(undefined), undefined);
    assert.equal(round(Number.NaN), undefined);
  });
});
