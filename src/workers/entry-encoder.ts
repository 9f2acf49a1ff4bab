/**
 * Encodes a RecordBatch v2 straight from record entries as they came through the ring (src/shared/record-entry.ts),
 * copied into a partition's arena: no record object, key view or header array is built per record. The worker's
 * hot path; the object-based encoder in src/protocol/record-batch.ts stays the reference it is tested against.
 *
 * It reads the entry layout of src/shared/record-entry.ts (RecordEntryOffset): the fixed fields, then key, value and
 * per header keyLength u32, key, valueLength i32, value (-1 = null).
 */
import { LENGTH_BYTES, RECORD_HEADER_BYTES, RecordEntryOffset, readF64, readI32 } from '../shared/record-entry.js';
import {
  assembleBatch,
  sizeOfUvarint,
  sizeOfVarint,
  sizeOfVarlong,
  writeUvarint,
  writeVarlong,
  type BatchHeader,
} from '../protocol/record-batch.js';

/** Body size of each record of the batch being encoded (reused; grows, never shrinks). */
let bodySizes = new Int32Array(1024);

/** Below this length a byte loop beats TypedArray#set, whose fixed cost dominates small copies. */
const SMALL_COPY = 16;

function copyBytes(out: Uint8Array, pos: number, from: Uint8Array, start: number, length: number): void {
  if (length < SMALL_COPY) {
    for (let i = 0; i < length; i++) out[pos + i] = from[start + i]!;
  } else {
    out.set(from.subarray(start, start + length), pos);
  }
}

/** Size of a nullable bytes field in a Kafka record: zig-zag varint length (-1 = null), then the bytes. */
function fieldSize(length: number): number {
  return length < 0 ? 1 : sizeOfVarint(length) + length;
}

/**
 * Encodes the entries at `offsets[0..count)` of `arena` as one batch. Returns a Buffer at once without a codec,
 * a Promise with one (the compression runs off the event loop in the codec's native binding).
 */
export function encodeEntries(arena: Uint8Array, offsets: Int32Array, count: number, header: BatchHeader): Buffer | Promise<Buffer> {
  if (bodySizes.length < count) bodySizes = new Int32Array(2 ** Math.ceil(Math.log2(count)));
  const sizes = bodySizes;
  const baseTimestamp = readF64(arena, offsets[0]! + RecordEntryOffset.timestamp);
  let maxTimestamp = baseTimestamp;
  let section = 0;
  for (let i = 0; i < count; i++) {
    const at = offsets[i]!;
    const keyLength = readI32(arena, at + RecordEntryOffset.keyLength);
    const valueLength = readI32(arena, at + RecordEntryOffset.valueLength);
    const headerCount = readI32(arena, at + RecordEntryOffset.headerCount);
    const timestamp = readF64(arena, at + RecordEntryOffset.timestamp);
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    let body = 1 + sizeOfVarlong(timestamp - baseTimestamp) + sizeOfVarint(i) + fieldSize(keyLength) + fieldSize(valueLength);
    body += sizeOfVarint(headerCount);
    let pos = at + RECORD_HEADER_BYTES + Math.max(0, keyLength) + Math.max(0, valueLength);
    for (let h = 0; h < headerCount; h++) {
      const hk = readI32(arena, pos);
      const hv = readI32(arena, pos + LENGTH_BYTES + hk);
      body += fieldSize(hk) + fieldSize(hv);
      pos += 2 * LENGTH_BYTES + hk + Math.max(0, hv);
    }
    sizes[i] = body;
    section += sizeOfUvarint(body << 1) + body;
  }
  return assembleBatch(header, count, baseTimestamp, maxTimestamp, section, (out, pos) => {
    for (let i = 0; i < count; i++) {
      const at = offsets[i]!;
      const keyLength = readI32(arena, at + RecordEntryOffset.keyLength);
      const valueLength = readI32(arena, at + RecordEntryOffset.valueLength);
      const headerCount = readI32(arena, at + RecordEntryOffset.headerCount);
      pos = writeUvarint(out, pos, sizes[i]! << 1);
      out[pos++] = 0; // record attributes: unused in v2
      pos = writeVarlong(out, pos, readF64(arena, at + RecordEntryOffset.timestamp) - baseTimestamp);
      // The broker requires offset deltas 0..n-1 in order.
      pos = writeUvarint(out, pos, i << 1);
      let from = at + RECORD_HEADER_BYTES;
      pos = writeField(out, pos, arena, from, keyLength);
      from += Math.max(0, keyLength);
      pos = writeField(out, pos, arena, from, valueLength);
      from += Math.max(0, valueLength);
      pos = writeUvarint(out, pos, headerCount << 1);
      for (let h = 0; h < headerCount; h++) {
        const hk = readI32(arena, from);
        pos = writeField(out, pos, arena, from + LENGTH_BYTES, hk);
        from += LENGTH_BYTES + hk;
        const hv = readI32(arena, from);
        pos = writeField(out, pos, arena, from + LENGTH_BYTES, hv);
        from += LENGTH_BYTES + Math.max(0, hv);
      }
    }
    return pos;
  });
}

function writeField(out: Uint8Array, pos: number, from: Uint8Array, start: number, length: number): number {
  if (length < 0) {
    out[pos] = 1; // zig-zag(-1): null
    return pos + 1;
  }
  pos = writeUvarint(out, pos, length << 1);
  copyBytes(out, pos, from, start, length);
  return pos + length;
}
