/**
 * Checks on what the producer reported, shared by the integration tests: every send fulfilled, and the topic
 * holding exactly the records sent, each where its send said it is (read back by Kafka's own tools).
 */
import assert from 'node:assert/strict';
import type { RecordMetadata } from '../../src/main/types.js';
import { consume, endOffsets, type ConsumedRecord } from './readback.js';

/** Every send fulfilled; the first failure is shown if not. */
export function fulfilled(results: PromiseSettledResult<RecordMetadata>[]): RecordMetadata[] {
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  assert.equal(failed.length, 0, `${failed.length} sends rejected; first: ${String(failed[0]?.reason)}`);
  return results.map((r) => (r as PromiseFulfilledResult<RecordMetadata>).value);
}

/**
 * Reads `topic` back with Kafka's console consumer and checks that it holds exactly the records of `sent` (value →
 * what its send reported): each once, at its reported partition and offset, and nothing else (GetOffsetShell's end
 * offsets add up to the count). Values must be unique. Resolves with the records in the consumer's order.
 */
export async function readBackExactly(
  brokers: readonly string[], topic: string, sent: ReadonlyMap<string, RecordMetadata>,
): Promise<ConsumedRecord[]> {
  const consumed = await consume(brokers, topic, sent.size);
  assert.equal(consumed.length, sent.size, 'every record read back');
  const seen = new Set<string>();
  for (const record of consumed) {
    const what = record.value.slice(0, 30);
    assert.ok(!seen.has(record.value), `${what} read twice`);
    seen.add(record.value);
    const reported = sent.get(record.value);
    assert.ok(reported !== undefined, `${what} was never sent`);
    assert.deepEqual([record.partition, record.offset], [reported.partition, reported.offset], what);
  }
  const offsets = await endOffsets(brokers, topic);
  assert.equal([...offsets.values()].reduce((x, y) => x + y, 0), sent.size, 'no record written twice');
  return consumed;
}
