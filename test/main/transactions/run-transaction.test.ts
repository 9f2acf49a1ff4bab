/** run-transaction.ts: the first failed record of a sendBatch, in either form of its results, fails the transaction. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstRejection } from '../../../src/main/transactions/run-transaction.js';

const value = { topic: 't', partition: 0, offset: 1, timestamp: 1 };

describe('firstRejection', () => {
  it('finds the first rejected result of a sendBatch with every result', () => {
    const first = new Error('first');
    assert.equal(firstRejection([{ status: 'fulfilled', value }, { status: 'rejected', reason: first }, { status: 'rejected', reason: new Error('second') }]), first);
    assert.equal(firstRejection([{ status: 'fulfilled', value }]), undefined);
  });

  it("finds the first failure of a sendBatch with results: 'failures'", () => {
    const first = new Error('first');
    assert.equal(firstRejection({ records: 3, failures: [{ index: 0, reason: first }, { index: 2, reason: new Error('second') }] }), first);
    assert.equal(firstRejection({ records: 3, failures: [] }), undefined);
  });
});
