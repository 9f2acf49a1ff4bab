/** record-fields.ts: each size function agrees with its writer, and the encodings are Kafka's zig-zag varints. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bodySizesFor,
  sizeOfField,
  sizeOfFramedRecord,
  sizeOfRecordLead,
  sizeOfUvarint,
  sizeOfVarint,
  sizeOfVarlong,
  writeField,
  writeRecordLead,
  writeUvarint,
  writeVarlong,
} from '../../src/protocol/record-fields.js';

const buf = new Uint8Array(64);

describe('varints', () => {
  it('zig-zag encodes as Kafka does: 0, -1, 1, -2 are 0, 1, 2, 3, and 64 takes two bytes', () => {
    const bytes = (v: number) => [...buf.subarray(0, writeVarlong(buf, 0, v))];
    assert.deepEqual(bytes(0), [0]);
    assert.deepEqual(bytes(-1), [1]);
    assert.deepEqual(bytes(1), [2]);
    assert.deepEqual(bytes(-2), [3]);
    assert.deepEqual(bytes(64), [0x80, 0x01]);
    assert.deepEqual(bytes(-65), [0x81, 0x01]);
  });

  it('writes every delta two timestamps up to 2^51 apart can have exactly, as a 64-bit zig-zag reference does', () => {
    const reference = (v: number): number[] => {
      let z = BigInt.asUintN(64, (BigInt(v) << 1n) ^ (BigInt(v) >> 63n));
      const out: number[] = [];
      while (z >= 0x80n) {
        out.push(Number(z & 0x7fn) | 0x80);
        z >>= 7n;
      }
      out.push(Number(z));
      return out;
    };
    // serialize.ts refuses timestamps beyond 2^51 (MAX_TIMESTAMP_MS), so no delta exceeds ±2^51.
    for (const v of [2 ** 51, -(2 ** 51), 2 ** 51 - 1, -(2 ** 51) + 1, 2 ** 50 + 12345, -(2 ** 49) - 7, 2 ** 32 + 1, -(2 ** 32) - 1]) {
      assert.deepEqual([...buf.subarray(0, writeVarlong(buf, 0, v))], reference(v), `varlong ${v}`);
    }
  });

  it('sizes agree with what the writers write, at every byte-count boundary and beyond int32', () => {
    const values = [0, 1, -1, 63, 64, -64, -65, 8191, 8192, 2 ** 20, -(2 ** 20), 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 2 ** 40, 2 ** 51, -(2 ** 51)];
    for (const v of values) {
      assert.equal(writeVarlong(buf, 0, v), sizeOfVarlong(v), `varlong ${v}`);
      if ((v | 0) === v) assert.equal(sizeOfVarint(v), sizeOfVarlong(v), `varint ${v}`);
    }
    for (const u of [0, 127, 128, 16383, 16384, 2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 32 - 1]) {
      assert.equal(writeUvarint(buf, 0, u), sizeOfUvarint(u), `uvarint ${u}`);
    }
  });
});

describe('record framing', () => {
  it("writes a record's length prefix and lead in the bytes it measured", () => {
    for (const [body, timestampDelta, offsetDelta] of [[10, 0, 0], [200, -5, 3], [70_000, 2 ** 40, 100_000]] as const) {
      const lead = writeRecordLead(buf, 0, body, timestampDelta, offsetDelta);
      assert.equal(lead, sizeOfFramedRecord(body) - body + sizeOfRecordLead(timestampDelta, offsetDelta));
      assert.equal(buf[sizeOfUvarint(body << 1)], 0, 'attributes, unused in v2');
    }
  });

  it('writes a bytes field as its length varint then the bytes, and null as length -1', () => {
    const from = Uint8Array.from({ length: 40 }, (_, i) => i);
    for (const [start, length] of [[0, 40], [3, 5], [10, 20], [0, 0]] as const) {
      const end = writeField(buf, 0, from, start, length);
      assert.equal(end, sizeOfField(length));
      assert.equal(buf[0], length << 1);
      assert.deepEqual([...buf.subarray(1, end)], [...from.subarray(start, start + length)]);
    }
    assert.equal(writeField(buf, 0, from, 0, -1), 1);
    assert.equal(buf[0], 1, 'zig-zag of -1');
    assert.equal(sizeOfField(-1), 1);
  });

  it('keeps one body-size array, grown to a power of two when a batch has more records', () => {
    const small = bodySizesFor(10);
    assert.equal(bodySizesFor(5), small);
    const grown = bodySizesFor(small.length + 1);
    assert.equal(grown.length, 2 ** Math.ceil(Math.log2(small.length + 1)));
    assert.equal(bodySizesFor(3), grown);
  });
});
