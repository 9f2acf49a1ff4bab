/** Writer: large byte arrays are kept by reference and come back, in place, from chunks() and finish(); strings are bounded. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BY_REFERENCE_MIN_BYTES, MAX_STRING_BYTES, Writer } from '../../src/protocol/writer.js';

const big = (fill: number): Buffer => Buffer.alloc(BY_REFERENCE_MIN_BYTES, fill);

describe('Writer', () => {
  it('keeps a byte array from BY_REFERENCE_MIN_BYTES on by reference, between the bytes around it', () => {
    const first = big(1);
    const second = big(2);
    const writer = new Writer(16);
    writer.int32(0).bytes(first).int16(7).raw(second).int8(9);
    const chunks = writer.chunks();
    assert.equal(chunks.length, 5, 'head, first, int16 + nothing copied, second, tail');
    assert.equal(chunks[1], first, 'the same object, not a copy');
    assert.equal(chunks[3], second);
    assert.deepEqual([...chunks[0]!], [0, 0, 0, 0, 0, 0, 0x20, 0], 'int32 0, then the int32 length 8192');
    assert.deepEqual([...chunks[2]!], [0, 7]);
    assert.deepEqual([...chunks[4]!], [9]);
    assert.equal(writer.length, 8 + 2 * BY_REFERENCE_MIN_BYTES + 2 + 1, 'length counts the referenced bytes');
    assert.deepEqual(writer.finish(), Buffer.concat(chunks), 'finish() is the chunks in order, in one buffer');
  });

  it('copies a byte array below BY_REFERENCE_MIN_BYTES: one chunk', () => {
    const small = Buffer.alloc(BY_REFERENCE_MIN_BYTES - 1, 3);
    const writer = new Writer().int8(1).raw(small);
    const chunks = writer.chunks();
    assert.equal(chunks.length, 1);
    assert.deepEqual(chunks[0], Buffer.concat([Buffer.from([1]), small]));
    small[0] = 4;
    assert.equal(writer.finish()[1], 3, 'copied when written');
  });

  it('patches a size prefix before a referenced array, and refuses to patch across one', () => {
    const writer = new Writer().int32(0).int8(5).raw(big(6));
    writer.patchInt32(0, writer.length - 4);
    assert.equal(writer.finish().readInt32BE(0), 1 + BY_REFERENCE_MIN_BYTES);
    assert.throws(() => writer.patchInt32(2, 1), RangeError);
  });
});

describe('Writer strings', () => {
  it('refuses a string over MAX_STRING_BYTES UTF-8 bytes, classic or compact, rather than wrap its length', () => {
    const longest = 'a'.repeat(MAX_STRING_BYTES);
    assert.equal(new Writer().string(longest).finish().readInt16BE(0), MAX_STRING_BYTES);
    assert.throws(() => new Writer().string('a'.repeat(MAX_STRING_BYTES + 1)), RangeError);
    assert.throws(() => new Writer().string('é'.repeat(MAX_STRING_BYTES / 2 + 1)), RangeError, 'counted in bytes, not characters');
    assert.throws(() => new Writer().compactString('a'.repeat(MAX_STRING_BYTES + 1)), RangeError);
  });

  it('grows from an initial capacity of 0', () => {
    assert.deepEqual([...new Writer(0).int8(7).int32(1).finish()], [7, 0, 0, 0, 1]);
  });
});
