/**
 * recordFailures (src/workers/record-errors.ts): the groups a batch refused with KIP-467 record errors fails in.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recordFailures } from '../../src/workers/record-errors.js';
import { ClientErrorCode } from '../../src/shared/completion-entry.js';

const INVALID_TIMESTAMP = 32;
const INVALID_RECORD = 87;
const ids = (...values: number[]): Uint32Array => Uint32Array.from(values);

describe('recordFailures', () => {
  it('one named record fails with the answer\'s code and its own message; the others are rejected with the batch', () => {
    const groups = recordFailures(ids(10, 11, 12), INVALID_TIMESTAMP, 'batch refused', [{ batchIndex: 1, message: 'timestamp 5 out of range' }]);
    assert.deepEqual(groups, [
      { errorCode: INVALID_TIMESTAMP, message: 'timestamp 5 out of range', recordIds: ids(11) },
      {
        errorCode: ClientErrorCode.rejectedWithBatch,
        message: 'the broker refused the record\'s batch because another record of it was invalid (INVALID_TIMESTAMP: timestamp 5 out of range); this record was not found invalid',
        recordIds: ids(10, 12),
      },
    ]);
  });

  it('several named records fail with INVALID_RECORD, grouped by message; a record without one takes the partition\'s', () => {
    const groups = recordFailures(ids(0, 1, 2, 3, 4, 5), INVALID_TIMESTAMP, 'partition message', [
      { batchIndex: 4, message: 'no key' },
      { batchIndex: 0, message: 'timestamp 1 out of range' },
      { batchIndex: 2, message: 'no key' },
      { batchIndex: 5, message: null },
    ]);
    assert.deepEqual(groups?.map((g) => [g.errorCode, g.message, [...g.recordIds]]), [
      [INVALID_RECORD, 'timestamp 1 out of range', [0]],
      [INVALID_RECORD, 'no key', [2, 4]],
      [INVALID_RECORD, 'partition message', [5]],
      [ClientErrorCode.rejectedWithBatch, groups![3]!.message, [1, 3]],
    ]);
    assert.match(groups![3]!.message, /because 4 other records of it were invalid \(INVALID_RECORD: timestamp 1 out of range\)/);
  });

  it('every record named: no group for the batch-mates', () => {
    const groups = recordFailures(ids(7, 8), INVALID_RECORD, null, [{ batchIndex: 0, message: 'no key' }, { batchIndex: 1, message: 'no key' }]);
    assert.deepEqual(groups, [{ errorCode: INVALID_RECORD, message: 'no key', recordIds: ids(7, 8) }]);
  });

  it('no message anywhere: an empty one, and the batch-mates\' reason is the code alone', () => {
    const groups = recordFailures(ids(1, 2), INVALID_RECORD, null, [{ batchIndex: 1, message: null }]);
    assert.equal(groups![0]!.message, '');
    assert.match(groups![1]!.message, /was invalid \(INVALID_RECORD\);/);
  });

  it('indexes outside the batch are ignored and an index named twice counts once: a hostile answer moves no record', () => {
    const groups = recordFailures(ids(1, 2, 3), INVALID_RECORD, null, [
      { batchIndex: 3, message: 'past the end' },
      { batchIndex: -1, message: 'negative' },
      { batchIndex: 1, message: 'first' },
      { batchIndex: 1, message: 'second' },
    ]);
    assert.deepEqual(groups?.map((g) => [g.errorCode, g.message, [...g.recordIds]]), [
      [INVALID_RECORD, 'first', [2]],
      [ClientErrorCode.rejectedWithBatch, groups![1]!.message, [1, 3]],
    ]);
  });

  it('no record named (none listed, or none inside the batch): undefined, the batch fails as a whole', () => {
    assert.equal(recordFailures(ids(1, 2), INVALID_RECORD, 'x', []), undefined);
    assert.equal(recordFailures(ids(1, 2), INVALID_RECORD, 'x', [{ batchIndex: 2, message: 'y' }, { batchIndex: 2 ** 31 - 1, message: null }]), undefined);
  });
});
