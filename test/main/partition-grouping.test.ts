import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Deliveries } from '../../src/main/deliveries.js';
import { PartitionGrouping } from '../../src/main/partition-grouping.js';
import type { PreparedRecord } from '../../src/main/serialize.js';
import type { Settler } from '../../src/main/settlers.js';
import type { TopicInfo } from '../../src/main/topic-registry.js';

const topicA: TopicInfo = { index: 0, name: 'a', partitionCount: 64, available: [] };
const topicB: TopicInfo = { index: 1, name: 'b', partitionCount: 64, available: [] };
const settler: Settler = { resolve: () => {}, reject: () => {} };

/** A stand-in for the record: only its identity matters here. */
const record = (label: string): PreparedRecord => ({ label }) as unknown as PreparedRecord;

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

/** A delivery settlement that notes every record it is handed, in order. */
function recorder(): { accepted: Accepted[]; deliveries: Pick<Deliveries, 'accept'> } {
  const accepted: Accepted[] = [];
  return {
    accepted,
    deliveries: {
      accept: (prepared, topic, partition, seq, s, position, signal, now) => {
        accepted.push({ label: (prepared as unknown as { label: string }).label, topic: topic.name, partition, seq, position, settler: s, signal, now });
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
    calls.forEach(([label, topic, partition], i) => grouping.add(record(label), topic, partition, 100 + i, i));
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
    grouping.add(record('x1'), topicA, 1, 1, 0);
    grouping.add(record('x3'), topicA, 3, 2, 1);
    grouping.acceptAll(deliveries, settler, undefined, 0);
    grouping.add(record('y3'), topicA, 3, 3, 0);
    grouping.add(record('y1'), topicA, 1, 4, 1);
    grouping.add(record('y3b'), topicA, 3, 5, 2);
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
    let seq = 0;
    for (let round = 0; round < perPartition; round++) {
      for (let p = 0; p < partitions; p++) grouping.add(record(`${p}:${round}`), topicA, p, seq++, seq);
    }
    // A partition far beyond the others arrives while every group of the topic is open.
    grouping.add(record('1000:0'), topicA, 1000, seq++, seq);
    grouping.add(record('0:last'), topicA, 0, seq++, seq);
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
    grouping.add(record('next:5'), topicA, 5, seq++, 0);
    grouping.add(record('next:0'), topicA, 0, seq++, 1);
    grouping.add(record('next:5b'), topicA, 5, seq++, 2);
    grouping.acceptAll(deliveries, settler, undefined, 0);
    assert.deepEqual(accepted.map((a) => a.label), ['next:5', 'next:5b', 'next:0']);
  });

  it('is empty and usable again after an accept that throws', () => {
    const grouping = new PartitionGrouping();
    grouping.add(record('a'), topicA, 0, 1, 0);
    grouping.add(record('b'), topicA, 1, 2, 1);
    assert.throws(() => grouping.acceptAll({ accept: () => { throw new Error('boom'); } }, settler, undefined, 0), /boom/);
    assert.equal(grouping.size, 0);
    const { accepted, deliveries } = recorder();
    grouping.add(record('c'), topicA, 1, 3, 0);
    grouping.add(record('d'), topicA, 0, 4, 1);
    grouping.acceptAll(deliveries, settler, undefined, 0);
    assert.deepEqual(accepted.map((a) => a.label), ['c', 'd'], 'no group of the failed slice survives');
  });
});
