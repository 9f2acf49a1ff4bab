/**
 * A `--topic` the producer can never send to is a usage mistake (exit status 2, the flag named), for `produce` and
 * `perf` alike: before, every line or record failed with an InvalidRecordError about record.topic, after the
 * connection, and `produce` read all of its input to fail it (with `tail -f`, forever).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { runProduce } from '../../src/cli/produce.js';
import { UsageError } from '../../src/cli/args.js';
import { capturedOutput, standInProducer } from './fixtures/stand-in-producer.js';
import { runPerf } from '../../src/cli/perf.js';

const INVALID = ['bad topic!', '', 'x'.repeat(250), '.', '..', 'é'];

const namesTopic = (error: unknown): boolean => error instanceof UsageError && /^--topic /.test(error.message);

/** A stand-in producer that fails the test if it connects; returns how many sendBatch calls it saw. */
function refusingProducer(t: TestContext): () => number {
  let calls = 0;
  standInProducer(t, {
    connect: async () => assert.fail('no connection for a usage mistake'),
    sendBatch: async () => {
      calls++;
      return { failures: [] };
    },
  });
  return () => calls;
}

test('produce: an invalid --topic is refused while the flags are read; no line is read or sent', async (t) => {
  const sent = refusingProducer(t);
  for (const topic of INVALID) {
    const input = new PassThrough();
    input.end('a\nb\n');
    await assert.rejects(runProduce(['--topic', topic, '--brokers', '127.0.0.1:1'], input, new PassThrough(), capturedOutput().err), namesTopic, JSON.stringify(topic));
    assert.equal(input.readableLength, 4, `${JSON.stringify(topic)}: the input is not read`);
  }
  assert.equal(sent(), 0);
  await assert.rejects(runProduce(['--topic', 'bad topic!'], new PassThrough(), new PassThrough(), capturedOutput().err), {
    name: 'UsageError',
    message: '--topic must be at most 249 letters, digits, \'.\', \'_\' or \'-\' (and not "." or ".."), got "bad topic!"',
  });
});

test('perf: an invalid --topic is refused while the flags are read; no record is sent', async (t) => {
  const sent = refusingProducer(t);
  for (const topic of INVALID) {
    const { out, err } = capturedOutput();
    await assert.rejects(runPerf(['--topic', topic, '--brokers', '127.0.0.1:1', '--records', '10', '--json'], out, err), namesTopic, JSON.stringify(topic));
  }
  assert.equal(sent(), 0);
});

test('the longest topic Kafka allows (249 characters of letters, digits, ".", "_", "-") is taken by both commands', async (t) => {
  standInProducer(t);
  const topic = `a.b_c-${'x'.repeat(243)}`;
  const input = new PassThrough();
  input.end('a\n');
  const { out, err } = capturedOutput();
  assert.equal(await runProduce(['--topic', topic, '--brokers', '127.0.0.1:1'], input, out, err), 0);
  assert.equal(await runPerf(['--topic', topic, '--brokers', '127.0.0.1:1', '--records', '10', '--json'], out, err), 0);
});
