/**
 * The worker's hot-path encoder (batches straight from ring entries) against the reference encoder in
 * src/protocol/record-batch.ts, which is tested field by field and against Kafka's own builder: for random
 * records — null and empty keys and values, null header values, negative and large timestamp deltas — both must
 * produce the same bytes, with every codec decoding back to the same records; and so must a batch written in place,
 * over its own entries in the arena, which is then the batch (uncompressed, or lz4 with a stored block).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeEntries } from '../../src/workers/entry-encoder.js';
import { ARENA_HEAD } from '../../src/workers/partition-state.js';
import { LZ4_SECTION_AT, RECORD_BATCH_OVERHEAD, encodeRecordBatch, encodeRecordBatchUncompressed, type BatchRecord } from '../../src/protocol/record-batch.js';
import { LZ4_END_BYTES } from '../../src/protocol/lz4-frame.js';
import { decodeRecordBatches } from '../../src/protocol/record-batch-decoder.js';
import { Codec, CODEC_NAMES } from '../../src/protocol/compression.js';
import { recordEntrySize, writeRecordEntry } from '../../src/shared/record-entry.js';

const bytes = fc.option(fc.uint8Array({ maxLength: 300 }), { nil: null });
const record = fc.record({
  key: bytes,
  value: bytes,
  headers: fc.array(fc.tuple(fc.uint8Array({ maxLength: 20 }), bytes), { maxLength: 3 }),
  timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
});

/**
 * Lays the records out as the ring does (one entry after another), returning the arena and entry offsets; `head`
 * free bytes before the first entry, as a partition's arena keeps for the batch header (ARENA_HEAD), and `gaps`
 * bytes between entries (left by records cancelled before sealing, or by alignment).
 */
function toEntries(records: BatchRecord[], arenaOffset = 0, head = 0, gaps = 0): { arena: Uint8Array; offsets: Int32Array } {
  // Padded to 4 bytes, as ring entries are: the fixed fields are written as aligned words.
  const sizes = records.map((r) => (recordEntrySize(r.key, r.value, r.headers) + 3) & ~3);
  // `arenaOffset` puts the arena inside a larger buffer, as a pooled Buffer is: the encoder's views must follow.
  const total = head + sizes.reduce((a, b) => a + b + gaps, 0);
  const arena = new Uint8Array(new ArrayBuffer(arenaOffset + total + 8), arenaOffset, total);
  const words = new Int32Array(arena.buffer, arenaOffset);
  const offsets = new Int32Array(records.length);
  let at = head;
  assert.equal(at % 4, 0, 'ring entries, and so arena entries, are 4-aligned');
  records.forEach((r, i) => {
    offsets[i] = at;
    writeRecordEntry(arena, words, at, i, 0, 0, r);
    at += sizes[i]! + gaps;
  });
  return { arena, offsets };
}

const header = { producerId: 77n, producerEpoch: 3, baseSequence: 12 };

test('encodeEntries writes the same bytes as the reference encoder (no compression)', () => {
  fc.assert(
    fc.property(fc.array(record, { minLength: 1, maxLength: 40 }), fc.constantFrom(0, 8, 1024), (records, arenaOffset) => {
      const { arena, offsets } = toEntries(records, arenaOffset);
      const ours = encodeEntries(arena, offsets, records.length, { ...header, codec: Codec.none }) as Buffer;
      assert.deepEqual(ours, encodeRecordBatchUncompressed(records, header));
    }),
    { numRuns: 300 },
  );
});

test('encodeEntries with every codec decodes back to the same records', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(record, { minLength: 1, maxLength: 20 }), fc.constantFrom(...CODEC_NAMES), async (records, name) => {
      const { arena, offsets } = toEntries(records);
      const codec = Codec[name];
      const ours = await encodeEntries(arena, offsets, records.length, { ...header, codec });
      const reference = await encodeRecordBatch(records, { ...header, codec });
      const [a] = await decodeRecordBatches(ours);
      const [b] = await decodeRecordBatches(reference);
      assert.equal(a!.crcValid, true);
      // A section the codec did not shrink goes uncompressed (record-batch.ts, placeUncompressed), as the reference's.
      assert.ok(a!.codec === codec || a!.codec === Codec.none, `codec ${a!.codec}`);
      assert.equal(a!.codec, b!.codec);
      assert.deepEqual(a!.records, b!.records);
    }),
    { numRuns: 100 },
  );
});

