/**
 * Encodes a RecordBatch v2 straight from record entries as they came through the ring (src/shared/record-entry.ts),
 * copied into a partition's arena: no record object, key view or header array is built per record. The worker's
 * hot path; the object-based encoder in src/protocol/record-batch.ts stays the reference it is tested against, and
 * lends it the encoder core (batch header, codec, CRC, record framing), so only the reading of entries is here.
 *
 * Why the arena, and not each record encoded from the ring straight into its batch buffer as the worker reads it
 * (one copy fewer): tried, and slower where it counts. A field's place in a batch follows the varints before it, so
 * it is mostly at another address modulo 8 than in the ring, and Node 20 copies out of shared memory word by word
 * only between like alignments, byte by byte otherwise (1 KiB out of a 16 MiB ring: 443 ns straight into a batch
 * buffer, 165 through a small aligned scratch buffer). With the scratch buffer, a partition-by-partition loop over
 * a 16 MiB ring of the bench's records encoding 1 MiB batches (tsx, median of ten rounds) cost 244 against 258 ns
 * per 1 KiB record with the arena, and 110 against 98 per 100 B record, where the arena takes a run of entries in
 * one copy; on the kfake bench at 1KiB-none the worker's CPU per record was no lower in four alternated pairs.
 *
 * It reads the entry layout of src/shared/record-entry.ts (RecordEntryOffset): the fixed fields, then key, the value's
 * alignment pad, value and per header keyLength u32, key, valueLength i32, value (-1 = null).
 */
import { LENGTH_BYTES, LITTLE_ENDIAN, RECORD_HEADER_BYTES, RecordEntryOffset } from '../shared/record-entry.js';
import { Codec } from '../shared/codecs.js';
import { LZ4_END_BYTES, LZ4_MAX_BLOCK_INPUT } from '../protocol/lz4-frame.js';
import {
  assembleBatch,
  frameLz4Section,
  frameUncompressedBatch,
  FRESH_BUFFERS,
  LZ4_SECTION_AT,
  RECORD_BATCH_OVERHEAD,
  type BatchBufferSource,
  type BatchHeader,
} from '../protocol/record-batch.js';
import {
  bodySizesFor,
  sizeOfField,
  sizeOfFramedRecord,
  sizeOfRecordLead,
  sizeOfUvarint,
  sizeOfVarint,
  writeField,
  writeRecordLead,
  writeUvarint,
} from '../protocol/record-fields.js';

// Local copies of the layout's constants: an imported binding is read through its module cell on every use in the
// hot loops, a local constant is not (about 10 % on small records with headers, measured).
const { valuePad: VALUE_PAD, keyLength: KEY_LENGTH, valueLength: VALUE_LENGTH, headerCount: HEADER_COUNT, timestamp: TIMESTAMP } = RecordEntryOffset;
const FIXED_BYTES = RECORD_HEADER_BYTES;
const HOST_LE = LITTLE_ENDIAN;
const LENGTH = LENGTH_BYTES;

/**
 * Values up to this many bytes are copied four bytes at a time through DataViews instead of `TypedArray#set` of a
 * subarray, whose fixed cost (a Buffer view allocated per record, then the call) is ~100 ns whatever the length:
 * 68 vs 100 ns at 100 bytes, level at ~160 (both loops over 400,000 copies, median of 9 rounds, Node 20).
 */
const SMALL_VALUE = 128;

/** Copies `length` bytes from `from` at `start` into `to` at `pos`; unaligned 4-byte reads and writes, then bytes. */
function copySmall(to: DataView, pos: number, from: DataView, start: number, length: number): void {
  let i = 0;
  for (; i + 4 <= length; i += 4) to.setInt32(pos + i, from.getInt32(start + i, true), true);
  for (; i < length; i++) to.setUint8(pos + i, from.getUint8(start + i));
}

/**
 * In place, a field moves within the arena by `copyWithin` (memmove, and no view to allocate) from this many bytes
 * on, and a value by copySmall below: ~35 ns per move of 100 B to 1 KiB against 55–105 for `TypedArray#set` of a
 * subarray, and below copySmall's cost from about 64 bytes (`node` loop over 3,000,000 moves in a 1 MiB buffer).
 */
const MOVE_WITHIN_MIN = 16;
const SMALL_VALUE_IN_PLACE = 64;

/**
 * Writes a bytes field of the arena `out` that starts at `from` at `pos`, at or before it (in place): its length
 * varint, then the bytes, by a forward loop when short, else by `copyWithin`; length -1 is null.
 */
function moveField(out: Buffer, pos: number, from: number, length: number): number {
  if (length < 0) {
    out[pos] = 1; // zig-zag(-1): null
    return pos + 1;
  }
  pos = writeUvarint(out, pos, length << 1);
  if (length < MOVE_WITHIN_MIN) {
    for (let i = 0; i < length; i++) out[pos + i] = out[from + i]!;
  } else out.copyWithin(pos, from, from + length);
  return pos + length;
}

