/**
 * Atomics.waitAsync does not keep Node's event loop alive, so the producer decides itself what does: pending work
 * keeps the process alive until it has a result; an idle producer, closed or not, lets the process exit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createTopic, uniqueTopic, useBroker } from '../helpers/broker.js';

test('a pending send keeps the process alive until delivered; the idle, unclosed producer then lets it exit', async () => {
  const brokers = await useBroker();
  const topic = uniqueTopic('lifecycle');
  await createTopic(topic, 1);
  const script = fileURLToPath(new URL('./fixtures/idle-producer.ts', import.meta.url));
  const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
    // The timeout only turns a hang into a failure (a killed child has no exit code 0); it measures nothing.
    execFile(process.execPath, ['--import', 'tsx', script, brokers.join(','), topic], { timeout: 90_000 }, (error, out) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout: out });
    });
  });
  assert.match(stdout, /^delivered 0:0$/m, 'the record was delivered before the process ended');
  assert.equal(code, 0, 'the process exited by itself');
});
