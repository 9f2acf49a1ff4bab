/**
 * Kafka's LZ4 framing written around the binding's block compressor: one LZ4 frame (format 1.6, FLG 0x60: version
 * 1, independent blocks, no checksums, no content size) whose records section goes into as few blocks as fit, one
 * for any section up to 4 MiB minus 64 KiB.
 *
 * Why not the binding's own frame encoder: it cuts the input into 64 KiB blocks and hands back a whole frame
 * that the batch then copies; here one call compresses the section and its block is written straight
 * into the batch buffer. On 1 MiB records sections (`npm run bench:micro`, codecs table, MB/s, ours against the
 * binding's frame, two runs): JSON-like values 735 vs 712 and 576 vs 519 (100 B), 668 vs 663 and 502 vs 400 (1 KiB);
 * random-letter values 1,052 vs 983 and 574 vs 454 (100 B), 3,912 vs 3,124 and 2,483 vs 1,571 (1 KiB). LZ4 matches reach back at most 64 KiB, so one large block compresses as well. Every reader
 * takes blocks of up to 4 MiB: the frame says which maximum (BD) it uses, the smallest that holds its largest block,
 * so a consumer sizes its buffer to the batch, not to 4 MiB.
 *
 * A block that would not shrink is stored as it is (the block size's high bit), as the reference encoder does: a
 * one-block frame is then never more than 15 bytes longer than its section, and a block never outgrows its BD maximum.
 *
 * What this costs beyond compressing: the binding returns every block in memory of its own allocator (mimalloc,
 * linked into the addon), which asks the kernel for transparent huge pages and hands freed memory back, so a later
 * block faults in and zeroes a fresh 2 MiB page. On the 2-core bench VM that zeroing was at times 30-60 times
 * slower than usual: a loop compressing 1 MiB sections of the bench's 1 KiB values took 0.16-0.27 ms per MiB in
 * most runs and 5-11 ms in others, with 1.4-3.1 s of system time in `clear_page_erms` under
 * `do_huge_pmd_anonymous_page` over 300 sections (`perf record -g`); with the addon's huge pages turned off
 * (MIMALLOC_ALLOW_LARGE_OS_PAGES=0, an experiment, not a setting of ours) a steady 0.6 ms, every output page
 * faulted in afresh. In a slow bench run at 1KiB-lz4 (314k records/s, the worker at 2.04 µs per record against
 * 1.37-1.41 in the three runs after it; `perf record -a -g`) 49 % of the worker's samples were such huge-page
 * faults under the addon's allocator. A binding that compressed into a buffer of the caller's would avoid both; the
 * block size does not (64 KiB blocks: the same).
 */
import { lz4Binding } from './codec-bindings.js';
import { releaseOutput } from './output-release.js';

const MAGIC = 0x184d2204;
/** Version 01, independent blocks, no block checksums, no content size, no content checksum, no dictionary id. */
const FLG = 0x60;
const HEADER_BYTES = 7; // magic, FLG, BD, HC
const BLOCK_SIZE_BYTES = 4;
const END_MARK_BYTES = 4;
/** The block-size bit that says the block is stored uncompressed. */
const STORED = 0x80000000;
/** The binding's block output starts with the input's length (u32), which the frame does not carry. */
const BINDING_PREFIX_BYTES = 4;

/**
 * The frame descriptor's block maximum sizes (BD bits 4–6: codes 4 to 7) and, for each with FLG 0x60, the header
 * checksum byte: (xxHash32(FLG, BD; seed 0) >> 8) & 0xff, as the frame format defines it. Constant, so not
 * computed per frame; test/protocol/lz4-frame.test.ts checks them against the binding's decoder and the broker's
 * (Kafka checks the header checksum of every frame it reads).
 */
const BLOCK_MAXIMUMS = [
  { bd: 0x40, maxBytes: 64 * 1024, headerChecksum: 0x82 },
  { bd: 0x50, maxBytes: 256 * 1024, headerChecksum: 0xfb },
  { bd: 0x60, maxBytes: 1024 * 1024, headerChecksum: 0x51 },
  { bd: 0x70, maxBytes: 4 * 1024 * 1024, headerChecksum: 0x73 },
] as const;

/**
 * Bytes a frame of one block has before the block's data (frame header, block size word) and after it (EndMark). A
 * section written this many bytes into a buffer is where the frame's one block would sit if stored: assembleBatch
 * writes it there, so a section that does not shrink becomes its frame without being copied.
 */
export const LZ4_ONE_BLOCK_LEAD_BYTES = HEADER_BYTES + BLOCK_SIZE_BYTES;
export const LZ4_END_BYTES = END_MARK_BYTES;

/**
 * Input bytes per block. LZ4's worst case is n + n/255 + 16 bytes, but a block that would not shrink is stored, so
 * a block holds at most this many bytes either way; 64 KiB under 4 MiB leaves the worst case room regardless.
 */
export const LZ4_MAX_BLOCK_INPUT = 4 * 1024 * 1024 - 64 * 1024;

