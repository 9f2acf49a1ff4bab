import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decompressFrameSync } from 'lz4-napi';
import { Codec, CODEC_NAMES, compressNow, type CodecValue } from '../../src/protocol/compression.js';
import { Reader } from '../../src/protocol/reader.js';
import {
  assembleBatch,
  BatchOffset,
  encodeRecordBatch,
  encodeRecordBatchUncompressed,
  recordSize,
  stampProducer,
  RECORD_BATCH_OVERHEAD,
  type BatchBufferSource,
  type BatchHeader,
  type BatchRecord,
} from '../../src/protocol/record-batch.js';
import { decodeRecordBatches } from '../../src/protocol/record-batch-decoder.js';
import { ConfigError } from '../../src/shared/errors.js';
import { CLASSPATH, LIBS_DIR, TOOLS } from '../../scripts/kafka/config.js';
import { noise, text } from './section-fixtures.js';
import { CODECS, crc32cBitwise, hex, NOT_IDEMPOTENT, plainInput, plainRecords, utf8 } from './record-batch-fixtures.js';

describe('golden batches', () => {
  /**
   * One record, key "key", value "value", timestamp 1700000000000, no headers, no compression, not idempotent.
   * Derived by hand from DefaultRecordBatch's layout (docs/kafka-protocol.md); the CRC is checked below with a bitwise
   * CRC-32C. Kafka 4.3.1's own MemoryRecordsBuilder (magic 2, CreateTime, producerId -1) writes exactly these
   * 76 bytes for the same record.
   */
  const GOLDEN = Buffer.from([
    // baseOffset int64: 0, the broker assigns offsets
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    // batchLength int32: 64 = 76 bytes - 12 (baseOffset and batchLength themselves)
    0x00, 0x00, 0x00, 0x40,
    // partitionLeaderEpoch int32: -1, set by brokers only
    0xff, 0xff, 0xff, 0xff,
    // magic int8: 2
    0x02,
    // crc uint32: CRC-32C of bytes 21..75
    0xdb, 0x5e, 0x9c, 0xdd,
    // attributes int16: 0 = no codec, CreateTime, not transactional, not control
    0x00, 0x00,
    // lastOffsetDelta int32: 0, one record
    0x00, 0x00, 0x00, 0x00,
    // baseTimestamp int64: 1700000000000 = 0x0000018BCFE56800
    0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00,
    // maxTimestamp int64: the same, the only record
    0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00,
    // producerId int64: -1, not idempotent
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    // producerEpoch int16: -1
    0xff, 0xff,
    // baseSequence int32: -1
    0xff, 0xff, 0xff, 0xff,
    // recordCount int32: 1
    0x00, 0x00, 0x00, 0x01,
    // record length varint: 14 body bytes, zig-zag 28
    0x1c,
    // record attributes int8: 0
    0x00,
    // timestampDelta varlong: 0, the base record
    0x00,
    // offsetDelta varint: 0
    0x00,
    // key length varint: 3, zig-zag 6; then "key"
    0x06, 0x6b, 0x65, 0x79,
    // value length varint: 5, zig-zag 10; then "value"
    0x0a, 0x76, 0x61, 0x6c, 0x75, 0x65,
    // header count varint: 0
    0x00,
  ]);
  const RECORD: BatchRecord = { key: utf8('key'), value: utf8('value'), headers: [], timestamp: 1_700_000_000_000 };

  it('the fixture CRC is the CRC-32C of bytes 21..end', () => {
    assert.equal(crc32cBitwise(GOLDEN.subarray(21)), GOLDEN.readUInt32BE(17));
  });

  it('encodes exactly the golden bytes, async and sync', async () => {
    assert.equal((await encodeRecordBatch([RECORD], { ...NOT_IDEMPOTENT, codec: Codec.none })).toString('hex'), GOLDEN.toString('hex'));
    assert.equal(encodeRecordBatchUncompressed([RECORD], NOT_IDEMPOTENT).toString('hex'), GOLDEN.toString('hex'));
  });

  it('decodes the golden bytes field by field', async () => {
    const [batch, ...rest] = await decodeRecordBatches(GOLDEN);
    assert.equal(rest.length, 0);
    assert.deepEqual(
      { ...batch!, records: [] },
      {
        baseOffset: 0n,
        batchLength: 64,
        partitionLeaderEpoch: -1,
        magic: 2,
        crc: 0xdb5e9cdd,
        crcValid: true,
        attributes: 0,
        codec: 0,
        timestampType: 0,
        transactional: false,
        control: false,
        lastOffsetDelta: 0,
        baseTimestamp: 1_700_000_000_000,
        maxTimestamp: 1_700_000_000_000,
        producerId: -1n,
        producerEpoch: -1,
        baseSequence: -1,
        recordCount: 1,
        records: [],
      },
    );
    assert.deepEqual(plainRecords(batch!), plainInput([RECORD]));
  });

  /**
   * Idempotent and transactional, three records: headers (one with a null value), a null key, a null value, a
   * negative and a positive timestamp delta. Written by Kafka 4.3.1's MemoryRecordsBuilder (producerId 1234,
   * epoch 5, baseSequence 100, isTransactional true, CreateTime, no compression).
   */
  const KAFKA_WRITTEN =
    '00000000000000000000012bffffffff0237ee6aa70010000000020000018bcfe568000000018bcfe6eea000000000000004d200050000' +
    '00640000000338000000046b310a6669727374040a747261636506616263066e696c01a00300cf0f02019003' +
    '00'.repeat(200) +
    '001400c09a0c04046b330100';
  const KAFKA_RECORDS: BatchRecord[] = [
    { key: utf8('k1'), value: utf8('first'), headers: [[utf8('trace'), utf8('abc')], [utf8('nil'), null]], timestamp: 1_700_000_000_000 },
    { key: null, value: new Uint8Array(200), headers: [], timestamp: 1_699_999_999_000 },
    { key: utf8('k3'), value: null, headers: [], timestamp: 1_700_000_100_000 },
  ];
  const KAFKA_HEADER: BatchHeader = { producerId: 1234n, producerEpoch: 5, baseSequence: 100, transactional: true, codec: Codec.none };

  it('encodes byte for byte what Kafka writes for an idempotent transactional batch', async () => {
    assert.equal((await encodeRecordBatch(KAFKA_RECORDS, KAFKA_HEADER)).toString('hex'), KAFKA_WRITTEN);
  });

  it('decodes what Kafka writes', async () => {
    const [batch] = await decodeRecordBatches(Buffer.from(KAFKA_WRITTEN, 'hex'));
    assert.ok(batch!.crcValid);
    assert.equal(batch!.producerId, 1234n);
    assert.equal(batch!.producerEpoch, 5);
    assert.equal(batch!.baseSequence, 100);
    assert.equal(batch!.transactional, true);
    assert.equal(batch!.lastOffsetDelta, 2);
    assert.equal(batch!.maxTimestamp, 1_700_000_100_000);
    assert.deepEqual(plainRecords(batch!), plainInput(KAFKA_RECORDS));
  });
});

