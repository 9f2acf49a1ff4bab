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
  it('takes a record within both limits: framed in a batch of its own (61 + at most 36 bytes) within maxRequestBytes', () => {
    checkRecordSize(record(500 - 97), limits);
  });

  it('names maxRequestBytes when the record framed in a batch is over it, its headers\' framing counted', () => {
    assert.throws(() => checkRecordSize(record(500 - 96), limits), tooLarge(/^record of 404 bytes, 501 framed in a batch, exceeds maxRequestBytes \(500\)$/));
    // Empty headers: no accounted bytes, but up to 10 bytes each on the wire (their two lengths).
    checkRecordSize(record(0, 40), limits);
    assert.throws(() => checkRecordSize(record(0, 41), limits), tooLarge(/^record of 0 bytes, 507 framed in a batch, exceeds maxRequestBytes/));
  });

  it("refuses Java's default case: a value of 1 MiB is over the default maxRequestBytes of 1 MiB once framed", () => {
    assert.throws(() => checkRecordSize(record(1_048_576), { maxBufferedBytes: 64 << 20, maxRequestBytes: 1_048_576 }), tooLarge(/maxRequestBytes/));
    checkRecordSize(record(1_048_576 - 97), { maxBufferedBytes: 64 << 20, maxRequestBytes: 1_048_576 });
  });

  it('names maxBufferedBytes when the record is over the budget itself', () => {
    assert.throws(() => checkRecordSize(record(1001), { maxBufferedBytes: 1000, maxRequestBytes: 2000 }), tooLarge(/^record of 1001 bytes exceeds maxBufferedBytes \(1000\)$/));
  });

  it("refuses a record that would not fit one entry of a worker's record ring, headers counted", () => {
    const huge = { maxBufferedBytes: 2 ** 40, maxRequestBytes: 2 ** 40 };
    checkRecordSize(record(MAX_RECORD_ENTRY / 2), huge);
    assert.throws(() => checkRecordSize(record(MAX_RECORD_ENTRY), huge), tooLarge(/limit of a worker's record ring/));
    assert.throws(() => checkRecordSize(record(MAX_RECORD_ENTRY - 64, 100), huge), tooLarge(/limit of a worker's record ring/));
  });
});
