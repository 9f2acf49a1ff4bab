import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decompressFrameSync } from 'lz4-napi';
import { LZ4_END_BYTES, LZ4_MAX_BLOCK_INPUT, LZ4_ONE_BLOCK_LEAD_BYTES, Lz4Frame, lz4Frame, lz4FrameNow } from '../../src/protocol/lz4-frame.js';
import { Codec, decompress } from '../../src/protocol/compression.js';
import { noise, text } from './section-fixtures.js';

const KiB = 1024;
const MiB = 1024 * KiB;


function bytesOf(frame: Lz4Frame): Buffer {
  const out = Buffer.alloc(frame.length + 3, 0xee);
  // Written at an offset, as into a batch buffer after its header; the bytes around it stay untouched.
  assert.equal(frame.writeTo(out, 2), 2 + frame.length, 'writeTo returns the end');
  assert.equal(out[0], 0xee);
  assert.equal(out[out.length - 1], 0xee);
  return out.subarray(2, 2 + frame.length);
}

/** The frame's blocks as [stored, size] from their size words (FLG 0x60: no checksums). */
function blocks(frame: Buffer): Array<[boolean, number]> {
  const out: Array<[boolean, number]> = [];
  for (let pos = 7; ; ) {
    const word = frame.readUInt32LE(pos);
    if (word === 0) break;
    out.push([word >= 0x80000000, word & 0x7fffffff]);
    pos += 4 + (word & 0x7fffffff);
  }
  return out;
}

describe('lz4Frame', () => {
  it('uses the smallest block maximum (BD) that holds the section, one block up to 4 MiB less 64 KiB', async () => {
    const cases: Array<[number, number]> = [
      [1000, 0x40],
      [64 * KiB, 0x40],
      [64 * KiB + 1, 0x50],
      [MiB, 0x60],
      [MiB + 1, 0x70],
      [LZ4_MAX_BLOCK_INPUT, 0x70],
    ];
    for (const [size, bd] of cases) {
      const input = text(size);
      const frame = bytesOf(await lz4Frame(input));
      assert.equal(frame[5], bd, `BD for ${size} bytes`);
      assert.equal(blocks(frame).length, 1, `one block for ${size} bytes`);
      // The binding's frame decoder checks the header checksum (HC) of every BD: each constant is right.
      assert.ok(decompressFrameSync(frame).equals(input), `${size} bytes read back by the binding's frame decoder`);
      assert.ok((await decompress(Codec.lz4, frame)).equals(input), `${size} bytes read back through decompress()`);
    }
  });

  it('cuts a section over 4 MiB less 64 KiB into blocks that each fit the 4 MiB maximum', async () => {
    const input = noise(2 * LZ4_MAX_BLOCK_INPUT + 10, 1);
    const frame = bytesOf(await lz4Frame(input));
    assert.equal(frame[5], 0x70);
    const sizes = blocks(frame);
    assert.equal(sizes.length, 3);
    for (const [, size] of sizes) assert.ok(size <= 4 * MiB, `block of ${size} bytes`);
    assert.ok(decompressFrameSync(frame).equals(input));
  });

  it('stores a block that would not shrink as it is: the frame is the section plus 15 bytes', async () => {
    for (const size of [100, 100 * KiB, MiB]) {
      const input = noise(size, size);
      const frame = bytesOf(await lz4Frame(input));
      assert.deepEqual(blocks(frame), [[true, size]], `${size} bytes stored`);
      assert.equal(frame.length, size + 15);
      assert.ok(frame.subarray(11, 11 + size).equals(input));
      assert.ok(decompressFrameSync(frame).equals(input));
    }
  });

  it('writes a stored block that already sits where the frame puts it around it: the same bytes as written elsewhere', () => {
    const size = 64 * KiB;
    const input = noise(size, 11);
    const buffer = Buffer.alloc(5 + LZ4_ONE_BLOCK_LEAD_BYTES + size + LZ4_END_BYTES, 0xee);
    input.copy(buffer, 5 + LZ4_ONE_BLOCK_LEAD_BYTES);
    const frame = lz4FrameNow(buffer.subarray(5 + LZ4_ONE_BLOCK_LEAD_BYTES, 5 + LZ4_ONE_BLOCK_LEAD_BYTES + size));
    assert.equal(frame.length, LZ4_ONE_BLOCK_LEAD_BYTES + size + LZ4_END_BYTES, 'stored: the frame fills the room');
    assert.equal(frame.writeTo(buffer, 5), buffer.length);
    assert.deepEqual(buffer.subarray(5), bytesOf(lz4FrameNow(input)));
    assert.ok(decompressFrameSync(buffer.subarray(5)).equals(input));
  });

  it('writes the header Kafka reads: magic, FLG 0x60 (version 1, independent blocks, no checksums), EndMark', async () => {
    const frame = bytesOf(await lz4Frame(text(5000)));
    assert.deepEqual([...frame.subarray(0, 5)], [0x04, 0x22, 0x4d, 0x18, 0x60]);
    assert.deepEqual([...frame.subarray(frame.length - 4)], [0, 0, 0, 0]);
  });

  it('an empty section is a frame with no block', async () => {
    const frame = bytesOf(await lz4Frame(new Uint8Array(0)));
    assert.equal(frame.length, 11);
    assert.equal(decompressFrameSync(frame).length, 0);
  });

  it('refuses block output without the length prefix the frame relies on, rather than write a corrupt frame', () => {
    const input = Buffer.from('abcabcabcabcabcabcabc');
    assert.throws(() => new Lz4Frame([{ input, output: Buffer.from([0x3b, 0x61, 0x62, 0x63]) }]), /does not start with the input's length/);
    assert.throws(() => new Lz4Frame([{ input, output: Buffer.alloc(2) }]), /does not start with the input's length/);
  });

  it('a wrong header checksum is refused by the decoder the checksum tests rely on', async () => {
    const frame = Buffer.from(bytesOf(await lz4Frame(text(1000))));
    frame[6] = frame[6]! ^ 0xff;
    assert.throws(() => decompressFrameSync(frame));
  });
});

describe('lz4FrameNow', () => {
  it('gives the same frame as lz4Frame, from a Uint8Array view that does not start at offset 0', async () => {
    const backing = new Uint8Array(8000);
    backing.set(text(7000), 500);
    const view = backing.subarray(500, 7500);
    const now = bytesOf(lz4FrameNow(view));
    assert.ok(now.equals(bytesOf(await lz4Frame(view))));
    assert.ok(decompressFrameSync(now).equals(Buffer.from(view)));
  });
});
