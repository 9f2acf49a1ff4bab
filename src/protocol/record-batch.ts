/**
 * RecordBatch v2 encoder: the produce hot path (Kafka's DefaultRecordBatch format, docs/kafka-protocol.md). The
 * header's layout and writers are in batch-header.ts.
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
import { Codec, compressSection, compressSectionNow, compressesNow, isCodecValue, type CompressedSection } from './compression.js';
import { LZ4_END_BYTES, LZ4_MAX_BLOCK_INPUT, lz4FrameNow, type Lz4Frame } from './lz4-frame.js';
import {
  LZ4_SECTION_AT, MAX_BATCH_SIZE, RECORD_BATCH_OVERHEAD, finishBatch, frameUncompressedBatch, writeHeader, type BatchHeader,
} from './batch-header.js';
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

// The header's layout and writers live in batch-header.ts; its users have always imported them from here.
export {
  BatchAttribute, BatchOffset, LOG_OVERHEAD, LZ4_SECTION_AT, RECORD_BATCH_MAGIC, RECORD_BATCH_OVERHEAD, frameUncompressedBatch,
  stampProducer, type BatchHeader,
} from './batch-header.js';

export interface BatchRecord {
  key: Uint8Array | null;
  value: Uint8Array | null;
  /** Header keys arrive already UTF-8 encoded. */
  headers: ReadonlyArray<readonly [key: Uint8Array, value: Uint8Array | null]>;
  /** Milliseconds since the epoch (CreateTime). */
  timestamp: number;
}

/**
 * Record timestamps must be integers within ±2^51 ms (±71,000 years), so every delta's zig-zag form stays an
 * exact double (≤ 2^53) and varlongs can be written with number arithmetic.
 */
const MAX_ABS_TIMESTAMP = 2 ** 51;
/** Keeps a record's zig-zag length below 2^31, so int32 arithmetic encodes it. */
const MAX_RECORD_BODY = 2 ** 30 - 1;

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
