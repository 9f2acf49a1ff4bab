import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Codec } from '../../src/protocol/compression.js';
import { crc32c } from '../../src/protocol/crc32c.js';
import { encodeRecordBatch, encodeRecordBatchUncompressed, type BatchRecord } from '../../src/protocol/record-batch.js';
import { decodeRecordBatches } from '../../src/protocol/record-batch-decoder.js';
import { ProtocolError } from '../../src/shared/errors.js';
import { CODECS, NOT_IDEMPOTENT, plainRecords, rawBatch, refresh, utf8 } from './record-batch-fixtures.js';

describe('decodeRecordBatches on record sets', () => {
  it('reads consecutive batches and stops, without error, at a trailing partial batch', async () => {
    const one = await encodeRecordBatch([{ key: utf8('a'), value: utf8('1'), headers: [], timestamp: 1 }], { ...NOT_IDEMPOTENT, codec: Codec.none });
    const two = await encodeRecordBatch([{ key: utf8('b'), value: utf8('2'.repeat(300)), headers: [], timestamp: 2 }], { ...NOT_IDEMPOTENT, codec: Codec.lz4 });
    const set = Buffer.concat([one, two]);
    for (let length = 0; length <= set.length; length++) {
      const batches = await decodeRecordBatches(set.subarray(0, length));
      const expected = length === set.length ? 2 : length >= one.length ? 1 : 0;
      assert.equal(batches.length, expected, `prefix of ${length} bytes`);
    }
  });

  it('reports a corrupted batch as crcValid false, with no records', async () => {
    const batch = encodeRecordBatchUncompressed([{ key: utf8('key'), value: utf8('value'), headers: [], timestamp: 1 }], NOT_IDEMPOTENT);
    batch[batch.length - 3]! ^= 0x01;
    const [decoded] = await decodeRecordBatches(batch);
    assert.equal(decoded!.crcValid, false);
    assert.deepEqual(decoded!.records, []);
  });

  it('uses maxTimestamp for every record of a LogAppendTime batch', async () => {
    // One record: length 6, attributes, timestampDelta 5 (zig-zag 10), offsetDelta 0, null key, null value, no headers.
    const [batch] = await decodeRecordBatches(rawBatch([0x0c, 0x00, 0x0a, 0x00, 0x01, 0x01, 0x00], 1, 0x08));
    assert.equal(batch!.timestampType, 1);
    assert.equal(batch!.records[0]!.timestampDelta, 5);
    assert.equal(batch!.records[0]!.timestamp, 2000);
  });
});

