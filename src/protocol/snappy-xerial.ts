/**
 * Snappy in the xerial snappy-java stream framing, which is what Kafka's `SnappyOutputStream` writes and its
 * `SnappyInputStream` reads (docs/kafka-protocol.md: not raw snappy, not the Google framing format):
 *
 *   stream  = header block*
 *   header  = 0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00 · int32 version (1) · int32 min compatible version (1)
 *   block   = int32 length · raw snappy of at most 32 KiB of input
 *
 * Integers are big-endian. Like snappy-java, the reader also accepts a whole input of plain raw snappy when the
 * magic is absent, and a header repeated at a block boundary (concatenated streams).
 */
import { snappyBinding } from './codec-bindings.js';
import { ProtocolError } from '../shared/errors.js';

const MAGIC = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00] as const;
const HEADER_SIZE = 16;
const VERSION = 1;
const MIN_COMPATIBLE_VERSION = 1;
/** snappy-java's default block size, the one Kafka's producer uses. */
const BLOCK_SIZE = 32 * 1024;
/**
 * Raw snappy expands at most ~21x (a 3-byte copy element emits 64 bytes); a preamble claiming more than this is
 * corrupt, and rejecting it early avoids allocating the claimed size.
 */
const MAX_EXPANSION = 22;

/** Snappy runs synchronously: at ~1 GB/s a 1 MiB batch takes about a millisecond, less than a threadpool hop per block. */
export function xerialCompress(bytes: Uint8Array): Buffer {
  const blocks: Buffer[] = [];
  let total = HEADER_SIZE;
  for (let start = 0; start < bytes.length; start += BLOCK_SIZE) {
    // copyOutputData: napi external buffers, one per block, cost ~3x in throughput and let RSS climb (measured).
    const block = snappyBinding().compressSync(bytes.subarray(start, Math.min(start + BLOCK_SIZE, bytes.length)), { copyOutputData: true });
    blocks.push(block);
    total += 4 + block.length;
  }
  const out = Buffer.allocUnsafe(total);
  out.set(MAGIC, 0);
  out.writeInt32BE(VERSION, 8);
  out.writeInt32BE(MIN_COMPATIBLE_VERSION, 12);
  let pos = HEADER_SIZE;
  for (const block of blocks) {
    out.writeInt32BE(block.length, pos);
    out.set(block, pos + 4);
    pos += 4 + block.length;
  }
  return out;
}

/** Decompress a xerial stream, or raw snappy when the magic is absent. Throws `ProtocolError`, never hangs. */
export function xerialDecompress(bytes: Uint8Array, maxBytes: number): Buffer {
  if (!hasMagic(bytes, 0)) return rawDecompress(bytes, 0, bytes.length, maxBytes);
  // First pass: validate the framing and add up the declared sizes, so nothing is decoded or allocated for a
  // stream that would exceed the limit.
  const starts: number[] = [];
  const ends: number[] = [];
  let total = 0;
  let pos = 0;
  while (pos < bytes.length) {
    if (hasMagic(bytes, pos)) {
      if (bytes.length - pos < HEADER_SIZE) throw new ProtocolError('snappy: truncated xerial header');
      pos += HEADER_SIZE;
      continue;
    }
    if (bytes.length - pos < 4) throw new ProtocolError(`snappy: truncated block length at offset ${pos}`);
    const length = readInt32BE(bytes, pos);
    pos += 4;
    if (length <= 0 || length > bytes.length - pos) {
      throw new ProtocolError(`snappy: block length ${length} at offset ${pos - 4} does not fit the input`);
    }
    total += rawUncompressedLength(bytes, pos, pos + length);
    if (total > maxBytes) throw new ProtocolError(`snappy: decompressed size exceeds the limit of ${maxBytes} bytes`);
    starts.push(pos);
    ends.push(pos + length);
    pos += length;
  }
  if (starts.length === 1) return rawDecode(bytes.subarray(starts[0], ends[0]));
  const out = Buffer.allocUnsafe(total);
  let outPos = 0;
  for (let i = 0; i < starts.length; i++) {
    const block = rawDecode(bytes.subarray(starts[i], ends[i]));
    out.set(block, outPos);
    outPos += block.length;
  }
  // rawUncompressedLength read each block's preamble and snappy checks its output against it, so the sum matches.
  return out;
}

function rawDecompress(bytes: Uint8Array, start: number, end: number, maxBytes: number): Buffer {
  const length = rawUncompressedLength(bytes, start, end);
  if (length > maxBytes) throw new ProtocolError(`snappy: decompressed size ${length} exceeds the limit of ${maxBytes} bytes`);
  return rawDecode(bytes.subarray(start, end));
}

function rawDecode(block: Uint8Array): Buffer {
  try {
    return snappyBinding().uncompressSync(block, { asBuffer: true, copyOutputData: true }) as Buffer;
  } catch (err) {
    throw new ProtocolError(`snappy: ${(err as Error).message}`, { cause: err });
  }
}

/** The uncompressed length a raw snappy block declares in its preamble (an unsigned varint of at most 32 bits). */
function rawUncompressedLength(bytes: Uint8Array, start: number, end: number): number {
  let result = 0;
  let pos = start;
  for (let shift = 0; shift < 35; shift += 7) {
    if (pos >= end) throw new ProtocolError('snappy: truncated length preamble');
    const byte = bytes[pos++]!;
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) {
      if (result > 0xffffffff || result > (end - start) * MAX_EXPANSION) {
        throw new ProtocolError(`snappy: preamble claims ${result} bytes from a ${end - start}-byte block`);
      }
      return result;
    }
  }
  throw new ProtocolError('snappy: length preamble longer than 5 bytes');
}

function hasMagic(bytes: Uint8Array, pos: number): boolean {
  if (bytes.length - pos < MAGIC.length) return false;
  for (let i = 0; i < MAGIC.length; i++) if (bytes[pos + i] !== MAGIC[i]) return false;
  return true;
}

function readInt32BE(bytes: Uint8Array, pos: number): number {
  return (bytes[pos]! << 24) | (bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!;
}
