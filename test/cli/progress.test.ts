/**
 * The progress line on stderr: on a terminal, lines printed while it is shown stay lines of their own; a group of
 * which nothing was acknowledged has no latency; stop() ends only a line that is there. Timers are mocked.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { Progress } from '../../src/cli/progress.js';
import { runProduce } from '../../src/cli/produce.js';
import { Producer } from '../../src/main/index.js';

/** A stream that says it is a terminal (or not), and what was written to it. */
function stream(tty: boolean): { stream: NodeJS.WriteStream; written: () => string } {
  const s = new PassThrough();
  let written = '';
  s.on('data', (chunk: Buffer) => (written += chunk.toString()));
  return { stream: Object.assign(s, { isTTY: tty }) as unknown as NodeJS.WriteStream, written: () => written };
}

const turns = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

test('on a terminal, an error line printed while the progress line is shown is a line of its own ("0 failedline 2: not JSON" before)', async (t: TestContext) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const { connect, sendBatch, close } = Producer.prototype;
  t.after(() => Object.assign(Producer.prototype, { connect, sendBatch, close }));
  Producer.prototype.connect = async () => undefined;
  Producer.prototype.close = async () => undefined;
  Producer.prototype.sendBatch = (async () => ({ failures: [] })) as unknown as typeof Producer.prototype.sendBatch;
  const err = stream(true);
  const input = new PassThrough();
  const run = runProduce(['--topic', 't', '--brokers', '127.0.0.1:1', '--format', 'ndjson'], input, new PassThrough(), err.stream);
  input.write('{"a":1}\n');
  await turns();
  t.mock.timers.tick(10); // the linger timer sends line 1
  await turns();
  t.mock.timers.tick(1000); // the progress line is drawn
  await turns();
  assert.match(err.written(), /1 records acknowledged, 0 failed$/, 'the progress line is shown');
  input.end('oops\n');
  assert.equal(await run, 1);
  const written = err.written();
  assert.doesNotMatch(written, /failedline/);
  assert.match(written, /\r\x1b\[2Kline 2: not JSON \([^)]*\)\n/, 'the progress line was cleared first');
  assert.match(written, /\n1 record delivered to t, 1 failed\n$/, 'the summary has a line of its own');
});

test('a group of which nothing was acknowledged does not make the max latency (a missing topic\'s 60 s wait did)', (t: TestContext) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const err = stream(false);
  const progress = new Progress(err.stream, 5000);
  progress.start(() => 'status');
  progress.tick(0, 0, 60_000);
  progress.tick(100, 1, 5);
  t.mock.timers.tick(5000);
  progress.stop();
  assert.match(err.written(), /, 5\.0 ms avg latency, 5\.0 ms max latency; status\n$/);
});

test('stop() ends a progress line on a terminal only when one is shown: no empty line before an error when none was drawn', (t: TestContext) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const never = stream(true);
  new Progress(never.stream, 1000).stop(); // never started (the connection failed)
  const early = stream(true);
  const quick = new Progress(early.stream, 1000);
  quick.start(() => 'status');
  quick.stop(); // ended before its first line
  assert.equal(never.written() + early.written(), '');
  const shown = stream(true);
  const progress = new Progress(shown.stream, 1000);
  progress.start(() => 'status');
  t.mock.timers.tick(1000);
  progress.stop();
  assert.match(shown.written(), /^\r\x1b\[2K.*; status\n$/);
});

test('print() without a progress line shown, or not on a terminal, writes the line alone', (t: TestContext) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const tty = stream(true);
  new Progress(tty.stream, 1000).print('line 3: not JSON');
  const log = stream(false);
  const progress = new Progress(log.stream, 1000);
  progress.start(() => 'status');
  t.mock.timers.tick(1000);
  progress.print('line 4: not JSON');
  progress.stop();
  assert.equal(tty.written(), 'line 3: not JSON\n');
  assert.match(log.written(), /; status\nline 4: not JSON\n$/);
});
