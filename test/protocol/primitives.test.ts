/**
 * Varint primitives of Writer and Reader. Round trips alone would pass a symmetric bug, so every property also
 * compares the bytes with a reference encoder written straight from the spec (docs/kafka-protocol.md: zig-zag
 * `(v << 1) ^ (v >> 31)`, 7 bits a byte, low group first, high bit = more bytes follow).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import { ProtocolError } from '../../src/shared/errors.js';

/** Reference: unsigned LEB128-style groups of an arbitrary non-negative bigint. */
function referenceUnsigned(value: bigint): number[] {
  const out: number[] = [];
  do {
    let byte = Number(value & 0x7fn);
    value >>= 7n;
    if (value !== 0n) byte |= 0x80;
    out.push(byte);
  } while (value !== 0n);
  return out;
}

/** Reference zig-zag: non-negative n → 2n, negative n → -2n - 1. */
function zigzag(value: bigint): bigint {
  return value >= 0n ? 2n * value : -2n * value - 1n;
}

const bytesOf = (writer: Writer): number[] => [...writer.finish()];

describe('uvarint', () => {
  it('matches the reference encoding and round-trips every uint32', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (value) => {
        const encoded = bytesOf(new Writer().uvarint(value));
        assert.deepEqual(encoded, referenceUnsigned(BigInt(value)));
        const reader = new Reader(Uint8Array.from(encoded));
        assert.equal(reader.uvarint(), value);
        assert.equal(reader.remaining, 0);
      }),
      { numRuns: 2000 },
    );
  });

  it('encodes the group boundaries', () => {
    const cases: Array<[number, number[]]> = [
      [0, [0x00]],
      [1, [0x01]],
      [127, [0x7f]],
      [128, [0x80, 0x01]],
      [300, [0xac, 0x02]],
      [16383, [0xff, 0x7f]],
      [16384, [0x80, 0x80, 0x01]],
      [0xffffffff, [0xff, 0xff, 0xff, 0xff, 0x0f]],
    ];
    for (const [value, bytes] of cases) assert.deepEqual(bytesOf(new Writer().uvarint(value)), bytes, `uvarint(${value})`);
  });
});

describe('varint (zig-zag int32)', () => {
  it('matches the reference encoding and round-trips every int32', () => {
    fc.assert(
      fc.property(fc.integer({ min: -0x80000000, max: 0x7fffffff }), (value) => {
        const encoded = bytesOf(new Writer().varint(value));
        assert.deepEqual(encoded, referenceUnsigned(zigzag(BigInt(value))));
        const reader = new Reader(Uint8Array.from(encoded));
        assert.equal(reader.varint(), value);
        assert.equal(reader.remaining, 0);
      }),
      { numRuns: 2000 },
    );
  });

  it('encodes the documented zig-zag values', () => {
    const cases: Array<[number, number[]]> = [
      [0, [0x00]],
      [-1, [0x01]],
      [1, [0x02]],
      [-64, [0x7f]],
      [64, [0x80, 0x01]],
      [0x7fffffff, [0xfe, 0xff, 0xff, 0xff, 0x0f]],
      [-0x80000000, [0xff, 0xff, 0xff, 0xff, 0x0f]],
    ];
    for (const [value, bytes] of cases) assert.deepEqual(bytesOf(new Writer().varint(value)), bytes, `varint(${value})`);
  });

  it('round-trips sequences of mixed varints back to back', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -0x80000000, max: 0x7fffffff }), { maxLength: 50 }), (values) => {
        const writer = new Writer(1);
        for (const v of values) writer.varint(v);
        const reader = new Reader(writer.finish());
        assert.deepEqual(values.map(() => reader.varint()), values);
        assert.equal(reader.remaining, 0);
      }),
    );
  });
});

