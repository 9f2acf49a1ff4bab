/**
 * The pieces of a RecordBatch v2 record's encoding (record-batch.ts has the layout): zig-zag varints and varlongs,
 * the record's length prefix and lead (attributes, timestampDelta, offsetDelta), and its bytes fields (key, value,
 * header key and value: a length varint, -1 for null, then the bytes). Two encoders share them: the object-based
 * reference in record-batch.ts and the worker's, which reads records straight from ring entries
 * (src/workers/entry-encoder.ts). Each measures every record of a batch first, into the reused `bodySizesFor`
 * array, then writes them.
 */

/** Body size of each record of the batch being encoded (reused; grows, never shrinks). */
let bodySizes = new Int32Array(1024);

/**
 * The reused body-size array, at least `count` long. Both encoders measure every record, then write them, with no
 * await in between, so one array serves both.
 */
export function bodySizesFor(count: number): Int32Array {
  if (bodySizes.length < count) bodySizes = new Int32Array(2 ** Math.ceil(Math.log2(count)));
  return bodySizes;
}

/** Bytes needed for an unsigned 32-bit varint. */
export function sizeOfUvarint(u: number): number {
  return u < 0x80 ? 1 : u < 0x4000 ? 2 : u < 0x200000 ? 3 : u < 0x10000000 ? 4 : 5;
}

/** Bytes needed for a zig-zag varint of an int32. */
export function sizeOfVarint(v: number): number {
  return sizeOfUvarint(((v << 1) ^ (v >> 31)) >>> 0);
}

/** Bytes needed for a zig-zag varlong of an integer with |v| ≤ 2^52. */
export function sizeOfVarlong(v: number): number {
  if ((v | 0) === v) return sizeOfVarint(v);
  let z = v < 0 ? -2 * v - 1 : 2 * v;
  let size = 1;
  while (z >= 0x80) {
    z = Math.floor(z / 0x80);
    size++;
  }
  return size;
}

/** Bytes a key, value, header key or header value takes: its length varint (-1 = null) and its bytes. */
export function sizeOfField(length: number): number {
  return length < 0 ? 1 : sizeOfVarint(length) + length;
}

/** Bytes of a record body before its key: attributes, timestampDelta and offsetDelta. */
export function sizeOfRecordLead(timestampDelta: number, offsetDelta: number): number {
  return 1 + sizeOfVarlong(timestampDelta) + sizeOfVarint(offsetDelta);
}

/** Bytes a record takes in the records section: its length prefix and its body. */
export function sizeOfFramedRecord(body: number): number {
  return sizeOfUvarint(body << 1) + body;
}

export function writeUvarint(buf: Uint8Array, pos: number, u: number): number {
  while (u >= 0x80) {
    buf[pos++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[pos++] = u;
  return pos;
}

export function writeVarlong(buf: Uint8Array, pos: number, v: number): number {
  if ((v | 0) === v) return writeUvarint(buf, pos, ((v << 1) ^ (v >> 31)) >>> 0);
  let z = v < 0 ? -2 * v - 1 : 2 * v;
  while (z >= 0x80) {
    buf[pos++] = (z % 0x80) | 0x80;
    z = Math.floor(z / 0x80);
  }
  buf[pos++] = z;
  return pos;
}

/**
 * A record's length prefix, then the start of its body: attributes (unused in v2), timestampDelta and offsetDelta
 * (the broker requires offset deltas 0..n-1 in order). Key, value and headers follow.
 */
export function writeRecordLead(buf: Uint8Array, pos: number, body: number, timestampDelta: number, offsetDelta: number): number {
  pos = writeUvarint(buf, pos, body << 1);
  buf[pos++] = 0;
  pos = writeVarlong(buf, pos, timestampDelta);
  return writeUvarint(buf, pos, offsetDelta << 1);
}

/** Below this length a byte loop beats TypedArray#set, whose fixed cost dominates small copies. */
const SMALL_COPY = 16;

function copyBytes(buf: Uint8Array, pos: number, from: Uint8Array, start: number, length: number): void {
  if (length < SMALL_COPY) {
    for (let i = 0; i < length; i++) buf[pos + i] = from[start + i]!;
  } else {
    // A whole array is copied as it is; a range of one (a ring entry's arena) needs a view.
    buf.set(start === 0 && length === from.length ? from : from.subarray(start, start + length), pos);
  }
}

/** Writes a bytes field: its length varint, then `length` bytes of `from` at `start`; length -1 is null. */
export function writeField(buf: Uint8Array, pos: number, from: Uint8Array, start: number, length: number): number {
  if (length < 0) {
    buf[pos] = 1; // zig-zag(-1): null
    return pos + 1;
  }
  pos = writeUvarint(buf, pos, length << 1);
  copyBytes(buf, pos, from, start, length);
  return pos + length;
}
