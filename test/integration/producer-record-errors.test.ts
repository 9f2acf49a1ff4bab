/**
 * KIP-467 on a real broker: a batch refused for some of its records fails those with the broker's error and
 * message, and only those; their batch-mates fail RejectedWithBatchError ('not-sent', retriable) and, sent again,
 * are written. Kafka's console consumer reads back what the topic holds.
 * - a keyless record to a compacted topic (INVALID_RECORD);
 * - timestamps older than the topic's message.timestamp.before.max.ms (INVALID_TIMESTAMP for one record; for
 *   several, INVALID_RECORD each with its own message, as the broker's one code cannot tell their reasons apart).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Producer } from '../../src/main/producer.js';
import type { ProducerRecord, RecordMetadata } from '../../src/main/types.js';
import { BrokerError } from '../../src/shared/errors.js';
import { RejectedWithBatchError } from '../../src/shared/producer-errors.js';
import { createTopic, uniqueTopic, useBroker } from '../helpers/broker.js';
import { consume } from '../helpers/readback.js';
import { inOneBatch } from '../helpers/in-one-batch.js';

const INVALID_TIMESTAMP = 32;
const INVALID_RECORD = 87;

/** The reasons of a call whose every record failed, in the call's order. */
function reasons(results: PromiseSettledResult<RecordMetadata>[]): unknown[] {
  return results.map((r, i) => (r.status === 'rejected' ? r.reason : assert.fail(`record ${i} was delivered`)));
}

/** Checks that the records at `mates` failed with the batch, not at fault, and may be sent again. */
function assertRejectedWithBatch(failed: unknown[], mates: readonly number[], reason: RegExp): void {
  for (const i of mates) {
    const error = failed[i];
    assert.ok(error instanceof RejectedWithBatchError, `record ${i}: ${String(error)}`);
    assert.equal(error.delivery, 'not-sent');
    assert.equal(error.retriable, true);
    assert.match(error.message, reason);
  }
}

/** Sends the records at `indexes` again (one call, one batch) and checks they are delivered. */
async function resend(producer: Producer, records: ProducerRecord[], indexes: readonly number[]): Promise<void> {
  const again = await inOneBatch(producer, indexes.map((i) => records[i]!));
  assert.deepEqual(again.map((r) => r.status), indexes.map(() => 'fulfilled'), 'the batch-mates are written when sent again');
}

/** Runs `body` with a new one-partition topic of `configs` and a producer whose linger lets inOneBatch work. */
async function withTopic(prefix: string, configs: Record<string, string>, body: (brokers: string[], topic: string, producer: Producer) => Promise<void>): Promise<void> {
  const brokers = await useBroker();
  const topic = uniqueTopic(prefix);
  await createTopic(topic, 1, configs);
  const producer = new Producer({ brokers, workers: 1, lingerMs: 60_000 });
  try {
    await body(brokers, topic, producer);
  } finally {
    await producer.close();
  }
}

test('a keyless record to a compacted topic fails INVALID_RECORD alone; its batch-mates are rejected with the batch and written when sent again', async () => {
  await withTopic('record-errors-compacted', { 'cleanup.policy': 'compact' }, async (brokers, topic, producer) => {
    const records: ProducerRecord[] = [
      { topic, partition: 0, key: 'k0', value: 'v0' },
      { topic, partition: 0, key: null, value: 'keyless-1' },
      { topic, partition: 0, key: 'k2', value: 'v2' },
      { topic, partition: 0, key: null, value: 'keyless-3' },
      { topic, partition: 0, key: 'k4', value: 'v4' },
    ];
    const failed = reasons(await inOneBatch(producer, records));
    for (const i of [1, 3]) {
      const error = failed[i];
      assert.ok(error instanceof BrokerError, `record ${i}: ${String(error)}`);
      assert.equal(error.errorCode, INVALID_RECORD, 'two records named, one reason: INVALID_RECORD');
      assert.equal(error.delivery, 'not-sent');
      assert.match(error.message, /Compacted topic cannot accept message without key/);
    }
    assert.equal(failed[1], failed[3], 'records refused for one reason share one error');
    assertRejectedWithBatch(failed, [0, 2, 4], /2 other records of it were invalid \(INVALID_RECORD: Compacted topic/);

    await resend(producer, records, [0, 2, 4]);
    const read = await consume(brokers, topic, 3, 10_000);
    assert.deepEqual(read.map((r) => [r.offset, r.key, r.value]), [[0, 'k0', 'v0'], [1, 'k2', 'v2'], [2, 'k4', 'v4']]);
  });
});

test('timestamps out of the topic\'s range: one fails INVALID_TIMESTAMP, several fail INVALID_RECORD each with its own message', async () => {
  await withTopic('record-errors-timestamps', { 'message.timestamp.before.max.ms': '3600000' }, async (brokers, topic, producer) => {
    const now = Date.now();
    const dayAgo = now - 86_400_000;
    const one: ProducerRecord[] = [
      { topic, partition: 0, value: 'fresh-0', timestamp: now },
      { topic, partition: 0, value: 'stale-1', timestamp: dayAgo },
    ];
    const failedOne = reasons(await inOneBatch(producer, one));
    assert.ok(failedOne[1] instanceof BrokerError, String(failedOne[1]));
    assert.equal(failedOne[1].errorCode, INVALID_TIMESTAMP, 'one record named: the broker\'s code');
    assert.match(failedOne[1].message, new RegExp(`Timestamp ${dayAgo} of message with offset 1 is out of range`));
    assertRejectedWithBatch(failedOne, [0], /another record of it was invalid \(INVALID_TIMESTAMP: Timestamp/);

    const several: ProducerRecord[] = [
      { topic, partition: 0, value: 'stale-a', timestamp: dayAgo },
      { topic, partition: 0, value: 'fresh-b', timestamp: now },
      { topic, partition: 0, value: 'stale-c', timestamp: dayAgo - 1 },
    ];
    const failedSeveral = reasons(await inOneBatch(producer, several));
    for (const [i, timestamp] of [[0, dayAgo], [2, dayAgo - 1]] as const) {
      const error = failedSeveral[i];
      assert.ok(error instanceof BrokerError, `record ${i}: ${String(error)}`);
      assert.equal(error.errorCode, INVALID_RECORD, 'several records named: INVALID_RECORD, the message says why');
      assert.match(error.message, new RegExp(`Timestamp ${timestamp} of message with offset ${i} is out of range`));
    }
    assertRejectedWithBatch(failedSeveral, [1], /2 other records of it were invalid/);

    await resend(producer, one, [0]);
    await resend(producer, several, [1]);
    const read = await consume(brokers, topic, 2, 10_000);
    assert.deepEqual(read.map((r) => [r.offset, r.value]), [[0, 'fresh-0'], [1, 'fresh-b']]);
  });
});
