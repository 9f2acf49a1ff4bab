/**
 * The record ring's entries: what writeRecordEntry stores is read back at RecordEntryOffset by the worker
 * (accumulator, entry encoder), so each named offset must find the field it names.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  EntryKind,
  LENGTH_BYTES,
  RECORD_HEADER_BYTES,
  MAX_VALUE_PAD,
  RecordEntryOffset,
  readF64,
  readI32,
  readTopicEntry,
  readU16,
  readU32,
  recordEntrySize,
  topicEntry,
  writeRecordEntry,
} from '../../src/shared/record-entry.js';

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

describe('record entry', () => {
  const key = bytes(1, 2, 3);
  const headers = [[bytes(9), null], [bytes(7, 7), bytes(8)]] as const;
  const size = recordEntrySize(key, null, headers);
  const arena = new Uint8Array(8 + ((size + 3) & ~3));
  const at = 8;
  writeRecordEntry(arena, new Int32Array(arena.buffer), at, 0xfffffffe, 513, 7, { timestamp: 1_700_000_000_123, key, value: null, headers });

  it('finds each fixed field at its named offset', () => {
    assert.equal(arena[at + RecordEntryOffset.kind], EntryKind.record);
    assert.equal(readU16(arena, at + RecordEntryOffset.topicIndex), 513);
    assert.equal(readU32(arena, at + RecordEntryOffset.recordId), 0xfffffffe);
    assert.equal(readI32(arena, at + RecordEntryOffset.partition), 7);
    assert.equal(readI32(arena, at + RecordEntryOffset.keyLength), 3);
    assert.equal(readI32(arena, at + RecordEntryOffset.valueLength), -1);
    assert.equal(readI32(arena, at + RecordEntryOffset.headerCount), 2);
    assert.equal(readF64(arena, at + RecordEntryOffset.timestamp), 1_700_000_000_123);
  });

  it('lays key, value and length-prefixed headers after the fixed part, and sizes them exactly', () => {
    let pos = at + RECORD_HEADER_BYTES;
    assert.deepEqual(arena.subarray(pos, pos + 3), key);
    pos += 3;
    assert.equal(readI32(arena, pos), 1);
    assert.equal(arena[pos + LENGTH_BYTES], 9);
    pos += LENGTH_BYTES + 1;
    assert.equal(readI32(arena, pos), -1);
    pos += LENGTH_BYTES;
    assert.equal(readI32(arena, pos), 2);
    pos += LENGTH_BYTES + 2;
    assert.equal(readI32(arena, pos), 1);
    assert.equal(arena[pos + LENGTH_BYTES], 8);
    pos += LENGTH_BYTES + 1;
    assert.equal(pos - at, size);
  });
});

describe('record entry value alignment', () => {
  it('puts the value at the address its source has modulo 8 (V8 copies shared memory word by word only then)', () => {
    const ring = new Uint8Array(new SharedArrayBuffer(256));
    for (const sourceOffset of [0, 1, 3, 7]) {
      const value = new Uint8Array(new ArrayBuffer(64), sourceOffset, 40).fill(5);
      const key = bytes(1, 2, 3);
      const size = recordEntrySize(key, value, []);
      assert.equal(size, RECORD_HEADER_BYTES + 3 + MAX_VALUE_PAD + 40, 'the pad is counted at its most');
      writeRecordEntry(ring, new Int32Array(ring.buffer), 16, 1, 0, 0, { timestamp: 0, key, value, headers: [] });
      const pad = ring[16 + RecordEntryOffset.valuePad]!;
      assert.ok(pad <= MAX_VALUE_PAD);
      const valueAt = 16 + RECORD_HEADER_BYTES + 3 + pad;
      assert.equal(valueAt % 8, sourceOffset % 8, `source offset ${sourceOffset}`);
      assert.deepEqual(ring.subarray(valueAt, valueAt + 40), value);
      assert.deepEqual(ring.subarray(16 + RECORD_HEADER_BYTES, 16 + RECORD_HEADER_BYTES + 3), key);
    }
  });

  it('aligns to the buffer, not the view, with the view\'s byteOffset passed in (a ring\'s data starts after its header)', () => {
    const shared = new SharedArrayBuffer(512);
    const data = new Uint8Array(shared, 12, 256);
    const words = new Int32Array(shared, 12, 64);
    for (const sourceOffset of [0, 2, 5]) {
      const value = new Uint8Array(new ArrayBuffer(64), sourceOffset, 40).fill(9);
      writeRecordEntry(data, words, 16, 1, 0, 0, { timestamp: 0, key: null, value, headers: [] }, data.byteOffset);
      const valueAt = 16 + RECORD_HEADER_BYTES + data[16 + RecordEntryOffset.valuePad]!;
      assert.equal((data.byteOffset + valueAt) % 8, sourceOffset % 8, `source offset ${sourceOffset}`);
      assert.deepEqual(data.subarray(valueAt, valueAt + 40), value);
    }
  });
});

describe('record entry string value', () => {
  it('encodes a string value as UTF-8 in its place, as Buffer.from does, lone surrogates included', () => {
    const shared = new SharedArrayBuffer(1024);
    const data = new Uint8Array(shared, 12, 960);
    const words = new Int32Array(shared, 12, 240);
    const through = Buffer.from(shared, 12, 960);
    for (const value of ['x'.repeat(100), 'é€😀 '.repeat(20), 'lone \ud800 and \udc00 halves', '']) {
      for (const text of [through, undefined]) {
        data.fill(0xaa);
        const key = bytes(1, 2);
        const headers = [[bytes(4), bytes(5, 6)]] as const;
        const utf8 = Buffer.from(value, 'utf8');
        const size = recordEntrySize(key, value, headers);
        assert.equal(size, RECORD_HEADER_BYTES + 2 + MAX_VALUE_PAD + utf8.length + 2 * LENGTH_BYTES + 3);
        // With its UTF-8 length given (as RecordFeed gives it) and measured here.
        const record = { timestamp: 0, key, value, headers };
        writeRecordEntry(data, words, 16, 1, 0, 0, record, data.byteOffset, text, text === undefined ? undefined : utf8.length);
        assert.equal(data[16 + RecordEntryOffset.valuePad], 0, 'nothing to align a string to');
        assert.equal(readI32(data, 16 + RecordEntryOffset.valueLength), utf8.length);
        const valueAt = 16 + RECORD_HEADER_BYTES + 2;
        assert.deepEqual(Buffer.from(data.subarray(valueAt, valueAt + utf8.length)), utf8);
        const headerAt = valueAt + utf8.length;
        assert.equal(readI32(data, headerAt), 1);
        assert.equal(data[headerAt + LENGTH_BYTES], 4);
        assert.ok(headerAt + 2 * LENGTH_BYTES + 3 <= 16 + size, 'within the space reserved for it');
      }
    }
  });
});

describe('record entry string value, miscounted', () => {
  it('refuses to write a string with a length that is not its UTF-8 length, rather than lie to the worker', () => {
    const data = new Uint8Array(new SharedArrayBuffer(512));
    const words = new Int32Array(data.buffer);
    const value = 'é'.repeat(40);
    assert.throws(
      () => writeRecordEntry(data, words, 0, 1, 0, 0, { timestamp: 0, key: null, value, headers: [] }, 0, undefined, 81),
      /a value of 81 UTF-8 bytes was written as 80/,
    );
  });
});

describe('topic entry', () => {
  it('reads back the index and name it was written with', () => {
    const entry = topicEntry(300, 'tópico');
    assert.equal(entry[0], EntryKind.topic);
    const arena = new Uint8Array(4 + entry.length);
    arena.set(entry, 4);
    assert.deepEqual(readTopicEntry(arena, 4), { topicIndex: 300, name: 'tópico' });
  });
});