describe('encodeRecordBatch header fields', () => {
  // Values every codec shrinks: a section it cannot shrink goes uncompressed (tested below).
  const records: BatchRecord[] = [
    { key: null, value: utf8('a'.repeat(200)), headers: [], timestamp: 5000 },
    { key: null, value: utf8('b'.repeat(200)), headers: [], timestamp: 4000 },
    { key: null, value: utf8('c'.repeat(200)), headers: [], timestamp: 9000 },
  ];

  for (const codec of CODECS) {
    it(`${CODEC_NAMES[codec]}: codec bits, counts, timestamps, producer fields`, async () => {
      const batch = await encodeRecordBatch(records, { producerId: 77n, producerEpoch: 2, baseSequence: 10, codec });
      assert.equal(batch.readInt16BE(21), codec, 'attributes: codec only');
      assert.equal(batch.readInt32BE(23), 2, 'lastOffsetDelta');
      assert.equal(batch.readBigInt64BE(27), 5000n, 'baseTimestamp is the first record');
      assert.equal(batch.readBigInt64BE(35), 9000n, 'maxTimestamp');
      assert.equal(batch.readBigInt64BE(43), 77n);
      assert.equal(batch.readInt16BE(51), 2);
      assert.equal(batch.readInt32BE(53), 10);
      assert.equal(batch.readInt32BE(57), 3, 'recordCount counts records, also inside a compressed blob');
      assert.equal(batch.readInt32BE(8), batch.length - 12);
      assert.equal(batch.readUInt32BE(17), crc32cBitwise(batch.subarray(21)));
    });
  }

  it('sets bit 4 for transactional batches, with the codec bits', async () => {
    const batch = await encodeRecordBatch(records, { producerId: 1n, producerEpoch: 0, baseSequence: 0, transactional: true, codec: Codec.lz4 });
    assert.equal(batch.readInt16BE(21), 0x10 | 3);
  });

  it('writes timestamp deltas beyond int32 and at the ±2^51 ends exactly', async () => {
    const extreme: BatchRecord[] = [
      { key: null, value: null, headers: [], timestamp: 0 },
      { key: null, value: null, headers: [], timestamp: 2 ** 40 + 3 },
      { key: null, value: null, headers: [], timestamp: -(2 ** 51) },
      { key: null, value: null, headers: [], timestamp: 2 ** 51 },
      { key: null, value: null, headers: [], timestamp: -1 },
    ];
    const batch = encodeRecordBatchUncompressed([...extreme, { ...extreme[3]! }], NOT_IDEMPOTENT);
    const [decoded] = await decodeRecordBatches(batch);
    assert.deepEqual(
      decoded!.records.map((r) => r.timestampDelta),
      [0, 2 ** 40 + 3, -(2 ** 51), 2 ** 51, -1, 2 ** 51],
    );
    // The generic Reader (BigInt varlongs) agrees with our number arithmetic.
    const reader = new Reader(batch, 61);
    const deltas: bigint[] = [];
    for (let i = 0; i < 6; i++) {
      const length = reader.varint();
      const start = reader.offset;
      reader.int8();
      deltas.push(reader.varlong());
      reader.skip(length - (reader.offset - start));
    }
    assert.deepEqual(deltas, [0n, 2n ** 40n + 3n, -(2n ** 51n), 2n ** 51n, -1n, 2n ** 51n]);
  });

  it('rejects timestamps that are not integers within ±2^51, and empty batches', async () => {
    for (const timestamp of [Number.NaN, 1.5, 2 ** 51 + 2, -(2 ** 52), Number.POSITIVE_INFINITY]) {
      const bad: BatchRecord[] = [{ key: null, value: null, headers: [], timestamp: 0 }, { key: null, value: null, headers: [], timestamp }];
      assert.throws(() => encodeRecordBatchUncompressed(bad, NOT_IDEMPOTENT), ConfigError, String(timestamp));
      await assert.rejects(encodeRecordBatch(bad, { ...NOT_IDEMPOTENT, codec: Codec.zstd }), ConfigError);
    }
    assert.throws(() => encodeRecordBatchUncompressed([], NOT_IDEMPOTENT), ConfigError);
    await assert.rejects(encodeRecordBatch([], { ...NOT_IDEMPOTENT, codec: Codec.gzip }), ConfigError);
    await assert.rejects(encodeRecordBatch([], { ...NOT_IDEMPOTENT, codec: 9 as CodecValue }), ConfigError);
  });
});

