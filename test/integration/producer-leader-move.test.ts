/**
 * A leader moved while the producer sends, on a cluster of three brokers (`npm run kafka -- start --nodes 3`, or
 * KAFKA_BROKERS naming such a cluster; with fewer brokers the test skips and says so, as it does in CI, which runs
 * one). Kafka's own reassignment tool moves every partition away from its leader; the producer (idempotent, the
 * default) learns the new leaders from NOT_LEADER_OR_FOLLOWER, its KIP-951 hint and Metadata, and resends.
 * Kafka's console consumer then reads every record exactly once, at the offset its send reported, and in send order
 * within each partition.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Producer } from '../../src/main/producer.js';
import { partitionForKey } from '../../src/main/partitioner.js';
import type { RecordMetadata } from '../../src/main/types.js';
import { TOOLS, metadata, runKafkaTool, uniqueTopic, useBroker } from '../helpers/broker.js';
import { fulfilled, readBackExactly } from '../helpers/results.js';

const PARTITIONS = 3;
/** Rounds of sending after the move before the producer closes, so records go to the new leaders too. */
const ROUNDS_AFTER = 20;
/** Rounds before the test gives up on the move (the tool's work is asynchronous). */
const MAX_ROUNDS = 5000;

/** Leader and replicas of each partition of `topic`, by partition index. */
async function layout(topic: string): Promise<{ leader: number; replicas: readonly number[] }[]> {
  const answer = await metadata([topic]);
  const partitions = answer.topics.find((t) => t.name === topic)?.partitions ?? [];
  return [...partitions].sort((x, y) => x.partitionIndex - y.partitionIndex).map((p) => ({ leader: p.leaderId, replicas: p.replicaNodes }));
}

test('a leader moved by Kafka\'s reassignment tool while producing: nothing lost, nothing duplicated, order kept', { timeout: 300_000 }, async (t) => {
  const brokers = await useBroker();
  // Given three addresses, the cluster has three brokers: wait until the one asked lists them all (just after a start
  // its view may still lack some), and fail rather than skip if it never does. CI's three-broker run exists for this.
  let nodes: number[] = [];
  for (const giveUpAt = Date.now() + 60_000; ; await new Promise((resolve) => setTimeout(resolve, 200))) {
    nodes = (await metadata([])).brokers.map((b) => b.nodeId).sort((x, y) => x - y);
    if (nodes.length >= Math.min(3, brokers.length) || Date.now() > giveUpAt) break;
  }
  if (nodes.length < 3) {
    assert.ok(brokers.length < 3, `${brokers.length} brokers were given, but Metadata lists ${nodes.length}`);
    t.skip(`needs a cluster of 3 brokers (npm run kafka -- start --nodes 3); the one at ${brokers.join(',')} has ${nodes.length}`);
    return;
  }
  const [a, b, c] = nodes as [number, number, number];
  const topic = uniqueTopic('moving');
  const bootstrap = ['--bootstrap-server', brokers.join(',')];
  // Two replicas per partition, so moving a partition off its leader forces a new one (with three replicas on three
  // brokers there is nowhere to move to).
  await runKafkaTool(TOOLS.topics, [...bootstrap, '--create', '--topic', topic, '--replica-assignment', `${a}:${b},${b}:${c},${c}:${a}`]);
  let before = await layout(topic);
  for (let attempt = 0; attempt < 100 && !(before.length === PARTITIONS && before.every((p) => p.leader >= 0)); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    before = await layout(topic);
  }
  assert.deepEqual(before.map((p) => p.leader), [a, b, c]);
  // Each partition's new replicas leave its leader out.
  const target = [[c, b], [a, c], [b, a]];
  const dir = await mkdtemp(join(tmpdir(), 'ringkafka-reassign-'));
  const plan = join(dir, 'plan.json');
  await writeFile(plan, JSON.stringify({ version: 1, partitions: target.map((replicas, partition) => ({ topic, partition, replicas })) }));

  const producer = new Producer({ brokers, workers: 2, lingerMs: 1 });
  const sent = new Map<string, { metadata: RecordMetadata; index: number; key: string | null }>();
  let next = 0;
  const round = async (count: number): Promise<void> => {
    const records = Array.from({ length: count }, () => {
      const i = next++;
      // Every third record keyless, the others keyed (key-N never spelled "null": the consumer prints a null key so).
      return { topic, key: i % 3 === 0 ? null : `key-${i % 11}`, value: `record-${i}` };
    });
    const reported = fulfilled(await producer.sendBatch(records));
    reported.forEach((m, i) => sent.set(records[i]!.value, { metadata: m, index: next - count + i, key: records[i]!.key }));
  };
  try {
    await round(100);
    await runKafkaTool(TOOLS.reassignPartitions, [...bootstrap, '--reassignment-json-file', plan, '--execute']);
    let moved = false;
    for (let rounds = 0, after = 0; after < ROUNDS_AFTER; rounds++) {
      if (rounds >= MAX_ROUNDS) assert.fail(`the partitions did not move within ${MAX_ROUNDS} rounds`);
      await round(20);
      if (moved) after++;
      else if (rounds % 10 === 0) {
        const now = await layout(topic);
        moved = now.every((p, i) => p.leader !== before[i]!.leader && p.leader >= 0 && [...p.replicas].sort().join() === [...target[i]!].sort().join());
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    await producer.close();
    await rm(dir, { recursive: true, force: true });
  }

  for (const [value, { metadata: m, key }] of sent) {
    if (key !== null) assert.equal(m.partition, partitionForKey(Buffer.from(key), PARTITIONS), value);
  }
  const consumed = await readBackExactly(brokers, topic, new Map([...sent].map(([value, { metadata: m }]) => [value, m])));
  // The consumer delivers each partition in offset order: send order must be the same.
  const lastIndex = new Map<number, number>();
  for (const record of consumed) {
    const { index } = sent.get(record.value)!;
    assert.ok(index > (lastIndex.get(record.partition) ?? -1), `${record.value} out of send order in partition ${record.partition}`);
    lastIndex.set(record.partition, index);
  }
});