/** One block's input and what the binding made of it (its length prefix included). */
interface Block {
  readonly input: Uint8Array;
  readonly output: Buffer;
}

/**
 * A compressed records section as the pieces of its frame (a CompressedSection, compression.ts): written straight
 * into the batch buffer by `writeTo`, with no copy of the whole frame in between. It reads the blocks' inputs when
 * written, for blocks stored as they are.
 */
export class Lz4Frame {
  readonly #blocks: readonly Block[];
  #released = false;
  readonly #bd: (typeof BLOCK_MAXIMUMS)[number];
  /** The frame's size in bytes. */
  readonly length: number;

  constructor(blocks: readonly Block[]) {
    this.#blocks = blocks;
    let length = HEADER_BYTES + END_MARK_BYTES;
    let largest = 0;
    for (const block of blocks) {
      // A binding whose block output lost its length prefix would make every frame corrupt: fail the batch instead.
      if (block.output.length < BINDING_PREFIX_BYTES || block.output.readUInt32LE(0) !== block.input.length) {
        throw new Error(`lz4: the block compressor's output does not start with the input's length (${block.input.length})`);
      }
      const compressed = compressedBytes(block);
      length += BLOCK_SIZE_BYTES + (compressed >= 0 ? compressed : block.input.length);
      largest = Math.max(largest, block.input.length);
    }
    this.length = length;
    this.#bd = BLOCK_MAXIMUMS.find((candidate) => candidate.maxBytes >= largest) ?? BLOCK_MAXIMUMS[3];
  }

  /** Writes the frame at `at`; returns the end. */
  writeTo(out: Uint8Array, at: number): number {
    if (this.#released) throw new Error('lz4: a frame was written after its release');
    let pos = writeU32LE(out, at, MAGIC);
    out[pos++] = FLG;
    out[pos++] = this.#bd.bd;
    out[pos++] = this.#bd.headerChecksum;
    for (const block of this.#blocks) {
      const compressed = compressedBytes(block);
      if (compressed >= 0) {
        pos = writeU32LE(out, pos, compressed);
        out.set(block.output.subarray(BINDING_PREFIX_BYTES), pos);
        pos += compressed;
      } else {
        pos = writeU32LE(out, pos, (STORED | block.input.length) >>> 0);
        // A block already where it belongs (LZ4_ONE_BLOCK_LEAD_BYTES) is not copied onto itself.
        if (!isAt(block.input, out, pos)) out.set(block.input, pos);
        pos += block.input.length;
      }
    }
    return writeU32LE(out, pos, 0); // EndMark
  }

  /**
   * Hands the binding's block outputs back now (output-release.ts), not at the worker's next full collection: call
   * once the frame is written for the last time.
   */
  release(): void {
    this.#released = true;
    for (const block of this.#blocks) releaseOutput(block.output);
  }
}

/**
 * Compresses `input` into an LZ4 frame on this thread, as a worker does every lz4 section (compression.ts,
 * compressesNow). `input` must not change until the frame is written: a stored block is written from it.
 */
export function lz4FrameNow(input: Uint8Array): Lz4Frame {
  // The binding's synchronous call is typed for Buffers; a view over the same bytes costs no copy.
  return new Lz4Frame(blocksOf(input).map((block) => ({ input: block, output: lz4Binding().compressSync(Buffer.from(block.buffer, block.byteOffset, block.length)) })));
}

/** Compresses `input` into an LZ4 frame on the libuv threadpool. `input` must not change until the frame is written. */
export async function lz4Frame(input: Uint8Array): Promise<Lz4Frame> {
  const blocks = blocksOf(input);
  const outputs = await Promise.all(blocks.map((block) => lz4Binding().compress(block)));
  return new Lz4Frame(blocks.map((block, i) => ({ input: block, output: outputs[i]! })));
}

/** The block's compressed size, or -1 when it did not shrink (it is then stored as it is). */
function compressedBytes(block: Block): number {
  const compressed = block.output.length - BINDING_PREFIX_BYTES;
  return compressed < block.input.length ? compressed : -1;
}

/** The input cut into blocks of at most LZ4_MAX_BLOCK_INPUT bytes; none for an empty input. */
function blocksOf(input: Uint8Array): Uint8Array[] {
  const blocks: Uint8Array[] = [];
  for (let at = 0; at < input.length; at += LZ4_MAX_BLOCK_INPUT) blocks.push(input.subarray(at, at + LZ4_MAX_BLOCK_INPUT));
  return blocks;
}

/** Whether `bytes` is the memory of `out` from `at` on. */
function isAt(bytes: Uint8Array, out: Uint8Array, at: number): boolean {
  return bytes.buffer === out.buffer && bytes.byteOffset === out.byteOffset + at;
}

function writeU32LE(out: Uint8Array, at: number, value: number): number {
  out[at] = value;
  out[at + 1] = value >>> 8;
  out[at + 2] = value >>> 16;
  out[at + 3] = value >>> 24;
  return at + 4;
}
