/**
 * RecordBatch v2 encoder: the produce hot path (clients/.../record/DefaultRecordBatch.java, docs/kafka-protocol.md).
 *
 *   batch   = baseOffset int64 · batchLength int32 · partitionLeaderEpoch int32 · magic int8 (2) · crc uint32
 *             · attributes int16 · lastOffsetDelta int32 · baseTimestamp int64 · maxTimestamp int64
 *             · producerId int64 · producerEpoch int16 · baseSequence int32 · recordCount int32 · records
 *   records = record* (uncompressed), or one compressed blob of them
 *   record  = length varint · attributes int8 (0) · timestampDelta varlong · offsetDelta varint
 *             · keyLength varint (-1 = null) · key · valueLength varint (-1 = null) · value
 *             · headerCount varint · (headerKeyLength varint · headerKey · headerValueLength varint · headerValue)*
 *
 * varint/varlong are zig-zag, 7 bits a byte, low group first. The CRC-32C covers bytes 21..end (attributes on).
 *
 * One pass, one allocation: every record's size is computed first (the record length prefix needs it), then one
 * buffer is allocated and filled by index, and batchLength and the CRC are patched in at the end. Timestamps are
 * plain numbers; the per-record loop uses no BigInt, DataView, TextEncoder or temporary arrays.
 *
 * The encoder core — the batch header, the records section with or without a codec, batchLength and the CRC
 * (assembleBatch), and each record's framing (record-fields.ts: varints, the record lead, bytes fields, the reused
 * body sizes) — serves two encoders: the object-based one below, the reference, and the worker's, which reads
 * records straight from ring entries (src/workers/entry-encoder.ts).
 */
import { ConfigError } from '../shared/errors.js';
import { Codec, compressSection, compressSectionNow, compressesNow, isCodecValue, type CodecValue, type CompressedSection } from './compression.js';
import { crc32c } from './crc32c.js';
import { LZ4_END_BYTES, LZ4_MAX_BLOCK_INPUT, LZ4_ONE_BLOCK_LEAD_BYTES, lz4FrameNow, type Lz4Frame } from './lz4-frame.js';
import {
  bodySizesFor,
  sizeOfField,
  sizeOfFramedRecord,
  sizeOfRecordLead,
  sizeOfVarint,
  writeField,
  writeRecordLead,
  writeUvarint,
} from './record-fields.js';

export interface BatchRecord {
  key: Uint8Array | null;
  value: Uint8Array | null;
  /** Header keys arrive already UTF-8 encoded. */
  headers: ReadonlyArray<readonly [key: Uint8Array, value: Uint8Array | null]>;
  /** Milliseconds since the epoch (CreateTime). */
  timestamp: number;
}

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

/**
 * Record timestamps must be integers within ±2^51 ms (±71,000 years), so every delta's zig-zag form stays an
 * exact double (≤ 2^53) and varlongs can be written with number arithmetic.
 */
const MAX_ABS_TIMESTAMP = 2 ** 51;
/** Keeps a record's zig-zag length below 2^31, so int32 arithmetic encodes it. */
const MAX_RECORD_BODY = 2 ** 30 - 1;
/** batchLength is an int32. */
const MAX_BATCH_SIZE = 2 ** 31 - 1;

function lengthOf(bytes: Uint8Array | null): number {
  return bytes === null ? -1 : bytes.length;
}

function recordBodySize(record: BatchRecord, offsetDelta: number, timestampDelta: number): number {
  let size = sizeOfRecordLead(timestampDelta, offsetDelta);
  size += sizeOfField(lengthOf(record.key)) + sizeOfField(lengthOf(record.value));
  const headers = record.headers;
  size += sizeOfVarint(headers.length);
  for (let i = 0; i < headers.length; i++) {
    const header = headers[i]!;
    size += sizeOfField(header[0].length) + sizeOfField(lengthOf(header[1]));
  }
  return size;
}

/** The encoded size of one record, its length prefix included. */
export function recordSize(record: BatchRecord, offsetDelta: number, timestampDelta: number): number {
  return sizeOfFramedRecord(recordBodySize(record, offsetDelta, timestampDelta));
}

const NO_BYTES = new Uint8Array(0);

