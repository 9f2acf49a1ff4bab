/**
 * The record-batch codecs (RecordBatch v2 attributes bits 0-2) and their framing as Kafka expects it:
 *
 *   gzip    a plain gzip stream (node:zlib, on the libuv threadpool)
 *   snappy  xerial snappy-java framing, see snappy-xerial.ts
 *   lz4     an LZ4 frame with independent blocks, FLG 0x60 (the broker rejects linked blocks), see lz4-frame.ts
 *   zstd    a standard zstd frame, level 3 (Produce v7+)
 *
 * Decompression treats its input as hostile: every failure is a `ProtocolError`, and the decompressed size is
 * bounded before anything large is allocated: gzip by zlib's `maxOutputLength`, snappy by its length preambles,
 * lz4 by walking every block's sequence headers (exact), zstd by walking its frame and block headers (an upper
 * bound: a compressed block counts as a full block of up to 128 KiB).
 */
import { constants as bufferConstants } from 'node:buffer';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { CODEC_NAMES, Codec, isCodecValue, type CodecName, type CodecValue } from '../shared/codecs.js';
import { ConfigError, ProtocolError } from '../shared/errors.js';
import { lz4Binding, zstdBinding } from './codec-bindings.js';
import { releaseOutput } from './output-release.js';
import { xerialCompress, xerialDecompress } from './snappy-xerial.js';
import { lz4Frame, lz4FrameNow } from './lz4-frame.js';

/** The codec list itself lives in src/shared (the worker settings name a codec too); compression is its protocol face. */
export { CODEC_NAMES, Codec, isCodecValue, type CodecName, type CodecValue };

/** Default bound on one decompressed records section; a producer's own batches are ~1 MiB uncompressed. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

export interface DecompressOptions {
  /**
   * Reject input that would decompress to more than this many bytes. Default `DEFAULT_MAX_DECOMPRESSED_BYTES`.
   * For zstd the check runs on an upper bound, so a frame within one 128 KiB block of the limit may be refused.
   */
  readonly maxBytes?: number;
}

/** zstd level 3 is Kafka's default (`compression.zstd.level`) and zstd's own. */
const ZSTD_LEVEL = 3;

const gzipAsync = promisify(zlib.gzip);
const gunzipAsync = promisify(zlib.gunzip);