// Values past 128 bytes are moved by copyWithin, shorter ones by the word loop: both sizes are drawn.
const movedBytes = fc.option(fc.oneof(fc.uint8Array({ maxLength: 140 }), fc.uint8Array({ minLength: 129, maxLength: 3000 })), { nil: null });
const movedRecord = fc.record({
  key: movedBytes,
  value: movedBytes,
  headers: fc.array(fc.tuple(fc.uint8Array({ maxLength: 200 }), movedBytes), { maxLength: 3 }),
  // Deltas of up to ten varint bytes, either way: the longest leads a record can have before its key, which must
  // still land within the entry's 32 fixed bytes for the batch to be written in place.
  timestamp: fc.integer({ min: -(2 ** 51), max: 2 ** 51 }),
});

/** Where a partition's first entry can lie: the first 4-aligned places after ARENA_HEAD (it keeps the ring's alignment). */
const FIRST_ENTRY = [(ARENA_HEAD + 3) & ~3, ((ARENA_HEAD + 3) & ~3) + 4];

test('encodeEntries in place writes the batch over its own entries, the same bytes as the reference encoder', () => {
  fc.assert(
    fc.property(fc.array(movedRecord, { minLength: 1, maxLength: 40 }), fc.constantFrom(0, 8), fc.constantFrom(...FIRST_ENTRY), fc.constantFrom(0, 4, 12), (records, arenaOffset, head, gaps) => {
      const { arena, offsets } = toEntries(records, arenaOffset, head, gaps);
      const ours = encodeEntries(arena, offsets, records.length, { ...header, codec: Codec.none }, undefined, true) as Buffer;
      assert.equal(ours.buffer, arena.buffer, 'the batch is the arena');
      assert.equal(ours.byteOffset, arena.byteOffset, 'from the arena\'s first byte');
      assert.deepEqual(Buffer.from(ours), encodeRecordBatchUncompressed(records, header));
    }),
    { numRuns: 500 },
  );
});

test('encodeEntries in place falls back to a batch buffer of its own when the arena has no room for the header', () => {
  const records: BatchRecord[] = [{ key: null, value: new Uint8Array(10), headers: [], timestamp: 1 }];
  const { arena, offsets } = toEntries(records, 0, 0);
  const before = Buffer.from(arena);
  const ours = encodeEntries(arena, offsets, 1, { ...header, codec: Codec.none }, undefined, true) as Buffer;
  assert.notEqual(ours.buffer, arena.buffer);
  assert.deepEqual(ours, encodeRecordBatchUncompressed(records, header));
  assert.deepEqual(Buffer.from(arena), before, 'the entries are left as they were');
});

test('encodeEntries in place with lz4: the same bytes as the reference encoder; a stored block is the arena, a compressed one a buffer of its own', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(movedRecord, { minLength: 1, maxLength: 40 }), fc.boolean(), fc.constantFrom(...FIRST_ENTRY), async (records, repetitive, head) => {
      // Repeated bytes compress, random ones mostly do not (the block is then stored).
      if (repetitive) records = records.map((r) => ({ ...r, value: r.value && new Uint8Array(r.value.length).fill(7) }));
      const { arena, offsets } = toEntries(records, 0, head);
      const ours = encodeEntries(arena, offsets, records.length, { ...header, codec: Codec.lz4 }, undefined, true) as Buffer;
      const reference = await encodeRecordBatch(records, { ...header, codec: Codec.lz4 });
      assert.deepEqual(Buffer.from(ours), reference);
      const section = encodeRecordBatchUncompressed(records, header).length - RECORD_BATCH_OVERHEAD;
      const stored = reference.length === LZ4_SECTION_AT + section + LZ4_END_BYTES;
      assert.equal(ours.buffer === arena.buffer, stored, stored ? 'a stored block is sent from the arena' : 'a compressed block has a buffer of its own');
    }),
    { numRuns: 300 },
  );
});

test('encodeEntries never writes in place with gzip, snappy or zstd: the arena is left as it was', async () => {
  const records: BatchRecord[] = Array.from({ length: 50 }, (_, i) => ({ key: null, value: new Uint8Array(200).fill(i), headers: [], timestamp: i }));
  const { arena, offsets } = toEntries(records, 0, FIRST_ENTRY[0]);
  const before = Buffer.from(arena);
  for (const name of CODEC_NAMES.filter((n) => n !== 'none' && n !== 'lz4')) {
    const ours = await encodeEntries(arena, offsets, records.length, { ...header, codec: Codec[name] }, undefined, true);
    assert.notEqual(ours.buffer, arena.buffer, name);
    assert.deepEqual(Buffer.from(arena), before, `${name}: the entries are left as they were`);
  }
});
