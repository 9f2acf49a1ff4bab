/**
 * `ringkafka produce` against a stand-in producer (no broker): stdin is read no faster than the producer settles
 * what it was given, groups sent by the linger timer included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { runProduce } from '../../src/cli/produce.js';
import { Producer } from '../../src/main/index.js';

test('groups the linger timer sends count against the limit of calls under way: a producer that never settles stops the reading', async (t) => {
  const { connect, sendBatch, close } = Producer.prototype;
  t.after(() => Object.assign(Producer.prototype, { connect, sendBatch, close }));
  let calls = 0;
  const release: (() => void)[] = [];
  Producer.prototype.connect = async () => undefined;
  Producer.prototype.close = async () => undefined;
  Producer.prototype.sendBatch = (() => {
    calls++;
    return new Promise((resolve) => release.push(() => resolve({ failures: [] })));
  }) as unknown as typeof Producer.prototype.sendBatch;
  const input = new PassThrough();
  const err = new PassThrough();
  let summary = '';
  err.on('data', (chunk: Buffer) => (summary += chunk.toString()));
  const run = runProduce(['--topic', 't', '--brokers', '127.0.0.1:1'], input, new PassThrough(), err as unknown as NodeJS.WriteStream);
  // Twenty groups' worth of lines, each burst waited out past the 10 ms linger so the timer sends it alone.
  for (let burst = 0; burst < 20; burst++) {
    input.write('a\nb\nc\n');
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  assert.ok(calls <= 8, `${calls} calls under way: the limit is 8 (every timer group used to be one more)`);
  input.end();
  let done = false;
  const status = run.finally(() => (done = true));
  while (!done) {
    for (const settle of release.splice(0)) settle();
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
  assert.equal(await status, 0);
  assert.match(summary, /60 records delivered to t, 0 failed/, 'every line was still sent');
});

test('--key-field takes a field of the line\'s own: one inherited from Object (constructor) is no key, and the line fails', async (t) => {
  const { connect, sendBatch, close } = Producer.prototype;
  t.after(() => Object.assign(Producer.prototype, { connect, sendBatch, close }));
  const sent: unknown[] = [];
  Producer.prototype.connect = async () => undefined;
  Producer.prototype.close = async () => undefined;
  Producer.prototype.sendBatch = (async (records: unknown[]) => {
    sent.push(...records);
    return { failures: [] };
  }) as unknown as typeof Producer.prototype.sendBatch;
  const input = new PassThrough();
  const err = new PassThrough();
  let report = '';
  err.on('data', (chunk: Buffer) => (report += chunk.toString()));
  const run = runProduce(['--topic', 't', '--brokers', '127.0.0.1:1', '--key-field', 'constructor', '--format', 'ndjson'], input, new PassThrough(), err as unknown as NodeJS.WriteStream);
  input.end('{"a":1}\n{"constructor":"own"}\n');
  await run;
  assert.deepEqual(sent.map((r) => (r as { key: unknown }).key), ['own'], 'only the line with its own field was sent');
  assert.match(report, /no "constructor" field for the key/);
});