describe('hostile record sets', () => {
  // length 6 (zig-zag 12) · attributes · timestampDelta 0 · offsetDelta 0 · null key · null value · no headers
  const MINIMAL_RECORD = [0x0c, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00];

  it('the minimal record the cases below start from is valid', async () => {
    const [batch] = await decodeRecordBatches(rawBatch(MINIMAL_RECORD, 1));
    assert.deepEqual(plainRecords(batch!), [{ offsetDelta: 0, timestamp: 1000, key: null, value: null, headers: [] }]);
  });

  const withByte = (b: Buffer, at: number, value: number) => {
    b[at] = value;
    return b;
  };
  const withInt32 = (b: Buffer, at: number, value: number) => {
    b.writeInt32BE(value, at);
    return b;
  };
  const cases: Array<[string, Buffer, RegExp]> = [
    ['batchLength below the v2 header', withInt32(rawBatch(MINIMAL_RECORD, 1), 8, 10), /batchLength 10/],
    ['negative batchLength', withInt32(rawBatch(MINIMAL_RECORD, 1), 8, -5), /batchLength -5/],
    ['magic 1', withByte(rawBatch(MINIMAL_RECORD, 1), 16, 1), /magic 1/],
    ['magic 1 in a partial batch', withByte(rawBatch(MINIMAL_RECORD, 1), 16, 1).subarray(0, 30), /magic 1/],
    ['unknown codec 5', rawBatch(MINIMAL_RECORD, 1, 5), /unknown codec 5/],
    ['negative record count', rawBatch(MINIMAL_RECORD, -1), /negative record count/],
    ['record count beyond the section', rawBatch(MINIMAL_RECORD, 1_000_000), /cannot fit/],
    ['record count of 2 with one record', rawBatch([...MINIMAL_RECORD, 0x00, 0x00], 2), /2 records cannot fit/],
    ['record length beyond the section', rawBatch([0x7e, ...MINIMAL_RECORD.slice(1)], 1), /length 63 does not fit/],
    ['negative record length', rawBatch([0x01, ...MINIMAL_RECORD.slice(1)], 1), /length -1 does not fit/],
    ['record length longer than its fields', rawBatch([0x0e, ...MINIMAL_RECORD.slice(1), 0x00], 1), /declared 7 bytes but its fields take 6/],
    ['record length shorter than its fields', rawBatch([0x0a, ...MINIMAL_RECORD.slice(1)], 1), /truncated record: header count/],
    ['bytes left after the declared records', rawBatch([...MINIMAL_RECORD, 0x00], 1), /1 bytes left after the declared 1 records/],
    ['key length below -1', rawBatch([0x0c, 0x00, 0x00, 0x00, 0x03, 0x01, 0x00], 1), /key: length -2/],
    ['value longer than the record', rawBatch([0x0c, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00], 1), /value: length 4 does not fit/],
    ['negative header count', rawBatch([0x0c, 0x00, 0x00, 0x00, 0x01, 0x01, 0x01], 1), /invalid header count -1/],
    ['header count beyond the record', rawBatch([0x0c, 0x00, 0x00, 0x00, 0x01, 0x01, 0x7e], 1), /invalid header count 63/],
    ['null header key', rawBatch([0x10, 0x00, 0x00, 0x00, 0x01, 0x01, 0x02, 0x01, 0x01], 1), /null header key/],
    ['varint longer than 5 bytes', rawBatch([0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00], 1), /varint longer than 5 bytes/],
    ['varlong longer than 10 bytes', rawBatch([0x1a, 0x00, ...new Array(11).fill(0x80), 0x00], 1), /varlong longer than 10 bytes/],
    [
      'timestamp delta beyond 2^53',
      rawBatch([0x1c, 0x00, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x01, 0x01, 0x00], 1),
      /varlong out of range/,
    ],
    ['garbage behind the lz4 codec bits', rawBatch([1, 2, 3, 4, 5, 6, 7], 1, 3), /lz4/],
  ];
  for (const [name, bytes, message] of cases) {
    it(`${name} → ProtocolError`, async () => {
      await assert.rejects(decodeRecordBatches(bytes), (err: Error) => {
        assert.ok(err instanceof ProtocolError, String(err));
        assert.match(err.message, message);
        return true;
      });
    });
  }

  it('a base timestamp beyond 2^53 → ProtocolError', async () => {
    const b = rawBatch(MINIMAL_RECORD, 1);
    b.writeBigInt64BE(2n ** 60n, 27);
    await assert.rejects(decodeRecordBatches(refresh(b)), ProtocolError);
  });

  async function decodeOrProtocolError(bytes: Uint8Array): Promise<void> {
    try {
      await decodeRecordBatches(bytes);
    } catch (err) {
      assert.ok(err instanceof ProtocolError, `expected ProtocolError, got ${String(err)}`);
    }
  }

  it('random bytes: success or ProtocolError', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), decodeOrProtocolError), { numRuns: 1000 });
  });

  it('random sections behind a valid header and CRC: success or ProtocolError', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 200 }),
        fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: -0x80000000, max: 0x7fffffff })),
        fc.integer({ min: 0, max: 0xff }),
        async (section, count, attributes) => decodeOrProtocolError(rawBatch([...section], count, attributes)),
      ),
      { numRuns: 1500 },
    );
  });

  it('mutated valid batches of every codec, with and without a fixed-up CRC: success or ProtocolError', async () => {
    const records: BatchRecord[] = Array.from({ length: 12 }, (_, i) => ({
      key: i % 4 === 0 ? null : utf8(`key-${i}`),
      value: i % 5 === 0 ? null : utf8(`value-${i}-`.repeat(i * 20)),
      headers: i % 3 === 0 ? [[utf8('h'), utf8(`${i}`)], [utf8('n'), null]] : [],
      timestamp: 1_700_000_000_000 + (i % 2 ? -i : i) * 1000,
    }));
    const samples = await Promise.all(CODECS.map((codec) => encodeRecordBatch(records, { ...NOT_IDEMPOTENT, codec })));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...samples),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        fc.nat(),
        async (sample, flips, fixCrc, cut) => {
          const bytes = Buffer.from(sample);
          // Flips land after the batch header's length fields half of the time, where the record parser reads.
          for (const [at, mask] of flips) bytes[at % 2 ? 61 + (at % (bytes.length - 61)) : at % bytes.length]! ^= mask;
          if (fixCrc && bytes.readInt32BE(8) === sample.length - 12) bytes.writeUInt32BE(crc32c(bytes, 21), 17);
          await decodeOrProtocolError(bytes);
          await decodeOrProtocolError(bytes.subarray(0, cut % (bytes.length + 1)));
        },
      ),
      { numRuns: 1500 },
    );
  });
});
