import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CallColumnsPool, CallRecords } from '../../src/main/call-records.js';
import type { Deliveries } from '../../src/main/deliveries.js';
import { PartitionGrouping } from '../../src/main/partition-grouping.js';
import { checkRecord, type PreparedRecord } from '../../src/main/serialize.js';
import type { Settler } from '../../src/main/settlers.js';
import type { TopicInfo } from '../../src/main/topic-registry.js';

const topicA: TopicInfo = { index: 0, name: 'a', partitionCount: 64, available: [] };
const topicB: TopicInfo = { index: 1, name: 'b', partitionCount: 64, available: [] };
const settler: Settler = { resolve: () => {}, reject: () => {} };

/** A call whose record at each position has its label as value (what the recorder reads back). */
function callOf(labels: readonly string[], pool?: CallColumnsPool): CallRecords {
  const call = new CallRecords(labels.length, pool);
  labels.forEach((label, i) => call.set(i, checkRecord({ topic: 'a', value: label }, null, 1_700_000_000_000 + i)));
  return call;
}

interface Accepted {
  label: string;
  topic: string;
  partition: number;
  seq: number;
  position: number;
  settler: Settler;
  signal: AbortSignal | undefined;
  now: number;
}

/**
 * A delivery settlement that notes every record it is handed, in order: it reads each record when handed it, as
 * Deliveries.accept does (the object is lent, and refilled for the next record), and keeps every object it saw.
 */
function recorder(): { accepted: Accepted[]; lent: PreparedRecord[]; deliveries: Pick<Deliveries, 'accept'> } {
  const accepted: Accepted[] = [];
  const lent: PreparedRecord[] = [];
  return {
    accepted,
    lent,
    deliveries: {
      accept: (prepared, topic, partition, seq, s, position, signal, now) => {
        lent.push(prepared);
        accepted.push({ label: Buffer.from(prepared.value!).toString(), topic: topic.name, partition, seq, position, settler: s, signal, now });
      },
    },
  };
}

