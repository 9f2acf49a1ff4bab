import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseReport } from '../../../bench/lib/contract.js';

describe('parseReport', () => {
  it('takes the last JSON line of stdout', () => {
    const report = parseReport('some log line\n{"records":10,"bytes":1000,"elapsedMs":5,"errors":0,"settings":[]}\n');
    assert.equal(report.records, 10);
  });

  it('rejects output without a report, or a report without its numbers', () => {
    assert.throws(() => parseReport('nothing here'), /no JSON report/);
    assert.throws(() => parseReport('{"records":10}'), /lacks bytes/);
  });
});
