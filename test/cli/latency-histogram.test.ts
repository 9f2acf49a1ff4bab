import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LatencyHistogram } from '../../src/cli/latency-histogram.js';

test('percentiles weigh each group by its records (nearest rank)', () => {
  const h = new LatencyHistogram();
  h.add(10, 90); // 90 records at 10 ms
  h.add(50, 9);
  h.add(200, 1);
  assert.equal(h.records, 100);
  const s = h.summary();
  assert.equal(s.p50, 10);
  assert.equal(s.p95, 50);
  assert.equal(s.p99, 50);
  assert.equal(s.p999, 200);
  assert.equal(s.max, 200);
  assert.equal(s.avg, (10 * 90 + 50 * 9 + 200) / 100);
});

test('groups arrive in any order, and the store grows past its first size', () => {
  const h = new LatencyHistogram();
  for (let i = 3000; i > 0; i--) h.add(i, 1);
  h.add(5, 0); // a group with no acknowledged record adds nothing
  const s = h.summary();
  assert.equal(h.records, 3000);
  assert.equal(s.p50, 1500);
  assert.equal(s.max, 3000);
});

test('no records: zeros, not NaN', () => {
  assert.deepEqual(new LatencyHistogram().summary(), { avg: 0, p50: 0, p95: 0, p99: 0, p999: 0, max: 0 });
});
