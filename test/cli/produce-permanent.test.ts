/**
 * `ringkafka produce` stops reading at a failure every later line would meet too (a topic that does not exist, one
 * not allowed, refused credentials, a closed producer), says it once and exits 1 at once; a transient failure does
 * not stop it. Against a stand-in producer (no broker): each group settles a moment after it is sent, all of its
 * records failed with the given reason, as a missing topic's groups do after their wait for metadata.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { runProduce } from '../../src/cli/produce.js';
import { Producer } from '../../src/main/index.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { BrokerError, ConfigError } from '../../src/shared/errors.js';
import { InvalidRecordError } from '../../src/main/serialize.js';
import {
  AuthenticationError, BufferTimeoutError, DeliveryTimeoutError, ProducerClosedError, UnknownTopicError,
} from '../../src/shared/producer-errors.js';

const LINES = 20_000;

interface Run {
  readonly status: number;
  readonly stderr: string;
  /** sendBatch calls made. */
  readonly calls: number;
  /** The timeout close was given. */
  readonly closedWithin: number | undefined;
}

/** Runs produce over LINES lines; every record of every call fails with `reason`. */
async function produceFailing(t: TestContext, reason: Error, flags: readonly string[] = []): Promise<Run> {
  const { connect, sendBatch, close } = Producer.prototype;
  t.after(() => Object.assign(Producer.prototype, { connect, sendBatch, close }));
  let calls = 0;
  let closedWithin: number | undefined;
  Producer.prototype.connect = async () => undefined;
  Producer.prototype.close = (async (options?: { timeoutMs?: number }) => {
    closedWithin = options?.timeoutMs;
  }) as typeof Producer.prototype.close;
  Producer.prototype.sendBatch = (async (records: unknown[]) => {
    calls++;
    await new Promise((resolve) => setImmediate(resolve));
    return { failures: records.map((_, index) => ({ index, reason })) };
  }) as unknown as typeof Producer.prototype.sendBatch;
  const input = new PassThrough();
  const err = new PassThrough();
  let stderr = '';
  err.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const run = runProduce(['--topic', 'missing', '--brokers', '127.0.0.1:1', ...flags], input, new PassThrough(), err as unknown as NodeJS.WriteStream);
  input.end(Array.from({ length: LINES }, (_, i) => `line ${i + 1}\n`).join(''));
  const status = await run;
  return { status, stderr, calls, closedWithin };
}

const PERMANENT: [string, Error][] = [
  ['a topic the cluster says does not exist, for the whole wait (a typo)', new UnknownTopicError('missing', 'topic "missing" is not available: UNKNOWN_TOPIC_OR_PARTITION', {}, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)],
  ['a topic not allowed (metadata)', new UnknownTopicError('missing', 'topic "missing" is not available: TOPIC_AUTHORIZATION_FAILED', {}, ErrorCode.TOPIC_AUTHORIZATION_FAILED)],
  ['a topic not allowed (Produce answer)', new BrokerError(ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'TOPIC_AUTHORIZATION_FAILED', false)],
  ['refused credentials', new AuthenticationError('SASL PLAIN authentication with 127.0.0.1:1 failed: bad password', {}, 'not-sent')],
  ['a closed producer', new ProducerClosedError('not-sent', 'the producer is closed')],
  ['a configuration the producer cannot use', new ConfigError('compression zstd needs the zstd-napi package, which did not load')],
];

for (const [what, reason] of PERMANENT) {
  test(`${what}: the reading stops, the failure is said once, close does not wait, exit 1`, async (t) => {
    const { status, stderr, calls, closedWithin } = await produceFailing(t, reason);
    assert.equal(status, 1);
    // Eight calls under way at most, then the first failure stops the reading: every group of the input (20) was
    // sent before, each waiting its own 60 s on a real cluster.
    assert.ok(calls <= 8, `${calls} groups sent`);
    assert.equal(stderr.split(reason.message).length - 1, 1, `said once:\n${stderr}`);
    assert.match(stderr, new RegExp(`${reason.name}: .*every later line would fail the same way: stopping`));
    assert.doesNotMatch(stderr, /… and \d+ more/);
    assert.match(stderr, new RegExp(`0 records delivered to missing, ${(calls * 1000).toLocaleString('en')} failed \\(stopped reading after line ${calls * 1000}\\)`));
    assert.equal(closedWithin, 0, 'what is still under way fails the same way: close fails it at once');
  });
}

test('a --partition the topic does not have stops the reading as a permanent failure: every line would be refused alike', async (t) => {
  // It was reported for ten lines, then "… and 19990 more", and the whole input was read (with tail -f, for ever).
  const reason = new InvalidRecordError('record.partition must be an integer from 0 to 0 (topic "missing" has 1 partition), got 5');
  const { status, stderr, calls, closedWithin } = await produceFailing(t, reason, ['--partition', '5']);
  assert.equal(status, 1);
  assert.ok(calls <= 8, `${calls} groups sent`);
  assert.match(stderr, /InvalidRecordError: record\.partition must be .*every later line would fail the same way: stopping/);
  assert.doesNotMatch(stderr, /… and \d+ more/);
  assert.equal(closedWithin, 0);
});

const TRANSIENT: [string, Error][] = [
  ['a full buffer', new BufferTimeoutError('no buffer space within bufferTimeoutMs')],
  ['a delivery timeout', new DeliveryTimeoutError('unknown', 'no result within deliveryTimeoutMs')],
  ['a topic whose metadata never came (the cluster unreachable)', new UnknownTopicError('missing', 'topic "missing" is not available: connect ECONNREFUSED')],
  ['a topic without a leader for the whole wait', new UnknownTopicError('missing', 'topic "missing" is not available: LEADER_NOT_AVAILABLE', {}, ErrorCode.LEADER_NOT_AVAILABLE)],
  ['a record the broker refused', new BrokerError(ErrorCode.MESSAGE_TOO_LARGE, 'MESSAGE_TOO_LARGE', false)],
];

for (const [what, reason] of TRANSIENT) {
  test(`${what} does not stop the run: every line is still sent and counted`, async (t) => {
    const { status, stderr, calls, closedWithin } = await produceFailing(t, reason);
    assert.equal(status, 1);
    assert.equal(calls, LINES / 1000);
    assert.match(stderr, /line 1: /);
    assert.match(stderr, /0 records delivered to missing, 20,000 failed\n$/);
    assert.equal(closedWithin, 30_000);
  });
}