describe('varlong (zig-zag int64)', () => {
  it('matches the reference encoding and round-trips every int64', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (value) => {
        const encoded = bytesOf(new Writer().varlong(value));
        assert.deepEqual(encoded, referenceUnsigned(zigzag(value)));
        const reader = new Reader(Uint8Array.from(encoded));
        assert.equal(reader.varlong(), value);
        assert.equal(reader.remaining, 0);
      }),
      { numRuns: 2000 },
    );
  });

  it('encodes the extremes in ten bytes', () => {
    assert.deepEqual(bytesOf(new Writer().varlong(-(2n ** 63n))), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    assert.deepEqual(bytesOf(new Writer().varlong(2n ** 63n - 1n)), [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    assert.deepEqual(bytesOf(new Writer().varlong(-1n)), [0x01]);
  });
});

describe('hostile varints', () => {
  it('a truncated varint, varlong or uvarint is a ProtocolError', () => {
    for (const bytes of [[], [0x80], [0xff, 0xff, 0xff, 0xff]]) {
      assert.throws(() => new Reader(Uint8Array.from(bytes)).uvarint(), ProtocolError);
      assert.throws(() => new Reader(Uint8Array.from(bytes)).varint(), ProtocolError);
      assert.throws(() => new Reader(Uint8Array.from(bytes)).varlong(), ProtocolError);
    }
  });

  it('an over-long varint (6 bytes) or varlong (11 bytes) is a ProtocolError', () => {
    assert.throws(() => new Reader(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x00])).varint(), ProtocolError);
    assert.throws(() => new Reader(new Uint8Array(11).fill(0x80)).varlong(), ProtocolError);
  });

  it('random bytes decode or raise ProtocolError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), fc.constantFrom('uvarint', 'varint', 'varlong'), (bytes, kind) => {
        try {
          new Reader(bytes)[kind as 'uvarint' | 'varint' | 'varlong']();
        } catch (err) {
          assert.ok(err instanceof ProtocolError, `unexpected ${String(err)}`);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('hostile lengths and counts', () => {
  const reader = (...bytes: number[]): Reader => new Reader(Uint8Array.from(bytes));
  const item = (r: Reader): number => r.int8();

  it('a string, bytes, compact string or compact bytes longer than what is left is a ProtocolError', () => {
    assert.throws(() => reader(0x7f, 0xff, 0x61).string(), ProtocolError);
    assert.throws(() => reader(0xff, 0xfe).string(), ProtocolError, 'length -2');
    assert.throws(() => reader(0x7f, 0xff, 0xff, 0xff, 0x61).bytes(), ProtocolError);
    assert.throws(() => reader(0x80, 0x00, 0x00, 0x00).bytes(), ProtocolError, 'length -2^31');
    assert.throws(() => reader(0xff, 0xff, 0xff, 0xff, 0x0f, 0x61).compactString(), ProtocolError);
    assert.throws(() => reader(0x05, 0x61).compactBytes(), ProtocolError);
  });

  it('an array count that cannot fit in what is left is a ProtocolError before any item is read', () => {
    let read = 0;
    const counting = (r: Reader): number => (read++, r.int8());
    assert.throws(() => reader(0x7f, 0xff, 0xff, 0xff, 1, 2).array(counting), ProtocolError);
    assert.throws(() => reader(0x80, 0x00, 0x00, 0x00).array(counting), ProtocolError, 'count -2^31');
    assert.throws(() => reader(0xff, 0xff, 0xff, 0xff, 0x0f, 1).compactArray(counting), ProtocolError);
    assert.throws(() => reader(0, 0, 0, 3, 1, 2, 3).array(counting, 2), ProtocolError, '3 items of 2 bytes in 3');
    assert.equal(read, 0);
  });

  it('a count is bounded by the bytes left even when the caller claims items may be empty', () => {
    assert.throws(() => reader(0x7f, 0xff, 0xff, 0xff).array(() => 0, 0), ProtocolError);
    assert.throws(() => reader(0xff, 0xff, 0xff, 0xff, 0x0f).compactArray(() => 0, 0), ProtocolError);
    assert.deepEqual(reader(0, 0, 0, 2, 7, 8).array(item, 0), [7, 8]);
  });

  it('a tagged-field section keeps only the fields asked for and skips the rest unread', () => {
    // Kept, each field of a hostile answer cost a Map entry and a view: millions of empty fields grew the heap 20 to
    // 30 times the frame.
    const writer = new Writer().uvarint(2_002);
    for (let tag = 1; tag <= 1_000; tag++) writer.uvarint(tag).uvarint(0);
    writer.uvarint(1_001).uvarint(2).int16(7);
    for (let tag = 1_002; tag <= 2_001; tag++) writer.uvarint(tag).uvarint(1).int8(0);
    writer.uvarint(5_000).uvarint(1).int8(9);
    const bytes = writer.int8(42).finish();
    const none = new Reader(bytes);
    assert.equal(none.taggedFields().size, 0);
    assert.equal(none.int8(), 42, 'every field was skipped, none left behind');
    const two = new Reader(bytes);
    const fields = two.taggedFields(1_001, 5_000);
    assert.deepEqual([...fields.keys()], [1_001, 5_000]);
    assert.equal(new Reader(fields.get(1_001)!).int16(), 7);
    assert.equal(new Reader(fields.get(5_000)!).int8(), 9);
    assert.equal(two.int8(), 42);
  });

  it('a tagged-field count or size beyond what is left is a ProtocolError', () => {
    assert.throws(() => reader(0xff, 0xff, 0xff, 0xff, 0x0f).taggedFields(), ProtocolError);
    assert.throws(() => reader(0x01, 0x00, 0xff, 0xff, 0x03).taggedFields(), ProtocolError);
  });

  it('a five-byte unsigned varint wider than 32 bits is a ProtocolError, not a wrapped small number', () => {
    // 2^32 + 4 would wrap to 4 if the high bits were dropped, and read as a short compact string.
    assert.throws(() => reader(0x84, 0x80, 0x80, 0x80, 0x10, 0x61, 0x62, 0x63).compactString(), ProtocolError);
    assert.equal(reader(0xff, 0xff, 0xff, 0xff, 0x0f).uvarint(), 0xffffffff);
  });
});
