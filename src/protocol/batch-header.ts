/**
 * The RecordBatch v2 header: its layout, its writing, and what is patched into it last (batchLength, the CRC, and at
 * an idempotent batch's first send its producer fields). Shared by the encoders (record-batch.ts, the worker's
 * src/workers/entry-encoder.ts) and the decoder (record-batch-decoder.ts). The layout is in record-batch.ts's comment.
 */
import { Codec, type CodecValue } from './compression.js';
import { crc32c } from './crc32c.js';
import { LZ4_ONE_BLOCK_LEAD_BYTES } from './lz4-frame.js';

export interface BatchHeader {
  /** -1n unless idempotent. */
  producerId: bigint;
  /** -1 unless idempotent. */
  producerEpoch: number;
  /** -1 unless idempotent; otherwise the first record's sequence (later ones are implied by offsetDelta). */
  baseSequence: number;
  transactional?: boolean;
  codec: CodecValue;
  /**
   * Leave the CRC field zero: the caller stamps the producer fields before the first send (`stampProducer`), and
   * that computes the CRC over the final bytes, so one computed here would be thrown away. The worker's idempotent
   * batches take their base sequence at first send; over a 1 MiB batch the CRC was a tenth of the worker's time.
   */
  crcAtSend?: boolean;
}

/** Byte offsets of the batch header fields. */
export const BatchOffset = {
  baseOffset: 0,
  batchLength: 8,
  partitionLeaderEpoch: 12,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  baseTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  producerEpoch: 51,
  baseSequence: 53,
  recordCount: 57,
  records: 61,
} as const;

/** Size of the batch header; records start here. */
export const RECORD_BATCH_OVERHEAD = 61;
/** Where an lz4 batch's records section sits when its one block is stored: after the batch and frame headers. */
export const LZ4_SECTION_AT = RECORD_BATCH_OVERHEAD + LZ4_ONE_BLOCK_LEAD_BYTES;
/** baseOffset + batchLength: the bytes batchLength does not count. */
export const LOG_OVERHEAD = 12;
export const RECORD_BATCH_MAGIC = 2;

export const BatchAttribute = {
  codecMask: 0x07,
  /** 0 = CreateTime (what producers must send), 1 = LogAppendTime (set by the broker). */
  timestampType: 0x08,
  transactional: 0x10,
  control: 0x20,
} as const;

/** batchLength is an int32. */
export const MAX_BATCH_SIZE = 2 ** 31 - 1;

/** Write the 61-byte header (CRC left for finishBatch). Runs once per batch, so Buffer's checked writers are fine. */
export function writeHeader(
  out: Buffer,
  header: Omit<BatchHeader, 'codec'>,
  codec: CodecValue,
  count: number,
  baseTimestamp: number,
  maxTimestamp: number,
): void {
  out.fill(0, 0, 8); // baseOffset: the broker assigns offsets
  out.writeInt32BE(-1, BatchOffset.partitionLeaderEpoch); // only brokers set it
  out[BatchOffset.magic] = RECORD_BATCH_MAGIC;
  // Timestamp type 0 (CreateTime): producers must not claim LogAppendTime; never a control batch.
  const attributes = codec | (header.transactional === true ? BatchAttribute.transactional : 0);
  out.writeInt16BE(attributes, BatchOffset.attributes);
  out.writeInt32BE(count - 1, BatchOffset.lastOffsetDelta);
  writeInt64(out, BatchOffset.baseTimestamp, baseTimestamp);
  writeInt64(out, BatchOffset.maxTimestamp, maxTimestamp);
  out.writeBigInt64BE(header.producerId, BatchOffset.producerId);
  out.writeInt16BE(header.producerEpoch, BatchOffset.producerEpoch);
  out.writeInt32BE(header.baseSequence, BatchOffset.baseSequence);
  // Compressed batches count the records inside the blob too.
  out.writeInt32BE(count, BatchOffset.recordCount);
}

/** A safe-integer int64, big-endian, without BigInt. */
function writeInt64(out: Buffer, pos: number, value: number): void {
  const high = Math.floor(value / 2 ** 32);
  out.writeInt32BE(high, pos);
  out.writeUInt32BE(value - high * 2 ** 32, pos + 4);
}

/** The CRC-32C covers everything from the attributes on. */
function writeCrc(out: Buffer): void {
  out.writeUInt32BE(crc32c(out, BatchOffset.attributes, out.length), BatchOffset.crc);
}

/** Patch batchLength and the CRC (or a zero CRC, for the caller's `stampProducer`: `BatchHeader.crcAtSend`). */
export function finishBatch(out: Buffer, header: Pick<BatchHeader, 'crcAtSend'>): Buffer {
  out.writeInt32BE(out.length - LOG_OVERHEAD, BatchOffset.batchLength);
  if (header.crcAtSend === true) out.writeUInt32BE(0, BatchOffset.crc);
  else writeCrc(out);
  return out;
}

/**
 * Gives an encoded batch its producer epoch and base sequence, and the CRC that covers them: an idempotent batch is
 * encoded when sealed, but takes its sequence numbers only at its first send. A transactional batch takes its
 * producer id then too: KIP-890's epoch bump at the end of a transaction may come with a new id.
 */
export function stampProducer(batch: Buffer, producerEpoch: number, baseSequence: number, producerId?: bigint): void {
  if (producerId !== undefined) batch.writeBigInt64BE(producerId, BatchOffset.producerId);
  batch.writeInt16BE(producerEpoch, BatchOffset.producerEpoch);
  batch.writeInt32BE(baseSequence, BatchOffset.baseSequence);
  writeCrc(batch);
}

/**
 * Writes the header of an uncompressed batch whose records section is already in `out` from offset
 * RECORD_BATCH_OVERHEAD to its end, then batchLength and the CRC (or the CRC's place, with crcAtSend). For a
 * section written where it will be sent: assembleBatch's own buffer, or an arena rewritten in place
 * (src/workers/entry-encoder.ts).
 */
export function frameUncompressedBatch(
  out: Buffer,
  header: Omit<BatchHeader, 'codec'>,
  count: number,
  baseTimestamp: number,
  maxTimestamp: number,
): Buffer {
  writeHeader(out, header, Codec.none, count, baseTimestamp, maxTimestamp);
  return finishBatch(out, header);
}