/** Largest timestamp of the entries last measured; read right after measureEntries. */
let measuredMaxTimestamp = 0;
/** Whether the entries last measured can be rewritten in place (measureEntries with a `sectionAt`). */
let measuredInPlace = false;

/**
 * First pass: each entry's record body size into the shared body-size array, the largest timestamp, and, given the
 * arena offset `sectionAt` where the records section would start (0: not asked), whether the section can be written
 * there over the entries themselves (see encodeEntries). Returns the size of the records section.
 */
function measureEntries(view: DataView, arena: Uint8Array, offsets: Int32Array, count: number, sectionAt: number): number {
  const sizes = bodySizesFor(count);
  const baseTimestamp = view.getFloat64(offsets[0]! + TIMESTAMP, HOST_LE);
  let maxTimestamp = baseTimestamp;
  let section = 0;
  // Below 2^27 bytes every length in the arena has a varint of at most 4 bytes, no more than the u32 or i32 an
  // entry gives each header length: a record's headers never take more room in place than they had.
  let inPlace = sectionAt > 0 && arena.byteLength < 2 ** 27;
  for (let i = 0; i < count; i++) {
    const at = offsets[i]!;
    const keyLength = view.getInt32(at + KEY_LENGTH, true);
    const valueLength = view.getInt32(at + VALUE_LENGTH, true);
    const headerCount = view.getInt32(at + HEADER_COUNT, true);
    const timestamp = view.getFloat64(at + TIMESTAMP, HOST_LE);
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    const lead = sizeOfRecordLead(timestamp - baseTimestamp, i);
    const keyField = sizeOfField(keyLength);
    const valueField = sizeOfField(valueLength);
    const countField = sizeOfVarint(headerCount);
    const keyBytes = Math.max(0, keyLength);
    const valueBytes = Math.max(0, valueLength);
    const pad = arena[at + VALUE_PAD]!;
    let body = lead + keyField + valueField + countField;
    let pos = at + FIXED_BYTES + keyBytes + pad + valueBytes;
    for (let h = 0; h < headerCount; h++) {
      const hk = view.getInt32(pos, true);
      const hv = view.getInt32(pos + LENGTH + hk, true);
      body += sizeOfField(hk) + sizeOfField(hv);
      pos += 2 * LENGTH + hk + Math.max(0, hv);
    }
    sizes[i] = body;
    if (inPlace) {
      // Where this record's key and the end of its header count land in place, against where the entry has its
      // key and its first header (the bytes between, key and value, move by the same amount on both sides).
      const keyAt = sectionAt + section + sizeOfUvarint(body << 1) + lead + keyField - keyBytes;
      const countEnd = keyAt + valueField - valueBytes + countField;
      if (keyAt > at + FIXED_BYTES || countEnd > at + FIXED_BYTES + pad) inPlace = false;
    }
    section += sizeOfFramedRecord(body);
  }
  measuredMaxTimestamp = maxTimestamp;
  measuredInPlace = inPlace;
  return section;
}

/**
 * Encodes the entries at `offsets[0..count)` of `arena` as one batch. Returns a Buffer at once without a codec or
 * when the section is small enough to compress in place, else a Promise (the compression runs off the event loop
 * in the codec's native binding).
 *
 * With `inPlace`, the records section of an uncompressed or lz4 batch is written over its own entries when it
 * safely can: the arena keeps room before its first entry for the batch header and the lz4 frame's lead
 * (ARENA_HEAD, src/workers/partition-state.ts), and every record is shorter in Kafka's form than as an entry
 * (varints against a 32-byte fixed part and 4-byte lengths), so each byte is written at or before the place it is
 * read from, in one forward pass, and never over a byte not read yet; the first pass checks exactly that, record by
 * record. An uncompressed batch, or an lz4 one whose block did not shrink (stored, as random values are), is then a
 * view of the arena's own memory (`result.buffer === arena.buffer`): the arena has become the batch, and its owner
 * must take a new one or copy the batch out (src/workers/accumulator.ts, seal). A compressed lz4 block goes into a
 * buffer of its own, and the arena stays its owner's. This saves copying every record into a second buffer the
 * size of the batch: 215 against 105 ns per 1 KiB record and 50 against 26 per 100 B (`node` loop over 16 arenas of
 * 1 MiB filled from a ring as the worker fills them, medians of six and four alternated rounds). Other codecs may
 * compress on the threadpool while the arena takes new entries, so they always get a section buffer of their own.
 */