function writeBytesField(buf: Uint8Array, pos: number, bytes: Uint8Array | null): number {
  return writeField(buf, pos, bytes ?? NO_BYTES, 0, lengthOf(bytes));
}

/** Largest timestamp of the records last measured; read right after measureRecords, before any await. */
let measuredMaxTimestamp = 0;

/**
 * First pass: validate timestamps, store each record's body size in `bodySizesFor`'s array, and return the size of the
 * records section.
 */
function measureRecords(records: ReadonlyArray<BatchRecord>, baseTimestamp: number): number {
  const count = records.length;
  const sizes = bodySizesFor(count);
  let maxTimestamp = baseTimestamp;
  let total = 0;
  for (let i = 0; i < count; i++) {
    const record = records[i]!;
    const timestamp = record.timestamp;
    if (!(timestamp >= -MAX_ABS_TIMESTAMP && timestamp <= MAX_ABS_TIMESTAMP) || Math.floor(timestamp) !== timestamp) {
      throw new ConfigError(`records[${i}].timestamp must be an integer number of ms within ±2^51, got ${timestamp}`);
    }
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    const body = recordBodySize(record, i, timestamp - baseTimestamp);
    if (body > MAX_RECORD_BODY) throw new ConfigError(`records[${i}] encodes to ${body} bytes, over 2^30`);
    sizes[i] = body;
    total += sizeOfFramedRecord(body);
  }
  measuredMaxTimestamp = maxTimestamp;
  return total;
}

/** Second pass: write the records measured by measureRecords into `buf` at `pos`; returns the end offset. */
function writeRecords(buf: Uint8Array, pos: number, records: ReadonlyArray<BatchRecord>, baseTimestamp: number): number {
  const sizes = bodySizesFor(records.length); // the array measureRecords filled
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    pos = writeRecordLead(buf, pos, sizes[i]!, record.timestamp - baseTimestamp, i);
    pos = writeBytesField(buf, pos, record.key);
    pos = writeBytesField(buf, pos, record.value);
    const headers = record.headers;
    pos = writeUvarint(buf, pos, headers.length << 1);
    for (let j = 0; j < headers.length; j++) {
      const header = headers[j]!;
      pos = writeBytesField(buf, pos, header[0]);
      pos = writeBytesField(buf, pos, header[1]);
    }
  }
  return pos;
}

function checkBatch(records: ReadonlyArray<BatchRecord>): number {
  // Kafka has no empty produce batches; lastOffsetDelta would be -1 and there is no baseTimestamp.
  if (records.length === 0) throw new ConfigError('a record batch needs at least one record');
  return records[0]!.timestamp;
}

