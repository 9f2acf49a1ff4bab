/**
 * RecordFeed: the main thread's writing end of one record ring and the overflow queue in front of it. The ring is
 * read back here with the worker's own RingReader, in the same thread, so every interleaving is the test's choice.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecordFeed } from '../../src/main/record-feed.js';
import { prepareRecord, type PreparedRecord } from '../../src/main/serialize.js';
import { EntryKind, MAX_VALUE_PAD, RECORD_HEADER_BYTES, RecordEntryOffset, readI32, readTopicEntry, readU16, readU32 } from '../../src/shared/record-entry.js';
import { RingReader, createRing } from '../../src/shared/ring.js';

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function record(valueBytes: number): PreparedRecord {
  return { topic: 't', key: null, value: new Uint8Array(valueBytes).fill(7), headers: [], timestamp: 1, partition: undefined, size: valueBytes, valueBytes };
}

const TOPIC = { index: 3, name: 'orders' };

type Read = { kind: 'topic'; topicIndex: number; name: string } | { kind: 'record'; recordId: number; topicIndex: number; partition: number };

/** Everything committed so far, in ring order (the record entry's fixed fields, as src/shared/record-entry.ts lays them out). */
function readAll(reader: RingReader, release = true): Read[] {
  const out: Read[] = [];
  while (reader.read() >= 0) {
    const at = reader.offset;
    if (reader.data[at] === EntryKind.topic) out.push({ kind: 'topic', ...readTopicEntry(reader.data, at) });
    else out.push({ kind: 'record', topicIndex: readU16(reader.data, at + 2), recordId: readU32(reader.data, at + 4), partition: readI32(reader.data, at + 8) });
  }
  if (release) reader.release();
  return out;
}

const ids = (reads: Read[]): number[] => reads.flatMap((r) => (r.kind === 'record' ? [r.recordId] : []));