export function encodeEntries(
  arena: Uint8Array, offsets: Int32Array, count: number, header: BatchHeader, buffers: BatchBufferSource = FRESH_BUFFERS,
  inPlace = false,
): Buffer | Promise<Buffer> {
  // The entries' fixed fields are read through a DataView: one load each, where readI32 and readF64 assemble them
  // byte by byte (int32 fields little-endian, the timestamp in the host's order: record-entry.ts). The view also
  // serves the small copies (copySmall).
  const view = new DataView(arena.buffer, arena.byteOffset, arena.byteLength);
  const codec = header.codec;
  const sectionAt = !inPlace ? 0 : codec === Codec.none ? RECORD_BATCH_OVERHEAD : codec === Codec.lz4 ? LZ4_SECTION_AT : 0;
  const section = measureEntries(view, arena, offsets, count, sectionAt);
  const baseTimestamp = view.getFloat64(offsets[0]! + TIMESTAMP, HOST_LE);
  const maxTimestamp = measuredMaxTimestamp;
  // The fields are copied out of a plain Uint8Array over the arena, not the arena Buffer itself: each copy takes a
  // view of its range, and a Buffer's subarray builds a Buffer through its class constructor where a Uint8Array's
  // is the engine's own: 97–104 → 80 ns per 1 KiB record for `encodeEntries` alone (1 MiB batches, hot caches,
  // three alternated runs; 100 B records, copied by copySmall, level).
  const bytes = new Uint8Array(arena.buffer, arena.byteOffset, arena.byteLength);
  // lz4 in place: one block, and room after the section for the frame's EndMark.
  const fits = codec === Codec.none || (section <= LZ4_MAX_BLOCK_INPUT && sectionAt + section + LZ4_END_BYTES <= arena.byteLength);
  if (measuredInPlace && fits) {
    // Written through a Buffer over the whole arena (the entries lie beyond the batch's end); the headers last, as
    // they may cover the first entry's fixed fields.
    const whole = Buffer.from(arena.buffer, arena.byteOffset, arena.byteLength);
    const end = writeEntries(whole, sectionAt, view, bytes, offsets, count, baseTimestamp, true);
    if (end !== sectionAt + section) throw new Error(`record batch encoder wrote ${end - sectionAt} of ${section} bytes in place`);
    if (codec === Codec.none) return frameUncompressedBatch(whole.subarray(0, end), header, count, baseTimestamp, maxTimestamp);
    return frameLz4Section(whole.subarray(0, end + LZ4_END_BYTES), header, count, baseTimestamp, maxTimestamp, buffers, false);
  }
  return assembleBatch(header, count, baseTimestamp, maxTimestamp, section, (out, pos) =>
    writeEntries(out, pos, view, bytes, offsets, count, baseTimestamp, false), buffers);
}

/**
 * Second pass: the records measured by measureEntries, written into `out` from `pos`; returns the end offset.
 * `out` is the arena itself when `inPlace` (encodeEntries in place): every entry's fixed fields, its value's pad
 * included, are read before anything is written for it, and each field moves by a forward loop (copySmall,
 * moveField's byte loop) or by `copyWithin`, memmove within the arena.
 */
function writeEntries(
  out: Buffer, pos: number, view: DataView, bytes: Uint8Array, offsets: Int32Array, count: number, baseTimestamp: number,
  inPlace: boolean,
): number {
  const sizes = bodySizesFor(count);
  const outView = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < count; i++) {
    const at = offsets[i]!;
    const keyLength = view.getInt32(at + KEY_LENGTH, true);
    const valueLength = view.getInt32(at + VALUE_LENGTH, true);
    const headerCount = view.getInt32(at + HEADER_COUNT, true);
    const pad = bytes[at + VALUE_PAD]!;
    pos = writeRecordLead(out, pos, sizes[i]!, view.getFloat64(at + TIMESTAMP, HOST_LE) - baseTimestamp, i);
    let from = at + FIXED_BYTES;
    pos = inPlace ? moveField(out, pos, from, keyLength) : writeField(out, pos, bytes, from, keyLength);
    from += Math.max(0, keyLength) + pad;
    if (valueLength >= 0 && valueLength <= (inPlace ? SMALL_VALUE_IN_PLACE : SMALL_VALUE)) {
      pos = writeUvarint(out, pos, valueLength << 1);
      copySmall(outView, pos, view, from, valueLength);
      pos += valueLength;
    } else pos = inPlace ? moveField(out, pos, from, valueLength) : writeField(out, pos, bytes, from, valueLength);
    from += Math.max(0, valueLength);
    pos = writeUvarint(out, pos, headerCount << 1);
    for (let h = 0; h < headerCount; h++) {
      const hk = view.getInt32(from, true);
      pos = inPlace ? moveField(out, pos, from + LENGTH, hk) : writeField(out, pos, bytes, from + LENGTH, hk);
      from += LENGTH + hk;
      const hv = view.getInt32(from, true);
      pos = inPlace ? moveField(out, pos, from + LENGTH, hv) : writeField(out, pos, bytes, from + LENGTH, hv);
      from += LENGTH + Math.max(0, hv);
    }
  }
  return pos;
}
