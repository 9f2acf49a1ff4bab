import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { releaseOutput } from '../../src/protocol/output-release.js';
import { Codec, compressSectionNow } from '../../src/protocol/compression.js';
import { lz4FrameNow } from '../../src/protocol/lz4-frame.js';
import { noise } from './section-fixtures.js';

/** Node 22 and later can detach an ArrayBuffer (ArrayBuffer.prototype.transfer); on Node 20 nothing is released. */
const CAN_DETACH = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';

describe('releaseOutput', () => {
  it("detaches a buffer's own memory where Node can, so nothing holds it until a collection", () => {
    const output = Buffer.from(new ArrayBuffer(64 * 1024));
    releaseOutput(output);
    assert.equal(output.buffer.byteLength, CAN_DETACH ? 0 : 64 * 1024);
    assert.equal(output.length, CAN_DETACH ? 0 : 64 * 1024);
  });

  it('leaves memory that other views may share: a slice of the Buffer pool, a view into a larger buffer, shared memory', () => {
    const pooled = Buffer.from('pooled');
    const neighbour = Buffer.from('neighbour');
    releaseOutput(pooled);
    assert.equal(pooled.toString(), 'pooled');
    assert.equal(neighbour.toString(), 'neighbour');

    const whole = Buffer.from(new ArrayBuffer(1024)).fill(7);
    releaseOutput(whole.subarray(0, 512));
    releaseOutput(whole.subarray(512));
    assert.equal(whole.length, 1024);
    assert.equal(whole[1023], 7);

    const shared = Buffer.from(new SharedArrayBuffer(256)).fill(9);
    releaseOutput(shared);
    assert.equal(shared.length, 256);
    assert.equal(shared[255], 9);
  });
});

describe('a compressed section is released once written', () => {
  it('an LZ4 frame: written, released, then refusing to be written again', () => {
    const section = noise(256 * 1024, 3);
    const frame = lz4FrameNow(section);
    const out = Buffer.alloc(frame.length);
    frame.writeTo(out, 0);
    frame.release();
    assert.throws(() => frame.writeTo(Buffer.alloc(frame.length), 0), /written after its release/);
    assert.equal(section.length, 256 * 1024, 'the section itself (a stored block is written from it) is not released');
  });

  it("a codec's own output is released; none's section, which is the input itself, is not", () => {
    const input = noise(16 * 1024, 5);
    const gzip = compressSectionNow(Codec.gzip, input)!;
    gzip.writeTo(Buffer.alloc(gzip.length), 0);
    gzip.release();
    assert.throws(() => gzip.writeTo(Buffer.alloc(gzip.length), 0), /written after its release/);

    const none = compressSectionNow(Codec.none, input)!;
    none.writeTo(Buffer.alloc(none.length), 0);
    none.release();
    assert.equal(input.length, 16 * 1024);
    assert.equal(input.buffer.byteLength >= 16 * 1024, true, "the caller's bytes stay attached");
  });
});
