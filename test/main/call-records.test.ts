/** CallRecords: a sendBatch's checked records kept in columns, each made a record object only when handed on. */
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, it } from 'node:test';
import { CallColumnsPool, CallRecords } from '../../src/main/call-records.js';
import { PreparedFields, checkRecord, prepareRecord } from '../../src/main/serialize.js';
import type { TopicInfo } from '../../src/main/topic-registry.js';

const NOW = 1_700_000_000_123;
const topic: TopicInfo = { index: 3, name: 'b', partitionCount: 16, available: [] };

describe('CallRecords', () => {
  it('gives back each kept record with every field it was checked with, as prepareRecord makes it', () => {
    const plain = { topic: 'a', value: 'v1' };
    const full = { topic: 'b', key: 'k', value: 'v2', partition: 7, timestamp: 42, headers: [['h', 'x'], ['n', null]] as [string, string | null][] };
    const call = new CallRecords(3);
    call.set(0, checkRecord(plain, null, NOW));
    call.set(2, checkRecord(full, null, NOW));
    assert.equal(call.has(0), true);
    assert.equal(call.has(1), false, 'a position never set (its check failed) has no record');
    assert.equal(call.topicName(2), 'b');
    assert.equal(Buffer.from(call.key(2)!).toString(), 'k');
    assert.equal(call.key(0), null);
    assert.equal(call.askedPartition(0), -1, 'no partition asked for');
    assert.equal(call.askedPartition(2), 7);
    assert.equal(call.size(2), 1 + 2 + 2 + 1, 'key, value and headers (h=x, n=null)');
    for (const [position, record] of [[0, plain], [2, full]] as const) {
      const made = call.record(position);
      assert.ok(made instanceof PreparedFields, 'one class for every record (never an object literal)');
      assert.deepEqual({ ...made }, { ...prepareRecord(record, null, NOW) });
    }
    assert.equal(call.record(0).partition, undefined);
    assert.equal(call.record(2).timestamp, 42);
  });

  it('keeps where a record was placed, apart from what it asked for', () => {
    const call = new CallRecords(1);
    call.set(0, checkRecord({ topic: 'b', value: 'v' }, null, NOW));
    call.place(0, topic, 11, 123_456);
    assert.equal(call.placedTopic(0), topic);
    assert.equal(call.placedPartition(0), 11);
    assert.equal(call.seq(0), 123_456);
    assert.equal(call.askedPartition(0), -1);
  });

  it('keeps the topic and placement of each record in a call that writes to several topics', () => {
    const names = ['a', 'b', 'a', 'c', 'c', 'b', 'a'];
    const call = new CallRecords(names.length);
    names.forEach((name, i) => call.set(i, checkRecord({ topic: name, value: `v${i}` }, null, NOW)));
    // A refresh of metadata between placements gives the same topic a new TopicInfo: each record keeps the one it
    // was placed with.
    const infos = names.map((name, i) => ({ index: name.charCodeAt(0), name, partitionCount: 8 + i, available: [] }));
    const placedOn = names.map((name, i) => (i > 0 && names[i - 1] === name ? infos[i - 1]! : infos[i]!));
    names.forEach((_, i) => call.place(i, placedOn[i]!, i, 1_000 + i));
    names.forEach((name, i) => {
      assert.equal(call.topicName(i), name);
      assert.equal(call.record(i).topic, name);
      assert.equal(call.placedTopic(i), placedOn[i], `position ${i}`);
      assert.equal(call.placedPartition(i), i);
      assert.equal(call.seq(i), 1_000 + i);
    });
  });

  it('keeps a send seq past the int32 range and every partition and size it was given', () => {
    const call = new CallRecords(1);
    call.set(0, checkRecord({ topic: 'a', value: 'v', partition: 2_147_483_647 }, null, NOW));
    call.place(0, topic, 2_147_483_647, 2 ** 40 + 1);
    assert.equal(call.seq(0), 2 ** 40 + 1);
    assert.equal(call.askedPartition(0), 2_147_483_647);
    assert.equal(call.placedPartition(0), 2_147_483_647);
  });

  it('forgets a record, and no longer keeps its bytes alive', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const call = new CallRecords(2);
    let value: Uint8Array | undefined = new Uint8Array(1024);
    const memory = new WeakRef(value);
    call.set(0, checkRecord({ topic: 'a', value }, null, NOW));
    call.place(0, topic, 0, 1);
    call.set(1, checkRecord({ topic: 'a', value: 'still waiting' }, null, NOW));
    checkRecord({ topic: 'a', value: 'the next check' }, null, NOW); // the reused check output lets go of it too
    value = undefined;
    call.forget(0);
    assert.equal(call.has(0), false);
    assert.equal(call.has(1), true, 'its neighbour is kept');
    // A WeakRef holds its target until the current job ends.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    assert.equal(memory.deref(), undefined);
  });

  it('gives its columns back to the pool only once placing is done and every record is forgotten', () => {
    const pool = new CallColumnsPool();
    const first = new CallRecords(3, pool);
    first.set(0, checkRecord({ topic: 'a', value: 'v0' }, null, NOW));
    first.set(2, checkRecord({ topic: 'a', value: 'v2' }, null, NOW)); // position 1 failed its check
    first.forget(0);
    first.donePlacing();
    assert.equal(pool.kept, 0, 'position 2 is still held');
    const meanwhile = new CallRecords(3, pool);
    first.forget(2);
    assert.equal(pool.kept, 1, 'given back with its last record');
    first.forget(2); // twice: nothing more to give back
    assert.equal(pool.kept, 1);
    const reused = new CallRecords(2, pool); // smaller: fits in the columns given back
    assert.equal(pool.kept, 0, 'taken again');
    const fresh = new CallRecords(2, pool);
    for (const call of [meanwhile, reused, fresh]) {
      for (let i = 0; i < call.length; i++) assert.equal(call.has(i), false, 'no record of an earlier call shows through');
    }
    // Exactly one set of columns came back: the second call of two after it needed new ones.
    reused.set(1, checkRecord({ topic: 'b', value: 'x' }, null, NOW));
    assert.equal(Buffer.from(reused.record(1).value!).toString(), 'x');
    assert.equal(fresh.has(1), false, 'the reused and the fresh call do not share columns');
  });

  it('keeps sets of columns up to 20 MiB in all and 64 sets, none of a huge call', () => {
    const done = (call: CallRecords): void => call.donePlacing();
    const small = new CallColumnsPool();
    Array.from({ length: 70 }, () => new CallRecords(100, small)).forEach(done);
    assert.equal(small.kept, 64, 'at most 64 sets, however small');
    // 16,384 records × (3 references × 8 bytes + 2 doubles × 8 + 6 ints × 4) = 1 MiB a set: 20 of them in 20 MiB.
    const large = new CallColumnsPool();
    const calls = Array.from({ length: 25 }, () => new CallRecords(16_384, large));
    calls.forEach(done);
    assert.equal(large.kept, 20, 'at most 20 MiB of columns');
    const again = new CallRecords(16_384, large);
    assert.equal(large.kept, 19, 'a kept set taken');
    done(again);
    assert.equal(large.kept, 20, 'and kept again when given back: taking it made room');
    const nearly = new CallColumnsPool();
    done(new CallRecords(10_321, nearly));
    new CallRecords(10_322, nearly);
    assert.equal(nearly.kept, 0, 'a call a record longer than the last reuses its columns (capacities are rounded up)');
    const emptied = new CallColumnsPool();
    done(new CallRecords(16_385, emptied));
    assert.equal(emptied.kept, 0, 'a call of more than 16,384 records leaves its columns to the collector');
    done(new CallRecords(16_384, emptied));
    assert.equal(emptied.kept, 1);
  });
});
