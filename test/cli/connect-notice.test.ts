/**
 * A connection that takes long is said on stderr (a dead --brokers printed nothing for 60 s, and looked hung); a
 * quick one says nothing, and stdout stays clean. Timers are mocked: the connection "takes" as long as the test
 * ticks the clock.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { runPerf } from '../../src/cli/perf.js';
import { runProduce } from '../../src/cli/produce.js';
import { connectSaying } from '../../src/cli/connect-notice.js';
import type { Producer } from '../../src/main/index.js';
import { capturedOutput, standInProducer } from './fixtures/stand-in-producer.js';

/** connect() as given; sendBatch delivers everything; close does nothing. */
function standIn(t: TestContext, connect: () => Promise<void>): void {
  standInProducer(t, { connect });
}

const COMMANDS = {
  produce: (argv: string[], out: PassThrough, err: NodeJS.WriteStream) => {
    const input = new PassThrough();
    input.end('a\n');
    return runProduce(['--topic', 't', ...argv], input, out, err);
  },
  perf: (argv: string[], out: PassThrough, err: NodeJS.WriteStream) =>
    runPerf(['--topic', 't', '--records', '10', '--report-interval-ms', '100000', ...argv], out, err),
};

for (const [name, command] of Object.entries(COMMANDS)) {
  test(`${name}: a connection with no answer after a second is said on stderr, naming the brokers; Ctrl-C still ends it`, async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    standIn(t, () => new Promise<void>(() => undefined)); // a cluster that never answers
    const { out, err, stdout, stderr } = capturedOutput();
    const run = command(['--brokers', '127.0.0.1:1,127.0.0.2:2'], out, err);
    await new Promise((resolve) => setImmediate(resolve));
    t.mock.timers.tick(999);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(stderr(), '', 'nothing within the first second');
    t.mock.timers.tick(1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.match(stderr(), /^connecting to 127\.0\.0\.1:1, 127\.0\.0\.2:2: no answer yet \(giving up after 60 s; Ctrl-C stops\)\n$/);
    process.emit('SIGINT');
    await assert.rejects(run, /interrupted while connecting/);
    assert.equal(stdout(), '', 'stdout is the command\'s output alone');
  });

  test(`${name}: a quick connection says nothing about it`, async (t) => {
    standIn(t, async () => undefined);
    const { out, err, stderr } = capturedOutput();
    assert.equal(await command(['--brokers', '127.0.0.1:1'], out, err), 0);
    assert.doesNotMatch(stderr(), /connecting/);
  });
}

test('a connection whose last attempt failed is said with why, not as "no answer yet"', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const never = { connect: () => new Promise<void>(() => undefined) } as unknown as Producer;
  const lines: string[] = [];
  const stop = new AbortController();
  const connecting = connectSaying(never, ['127.0.0.1:1'], 60_000, stop.signal, (line) => lines.push(line),
    () => 'connect ECONNREFUSED 127.0.0.1:1');
  t.mock.timers.tick(1000);
  assert.deepEqual(lines, [
    'connecting to 127.0.0.1:1: the last attempt failed (connect ECONNREFUSED 127.0.0.1:1), retrying '
    + '(giving up after 60 s; Ctrl-C stops)',
  ]);
  stop.abort();
  await assert.rejects(connecting, /interrupted while connecting/);
});