describe('PartitionGrouping', () => {
  it('hands records on partition by partition, call order within each, partitions in the order they first came', () => {
    const grouping = new PartitionGrouping();
    const { accepted, deliveries } = recorder();
    const calls: [string, TopicInfo, number][] = [
      ['a2-0', topicA, 2], ['a0-0', topicA, 0], ['a2-1', topicA, 2], ['b2-0', topicB, 2],
      ['a0-1', topicA, 0], ['b2-1', topicB, 2], ['a2-2', topicA, 2],
    ];
    const call = callOf(calls.map(([label]) => label));
    calls.forEach(([, topic, partition], i) => grouping.add(call, topic, partition, 100 + i, i));
    assert.equal(grouping.size, 7);
    const signal = new AbortController().signal;
    grouping.acceptAll(deliveries, settler, signal, 1234);
    assert.deepEqual(accepted.map((a) => a.label), ['a2-0', 'a2-1', 'a2-2', 'a0-0', 'a0-1', 'b2-0', 'b2-1']);
    // Each record keeps its own send sequence and position; the call's settler, signal and time go with all.
    const byLabel = new Map(accepted.map((a) => [a.label, a]));
    calls.forEach(([label, topic, partition], i) => {
      const a = byLabel.get(label)!;
      assert.deepEqual([a.topic, a.partition, a.seq, a.position], [topic.name, partition, 100 + i, i]);
      assert.equal(a.settler, settler);
      assert.equal(a.signal, signal);
      assert.equal(a.now, 1234);
    });
    assert.equal(grouping.size, 0);
  });

  it('starts every slice afresh: a partition of the last slice is a new group in the next', () => {
    const grouping = new PartitionGrouping();
    const { accepted, deliveries } = recorder();
    const first = callOf(['x1', 'x3']);
    grouping.add(first, topicA, 1, 1, 0);
    grouping.add(first, topicA, 3, 2, 1);
    grouping.acceptAll(deliveries, settler, undefined, 0);
    const second = callOf(['y3', 'y1', 'y3b']);
    grouping.add(second, topicA, 3, 3, 0);
    grouping.add(second, topicA, 1, 4, 1);
    grouping.add(second, topicA, 3, 5, 2);
    grouping.acceptAll(deliveries, settler, undefined, 0);
    assert.deepEqual(accepted.map((a) => a.label), ['x1', 'x3', 'y3', 'y3b', 'y1']);
    grouping.acceptAll(deliveries, settler, undefined, 0);
    assert.equal(accepted.length, 5, 'an empty slice hands on nothing');
  });

  it('grows past its first columns, its first groups and a topic\'s first partitions within one slice', () => {
    const grouping = new PartitionGrouping();
    const { accepted, deliveries } = recorder();
    const partitions = 40; // more than the first 16 groups and the first tails of 8 partitions
    const perPartition = 20; // 800 records: more than the first 256 columns
    const labels: string[] = [];
    const partitionOf: number[] = [];
    for (let round = 0; round < perPartition; round++) {
      for (let p = 0; p < partitions; p++) {
        labels.push(`${p}:${round}`);
        partitionOf.push(p);
      }
    }
    // A partition far beyond the others arrives while every group of the topic is open.
    labels.push('1000:0', '0:last');
    partitionOf.push(1000, 0);
    const call = callOf(labels);
    let seq = 0;
    for (let i = 0; i < labels.length; i++) grouping.add(call, topicA, partitionOf[i]!, seq++, i);
    grouping.acceptAll(deliveries, settler, undefined, 0);
    const expected: string[] = [];
    for (let p = 0; p < partitions; p++) {
      for (let round = 0; round < perPartition; round++) expected.push(`${p}:${round}`);
      if (p === 0) expected.push('0:last');
    }
    expected.push('1000:0');
    assert.deepEqual(accepted.map((a) => a.label), expected);
    // Every partition starts afresh in the next slice, those of the grown topic included.
    accepted.length = 0;
    const next = callOf(['next:5', 'next:0', 'next:5b']);
    grouping.add(next, topicA, 5, seq++, 0);
    grouping.add(next, topicA, 0, seq++, 1);
    grouping.add(next, topicA, 5, seq++, 2);
    grouping.acceptAll(deliveries, settler, undefined, 0);
    assert.deepEqual(accepted.map((a) => a.label), ['next:5', 'next:5b', 'next:0']);
  });

  it('is empty and usable again after an accept that throws', () => {
    const grouping = new PartitionGrouping();
    const failed = callOf(['a', 'b']);
    grouping.add(failed, topicA, 0, 1, 0);
    grouping.add(failed, topicA, 1, 2, 1);
    assert.throws(() => grouping.acceptAll({ accept: () => { throw new Error('boom'); } }, settler, undefined, 0), /boom/);
    assert.equal(grouping.size, 0);
    const { accepted, deliveries } = recorder();
    const call = callOf(['c', 'd']);
    grouping.add(call, topicA, 1, 3, 0);
    grouping.add(call, topicA, 0, 4, 1);
    grouping.acceptAll(deliveries, settler, undefined, 0);
    assert.deepEqual(accepted.map((a) => a.label), ['c', 'd'], 'no group of the failed slice survives');
  });

  it('lends every record through one object, with that record\'s fields when it is handed on, and keeps none after', () => {
    const grouping = new PartitionGrouping();
    const { accepted, lent, deliveries } = recorder();
    const call = new CallRecords(3);
    const records = [
      { topic: 'a', key: 'k0', value: 'v0', timestamp: 1_700_000_000_000 },
      { topic: 'a', value: 'v1', partition: 2, headers: [['h', 'x']] as [string, string][], timestamp: 42 },
      { topic: 'a', key: 'k2', value: 'v2', timestamp: 7 },
    ];
    records.forEach((record, i) => call.set(i, checkRecord(record, null, 0)));
    const seen: unknown[] = [];
    const reading: Pick<Deliveries, 'accept'> = {
      accept: (prepared, ...rest) => {
        seen.push({ ...prepared });
        deliveries.accept(prepared, ...rest);
      },
    };
    records.forEach((_, i) => grouping.add(call, topicA, 0, i, i));
    grouping.acceptAll(reading, settler, undefined, 0);
    assert.equal(new Set(lent).size, 1, 'one object for every record of the slice');
    assert.deepEqual(accepted.map((a) => a.label), ['v0', 'v1', 'v2']);
    const expected = records.map((record) => {
      const one = new CallRecords(1);
      one.set(0, checkRecord(record, null, 0));
      return { ...one.record(0) };
    });
    assert.deepEqual(seen, expected, 'each record read as the object CallRecords.record would have made');
    assert.equal(lent[0]!.value, null, 'the lent object lets go of the last record\'s bytes');
    assert.equal(lent[0]!.key, null);
  });

  it('leaves a staged record in its call until it is handed on; the call forgets it then and its columns go back', () => {
    const pool = new CallColumnsPool();
    const grouping = new PartitionGrouping();
    const { deliveries } = recorder();
    const call = callOf(['p', 'q'], pool);
    grouping.add(call, topicA, 0, 1, 0);
    grouping.add(call, topicA, 1, 2, 1);
    assert.deepEqual([call.has(0), call.has(1)], [true, true], 'staged, still in the call');
    grouping.acceptAll(deliveries, settler, undefined, 0);
    assert.deepEqual([call.has(0), call.has(1)], [false, false], 'forgotten once handed on');
    assert.equal(pool.kept, 0, 'kept until placing is done');
    call.donePlacing();
    assert.equal(pool.kept, 1, 'the call\'s columns are back in the pool');
  });
});
