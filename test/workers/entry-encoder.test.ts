/**
 * The worker's hot-path encoder (batches straight from ring entries) against the reference encoder in
 * src/protocol/record-batch.ts, which is tested field by field and against Kafka's own builder: for random
 * records — null and empty keys and values, null header values, negative and large timestamp deltas — both must
 * produce the same bytes, with every codec decoding back to the same records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeEntries } from '../../src/workers/entry-encoder.js';
import { encodeRecordBatch, encodeRecordBatchUncompressed, type BatchRecord } from '../../src/protocol/record-batch.js';
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

/** Lays the records out as the ring does (one entry after another), returning the arena and entry offsets. */
function toEntries(records: BatchRecord[], arenaOffset = 0): { arena: Uint8Array; offsets: Int32Array } {
  // Padded to 4 bytes, as ring entries are: the fixed fields are written as aligned words.
  const sizes = records.map((r) => (recordEntrySize(r.key, r.value, r.headers) + 3) & ~3);
  // `arenaOffset` puts the arena inside a larger buffer, as a pooled Buffer is: the encoder's views must follow.
  const total = sizes.reduce((a, b) => a + b, 0);
  const arena = new Uint8Array(new ArrayBuffer(arenaOffset + total + 8), arenaOffset, total);
  const words = new Int32Array(arena.buffer, arenaOffset);
  const offsets = new Int32Array(records.length);
  let at = 0;
  records.forEach((r, i) => {
    offsets[i] = at;
    writeRecordEntry(arena, words, at, i, 0, 0, r);
    at += sizes[i]!;
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
      assert.equal(a!.codec, codec);
      assert.deepEqual(a!.records, b!.records);
    }),
    { numRuns: 100 },
  );
});