describe('RecordFeed', () => {
  it('writes straight into the ring, the topic entry before its first record, published by one commit per turn', async () => {
    const ring = createRing({ capacity: 1024 });
    const feed = new RecordFeed(ring);
    const reader = new RingReader(ring);
    feed.write(10, TOPIC, 2, record(8));
    feed.write(11, TOPIC, 5, record(8));
    assert.deepEqual(readAll(reader), [], 'nothing is visible before the commit');
    await settle();
    assert.deepEqual(readAll(reader), [
      { kind: 'topic', topicIndex: 3, name: 'orders' },
      { kind: 'record', recordId: 10, topicIndex: 3, partition: 2 },
      { kind: 'record', recordId: 11, topicIndex: 3, partition: 5 },
    ]);
    assert.equal(feed.queued, 0);
    feed.write(12, TOPIC, 2, record(8));
    await settle();
    assert.deepEqual(readAll(reader), [{ kind: 'record', recordId: 12, topicIndex: 3, partition: 2 }], 'a topic is announced once');
  });

  it('writes a string value as UTF-8 of the length measured at its check, so the entry agrees with itself though the caller detached its key', async () => {
    // The caller's bytes are not copied before the entry is written; a key detached meanwhile (misuse) is written as
    // empty. The string value, whose length came with the record, must still fill exactly the length its entry states.
    const ring = createRing({ capacity: 4096 });
    const feed = new RecordFeed(ring);
    const reader = new RingReader(ring);
    const key = Uint8Array.of(1, 2, 3, 4, 5);
    const value = `${'é'.repeat(50)}-${'x'.repeat(40)}`;
    const prepared = prepareRecord({ topic: 'orders', key, value }, null, 1);
    assert.equal(typeof prepared.value, 'string');
    structuredClone(key.buffer, { transfer: [key.buffer] });
    assert.equal(key.length, 0, 'the key is detached');
    feed.write(20, TOPIC, 1, prepared);
    await settle();
    assert.ok(reader.read() >= 0);
    assert.ok(reader.read() >= 0, 'the topic entry, then the record');
    const at = reader.offset;
    const utf8 = Buffer.from(value, 'utf8');
    assert.equal(readI32(reader.data, at + RecordEntryOffset.keyLength), 0);
    assert.equal(readI32(reader.data, at + RecordEntryOffset.valueLength), utf8.length);
    const valueAt = at + RECORD_HEADER_BYTES;
    assert.deepEqual(Buffer.from(reader.data.subarray(valueAt, valueAt + utf8.length)), utf8);
    reader.release();

    // A value and a header value detached the same way are written as empty too, and the next record still follows.
    const bytesValue = Uint8Array.of(7, 7, 7);
    const headerValue = Uint8Array.of(8, 8);
    const detached = prepareRecord({ topic: 'orders', value: bytesValue, headers: [['h', headerValue]] }, null, 1);
    for (const view of [bytesValue, headerValue]) structuredClone(view.buffer, { transfer: [view.buffer] });
    feed.write(21, TOPIC, 1, detached);
    feed.write(22, TOPIC, 1, prepareRecord({ topic: 'orders', value: 'after' }, null, 1));
    await settle();
    assert.ok(reader.read() >= 0);
    const second = reader.offset;
    assert.equal(readU32(reader.data, second + RecordEntryOffset.recordId), 21);
    assert.equal(readI32(reader.data, second + RecordEntryOffset.valueLength), 0);
    const headerAt = second + RECORD_HEADER_BYTES;
    assert.equal(readI32(reader.data, headerAt), 1, "the header's key, ours, is whole");
    assert.equal(readI32(reader.data, headerAt + 4 + 1), 0, "the header's value is empty");
    assert.ok(reader.read() >= 0);
    assert.equal(readU32(reader.data, reader.offset + RecordEntryOffset.recordId), 22);
    reader.release();
  });

  it('queues what does not fit, and everything after it, then writes the queue in order as the reader frees space', async () => {
    const ring = createRing({ capacity: 256 }); // entries of at most 124 bytes
    const feed = new RecordFeed(ring);
    const reader = new RingReader(ring);
    for (let id = 0; id < 6; id++) feed.write(id, TOPIC, 0, record(60));
    const waiting = feed.queued;
    assert.ok(waiting > 0 && waiting < 6, `some records wait for space (${waiting})`);
    feed.write(6, TOPIC, 0, record(0)); // would fit, but must not overtake the queue
    assert.equal(feed.queued, waiting + 1);
    let emptied = false;
    void feed.whenEmpty().then(() => (emptied = true));
    const seen: number[] = [];
    for (let round = 0; round < 20 && seen.length < 7; round++) {
      await settle();
      seen.push(...ids(readAll(reader)));
    }
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6]);
    await settle();
    assert.equal(emptied, true);
    assert.equal(feed.queued, 0);
  });

  it('copyIfQueued: a queued record keeps the bytes it had when queued; without it, the bytes its buffers hold when written', async () => {
    // A stream's write callback comes at acceptance, and its source may refill the same buffer then: queued by
    // reference, the record took the next one's bytes.
    const ring = createRing({ capacity: 256 });
    const feed = new RecordFeed(ring);
    const reader = new RingReader(ring);
    const filled = (byte: number): PreparedRecord => ({ ...record(60), key: new Uint8Array(3).fill(byte), headers: [[Uint8Array.of(104), new Uint8Array(2).fill(byte)]], value: new Uint8Array(60).fill(byte) });
    for (let id = 0; id < 3; id++) feed.write(id, TOPIC, 0, record(60));
    const copied = filled(1);
    const lent = filled(2);
    feed.write(3, TOPIC, 0, copied, true);
    feed.write(4, TOPIC, 0, lent);
    assert.equal(feed.queued >= 2, true, 'both wait for space');
    for (const prepared of [copied, lent]) {
      for (const bytes of [prepared.key!, prepared.value as Uint8Array, prepared.headers[0]![1]!]) bytes.fill(9);
    }
    const bytesOf = new Map<number, number[]>();
    for (let round = 0; round < 20 && bytesOf.size < 5; round++) {
      await settle();
      while (reader.read() >= 0) {
        const at = reader.offset;
        if (reader.data[at] !== EntryKind.record) continue;
        const id = readU32(reader.data, at + RecordEntryOffset.recordId);
        const keyAt = at + RECORD_HEADER_BYTES;
        const valueAt = keyAt + readI32(reader.data, at + RecordEntryOffset.keyLength) + reader.data[at + RecordEntryOffset.valuePad]!;
        bytesOf.set(id, [reader.data[keyAt]!, reader.data[valueAt]!]);
      }
      reader.release();
    }
    assert.deepEqual(bytesOf.get(3), [1, 1], 'copied when queued');
    assert.deepEqual(bytesOf.get(4), [9, 9], 'lent: written as its buffers are at the time');
  });

  it('a queued record as large as the ring allows is written once the reader frees space (no wait the ring refuses)', async () => {
    const ring = createRing({ capacity: 256 });
    const feed = new RecordFeed(ring);
    const reader = new RingReader(ring);
    const largest = 124 - 32 - MAX_VALUE_PAD; // the ring's largest entry, less the record entry's fixed part and value pad
    feed.write(0, TOPIC, 0, record(largest));
    feed.write(1, TOPIC, 0, record(largest));
    assert.equal(feed.queued, 1);
    const seen: number[] = [];
    for (let round = 0; round < 20 && seen.length < 2; round++) {
      await settle();
      seen.push(...ids(readAll(reader)));
    }
    assert.deepEqual(seen, [0, 1]);
  });

  it('unqueue takes back a queued record (it never reaches the ring) and says no for one already in the ring', async () => {
    const ring = createRing({ capacity: 256 });
    const feed = new RecordFeed(ring);
    const reader = new RingReader(ring);
    for (let id = 0; id < 5; id++) feed.write(id, TOPIC, 0, record(60));
    assert.equal(feed.unqueue(0), false, 'record 0 went straight into the ring');
    assert.equal(feed.unqueue(3), true);
    assert.equal(feed.unqueue(3), false, 'taken back once');
    // Id 3 is free again and reused by a new record: the queue skips the old one, never the id.
    feed.write(3, TOPIC, 1, record(4));
    const seen: Read[] = [];
    for (let round = 0; round < 20 && ids(seen).length < 5; round++) {
      await settle();
      seen.push(...readAll(reader));
    }
    assert.deepEqual(ids(seen), [0, 1, 2, 4, 3]);
    assert.deepEqual(seen.at(-1), { kind: 'record', recordId: 3, topicIndex: 3, partition: 1 }, 'the reused id carries the new record');
  });

  it('the last record taken back empties the queue: whenEmpty resolves without waiting for ring space', async () => {
    const ring = createRing({ capacity: 256 });
    const feed = new RecordFeed(ring);
    for (let id = 0; id < 4; id++) feed.write(id, TOPIC, 0, record(60));
    const queued = [0, 1, 2, 3].filter((id) => feed.unqueue(id));
    assert.ok(queued.length > 0);
    assert.equal(feed.queued, 0);
    let emptied = false;
    await feed.whenEmpty().then(() => (emptied = true));
    assert.equal(emptied, true);
  });

  it('stop hands back the queued ids, releases whenEmpty and ends the queue loop', async () => {
    const ring = createRing({ capacity: 256 });
    const feed = new RecordFeed(ring);
    const reader = new RingReader(ring);
    for (let id = 0; id < 5; id++) feed.write(id, TOPIC, 0, record(60));
    feed.unqueue(4);
    const empty = feed.whenEmpty();
    const stopped = feed.stop();
    assert.ok(stopped.length > 0);
    assert.ok(!stopped.includes(4), 'a record taken back is not handed back again');
    await empty;
    await settle();
    const written = ids(readAll(reader));
    await settle();
    // The loop no longer writes: nothing stopped reaches the ring, even with space free now.
    assert.deepEqual(ids(readAll(reader)), []);
    assert.deepEqual([...written, ...stopped].sort(), [0, 1, 2, 3]);
    assert.equal(feed.queued, 0);
  });

  it('wake publishes what is pending without waiting for the microtask', () => {
    const ring = createRing({ capacity: 1024 });
    const feed = new RecordFeed(ring);
    const reader = new RingReader(ring);
    feed.write(1, TOPIC, 0, record(8));
    feed.wake();
    assert.deepEqual(ids(readAll(reader)), [1]);
  });
});