const bytesArb = (maxLength: number) => fc.uint8Array({ maxLength });
const timestampArb = fc.oneof(
  fc.integer({ min: 1_600_000_000_000 - 2 ** 31, max: 1_800_000_000_000 }).map((t) => t + 0),
  fc.bigInt({ min: -(2n ** 51n), max: 2n ** 51n }).map(Number),
);
const recordArb: fc.Arbitrary<BatchRecord> = fc.record({
  key: fc.option(bytesArb(100), { nil: null }),
  value: fc.option(fc.oneof(bytesArb(200), bytesArb(3000)), { nil: null }),
  headers: fc.array(fc.tuple(bytesArb(20), fc.option(bytesArb(50), { nil: null })), { maxLength: 4 }),
  timestamp: timestampArb,
});
const headerArb: fc.Arbitrary<BatchHeader> = fc.record({
  producerId: fc.bigInt({ min: -1n, max: 2n ** 63n - 1n }),
  producerEpoch: fc.integer({ min: -1, max: 32767 }),
  baseSequence: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
  transactional: fc.boolean(),
  codec: fc.constantFrom(...CODECS),
});

describe('round trips', () => {
  it('recordSize is the exact encoded size of each record', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { minLength: 1, maxLength: 20 }), (records) => {
        const batch = encodeRecordBatchUncompressed(records, NOT_IDEMPOTENT);
        const base = records[0]!.timestamp;
        const sizes = records.map((r, i) => recordSize(r, i, r.timestamp - base));
        assert.equal(batch.length, 61 + sizes.reduce((a, b) => a + b, 0));
      }),
      { numRuns: 300 },
    );
  });

  it('every codec: random records decode to what was encoded', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(recordArb, { minLength: 1, maxLength: 30 }), headerArb, async (records, header) => {
        const batch = await encodeRecordBatch(records, header);
        const decoded = await decodeRecordBatches(batch);
        assert.equal(decoded.length, 1);
        const b = decoded[0]!;
        assert.ok(b.crcValid);
        // Its codec, or none when the codec did not shrink the section (the next test).
        assert.ok(b.codec === header.codec || b.codec === Codec.none, `codec ${b.codec}`);
        assert.equal(b.transactional, header.transactional === true);
        assert.equal(b.producerId, header.producerId);
        assert.equal(b.producerEpoch, header.producerEpoch);
        assert.equal(b.baseSequence, header.baseSequence);
        assert.equal(b.recordCount, records.length);
        assert.equal(b.lastOffsetDelta, records.length - 1);
        assert.equal(b.baseTimestamp, records[0]!.timestamp);
        assert.equal(b.maxTimestamp, Math.max(...records.map((r) => r.timestamp)));
        assert.deepEqual(plainRecords(b), plainInput(records));
      }),
      { numRuns: 150 },
    );
  });

  it('a section its codec does not shrink goes uncompressed, codec none, no larger than uncompressed: a record that fits is not refused by the broker', async () => {
    // Random bytes: gzip grows them by about 100 bytes a mebibyte, xerial snappy by 4 bytes per 32 KiB block, so a
    // record checked against maxRequestBytes uncompressed was refused MESSAGE_TOO_LARGE after a round trip.
    const random: BatchRecord[] = [{ key: null, value: randomBytes(256 * 1024), headers: [], timestamp: 1000 }];
    const header = { producerId: 5n, producerEpoch: 1, baseSequence: 0, transactional: true };
    const uncompressed = await encodeRecordBatch(random, { ...header, codec: Codec.none });
    for (const codec of CODECS) {
      const batch = await encodeRecordBatch(random, { ...header, codec });
      const [decoded] = await decodeRecordBatches(batch);
      const expected = codec === Codec.lz4 ? Codec.lz4 : Codec.none; // lz4 stores a block it cannot shrink, in its frame
      assert.equal(decoded!.codec, expected, CODEC_NAMES[codec]);
      if (expected === Codec.none) assert.deepEqual(batch, uncompressed, `${CODEC_NAMES[codec]}: the uncompressed batch, byte for byte`);
      assert.equal(decoded!.transactional, true);
      assert.ok(decoded!.crcValid);
      assert.deepEqual(decoded!.records[0]!.value, random[0]!.value);
    }
  });

  it('uncompressed batches parse with the generic Reader too (cross-check of the hand-written encoder)', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { minLength: 1, maxLength: 10 }), (records) => {
        const batch = encodeRecordBatchUncompressed(records, NOT_IDEMPOTENT);
        const r = new Reader(batch);
        assert.equal(r.int64(), 0n);
        assert.equal(r.int32(), batch.length - 12);
        r.skip(4 + 1 + 4 + 2 + 4);
        const base = r.int64();
        r.skip(8 + 8 + 2 + 4);
        assert.equal(r.int32(), records.length);
        for (let i = 0; i < records.length; i++) {
          const expected = records[i]!;
          const length = r.varint();
          const start = r.offset;
          assert.equal(r.int8(), 0);
          assert.equal(base + r.varlong(), BigInt(expected.timestamp));
          assert.equal(r.varint(), i);
          const keyLength = r.varint();
          assert.equal(keyLength === -1 ? null : hex(r.raw(keyLength)), hex(expected.key));
          const valueLength = r.varint();
          assert.equal(valueLength === -1 ? null : hex(r.raw(valueLength)), hex(expected.value));
          assert.equal(r.varint(), expected.headers.length);
          for (const [k, v] of expected.headers) {
            assert.equal(hex(r.raw(r.varint())), hex(k));
            const vLength = r.varint();
            assert.equal(vLength === -1 ? null : hex(r.raw(vLength)), hex(v));
          }
          assert.equal(r.offset - start, length, 'record length prefix');
        }
        assert.equal(r.remaining, 0);
      }),
      { numRuns: 300 },
    );
  });

  it('concurrent compressed encodes keep their own max timestamps and sizes', async () => {
    const a: BatchRecord[] = [{ key: null, value: utf8('x'.repeat(5000)), headers: [], timestamp: 10 }];
    const b: BatchRecord[] = [{ key: utf8('k'), value: utf8('y'), headers: [], timestamp: 99_999 }];
    const [ea, eb] = await Promise.all([
      encodeRecordBatch(a, { ...NOT_IDEMPOTENT, codec: Codec.zstd }),
      encodeRecordBatch(b, { ...NOT_IDEMPOTENT, codec: Codec.gzip }),
    ]);
    const [da] = await decodeRecordBatches(ea);
    const [db] = await decodeRecordBatches(eb);
    assert.equal(da!.maxTimestamp, 10);
    assert.equal(db!.maxTimestamp, 99_999);
    assert.deepEqual(plainRecords(da!), plainInput(a));
    assert.deepEqual(plainRecords(db!), plainInput(b));
  });
});

