/**
 * Metadata that changes while the producer runs, against the real broker, changed by Kafka's own tool and read back
 * by Kafka's console consumer (docs/architecture.md, "Metadata: two views, each refreshed"):
 *  - partitions added with kafka-topics --alter while records are being sent: with a short metadataMaxAgeMs the
 *    producer's view catches up by itself, keyless records reach the new partitions, keyed records then hash over
 *    the new count as Java's do, and every record is in the topic exactly once, where its send said it is.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Producer } from '../../src/main/producer.js';
import { partitionForKey } from '../../src/main/partitioner.js';
import type { RecordMetadata } from '../../src/main/types.js';
import { TOOLS, createTopic, runKafkaTool, uniqueTopic, useBroker } from '../helpers/broker.js';
import { endOffsets } from '../helpers/readback.js';
import { fulfilled, readBackExactly } from '../helpers/results.js';

const BEFORE = 2;
const AFTER = 4;
/** Rounds of sending after the tool returned before the test gives up on seeing the new partitions used. */
const MAX_ROUNDS = 1000;

test('partitions added while producing: keyless records reach the new ones, keyed ones hash over the new count, nothing lost or duplicated', { timeout: 240_000 }, async () => {
  const brokers = await useBroker();
  const topic = uniqueTopic('grow');
  await createTopic(topic, BEFORE);
  // A small batchMaxBytes makes the sticky partitioner move on every few records, so it soon tries every partition.
  const producer = new Producer({ brokers, workers: 2, metadataMaxAgeMs: 200, batchMaxBytes: 1024, lingerMs: 0 });
  const sent = new Map<string, RecordMetadata>();
  let next = 0;
  const round = async (count: number, key?: (i: number) => string): Promise<RecordMetadata[]> => {
    const records = Array.from({ length: count }, () => {
      const i = next++;
      return { topic, key: key?.(i) ?? null, value: `record-${i}-`.padEnd(100, 'x') };
    });
    const reported = fulfilled(await producer.sendBatch(records));
    reported.forEach((metadata, i) => sent.set(records[i]!.value, metadata));
    return reported;
  };
  const usedNew = (): boolean => [...sent.values()].some((m) => m.partition === BEFORE) && [...sent.values()].some((m) => m.partition === AFTER - 1);
  try {
    for (const metadata of await round(200)) assert.ok(metadata.partition < BEFORE);
    let altered = false;
    const alter = runKafkaTool(TOOLS.topics, ['--bootstrap-server', brokers.join(','), '--alter', '--topic', topic, '--partitions', String(AFTER)])
      .finally(() => (altered = true));
    // Sending goes on while the tool runs and after: the producer has to notice the new partitions by itself.
    for (let rounds = 0; !(altered && usedNew()); ) {
      await round(20);
      if (altered && ++rounds >= MAX_ROUNDS) assert.fail(`no keyless record reached partitions ${BEFORE}..${AFTER - 1} in ${MAX_ROUNDS} rounds`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await alter;
    // The view has the new count now (a record went to a new partition): keys hash over it, as in Java.
    const keyOf = (i: number): string => `key-${i % 97}`;
    const first = next;
    const keyed = await round(500, keyOf);
    keyed.forEach((metadata, i) => assert.equal(metadata.partition, partitionForKey(Buffer.from(keyOf(first + i)), AFTER), keyOf(first + i)));
  } finally {
    await producer.close();
  }

  // Kafka's console consumer: every record once, at the partition and offset its send reported.
  await readBackExactly(brokers, topic, sent);
  assert.equal((await endOffsets(brokers, topic)).size, AFTER);
});