/** Write the 61-byte header (CRC left for finishBatch). Runs once per batch, so Buffer's checked writers are fine. */
function writeHeader(
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
function finishBatch(out: Buffer, header: Pick<BatchHeader, 'crcAtSend'>): Buffer {
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
 * Where assembleBatch gets the batch buffer and the scratch records section (a worker reuses them, see
 * src/workers/batch-buffers.ts); the section is given back as soon as its codec is done with it.
 */
export interface BatchBufferSource {
  take(size: number): Buffer;
  give(buffer: Uint8Array): void;
}

/** Fresh buffers; nothing given back is kept. */
export const FRESH_BUFFERS: BatchBufferSource = { take: (size) => Buffer.allocUnsafe(size), give: () => {} };

/**
 * The part every encoder shares: header, records section, batchLength and CRC. `writeSection(buf, pos)` writes the
 * `sectionSize` bytes of records at `pos` and returns the end; without a codec it writes straight into the batch
 * buffer (one allocation), with one into a scratch section that is then compressed as one blob; with lz4 and a
 * section of one block, into the batch buffer where that block sits when stored (assembleLz4Batch).
 */
export function assembleBatch(
  header: BatchHeader,
  count: number,
  baseTimestamp: number,
  maxTimestamp: number,
  sectionSize: number,
  writeSection: (buf: Buffer, pos: number) => number,
  buffers: BatchBufferSource = FRESH_BUFFERS,
): Buffer | Promise<Buffer> {
  const codec = header.codec;
  if (!isCodecValue(codec)) throw new ConfigError(`header.codec must be 0..4, got ${String(codec)}`);
  if (sectionSize > MAX_BATCH_SIZE - RECORD_BATCH_OVERHEAD) {
    throw new ConfigError(`a batch of ${count} records encodes to ${sectionSize} bytes, over the int32 batchLength`);
  }
  if (codec === Codec.none) {
    const out = buffers.take(RECORD_BATCH_OVERHEAD + sectionSize);
    const end = writeSection(out, RECORD_BATCH_OVERHEAD);
    if (end !== out.length) throw new Error(`record batch encoder wrote ${end} of ${out.length} bytes`);
    return frameUncompressedBatch(out, header, count, baseTimestamp, maxTimestamp);
  }
  if (codec === Codec.lz4 && sectionSize <= LZ4_MAX_BLOCK_INPUT) return assembleLz4Batch(header, count, baseTimestamp, maxTimestamp, sectionSize, writeSection, buffers);
  const section = buffers.take(sectionSize);
  const end = writeSection(section, 0);
  if (end !== sectionSize) throw new Error(`record batch encoder wrote ${end} of ${sectionSize} bytes`);
  // The scratch section goes back only once its codec's output is in the batch: an LZ4 block that did not shrink
  // is written from it (lz4-frame.ts), and so is a section no codec shrank.
  const place = (compressed: CompressedSection): Buffer => compressed.length < sectionSize
    ? placeCompressed(header, count, baseTimestamp, maxTimestamp, compressed, buffers)
    : placeUncompressed(header, count, baseTimestamp, maxTimestamp, section.subarray(0, sectionSize), compressed, buffers);
  // A small section, or any with lz4, is compressed here and now (compression.ts: compressesNow says why); the
  // batch is then ready in this turn, to go out in the same request as its neighbours.
  if (compressesNow(codec, sectionSize)) {
    let now: CompressedSection | undefined;
    try {
      now = compressSectionNow(codec, section);
    } catch (error) {
      // As a failure on the threadpool would be: the batch fails, the thread goes on.
      buffers.give(section);
      return Promise.reject(error as Error);
    }
    if (now !== undefined) {
      try {
        return place(now);
      } finally {
        buffers.give(section);
      }
    }
  }
  // Every codec reads `section` only until its promise settles, and an LZ4 frame until it is placed.
  return compressSection(codec, section).then(
    (compressed) => {
      try {
        return place(compressed);
      } finally {
        buffers.give(section);
      }
    },
    (error: unknown) => {
      buffers.give(section);
      throw error;
    },
  );
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

/**
 * assembleBatch for lz4 and a records section of one block (any up to 4 MiB less 64 KiB; a batch is ~1 MiB): the
 * section is written into the batch buffer where the frame's block sits when stored (LZ4_SECTION_AT), so a section
 * that does not shrink (values already compressed or random) becomes its batch with no copy: the frame's header and
 * EndMark go around it. One that shrinks goes into a batch buffer of its size, and the first buffer, its scratch,
 * goes back.
 */
function assembleLz4Batch(
  header: BatchHeader,
  count: number,
  baseTimestamp: number,
  maxTimestamp: number,
  sectionSize: number,
  writeSection: (buf: Buffer, pos: number) => number,
  buffers: BatchBufferSource,
): Buffer | Promise<Buffer> {
  const out = buffers.take(LZ4_SECTION_AT + sectionSize + LZ4_END_BYTES);
  const end = writeSection(out, LZ4_SECTION_AT);
  if (end !== LZ4_SECTION_AT + sectionSize) throw new Error(`record batch encoder wrote ${end - LZ4_SECTION_AT} of ${sectionSize} bytes`);
  return frameLz4Section(out, header, count, baseTimestamp, maxTimestamp, buffers, true);
}

/**
 * Compresses the records section that `out` holds from LZ4_SECTION_AT to LZ4_END_BYTES before its end (one block)
 * into an lz4 batch. A block that does not shrink is stored: the batch is `out` itself, its frame written around
 * the section. One that shrinks is placed in a batch buffer of its size; `out` is then only scratch, and goes back
 * to `buffers` when `giveBack` says it came from there (an arena written in place stays its partition's:
 * src/workers/entry-encoder.ts).
 */
export function frameLz4Section(
  out: Buffer,
  header: BatchHeader,
  count: number,
  baseTimestamp: number,
  maxTimestamp: number,
  buffers: BatchBufferSource,
  giveBack: boolean,
): Buffer | Promise<Buffer> {
  let frame: Lz4Frame;
  try {
    frame = lz4FrameNow(out.subarray(LZ4_SECTION_AT, out.length - LZ4_END_BYTES));
  } catch (error) {
    // As a failure on the threadpool would be: the batch fails, the thread goes on.
    if (giveBack) buffers.give(out);
    return Promise.reject(error as Error);
  }
  // A stored block makes the frame exactly the room left after the header; a compressed one is shorter.
  if (RECORD_BATCH_OVERHEAD + frame.length === out.length) {
    writeHeader(out, header, Codec.lz4, count, baseTimestamp, maxTimestamp);
    frame.writeTo(out, RECORD_BATCH_OVERHEAD);
    frame.release();
    return finishBatch(out, header);
  }
  try {
    return placeCompressed(header, count, baseTimestamp, maxTimestamp, frame, buffers);
  } finally {
    if (giveBack) buffers.give(out);
  }
}

/** A compressed records section after the header in a batch buffer of its size, batchLength and CRC done. */
function placeCompressed(
  header: BatchHeader,
  count: number,
  baseTimestamp: number,
  maxTimestamp: number,
  compressed: CompressedSection,
  buffers: BatchBufferSource,
): Buffer {
  if (compressed.length > MAX_BATCH_SIZE - RECORD_BATCH_OVERHEAD) {
    throw new ConfigError(`compressed records section of ${compressed.length} bytes exceeds the int32 batchLength`);
  }
  const out = buffers.take(RECORD_BATCH_OVERHEAD + compressed.length);
  writeHeader(out, header, header.codec, count, baseTimestamp, maxTimestamp);
  compressed.writeTo(out, RECORD_BATCH_OVERHEAD);
  compressed.release();
  return finishBatch(out, header);
}

/**
 * A section its codec did not shrink (random or already compressed bytes) goes as it is, the batch saying codec none,
 * as franz-go and librdkafka send it: gzip grows random data by about 100 bytes a mebibyte and xerial snappy by 4
 * bytes per 32 KiB block, so a record accepted as fitting maxRequestBytes (its size checked uncompressed) was refused
 * MESSAGE_TOO_LARGE by the broker after a round trip, and the broker decompressed the others for nothing. A consumer
 * takes each batch's codec from its attributes; a topic whose compression.type is not `producer` compresses anyway.
 */
function placeUncompressed(
  header: BatchHeader,
  count: number,
  baseTimestamp: number,
  maxTimestamp: number,
  section: Uint8Array,
  compressed: CompressedSection,
  buffers: BatchBufferSource,
): Buffer {
  compressed.release();
  const out = buffers.take(RECORD_BATCH_OVERHEAD + section.length);
  out.set(section, RECORD_BATCH_OVERHEAD);
  return frameUncompressedBatch(out, header, count, baseTimestamp, maxTimestamp);
}

/** Encode an uncompressed batch synchronously. Ignores any `codec` on `header`: the batch says codec none. */
export function encodeRecordBatchUncompressed(
  records: ReadonlyArray<BatchRecord>,
  header: Omit<BatchHeader, 'codec'>,
): Buffer {
  return encodeWith(records, { ...header, codec: Codec.none }) as Buffer;
}

/**
 * Encode a batch. With a codec, the records section is encoded, compressed as one blob and placed after the
 * header; recordCount and lastOffsetDelta still describe the records inside.
 */
export async function encodeRecordBatch(records: ReadonlyArray<BatchRecord>, header: BatchHeader): Promise<Buffer> {
  return encodeWith(records, header);
}

function encodeWith(records: ReadonlyArray<BatchRecord>, header: BatchHeader): Buffer | Promise<Buffer> {
  if (!isCodecValue(header.codec)) throw new ConfigError(`header.codec must be 0..4, got ${String(header.codec)}`);
  const baseTimestamp = checkBatch(records);
  const sectionSize = measureRecords(records, baseTimestamp);
  return assembleBatch(header, records.length, baseTimestamp, measuredMaxTimestamp, sectionSize, (buf, pos) =>
    writeRecords(buf, pos, records, baseTimestamp),
  );
}
