import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FrameDecoder, MAX_FRAME_BYTES } from '../../src/net/frame-decoder.js';
import { ProtocolError } from '../../src/shared/errors.js';

function frame(body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

function body(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

const BODIES = [body(0, 1), body(1, 2), body(5, 3), body(300, 4), body(70_000, 5), body(4, 6)];
const STREAM = Buffer.concat(BODIES.map(frame));

/** Feeds the chunks and returns the frames, copied (views may alias chunks). */
function decodeChunks(chunks: readonly Buffer[]): Buffer[] {
  const frames: Buffer[] = [];
  const decoder = new FrameDecoder((f) => frames.push(Buffer.from(f)));
  for (const chunk of chunks) decoder.push(chunk);
  assert.equal(decoder.bufferedBytes, 0, 'nothing left over after whole frames');
  return frames;
}

function cut(stream: Buffer, cuts: readonly number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let start = 0;
  for (const at of [...cuts, stream.length]) {
    chunks.push(stream.subarray(start, at));
    start = at;
  }
  return chunks;
}

describe('FrameDecoder', () => {
  it('finds every frame when the stream comes in one chunk', () => {
    assert.deepEqual(decodeChunks([STREAM]), BODIES);
  });

  it('hands out frames inside one chunk as views, without copying', () => {
    const views: Buffer[] = [];
    const chunk = Buffer.concat([frame(body(10, 1)), frame(body(20, 2))]);
    new FrameDecoder((f) => views.push(f)).push(chunk);
    assert.equal(views.length, 2);
    for (const view of views) assert.equal(view.buffer, chunk.buffer);
  });

  it('finds every frame when the stream is split at any one point', () => {
    const small = Buffer.concat(BODIES.slice(0, 4).map(frame)); // every offset of the first 4 frames
    for (let at = 0; at <= small.length; at++) {
      assert.deepEqual(decodeChunks(cut(small, [at])), BODIES.slice(0, 4), `split at ${at}`);
    }
  });

  it('finds every frame when the stream arrives byte by byte', () => {
    const small = Buffer.concat(BODIES.slice(0, 4).map(frame));
    const chunks = Array.from(small, (byte) => Buffer.from([byte]));
    assert.deepEqual(decodeChunks(chunks), BODIES.slice(0, 4));
  });

  it('finds every frame for any chunking (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: STREAM.length - 1 }), { maxLength: 60 }), (cuts) => {
        assert.deepEqual(decodeChunks(cut(STREAM, cuts.sort((a, b) => a - b))), BODIES);
      }),
      { numRuns: 300 },
    );
  });

  it('holds an incomplete frame without emitting it', () => {
    const frames: Buffer[] = [];
    const decoder = new FrameDecoder((f) => frames.push(f));
    const whole = frame(body(100, 9));
    decoder.push(whole.subarray(0, 2));
    decoder.push(whole.subarray(2, 50));
    assert.equal(frames.length, 0);
    assert.equal(decoder.bufferedBytes, 50);
    decoder.push(whole.subarray(50));
    assert.deepEqual(frames, [body(100, 9)]);
    assert.equal(decoder.bufferedBytes, 0);
  });

  for (const [name, size] of [
    ['negative', -1],
    ['oversized', MAX_FRAME_BYTES + 1],
    ['int32 max', 0x7fffffff],
  ] as const) {
    it(`rejects a ${name} frame size with ProtocolError, whole or split, and then ignores input`, () => {
      const header = Buffer.alloc(4);
      header.writeInt32BE(size);
      for (const chunks of [[header], [header.subarray(0, 1), header.subarray(1, 3), header.subarray(3)]]) {
        const frames: Buffer[] = [];
        const decoder = new FrameDecoder((f) => frames.push(f));
        decoder.push(frame(body(3, 1))); // a good frame first
        assert.throws(() => {
          for (const chunk of chunks) decoder.push(chunk);
        }, ProtocolError);
        decoder.push(frame(body(3, 2)));
        assert.equal(frames.length, 1);
        assert.equal(decoder.bufferedBytes, 0);
      }
    });
  }

  it('accepts a frame of exactly the limit size in its header', () => {
    const header = Buffer.alloc(4);
    header.writeInt32BE(16);
    const decoder = new FrameDecoder(() => {}, 16);
    decoder.push(header);
    assert.equal(decoder.bufferedBytes, 4);
  });

  it('stops delivering once destroyed from inside the callback, even frames of the same chunk', () => {
    const frames: Buffer[] = [];
    const decoder: FrameDecoder = new FrameDecoder((f) => {
      frames.push(f);
      decoder.destroy();
    });
    decoder.push(Buffer.concat([frame(body(2, 1)), frame(body(2, 2)), frame(body(2, 3))]));
    assert.equal(frames.length, 1);
    // and after a spanning frame's completion
    const spanned: Buffer[] = [];
    const second: FrameDecoder = new FrameDecoder((f) => {
      spanned.push(f);
      second.destroy();
    });
    const both = Buffer.concat([frame(body(6, 1)), frame(body(2, 2))]);
    second.push(both.subarray(0, 3));
    second.push(both.subarray(3));
    assert.equal(spanned.length, 1);
  });
});
