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
import { Producer } from '../../src/main/index.js';

/** connect() as given; sendBatch delivers everything; close does nothing. */
function standIn(t: TestContext, connect: () => Promise<void>): void {
  const { connect: realConnect, sendBatch, close } = Producer.prototype;
  t.after(() => Object.assign(Producer.prototype, { connect: realConnect, sendBatch, close }));
  Producer.prototype.connect = connect;
  Producer.prototype.close = async () => undefined;
  Producer.prototype.sendBatch = (async () => ({ failures: [] })) as unknown as typeof Producer.prototype.sendBatch;
}

const COMMANDS = {
  produce: (argv: string[], out: PassThrough, err: PassThrough) => {
    const input = new PassThrough();
    input.end('a\n');
    return runProduce(['--topic', 't', ...argv], input, out, err as unknown as NodeJS.WriteStream);
  },
  perf: (argv: string[], out: PassThrough, err: PassThrough) =>
    runPerf(['--topic', 't', '--records', '10', '--report-interval-ms', '100000', ...argv], out, err as unknown as NodeJS.WriteStream),
};

for (const [name, command] of Object.entries(COMMANDS)) {
  test(`${name}: a connection with no answer after a second is said on stderr, naming the brokers; Ctrl-C still ends it`, async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    standIn(t, () => new Promise<void>(() => undefined)); // a cluster that never answers
    const out = new PassThrough();
    const err = new PassThrough();
    let stdout = '';
    let stderr = '';
    out.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    err.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const run = command(['--brokers', '127.0.0.1:1,127.0.0.2:2'], out, err);
    await new Promise((resolve) => setImmediate(resolve));
    t.mock.timers.tick(999);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(stderr, '', 'nothing within the first second');
    t.mock.timers.tick(1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.match(stderr, /^connecting to 127\.0\.0\.1:1, 127\.0\.0\.2:2: no answer yet \(giving up after 60 s; Ctrl-C stops\)\n$/);
    process.emit('SIGINT');
    await assert.rejects(run, /interrupted while connecting/);
    assert.equal(stdout, '', 'stdout is the command\'s output alone');
  });

  test(`${name}: a quick connection says nothing about it`, async (t) => {
    standIn(t, async () => undefined);
    const err = new PassThrough();
    let stderr = '';
    err.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    assert.equal(await command(['--brokers', '127.0.0.1:1'], new PassThrough(), err), 0);
    assert.doesNotMatch(stderr, /connecting/);
  });
}
