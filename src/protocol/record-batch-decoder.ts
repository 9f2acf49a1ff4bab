/**
 * RecordBatch v2 decoder, for records sets read back in tests, by tools and by anything checking what a broker
 * holds. Grammar in record-batch.ts. Input is hostile: every malformed byte raises `ProtocolError` (never a
 * RangeError), every length is checked against the bytes actually present before it is used, and decompression
 * is size-bounded.
 *
 * Decoded keys, values and headers are views into `bytes` (or into the decompressed section): no copies.
 */
import { ProtocolError } from '../shared/errors.js';
import { CODEC_NAMES, decompress, isCodecValue, type CodecValue, type DecompressOptions } from './compression.js';
import { crc32c } from './crc32c.js';
import { BatchAttribute, BatchOffset, LOG_OVERHEAD, RECORD_BATCH_MAGIC, RECORD_BATCH_OVERHEAD } from './record-batch.js';

export interface DecodedRecord {
  attributes: number;
  offsetDelta: number;
  timestampDelta: number;
  /** baseTimestamp + timestampDelta, or the batch's maxTimestamp when the broker set LogAppendTime. */
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: Array<[key: Uint8Array, value: Uint8Array | null]>;
}

export interface DecodedBatch {
  baseOffset: bigint;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  /** The CRC stored in the batch, unsigned. */
  crc: number;
  /** Whether `crc` matches the CRC-32C of bytes 21..end. When false, `records` is empty: nothing in it is trusted. */
  crcValid: boolean;
  attributes: number;
  codec: CodecValue;
  /** 0 = CreateTime, 1 = LogAppendTime. */
  timestampType: 0 | 1;
  transactional: boolean;
  control: boolean;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
  records: DecodedRecord[];
}

export type DecodeOptions = DecompressOptions;

/** length, attributes, timestampDelta, offsetDelta, key length, value length, header count: one byte each at least. */
const MIN_RECORD_SIZE = 7;

/**
 * Decode every complete batch in a records set. Like Kafka's log reader, a trailing partial batch (a fetch
 * response cut at its byte limit) ends the set without error; an impossible batch length or magic does not.
 */
export async function decodeRecordBatches(bytes: Uint8Array, options: DecodeOptions = {}): Promise<DecodedBatch[]> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const batches: DecodedBatch[] = [];
  let pos = 0;
  while (bytes.length - pos >= LOG_OVERHEAD) {
    const batchLength = view.getInt32(pos + BatchOffset.batchLength);
    if (batchLength < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD) {
      throw new ProtocolError(`batch at offset ${pos}: batchLength ${batchLength} is below the v2 minimum of 49`);
    }
    if (bytes.length - pos > BatchOffset.magic) {
      const magic = view.getInt8(pos + BatchOffset.magic);
      if (magic !== RECORD_BATCH_MAGIC) {
        throw new ProtocolError(`batch at offset ${pos}: magic ${magic} is not supported (only v2)`);
      }
    }
    const end = pos + LOG_OVERHEAD + batchLength;
    if (end > bytes.length) break;
    batches.push(await decodeBatch(bytes, view, pos, end, options));
    pos = end;
  }
  return batches;
}

async function decodeBatch(
  bytes: Uint8Array,
  view: DataView,
  start: number,
  end: number,
  options: DecodeOptions,
): Promise<DecodedBatch> {
  const attributes = view.getInt16(start + BatchOffset.attributes);
  const codec = attributes & BatchAttribute.codecMask;
  if (!isCodecValue(codec)) throw new ProtocolError(`batch at offset ${start}: unknown codec ${codec}`);
  const crc = view.getUint32(start + BatchOffset.crc);
  const batch: DecodedBatch = {
    baseOffset: view.getBigInt64(start),
    batchLength: end - start - LOG_OVERHEAD,
    partitionLeaderEpoch: view.getInt32(start + BatchOffset.partitionLeaderEpoch),
    magic: RECORD_BATCH_MAGIC,
    crc,
    crcValid: crc32c(bytes, start + BatchOffset.attributes, end) === crc,
    attributes,
    codec,
    timestampType: attributes & BatchAttribute.timestampType ? 1 : 0,
    transactional: (attributes & BatchAttribute.transactional) !== 0,
    control: (attributes & BatchAttribute.control) !== 0,
    lastOffsetDelta: view.getInt32(start + BatchOffset.lastOffsetDelta),
    baseTimestamp: readTimestamp(view, start + BatchOffset.baseTimestamp),
    maxTimestamp: readTimestamp(view, start + BatchOffset.maxTimestamp),
    producerId: view.getBigInt64(start + BatchOffset.producerId),
    producerEpoch: view.getInt16(start + BatchOffset.producerEpoch),
    baseSequence: view.getInt32(start + BatchOffset.baseSequence),
    recordCount: view.getInt32(start + BatchOffset.recordCount),
    records: [],
  };
  if (batch.recordCount < 0) throw new ProtocolError(`batch at offset ${start}: negative record count`);
  if (!batch.crcValid) return batch;
  let section = bytes.subarray(start + RECORD_BATCH_OVERHEAD, end);
  if (codec !== 0) section = await decompress(codec, section, options);
  batch.records = decodeRecords(section, batch);
  return batch;
}

