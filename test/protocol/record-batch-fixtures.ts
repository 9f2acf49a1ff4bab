/** Shared helpers of record-batch.test.ts and record-batch-decoder.test.ts (not a test file itself). */
import { Codec } from '../../src/protocol/compression.js';
import { crc32c } from '../../src/protocol/crc32c.js';
import type { BatchRecord } from '../../src/protocol/record-batch.js';
import type { DecodedBatch } from '../../src/protocol/record-batch-decoder.js';

export const utf8 = (text: string) => new TextEncoder().encode(text);
export const hex = (bytes: Uint8Array | null) => (bytes === null ? null : Buffer.from(bytes).toString('hex'));
export const NOT_IDEMPOTENT = { producerId: -1n, producerEpoch: -1, baseSequence: -1 } as const;
export const CODECS = [Codec.none, Codec.gzip, Codec.snappy, Codec.lz4, Codec.zstd] as const;

/** Bit-at-a-time CRC-32C, independent of the implementation under test. */
export function crc32cBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** Rewrite batchLength and CRC after a test edits a batch, so the decoder gets past its checksum. */
export function refresh(batch: Buffer): Buffer {
  batch.writeInt32BE(batch.length - 12, 8);
  batch.writeUInt32BE(crc32c(batch, 21), 17);
  return batch;
}

/** A v2 batch around a hand-written records section. */
export function rawBatch(section: number[], recordCount: number, attributes = 0): Buffer {
  const batch = Buffer.alloc(61 + section.length);
  batch.writeInt32BE(-1, 12);
  batch[16] = 2;
  batch.writeInt16BE(attributes, 21);
  batch.writeInt32BE((recordCount - 1) | 0, 23);
  batch.writeBigInt64BE(1000n, 27);
  batch.writeBigInt64BE(2000n, 35);
  batch.writeBigInt64BE(-1n, 43);
  batch.writeInt16BE(-1, 51);
  batch.writeInt32BE(-1, 53);
  batch.writeInt32BE(recordCount, 57);
  batch.set(section, 61);
  return refresh(batch);
}

/** Comparable form of a decoded batch's records. */
export function plainRecords(batch: DecodedBatch) {
  return batch.records.map((r) => ({
    offsetDelta: r.offsetDelta,
    timestamp: r.timestamp,
    key: hex(r.key),
    value: hex(r.value),
    headers: r.headers.map(([k, v]) => [hex(k), hex(v)]),
  }));
}

export function plainInput(records: readonly BatchRecord[]) {
  return records.map((r, i) => ({
    offsetDelta: i,
    timestamp: r.timestamp,
    key: hex(r.key),
    value: hex(r.value),
    headers: r.headers.map(([k, v]) => [hex(k), hex(v)]),
  }));
}
