/**
 * checkRecordSize (src/main/record-size.ts): the limits every record is held to when it is accepted, by send and by
 * sendBatch alike, each error naming the limit it is over.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkRecordSize } from '../../src/main/record-size.js';
import { MAX_RECORD_ENTRY } from '../../src/main/shared-memory.js';
import { RecordTooLargeError } from '../../src/shared/producer-errors.js';

const limits = { maxBufferedBytes: 1000, maxRequestBytes: 500 };
const record = (size: number, headers = 0) => ({ size, headers: Array.from({ length: headers }, () => [new Uint8Array([107]), null] as const) });
const tooLarge = (pattern: RegExp) => (error: unknown) => error instanceof RecordTooLargeError && pattern.test(error.message);

describe('checkRecordSize', () => {
  it('takes a record within both limits, up to the lesser', () => {
    checkRecordSize(record(500), limits);
  });

  it('names maxRequestBytes when that is the limit a record is over', () => {
    assert.throws(() => checkRecordSize(record(501), limits), tooLarge(/^record of 501 bytes exceeds maxRequestBytes \(500\)$/));
  });

  it('names maxBufferedBytes when the record is over the budget itself', () => {
    assert.throws(() => checkRecordSize(record(1001), { maxBufferedBytes: 1000, maxRequestBytes: 2000 }), tooLarge(/exceeds maxBufferedBytes \(1000\)$/));
  });

  it("refuses a record that would not fit one entry of a worker's record ring, headers counted", () => {
    const huge = { maxBufferedBytes: 2 ** 40, maxRequestBytes: 2 ** 40 };
    checkRecordSize(record(MAX_RECORD_ENTRY / 2), huge);
    assert.throws(() => checkRecordSize(record(MAX_RECORD_ENTRY), huge), tooLarge(/limit of a worker's record ring/));
    assert.throws(() => checkRecordSize(record(MAX_RECORD_ENTRY - 64, 100), huge), tooLarge(/limit of a worker's record ring/));
  });
});
