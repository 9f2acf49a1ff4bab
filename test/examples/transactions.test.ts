/**
 * examples/transactions.ts runs as documented against the real broker, and what it leaves is what it says: Kafka's
 * console consumer with read_committed sees the committed 1,000 records and none of the aborted ones.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../../scripts/kafka/config.js';
import { createTopic, uniqueTopic, useBroker } from '../helpers/broker.js';
import { consume } from '../helpers/readback.js';

test('examples/transactions.ts commits one transaction and aborts the other', { timeout: 180_000 }, async () => {
  const brokers = await useBroker();
  const topic = uniqueTopic('example-txn');
  await createTopic(topic, 3);
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', join('examples', 'transactions.ts'), topic], {
      cwd: ROOT, env: { ...process.env, KAFKA_BROKERS: brokers.join(',') }, timeout: 120_000,
    }, (error, out, err) => (error ? reject(new Error(`${String(error)}\n${err}`)) : resolve(out)));
  });
  assert.match(stdout, /committed transaction: 1000 records sent/);
  assert.match(stdout, /aborted transaction: the enrichment service is down/);
  const visible = await consume(brokers, topic, 1001, { isolationLevel: 'read_committed', idleMs: 8000 });
  assert.equal(visible.length, 1000);
  assert.ok(visible.every((r) => r.value.startsWith('committed ')));
});
