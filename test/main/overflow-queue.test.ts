/** The ring feed's overflow queue: order, take-back by id, reused ids, growth while wrapped, clear, what it keeps alive. */
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, it } from 'node:test';
import { OverflowQueue, type TopicRef } from '../../src/main/overflow-queue.js';
import type { PreparedRecord } from '../../src/main/serialize.js';

const topic: TopicRef = { index: 3, name: 't' };
const record = (n: number) => ({ topic: 't', value: Buffer.from([n]), size: 1 }) as unknown as PreparedRecord;

/** Hands out everything queued, oldest first, as [id, partition, value byte]. */
function drain(queue: OverflowQueue): [number, number, number][] {
  const out: [number, number, number][] = [];
  while (queue.advance()) {
    out.push([queue.headId, queue.headPartition, (queue.headRecord.value as Uint8Array)[0]!]);
    assert.equal(queue.headTopic, topic);
    queue.shift();
  }
  return out;
}

describe('OverflowQueue', () => {
  it('hands records out in push order with their id, topic and partition', () => {
    const queue = new OverflowQueue();
    for (let i = 0; i < 5; i++) queue.push(10 + i, topic, i % 2, record(i));
    assert.equal(queue.size, 5);
    assert.deepEqual(drain(queue), [[10, 0, 0], [11, 1, 1], [12, 0, 2], [13, 1, 3], [14, 0, 4]]);
    assert.equal(queue.size, 0);
    assert.equal(queue.advance(), false);
  });

  it('remove takes a record back once; the reader skips it; a written record is no longer removable', () => {
    const queue = new OverflowQueue();
    queue.push(1, topic, 0, record(1));
    queue.push(2, topic, 0, record(2));
    queue.push(3, topic, 0, record(3));
    assert.equal(queue.remove(2), true);
    assert.equal(queue.remove(2), false, 'already taken back');
    assert.equal(queue.remove(99_999), false, 'an id never queued');
    assert.equal(queue.size, 2);
    assert.equal(queue.advance(), true);
    queue.shift();
    assert.equal(queue.remove(1), false, 'written already');
    assert.deepEqual(drain(queue), [[3, 0, 3]]);
  });

  it('an id taken back and reused at once names its new record, never the old slot', () => {
    const queue = new OverflowQueue();
    queue.push(7, topic, 0, record(1));
    queue.push(8, topic, 0, record(2));
    assert.equal(queue.remove(7), true);
    queue.push(7, topic, 5, record(3)); // the id's next record
    assert.deepEqual(drain(queue), [[8, 0, 2], [7, 5, 3]]);
    queue.push(7, topic, 0, record(4));
    assert.equal(queue.remove(7), true, 'the reused id is removable again');
    assert.equal(queue.size, 0);
  });

  it('keeps order and take-back when it grows while wrapped around, with removed slots inside', () => {
    const queue = new OverflowQueue();
    const expected: [number, number, number][] = [];
    let id = 0;
    // wrap the initial ring: push and hand out a few hundred so the head is mid-ring
    for (let i = 0; i < 700; i++) queue.push(id++, topic, 0, record(i & 0xff));
    assert.equal(drain(queue).length, 700);
    for (let i = 0; i < 5000; i++) {
      queue.push(id, topic, i % 7, record(i & 0xff));
      if (i % 3 === 0) assert.equal(queue.remove(id), true);
      else expected.push([id, i % 7, i & 0xff]);
      id++;
    }
    assert.equal(queue.size, expected.length);
    // ids queued before the growth stay removable after it
    const [removedId] = expected.splice(10, 1)[0]!;
    assert.equal(queue.remove(removedId), true);
    assert.deepEqual(drain(queue), expected);
  });

  it('stays at its size while sends are taken back and nothing is written (a stalled ring, callers aborting)', () => {
    const queue = new OverflowQueue();
    queue.push(0, topic, 0, record(0)); // the head, never written: the ring stalls behind it
    for (let id = 1; id <= 100_000; id++) {
      queue.push(id, topic, id % 3, record(id));
      if (id % 10 !== 0) assert.equal(queue.remove(id), true); // nine in ten aborted
    }
    assert.equal(queue.size, 1 + 10_000);
    // Under four times the 10,001 queued at most; with the taken-back slots kept it doubled to 131,072.
    assert.ok(queue.capacity < 4 * 10_001, `capacity ${queue.capacity}`);
    const out = drain(queue);
    assert.equal(out.length, 10_001);
    assert.deepEqual(out.slice(0, 3), [[0, 0, 0], [10, 1, 10], [20, 2, 20]]);
    assert.deepEqual(out.at(-1), [100_000, 100_000 % 3, 100_000 % 256]);
  });

  it('clear hands back the ids still queued, oldest first, and empties the queue', () => {
    const queue = new OverflowQueue();
    for (const id of [4, 5, 6, 7]) queue.push(id, topic, 0, record(id));
    queue.remove(5);
    assert.deepEqual(queue.clear(), [4, 6, 7]);
    assert.equal(queue.size, 0);
    assert.equal(queue.advance(), false);
    assert.equal(queue.remove(4), false);
    queue.push(4, topic, 0, record(9));
    assert.deepEqual(drain(queue), [[4, 0, 9]]);
  });

  it('keeps a record\'s entry fields, not the record object, and lets go of the bytes of a record written or taken back', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const queue = new OverflowQueue();
    const headers = [[Buffer.from('h'), null]] as const;
    let first: PreparedRecord | undefined = { topic: 't', key: Buffer.from('k'), value: Buffer.from('v1'), headers, timestamp: 1234.5, size: 3 } as unknown as PreparedRecord;
    let second: Uint8Array | undefined = Buffer.from('v2');
    const objectGone = new WeakRef(first);
    const secondGone = new WeakRef(second);
    queue.push(1, topic, 0, first);
    queue.push(2, topic, 0, { ...record(2), value: second } as unknown as PreparedRecord);
    first = undefined;
    second = undefined;
    assert.equal(queue.advance(), true);
    const head = queue.headRecord;
    assert.deepEqual([Buffer.from(head.key!).toString(), Buffer.from(head.value!).toString(), head.headers, head.timestamp], ['k', 'v1', headers, 1234.5]);
    assert.equal(queue.remove(2), true);
    // A WeakRef holds its target until the current job ends.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    assert.equal(objectGone.deref(), undefined, 'the queued record\'s object is not kept');
    assert.equal(secondGone.deref(), undefined, 'a record taken back leaves nothing behind');
    assert.equal(Buffer.from(queue.headRecord.value!).toString(), 'v1', 'the queued one is still there');
  });
});