/**
 * The independent reader: Kafka's own DumpLogSegments reads a log segment made of our batches, checks every
 * CRC and decompresses every codec with Kafka's codec streams. Needs a JVM and the jars in .kafka/libs.
 */
const haveKafka = existsSync(LIBS_DIR) && spawnSync('java', ['-version']).status === 0;

/** `length` letters and digits from a 64-character alphabet, seeded: too few repeats for lz4 to shrink them. */
function randomLetters(length: number, seed: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  let x = seed;
  let out = '';
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
    out += alphabet[x >>> 26]!;
  }
  return out;
}

describe('Kafka reads our batches', () => {
  it(
    'DumpLogSegments: every batch valid, every field and record as written',
    { skip: !haveKafka && 'no JVM or no Kafka jars in .kafka/libs', timeout: 120_000 },
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'ringkafka-dls-'));
      try {
        const batches: Buffer[] = [];
        const expected: string[] = [];
        let offset = 0;
        // Every codec, then lz4 once more with values it cannot shrink: that frame's block is stored as it is, written
        // around the records section in place (assembleLz4Batch).
        const cases = [...CODECS.map((codec) => ({ codec, incompressible: false })), { codec: Codec.lz4, incompressible: true }];
        for (const { codec, incompressible } of cases) {
          const records: BatchRecord[] = Array.from({ length: 4 }, (_, i) => ({
            key: i === 1 ? null : utf8(`key-${codec}-${i}`),
            value: i === 2 ? null : incompressible ? utf8(randomLetters(64 + i * 2000, i + 1)) : utf8(`value-${codec}-${i}-`.repeat(1 + i * 700)),
            headers: i === 3 ? [[utf8('h1'), utf8('v')], [utf8('h2'), null]] : [],
            timestamp: 1_700_000_000_000 + (i === 3 ? -7 : i),
          }));
          const idempotent = codec !== Codec.none;
          const batch = await encodeRecordBatch(records, {
            producerId: idempotent ? 4242n : -1n,
            producerEpoch: idempotent ? 3 : -1,
            baseSequence: idempotent ? 17 : -1,
            transactional: codec === Codec.zstd,
            codec,
          });
          if (incompressible) assert.ok(batch.readUInt32LE(61 + 7) >= 0x80000000, 'the lz4 block is stored');
          batch.writeBigInt64BE(BigInt(offset), 0); // baseOffset is outside the CRC, as a broker assigns it
          batches.push(batch);
          expected.push(
            `baseOffset: ${offset} lastOffset: ${offset + 3} count: 4 baseSequence: ${idempotent ? 17 : -1} ` +
              `lastSequence: ${idempotent ? 20 : -1} producerId: ${idempotent ? 4242 : -1} producerEpoch: ${idempotent ? 3 : -1} ` +
              `partitionLeaderEpoch: -1 isTransactional: ${codec === Codec.zstd} isControl: false`,
          );
          for (const [i, r] of records.entries()) {
            expected.push(
              `| offset: ${offset + i} CreateTime: ${r.timestamp} keySize: ${r.key?.length ?? -1} valueSize: ${r.value?.length ?? -1} ` +
                `sequence: ${idempotent ? 17 + i : -1} headerKeys: [${r.headers.map(([k]) => Buffer.from(k).toString()).join(',')}]` +
                (r.key ? ` key: ${Buffer.from(r.key).toString()}` : '') +
                (r.value ? ` payload: ${Buffer.from(r.value).toString()}` : ''),
            );
          }
          offset += 4;
        }
        const file = join(dir, '00000000000000000000.log');
        await writeFile(file, Buffer.concat(batches));
        const output = await runJava([TOOLS.dumpLogSegments, '--files', file, '--deep-iteration', '--print-data-log']);
        const batchLines = output.split('\n').filter((l) => l.startsWith('baseOffset:'));
        assert.equal(batchLines.length, cases.length, output);
        for (const [i, line] of batchLines.entries()) {
          assert.match(line, / isvalid: true$/, line);
          assert.match(line, new RegExp(` compresscodec: ${CODEC_NAMES[cases[i]!.codec]} `), line);
          assert.match(line, / magic: 2 /);
        }
        const seen = output
          .split('\n')
          .filter((l) => l.startsWith('baseOffset:') || l.startsWith('| offset:'))
          .map((l) => (l.startsWith('baseOffset:') ? l.slice(0, l.indexOf(' deleteHorizonMs:')) : l));
        assert.deepEqual(seen, expected);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('assembleBatch with lz4: the records section written where a stored block sits', () => {
  /** A BatchBufferSource that lends fresh buffers and notes what it lent and got back. */
  class CountingBuffers implements BatchBufferSource {
    readonly lent: Buffer[] = [];
    readonly given: Uint8Array[] = [];
    take(size: number): Buffer {
      const buffer = Buffer.alloc(size);
      this.lent.push(buffer);
      return buffer;
    }
    give(buffer: Uint8Array): void {
      this.given.push(buffer);
    }
  }

  const header: BatchHeader = { producerId: 7n, producerEpoch: 1, baseSequence: 5, codec: Codec.lz4 };
  const assemble = (section: Buffer, buffers: BatchBufferSource): Buffer =>
    assembleBatch(header, 3, 1_700_000_000_000, 1_700_000_000_002, section.length, (out, pos) => {
      out.set(section, pos);
      return pos + section.length;
    }, buffers) as Buffer;
  /** The records section inside an lz4 batch, decompressed. */
  const sectionOf = (batch: Buffer): Buffer => decompressFrameSync(batch.subarray(RECORD_BATCH_OVERHEAD));

  it('a section lz4 cannot shrink becomes its batch in the buffer it was written into: no copy, nothing given back', () => {
    for (const size of [100, 300 * 1024, 1024 * 1024]) {
      const section = noise(size, size);
      const buffers = new CountingBuffers();
      const batch = assemble(section, buffers);
      assert.equal(buffers.lent.length, 1, `${size} B: one buffer taken`);
      assert.equal(batch.buffer, buffers.lent[0]!.buffer, `${size} B: the batch is that buffer`);
      assert.equal(buffers.given.length, 0);
      assert.equal(batch.length, RECORD_BATCH_OVERHEAD + size + 15, 'header, then the frame: the section plus 15 bytes');
      assert.ok(batch.readUInt32LE(RECORD_BATCH_OVERHEAD + 7) >= 0x80000000, 'its block is stored');
      assert.ok(sectionOf(batch).equals(section));
      assert.equal(batch.readUInt32BE(BatchOffset.crc), crc32cBitwise(batch.subarray(BatchOffset.attributes)));
    }
  });

  it('a section that shrinks goes into a batch of its size, and the buffer it was written into goes back', () => {
    const section = text(1024 * 1024);
    const buffers = new CountingBuffers();
    const batch = assemble(section, buffers);
    assert.equal(buffers.lent.length, 2);
    assert.equal(batch.buffer, buffers.lent[1]!.buffer);
    assert.equal(batch.length, buffers.lent[1]!.length);
    assert.ok(batch.length < section.length / 2, `compressed to ${batch.length} bytes`);
    assert.deepEqual(buffers.given, [buffers.lent[0]]);
    assert.ok(sectionOf(batch).equals(section));
  });

  it('either way the batch is the header of the same records uncompressed, then the frame compressNow makes', async () => {
    for (const value of [noise(5000, 3), text(5000)]) {
      const records: BatchRecord[] = [0, 1, 2].map((i) => ({ key: null, value: value.subarray(i * 1000, i * 1000 + 1000 + i), headers: [], timestamp: 1_700_000_000_000 + i }));
      const plain = encodeRecordBatchUncompressed(records, header);
      const section = plain.subarray(RECORD_BATCH_OVERHEAD);
      const batch = assemble(section, new CountingBuffers());
      // The frame as compression.ts writes it on its own, into a buffer of its own: no in-place path.
      assert.deepEqual(batch.subarray(RECORD_BATCH_OVERHEAD), compressNow(Codec.lz4, section));
      // The header says lz4 and covers the new length; every other header field is the uncompressed batch's.
      assert.equal(batch.readInt16BE(BatchOffset.attributes), Codec.lz4);
      assert.equal(batch.readInt32BE(BatchOffset.batchLength), batch.length - 12);
      for (const [from, to] of [[BatchOffset.partitionLeaderEpoch, BatchOffset.crc], [BatchOffset.lastOffsetDelta, RECORD_BATCH_OVERHEAD]]) {
        assert.deepEqual(batch.subarray(from, to), plain.subarray(from, to));
      }
      assert.equal(batch.readUInt32BE(BatchOffset.crc), crc32cBitwise(batch.subarray(BatchOffset.attributes)));
      assert.deepEqual(batch, await encodeRecordBatch(records, header));
    }
  });
});

describe('stampProducer', () => {
  it('completes a batch encoded with crcAtSend: zero CRC before, the bytes of one encoded with its CRC after', async () => {
    const records = [plainRecord(0), plainRecord(1), plainRecord(2)];
    for (const codec of [Codec.none, Codec.lz4]) {
      const header: BatchHeader = { producerId: 9n, producerEpoch: 0, baseSequence: 0, codec };
      const deferred = await encodeRecordBatch(records, { ...header, crcAtSend: true });
      assert.equal(deferred.readUInt32BE(BatchOffset.crc), 0, `codec ${codec}: no CRC computed`);
      stampProducer(deferred, 3, 17);
      assert.deepEqual(deferred, await encodeRecordBatch(records, { ...header, producerEpoch: 3, baseSequence: 17 }), `codec ${codec}`);
    }
  });

  it('gives a sealed batch the epoch and sequence it would have been encoded with, CRC included', () => {
    const records = [plainRecord(0), plainRecord(1), plainRecord(2)];
    const sealed = encodeRecordBatchUncompressed(records, { producerId: 9n, producerEpoch: 0, baseSequence: 0 });
    stampProducer(sealed, 4, 2_000_000_000);
    assert.deepEqual(sealed, encodeRecordBatchUncompressed(records, { producerId: 9n, producerEpoch: 4, baseSequence: 2_000_000_000 }));
  });
});

function plainRecord(i: number): BatchRecord {
  return { key: utf8(`k${i}`), value: utf8(`v${i}`), headers: [], timestamp: 1_700_000_000_000 + i };
}

function runJava(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('java', ['-cp', CLASSPATH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`java exited ${code}: ${stderr}`))));
  });
}
