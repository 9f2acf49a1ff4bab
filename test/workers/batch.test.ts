/**
 * A batch's delivery deadline (src/workers/batch.ts, expiresAt): the worker must fail a batch that never left before
 * the main thread's sweep reaches its first record (acceptance + deliveryTimeoutMs), which could only say 'unknown'.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXPIRY_LEAD_MAX_MS, expiresAt, newBatch, splitBatch } from '../../src/workers/batch.js';

describe('expiresAt', () => {
  it('is deliveryTimeoutMs after the first record came, less a lead of at most 250 ms', () => {
    assert.equal(EXPIRY_LEAD_MAX_MS, 250);
    assert.equal(expiresAt(5000, 120_000), 5000 + 120_000 - 250);
  });

  it('takes an eighth of a short delivery timeout as its lead, never the whole of it', () => {
    assert.equal(expiresAt(5000, 800), 5000 + 700);
    assert.ok(expiresAt(5000, 1) > 5000);
  });
});

describe('newBatch', () => {
  it('starts unsent, unambiguous and with no error, and keeps its deadline', () => {
    const batch = newBatch(Uint32Array.of(1, 2), 42);
    assert.deepEqual(
      { baseSequence: batch.baseSequence, attempts: batch.attempts, inFlight: batch.inFlight, ambiguous: batch.ambiguous, lastError: batch.lastError, deadline: batch.deadline },
      { baseSequence: -1, attempts: 0, inFlight: false, ambiguous: false, lastError: undefined, deadline: 42 },
    );
  });
});

describe('splitBatch', () => {
  it('halves the records in order, and the halves keep the whole batch\'s deadline and ambiguity', () => {
    const whole = newBatch(Uint32Array.of(1, 2, 3, 4, 5), 42);
    whole.ambiguous = true; // an earlier attempt of the whole may have been written
    const [first, second] = splitBatch(whole);
    assert.deepEqual([[...first.recordIds], [...second.recordIds]], [[1, 2, 3], [4, 5]]);
    assert.deepEqual([first.deadline, second.deadline, first.ambiguous, second.ambiguous], [42, 42, true, true]);
    const [clean] = splitBatch(newBatch(Uint32Array.of(1, 2), 42));
    assert.equal(clean.ambiguous, false);
  });
});