/** Timestamps are int64 on the wire; beyond 2^53 ms they are corrupt, not a date. */
function readTimestamp(view: DataView, pos: number): number {
  const value = view.getInt32(pos) * 2 ** 32 + view.getUint32(pos + 4);
  if (!Number.isSafeInteger(value)) throw new ProtocolError(`timestamp at offset ${pos} is out of range`);
  return value;
}

function decodeRecords(section: Uint8Array, batch: DecodedBatch): DecodedRecord[] {
  const count = batch.recordCount;
  if (count > section.length / MIN_RECORD_SIZE) {
    throw new ProtocolError(`${count} records cannot fit in a ${CODEC_NAMES[batch.codec]} section of ${section.length} bytes`);
  }
  const cursor = new Cursor(section);
  const records: DecodedRecord[] = [];
  const logAppendTime = batch.timestampType === 1;
  for (let i = 0; i < count; i++) {
    const length = cursor.varint('record length');
    if (length < 0 || length > section.length - cursor.pos) {
      throw new ProtocolError(`record ${i}: length ${length} does not fit the ${section.length - cursor.pos} bytes left`);
    }
    const recordEnd = cursor.pos + length;
    cursor.end = recordEnd; // no field may read past its own record
    const attributes = cursor.byte('record attributes');
    const timestampDelta = cursor.varlong('timestampDelta');
    const offsetDelta = cursor.varint('offsetDelta');
    const key = cursor.bytesField('key');
    const value = cursor.bytesField('value');
    const headerCount = cursor.varint('header count');
    // Each header takes at least two bytes (its two lengths).
    if (headerCount < 0 || headerCount > (recordEnd - cursor.pos) / 2) {
      throw new ProtocolError(`record ${i}: invalid header count ${headerCount}`);
    }
    const headers: Array<[Uint8Array, Uint8Array | null]> = [];
    for (let h = 0; h < headerCount; h++) {
      const headerKey = cursor.bytesField('header key');
      if (headerKey === null) throw new ProtocolError(`record ${i}: null header key`);
      headers.push([headerKey, cursor.bytesField('header value')]);
    }
    if (cursor.pos !== recordEnd) {
      throw new ProtocolError(`record ${i}: declared ${length} bytes but its fields take ${length - (recordEnd - cursor.pos)}`);
    }
    cursor.end = section.length;
    const timestamp = logAppendTime ? batch.maxTimestamp : batch.baseTimestamp + timestampDelta;
    records.push({ attributes, offsetDelta, timestampDelta, timestamp, key, value, headers });
  }
  // Kafka: "Incorrect declared batch size, records still remaining in file".
  if (cursor.pos !== section.length) {
    throw new ProtocolError(`${section.length - cursor.pos} bytes left after the declared ${count} records`);
  }
  return records;
}

/** A bounds-checked position in a records section, with number-only zig-zag varint/varlong decoding. */
class Cursor {
  readonly buf: Uint8Array;
  pos = 0;
  end: number;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.end = buf.length;
  }

  byte(what: string): number {
    if (this.pos >= this.end) throw truncated(what, this.pos);
    return this.buf[this.pos++]!;
  }

  /** Zig-zag varint of at most 5 bytes, as Java's ByteUtils.readVarint. */
  varint(what: string): number {
    let u = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte(what);
      u |= (b & 0x7f) << shift;
      if (b < 0x80) return (u >>> 1) ^ -(u & 1);
    }
    throw new ProtocolError(`${what}: varint longer than 5 bytes at offset ${this.pos}`);
  }

  /** Zig-zag varlong of at most 10 bytes; values beyond ±2^53 are rejected rather than rounded. */
  varlong(what: string): number {
    let z = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte(what);
      z += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (z > Number.MAX_SAFE_INTEGER) throw new ProtocolError(`${what}: varlong out of range at offset ${this.pos}`);
        return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      }
      scale *= 0x80;
    }
    throw new ProtocolError(`${what}: varlong longer than 10 bytes at offset ${this.pos}`);
  }

  /** Length varint (-1 = null) and that many bytes, as a view. */
  bytesField(what: string): Uint8Array | null {
    const length = this.varint(`${what} length`);
    if (length === -1) return null;
    if (length < -1 || length > this.end - this.pos) {
      throw new ProtocolError(`${what}: length ${length} does not fit the ${this.end - this.pos} bytes left in the record`);
    }
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }
}

function truncated(what: string, pos: number): ProtocolError {
  return new ProtocolError(`truncated record: ${what} at offset ${pos}`);
}