function codecValue(codec: CodecValue | CodecName): CodecValue {
  const value = typeof codec === 'string' ? Codec[codec] : codec;
  if (value === undefined || !isCodecValue(value)) {
    throw new ConfigError(`codec must be one of ${CODEC_NAMES.join(', ')} or 0-4, got ${String(codec)}`);
  }
  return value;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Records sections up to this size are compressed on the calling thread with any codec but zstd: below it, handing the
 * work to the libuv threadpool and back costs more CPU than the compression. Per call on this project's bench machine
 * (`node`, random letters like the bench's values, thread-pool calls awaited one by one): lz4 21.6 µs through the pool
 * against 6.5 µs in place at 1 KiB, 21.1 against 5.8 at 4 KiB, even at 16 KiB; gzip 72 against 22 µs at 1 KiB, 89
 * against 46 at 4 KiB, even at 16 KiB. Small sections are what a modest rate spread over many partitions seals every
 * linger.
 */
export const COMPRESS_NOW_MAX_BYTES = 8 * 1024;

/**
 * Whether a records section of `size` bytes is compressed on the calling thread (compressSectionNow) rather than on the
 * libuv threadpool (compressSection). lz4 always: the block compressor does about 1 GB/s on the bench's values (a 1 MiB
 * section costs a worker about 1 ms of its own thread), and the threadpool would add up to four more threads competing
 * with the main thread, the workers and the broker for the cores, and a section and an output buffer per queued
 * compression. Against the threadpool on the real broker (one KRaft node on the same 2 cores, 1,000,000 records,
 * ringkafka alone, alternated pairs): 100B-lz4 1.59M/1.72M/1.25M/994k/877k vs 1.71M/864k/847k/764k/773k records/s, with
 * 0.80–1.23 vs 0.86–1.57 µs of CPU per record; 1KiB-lz4 538k/435k vs 447k/250k, peak RSS 439–448 vs 582–587 MB. Against
 * the in-memory kfake, where the broker costs nothing, 1KiB-lz4 gains 8 % and 100B-lz4 loses 9 % (the one worker of a
 * 2-core machine becomes the busier thread). gzip and snappy up to COMPRESS_NOW_MAX_BYTES (a mebibyte of gzip takes 15
 * ms); zstd never (its binding has no synchronous call).
 */
export function compressesNow(codec: CodecValue, size: number): boolean {
  return codec === Codec.lz4 || (codec !== Codec.zstd && size <= COMPRESS_NOW_MAX_BYTES);
}

/**
 * A compressed records section, written by `writeTo` straight where it belongs (the batch buffer): an LZ4 frame
 * is assembled there from its blocks, with no copy of the whole frame in between.
 */
export interface CompressedSection {
  readonly length: number;
  /** Writes the section at `at`; returns the end. */
  writeTo(out: Uint8Array, at: number): number;
  /**
   * Hands the codec's output memory back now (output-release.ts): call once the section is written for the last
   * time. Writing it afterwards throws.
   */
  release(): void;
}

/**
 * Compress a records section on this thread, or return undefined for a codec whose binding only compresses on the
 * threadpool (zstd): then use compressSection(). Meant for the sections compressesNow() says, which it does
 * not enforce. With `none` the result shares memory with `bytes`, and an LZ4 frame may too (a block that does not
 * shrink is written from `bytes`): write it before `bytes` changes.
 */
export function compressSectionNow(codec: CodecValue | CodecName, bytes: Uint8Array): CompressedSection | undefined {
  switch (codecValue(codec)) {
    case Codec.none:
      return new WholeSection(asBuffer(bytes), false);
    case Codec.gzip:
      return new WholeSection(zlib.gzipSync(bytes), true);
    case Codec.snappy:
      return new WholeSection(xerialCompress(bytes), true);
    case Codec.lz4:
      return lz4FrameNow(bytes);
    case Codec.zstd:
      return undefined;
  }
}

/**
 * Compress a records section. With `none` the result shares memory with `bytes`, and an LZ4 frame may too. The
 * input must not change until the result is written: gzip, lz4 and zstd read it from the libuv threadpool.
 */
export async function compressSection(codec: CodecValue | CodecName, bytes: Uint8Array): Promise<CompressedSection> {
  switch (codecValue(codec)) {
    case Codec.none:
      return new WholeSection(asBuffer(bytes), false);
    case Codec.gzip:
      return new WholeSection(await gzipAsync(bytes), true);
    case Codec.snappy:
      return new WholeSection(xerialCompress(bytes), true);
    case Codec.lz4:
      return lz4Frame(bytes);
    case Codec.zstd:
      // @mongodb-js/zstd 1.x drops its level argument and uses the native default, which is also 3.
      return new WholeSection(await zstdBinding().compress(asBuffer(bytes), ZSTD_LEVEL), true);
  }
}

/** compressSectionNow, as a buffer of its own (shared with `bytes` for `none`). */
export function compressNow(codec: CodecValue | CodecName, bytes: Uint8Array): Buffer | undefined {
  const section = compressSectionNow(codec, bytes);
  return section === undefined ? undefined : toBuffer(section);
}

/** compressSection, as a buffer of its own (shared with `bytes` for `none`). */
export async function compress(codec: CodecValue | CodecName, bytes: Uint8Array): Promise<Buffer> {
  return toBuffer(await compressSection(codec, bytes));
}

/** A codec's output that is one buffer already; `owned` when the codec made it (not `none`'s view of the input). */
class WholeSection implements CompressedSection {
  readonly bytes: Buffer;
  readonly #owned: boolean;
  #released = false;
  constructor(bytes: Buffer, owned: boolean) {
    this.bytes = bytes;
    this.#owned = owned;
  }
  get length(): number {
    return this.bytes.length;
  }
  writeTo(out: Uint8Array, at: number): number {
    if (this.#released) throw new Error('a compressed section was written after its release');
    out.set(this.bytes, at);
    return at + this.bytes.length;
  }
  release(): void {
    this.#released = true;
    if (this.#owned) releaseOutput(this.bytes);
  }
}

function toBuffer(section: CompressedSection): Buffer {
  if (section instanceof WholeSection) return section.bytes;
  const out = Buffer.allocUnsafe(section.length);
  section.writeTo(out, 0);
  section.release();
  return out;
}

/** Decompress a records section. With `none` the result shares memory with `bytes`. */
export async function decompress(
  codec: CodecValue | CodecName,
  bytes: Uint8Array,
  options: DecompressOptions = {},
): Promise<Buffer> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  const value = codecValue(codec);
  const name = CODEC_NAMES[value]!;
  let out: Buffer;
  try {
    switch (value) {
      case Codec.none:
        return asBuffer(bytes);
      case Codec.gzip:
        // Beyond maxOutputLength zlib stops inflating and fails, so a gzip bomb never allocates past the limit.
        out = await gunzipAsync(bytes, { maxOutputLength: Math.min(Math.max(1, maxBytes), bufferConstants.MAX_LENGTH) });
        break;
      case Codec.snappy:
        out = xerialDecompress(bytes, maxBytes);
        break;
      case Codec.lz4:
        checkBound(name, lz4DecompressedSize(bytes), maxBytes);
        out = await lz4Binding().decompressFrame(bytes);
        break;
      case Codec.zstd:
        checkBound(name, zstdDecompressedBound(bytes), maxBytes);
        out = await zstdBinding().decompress(asBuffer(bytes));
        break;
    }
  } catch (err) {
    // A ConfigError is a binding that did not load, not bad input.
    if (err instanceof ProtocolError || err instanceof ConfigError) throw err;
    throw new ProtocolError(`${name}: cannot decompress: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
  if (out.length > maxBytes) {
    throw new ProtocolError(`${name}: decompressed size ${out.length} exceeds the limit of ${maxBytes} bytes`);
  }
  return out;
}

function checkBound(name: string, bound: number, maxBytes: number): void {
  if (bound > maxBytes) {
    throw new ProtocolError(`${name}: frame may decompress to ${bound} bytes, over the limit of ${maxBytes}`);
  }
}

const SKIPPABLE_MAGIC_MASK = 0xfffffff0;
/** Skippable frames (0x184D2A50..5F) share one magic range between LZ4 and zstd. */
const SKIPPABLE_MAGIC = 0x184d2a50;
const LZ4_MAGIC = 0x184d2204;
const ZSTD_MAGIC = 0xfd2fb528;
/** zstd's Block_Maximum_Size cap, whatever the window. */
const ZSTD_MAX_BLOCK = 128 * 1024;

/**
 * Walk the LZ4 frames (lz4 frame format 1.6) and return the size their block and sequence headers add up to.
 * Throws on framing errors; match offsets and checksums are left to the decoder.
 */
function lz4DecompressedSize(b: Uint8Array): number {
  if (b.length === 0) throw new ProtocolError('lz4: empty input');
  let pos = 0;
  let total = 0;
  while (pos < b.length) {
    need(b, pos, 4, 'lz4 frame magic');
    const magic = u32le(b, pos);
    pos += 4;
    if ((magic & SKIPPABLE_MAGIC_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      pos = skipSized(b, pos, 'lz4');
      continue;
    }
    if (magic !== LZ4_MAGIC) throw new ProtocolError(`lz4: bad frame magic 0x${magic.toString(16)} at ${pos - 4}`);
    need(b, pos, 2, 'lz4 frame descriptor');
    const flg = b[pos]!;
    const bd = b[pos + 1]!;
    pos += 2;
    const sizeCode = (bd >> 4) & 7;
    if (flg >> 6 !== 1 || (flg & 0x02) !== 0 || (bd & 0x8f) !== 0 || sizeCode < 4) {
      throw new ProtocolError(`lz4: unsupported frame descriptor FLG 0x${flg.toString(16)} BD 0x${bd.toString(16)}`);
    }
    const blockMax = 1 << (2 * sizeCode + 8); // 4 → 64 KiB … 7 → 4 MiB
    const headerRest = (flg & 0x08 ? 8 : 0) + (flg & 0x01 ? 4 : 0) + 1; // content size, dictionary id, HC
    need(b, pos, headerRest, 'lz4 frame descriptor');
    pos += headerRest;
    const blockChecksum = flg & 0x10 ? 4 : 0;
    for (;;) {
      need(b, pos, 4, 'lz4 block size');
      const word = u32le(b, pos);
      pos += 4;
      if (word === 0) break; // EndMark
      const stored = word >= 0x80000000;
      const size = word & 0x7fffffff;
      if (size > blockMax) throw new ProtocolError(`lz4: block of ${size} bytes exceeds the frame's ${blockMax}`);
      need(b, pos, size + blockChecksum, 'lz4 block');
      total += stored ? size : lz4BlockOutputSize(b, pos, pos + size, blockMax);
      pos += size + blockChecksum;
    }
    if (flg & 0x04) {
      need(b, pos, 4, 'lz4 content checksum');
      pos += 4;
    }
  }
  return total;
}

/**
 * The exact output size of one compressed LZ4 block, from its sequence headers alone (token, length extensions,
 * offset; literals are skipped, nothing is decoded). Linear in the block size, so hostile blocks cannot stall it.
 */
function lz4BlockOutputSize(b: Uint8Array, pos: number, end: number, blockMax: number): number {
  let out = 0;
  while (pos < end) {
    const token = b[pos++]!;
    let literals = token >> 4;
    if (literals === 15) {
      let extra: number;
      do {
        if (pos >= end) throw new ProtocolError('lz4: truncated literal length');
        extra = b[pos++]!;
        literals += extra;
      } while (extra === 255);
    }
    if (literals > end - pos) throw new ProtocolError('lz4: literals run past the block');
    pos += literals;
    out += literals;
    if (pos === end) break; // the last sequence carries literals only
    if (end - pos < 2) throw new ProtocolError('lz4: truncated match offset');
    pos += 2;
    let match = (token & 15) + 4;
    if (match === 19) {
      let extra: number;
      do {
        if (pos >= end) throw new ProtocolError('lz4: truncated match length');
        extra = b[pos++]!;
        match += extra;
      } while (extra === 255);
    }
    out += match;
    if (out > blockMax) throw new ProtocolError(`lz4: block decodes to more than the frame's ${blockMax} bytes`);
  }
  return out;
}

/** Walk the zstd frames (RFC 8878) and return an upper bound of their decompressed size. */
function zstdDecompressedBound(b: Uint8Array): number {
  if (b.length === 0) throw new ProtocolError('zstd: empty input');
  let pos = 0;
  let total = 0;
  while (pos < b.length) {
    need(b, pos, 4, 'zstd frame magic');
    const magic = u32le(b, pos);
    pos += 4;
    if ((magic & SKIPPABLE_MAGIC_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      pos = skipSized(b, pos, 'zstd');
      continue;
    }
    if (magic !== ZSTD_MAGIC) throw new ProtocolError(`zstd: bad frame magic 0x${magic.toString(16)} at ${pos - 4}`);
    need(b, pos, 1, 'zstd frame header');
    const fhd = b[pos++]!;
    if (fhd & 0x08) throw new ProtocolError('zstd: reserved frame header bit set');
    const singleSegment = (fhd & 0x20) !== 0;
    let windowSize = 0;
    if (!singleSegment) {
      need(b, pos, 1, 'zstd window descriptor');
      const wd = b[pos++]!;
      const windowBase = 2 ** (10 + (wd >> 3));
      windowSize = windowBase + (windowBase / 8) * (wd & 7);
    }
    const dictBytes = [0, 1, 2, 4][fhd & 3]!;
    const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][fhd >> 6]!;
    need(b, pos, dictBytes + fcsBytes, 'zstd frame header');
    pos += dictBytes;
    let contentSize = -1;
    if (fcsBytes === 1) contentSize = b[pos]!;
    else if (fcsBytes === 2) contentSize = (b[pos]! | (b[pos + 1]! << 8)) + 256;
    else if (fcsBytes === 4) contentSize = u32le(b, pos);
    else if (fcsBytes === 8) contentSize = u32le(b, pos) + u32le(b, pos + 4) * 2 ** 32;
    pos += fcsBytes;
    if (singleSegment) windowSize = contentSize;
    const blockMax = Math.min(windowSize, ZSTD_MAX_BLOCK);
    let frameTotal = 0;
    for (;;) {
      need(b, pos, 3, 'zstd block header');
      const header = b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16);
      pos += 3;
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      if (type === 3) throw new ProtocolError('zstd: reserved block type');
      if (size > ZSTD_MAX_BLOCK) throw new ProtocolError(`zstd: block size ${size} exceeds 128 KiB`);
      const stored = type === 1 ? 1 : size; // RLE: one byte repeated `size` times
      need(b, pos, stored, 'zstd block');
      pos += stored;
      frameTotal += type === 2 ? blockMax : size;
      if (header & 1) break; // Last_Block
    }
    if (fhd & 0x04) {
      need(b, pos, 4, 'zstd content checksum');
      pos += 4;
    }
    // The decoder fails a frame whose output differs from a declared content size, so that bounds it too.
    total += contentSize >= 0 ? Math.min(contentSize, frameTotal) : frameTotal;
  }
  return total;
}

function skipSized(b: Uint8Array, pos: number, name: string): number {
  need(b, pos, 4, `${name} skippable frame size`);
  const size = u32le(b, pos);
  need(b, pos + 4, size, `${name} skippable frame`);
  return pos + 4 + size;
}

function need(b: Uint8Array, pos: number, bytes: number, what: string): void {
  if (bytes > b.length - pos) throw new ProtocolError(`truncated ${what} at offset ${pos}`);
}

function u32le(b: Uint8Array, pos: number): number {
  return (b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16) | (b[pos + 3]! << 24)) >>> 0;
}
