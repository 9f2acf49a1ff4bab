/**
 * The record-batch encoder at the edges mutation testing (`npm run test:mutation`) found unpinned: varint sizes at
 * their byte boundaries, timestamp deltas beyond int32, batches larger than the encoder's first scratch table,
 * and the messages of its refusals. Each case is read back with the independent decoder.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Codec, COMPRESS_NOW_MAX_BYTES, type CodecValue } from '../../src/protocol/compression.js';
import { assembleBatch, encodeRecordBatch, encodeRecordBatchUncompressed, type BatchRecord } from '../../src/protocol/record-batch.js';
import { decodeRecordBatches } from '../../src/protocol/record-batch-decoder.js';
import { ConfigError } from '../../src/shared/errors.js';
import { NOT_IDEMPOTENT, plainInput, plainRecords } from './record-batch-fixtures.js';

async function roundTrip(records: BatchRecord[]): Promise<void> {
  const [batch, ...rest] = await decodeRecordBatches(encodeRecordBatchUncompressed(records, NOT_IDEMPOTENT));
  assert.equal(rest.length, 0);
  assert.equal(batch!.crcValid, true);
  assert.deepEqual(plainRecords(batch!), plainInput(records));
}

const record = (value: Uint8Array | null, timestamp = 1_700_000_000_000): BatchRecord => ({ key: null, value, headers: [], timestamp });

describe('record batch encoder edges', () => {
  it('sizes varints right at each byte boundary (lengths whose zig-zag is 2^14 and 2^21, and their neighbours)', async () => {
    for (const length of [8191, 8192, 8193, 2 ** 20 - 1, 2 ** 20, 2 ** 20 + 1]) {
      await roundTrip([record(new Uint8Array(length).fill(length & 0xff))]);
    }
  });

  it('writes timestamp deltas beyond int32 both ways (records 35 days apart)', async () => {
    const base = 1_700_000_000_000;
    const apart = 3_000_000_000;
    await roundTrip([record(null, base), record(null, base - apart), record(null, base + apart)]);
  });

  it('encodes a batch of more records than its first scratch table holds', async () => {
    await roundTrip(Array.from({ length: 3000 }, (_, i) => record(new Uint8Array([i & 0xff]), 1_700_000_000_000 + i)));
  });

  it('refuses an empty batch, a bad timestamp and an unknown codec, saying which', async () => {
    const refused = (message: string) => (e: unknown) => e instanceof ConfigError && e.message === message;
    assert.throws(() => encodeRecordBatchUncompressed([], NOT_IDEMPOTENT), refused('a record batch needs at least one record'));
    assert.throws(() => encodeRecordBatchUncompressed([record(null, 0), record(null, 1.5)], NOT_IDEMPOTENT),
      refused('records[1].timestamp must be an integer number of ms within ±2^51, got 1.5'));
    const header = { ...NOT_IDEMPOTENT, codec: 7 as CodecValue };
    await assert.rejects(async () => encodeRecordBatch([record(null)], header), refused('header.codec must be 0..4, got 7'));
    assert.throws(() => assembleBatch(header, 1, 0, 0, 0, (_buf, pos) => pos), refused('header.codec must be 0..4, got 7'));
    assert.ok(assembleBatch({ ...NOT_IDEMPOTENT, codec: Codec.none }, 0, 0, 0, 0, (_buf, pos) => pos) instanceof Buffer);
    // One byte past what the int32 batchLength can describe: refused before anything is allocated or written.
    const over = 2 ** 31 - 1 - 61 + 1;
    assert.throws(() => assembleBatch({ ...NOT_IDEMPOTENT, codec: Codec.none }, 1, 0, 0, over, (_buf, pos) => pos),
      refused(`a batch of 1 records encodes to ${over} bytes, over the int32 batchLength`));
  });

  it('compresses a small gzip or snappy section in this turn (a Buffer back) and a larger one on the threadpool (a Promise)', async () => {
    const section = (size: number) => (buf: Buffer, pos: number) => {
      buf.fill(0x41, pos, pos + size); // not records: only where the compression runs is checked here
      return pos + size;
    };
    for (const codec of [Codec.gzip, Codec.snappy]) {
      const small = assembleBatch({ ...NOT_IDEMPOTENT, codec }, 1, 0, 0, COMPRESS_NOW_MAX_BYTES, section(COMPRESS_NOW_MAX_BYTES));
      assert.ok(small instanceof Buffer, `${codec}: small section compressed at once`);
      const large = assembleBatch({ ...NOT_IDEMPOTENT, codec }, 1, 0, 0, COMPRESS_NOW_MAX_BYTES + 1, section(COMPRESS_NOW_MAX_BYTES + 1));
      assert.ok(large instanceof Promise, `${codec}: larger section compressed off the thread`);
      await large;
      assert.equal((small.readInt16BE(21) & 0x07), codec, 'the attributes name the codec');
    }
    // lz4 on this thread at any size (compression.ts, compressesNow): a full 1 MiB batch comes back at once too.
    for (const size of [10, COMPRESS_NOW_MAX_BYTES + 1, 1024 * 1024]) {
      const batch = assembleBatch({ ...NOT_IDEMPOTENT, codec: Codec.lz4 }, 1, 0, 0, size, section(size));
      assert.ok(batch instanceof Buffer, `lz4: a section of ${size} bytes compressed at once`);
      assert.equal(batch.readInt16BE(21) & 0x07, Codec.lz4, 'the attributes name the codec');
    }
    assert.ok(assembleBatch({ ...NOT_IDEMPOTENT, codec: Codec.zstd }, 1, 0, 0, 10, section(10)) instanceof Promise, 'zstd: always off the thread');
  });
});
