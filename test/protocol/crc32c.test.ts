/**
 * CRC-32C. Golden vectors: the check values in docs/kafka-protocol.md, and the iSCSI test patterns of RFC 3720 appendix
 * B.4 (the RFC lists the CRC bytes least significant first; the values below are those bytes read as a number).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { crc32c } from '../../src/protocol/crc32c.js';
import { crc32cTable } from '../../bench/micro/crc32c-table.js';

const ascii = (text: string) => new TextEncoder().encode(text);

/** Bit-at-a-time reference, straight from the definition (reflected polynomial 0x82F63B78). */
function crc32cBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe('crc32c', () => {
  it('matches the Kafka check values', () => {
    assert.equal(crc32c(ascii('123456789')), 0xe3069283);
    assert.equal(crc32c(ascii('Some String')), 608512271);
  });

  it('matches the RFC 3720 iSCSI vectors', () => {
    const ascending = Uint8Array.from({ length: 32 }, (_, i) => i);
    const descending = Uint8Array.from({ length: 32 }, (_, i) => 31 - i);
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
    assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
    assert.equal(crc32c(ascending), 0x46dd794e);
    assert.equal(crc32c(descending), 0x113fdb5c);
  });

  it('is 0 for no bytes and always unsigned', () => {
    assert.equal(crc32c(new Uint8Array(0)), 0);
    // 0xE3069283 has its top bit set: a signed result would be negative.
    assert.ok(crc32c(ascii('123456789')) > 0x7fffffff);
  });

  it('covers exactly [start, end)', () => {
    const framed = ascii('xx123456789yyy');
    assert.equal(crc32c(framed, 2, 11), 0xe3069283);
    assert.equal(crc32c(framed, 2, 2), 0);
    assert.equal(crc32c(Buffer.from(framed), 2), crc32c(ascii('123456789yyy')));
  });

  it('rejects a range outside the input', () => {
    const bytes = new Uint8Array(10);
    assert.throws(() => crc32c(bytes, -1, 5), RangeError);
    assert.throws(() => crc32c(bytes, 6, 5), RangeError);
    assert.throws(() => crc32c(bytes, 0, 11), RangeError);
  });

  it('agrees with the bitwise reference and the table implementation on any range', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = bytes.length === 0 ? 0 : a % (bytes.length + 1);
        const end = start + (b % (bytes.length - start + 1));
        const expected = crc32cBitwise(bytes.subarray(start, end));
        assert.equal(crc32c(bytes, start, end), expected);
        // The bench compares against crc32cTable: it must compute the same thing.
        assert.equal(crc32cTable(bytes, start, end), expected);
      }),
      { numRuns: 500 },
    );
  });

  it('handles views that do not start at offset 0 of their ArrayBuffer', () => {
    const backing = new Uint8Array(64).fill(0xaa);
    backing.set(ascii('123456789'), 13);
    assert.equal(crc32c(backing.subarray(13, 22)), 0xe3069283);
    assert.equal(crc32c(backing, 13, 22), 0xe3069283);
  });
});
