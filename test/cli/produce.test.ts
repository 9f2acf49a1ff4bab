/**
 * `ringkafka produce` against a stand-in producer (no broker): stdin is read no faster than the producer settles
 * what it was given, groups sent by the linger timer included.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { PRODUCE_USAGE, runProduce } from '../../src/cli/produce.js';
import { Producer } from '../../src/main/index.js';
import { Progress } from '../../src/cli/progress.js';
import { UsageError } from '../../src/cli/args.js';

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

/** `produce --format ndjson --key-field FIELD` over `text` against a stand-in that takes every record. */
async function produceKeyedBy(t: TestContext, field: string, text: string): Promise<{ status: number; keys: unknown[]; report: string }> {
  const { connect, sendBatch, close } = Producer.prototype;
  t.after(() => Object.assign(Producer.prototype, { connect, sendBatch, close }));
  const keys: unknown[] = [];
  Producer.prototype.connect = async () => undefined;
  Producer.prototype.close = async () => undefined;
  Producer.prototype.sendBatch = (async (records: { key: unknown }[]) => {
    keys.push(...records.map((record) => record.key));
    return { failures: [] };
  }) as unknown as typeof Producer.prototype.sendBatch;
  const input = new PassThrough();
  const err = new PassThrough();
  let report = '';
  err.on('data', (chunk: Buffer) => (report += chunk.toString()));
  const run = runProduce(['--topic', 't', '--brokers', '127.0.0.1:1', '--key-field', field, '--format', 'ndjson'], input, new PassThrough(), err as unknown as NodeJS.WriteStream);
  input.end(text);
  return { status: await run, keys, report };
}

test('--key-field takes a field of the line\'s own: one inherited from Object (constructor) is no key, and the line fails', async (t) => {
  const { keys, report } = await produceKeyedBy(t, 'constructor', '{"a":1}\n{"constructor":"own"}\n');
  assert.deepEqual(keys, ['own'], 'only the line with its own field was sent');
  assert.match(report, /no "constructor" field for the key/);
});

test('--key-field refuses a number JSON cannot hold exactly: two ids past 2^53 became one key, 1e400 the key "null"', async (t) => {
  const text = '{"id":12345678901234567891}\n{"id":1e400}\n{"id":9007199254740991}\n{"id":"12345678901234567891"}\n';
  const { status, keys, report } = await produceKeyedBy(t, 'id', text);
  assert.equal(status, 1);
  assert.deepEqual(keys, ['9007199254740991', '12345678901234567891']);
  assert.match(report, /line 1: the "id" field is a number JSON cannot hold exactly \(read as 12345678901234567000\): send it as a string/);
  assert.match(report, /line 2: the "id" field is a number JSON cannot hold exactly \(read as Infinity\)/);
});

test('at the end of the input what lingers in the producer is flushed, not left to wait out lingerMs before close', async (t) => {
  const { connect, sendBatch, close, flush } = Producer.prototype;
  t.after(() => Object.assign(Producer.prototype, { connect, sendBatch, close, flush }));
  const events: string[] = [];
  Producer.prototype.connect = async () => undefined;
  Producer.prototype.close = async () => void events.push('close');
  Producer.prototype.flush = async () => void events.push('flush');
  Producer.prototype.sendBatch = (async () => {
    events.push('sendBatch');
    await new Promise((resolve) => setImmediate(resolve));
    return { failures: [] };
  }) as unknown as typeof Producer.prototype.sendBatch;
  const input = new PassThrough();
  const run = runProduce(['--topic', 't', '--brokers', '127.0.0.1:1', '--linger-ms', '8000'], input, new PassThrough(), new PassThrough() as unknown as NodeJS.WriteStream);
  input.end('a\n');
  assert.equal(await run, 0);
  assert.deepEqual(events, ['sendBatch', 'flush', 'close']);
});

test('SIGINT while the broker answers nothing: close ends the wait within its timeout, and the summary counts what it failed', { timeout: 20_000 }, async (t) => {
  const { connect, sendBatch, close } = Producer.prototype;
  t.after(() => Object.assign(Producer.prototype, { connect, sendBatch, close }));
  // A stalled broker: no call settles until close, which fails what is left (as the producer's close does).
  const pending: { resolve: (result: unknown) => void; count: number }[] = [];
  let closedWithin: number | undefined;
  Producer.prototype.connect = async () => undefined;
  Producer.prototype.sendBatch = ((records: unknown[]) =>
    new Promise((resolve) => pending.push({ resolve, count: records.length }))) as unknown as typeof Producer.prototype.sendBatch;
  Producer.prototype.close = (async (options?: { timeoutMs?: number }) => {
    closedWithin = options?.timeoutMs;
    const reason = Object.assign(new Error('closed before the broker answered'), { name: 'ProducerClosedError' });
    for (const { resolve, count } of pending.splice(0)) resolve({ failures: Array.from({ length: count }, (_, index) => ({ index, reason })) });
  }) as typeof Producer.prototype.close;
  const input = new PassThrough();
  const err = new PassThrough();
  let report = '';
  err.on('data', (chunk: Buffer) => (report += chunk.toString()));
  const run = runProduce(['--topic', 't', '--brokers', '127.0.0.1:1'], input, new PassThrough(), err as unknown as NodeJS.WriteStream);
  input.write('a\nb\nc\n');
  while (pending.length === 0) await new Promise((resolve) => setTimeout(resolve, 5)); // the linger timer sent them
  // The input stays open, as a terminal's does: only the signal ends the reading. It waited for the calls to settle
  // on their own before close, for their whole delivery timeout.
  process.emit('SIGINT');
  assert.equal(await run, 1);
  assert.equal(closedWithin, 30_000);
  assert.match(report, /stopping: the lines read are sent and waited for up to 30 s/);
  assert.match(report, /0 records delivered to t, 3 failed \(interrupted: stopped reading\)/);
});

/** A stand-in producer that delivers everything, until restore(); `values` are those it was given, as text. */
function deliverAll(): { values: string[]; restore: () => void } {
  const { connect, sendBatch, close } = Producer.prototype;
  const values: string[] = [];
  Producer.prototype.connect = async () => undefined;
  Producer.prototype.close = async () => undefined;
  Producer.prototype.sendBatch = (async (records: { value: Uint8Array | string }[]) => {
    values.push(...records.map((r) => Buffer.from(r.value).toString()));
    return { failures: [] };
  }) as unknown as typeof Producer.prototype.sendBatch;
  return { values, restore: () => Object.assign(Producer.prototype, { connect, sendBatch, close }) };
}

/** A NodeJS.ReadableStream that is no Readable, as the type allows: its methods but no destroy(); only `chunks` is read. */
function iteratorOnly(chunks: AsyncIterableIterator<string>): NodeJS.ReadableStream {
  const unused = (): never => assert.fail('only the async iterator is read');
  return Object.assign(new EventEmitter(), {
    readable: true, read: unused, setEncoding: unused, pause: unused, resume: unused, isPaused: unused, pipe: unused,
    unpipe: unused, unshift: unused, wrap: unused, [Symbol.asyncIterator]: () => chunks,
  });
}

test('an input that is a NodeJS.ReadableStream but no Readable is read to its end, lines split over chunks included', { timeout: 10_000 }, async (t) => {
  const { values, restore } = deliverAll();
  t.after(restore);
  const chunks = (async function* () {
    yield 'a\nb';
    yield '\nc\n';
  })();
  assert.equal(await runProduce(['--topic', 't', '--brokers', '127.0.0.1:1'], iteratorOnly(chunks), new PassThrough(), new PassThrough() as unknown as NodeJS.WriteStream), 0);
  assert.deepEqual(values, ['a', 'b', 'c']);
});

test('SIGINT with an input that is a NodeJS.ReadableStream but no Readable: the reading ends by its iterator\'s return(), without an error', { timeout: 10_000 }, async (t) => {
  const { values, restore } = deliverAll();
  t.after(restore);
  // Two lines, then a wait for more that never ends, as a terminal's.
  let returned = false;
  let given = false;
  const chunks: AsyncIterableIterator<string> = {
    next: async () => (given ? new Promise(() => undefined) : ((given = true), { done: false, value: 'a\nb\n' })),
    return: async () => ((returned = true), { done: true, value: undefined }),
    [Symbol.asyncIterator]: () => chunks,
  };
  const err = new PassThrough();
  let report = '';
  err.on('data', (chunk: Buffer) => (report += chunk.toString()));
  const run = runProduce(['--topic', 't', '--brokers', '127.0.0.1:1'], iteratorOnly(chunks), new PassThrough(), err as unknown as NodeJS.WriteStream);
  while (values.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
  process.emit('SIGINT');
  assert.equal(await run, 1);
  assert.deepEqual(values, ['a', 'b']);
  assert.ok(returned, 'the iterator\'s return() was called');
  assert.match(report, /2 records delivered to t, 0 failed \(interrupted: stopped reading\)/);
});

/** Runs produce over `input` against a stand-in producer that delivers everything; what it sent and reported. */
async function produceAll(argv: string[], input: string | Buffer): Promise<{ values: string[]; report: string; status: number }> {
  const { values, restore } = deliverAll();
  const stdin = new PassThrough();
  const err = new PassThrough();
  let report = '';
  err.on('data', (chunk: Buffer) => (report += chunk.toString()));
  try {
    const run = runProduce(['--topic', 't', '--brokers', '127.0.0.1:1', ...argv], stdin, new PassThrough(), err as unknown as NodeJS.WriteStream);
    stdin.end(input);
    const status = await run;
    return { values, report, status };
  } finally {
    restore();
  }
}

test('a lone \\r is part of its line (readline cut the record in two there), CRLF ends a line, and a byte order mark does not break line 1', async (t) => {
  const lines = await produceAll([], 'one\rtwo\r\nthree\n');
  assert.equal(lines.status, 0, lines.report);
  assert.deepEqual(lines.values, ['one\rtwo', 'three']);
  const ndjson = await produceAll(['--format', 'ndjson'], '\uFEFF{"a":1}\r\n{"b":2}\n');
  assert.equal(ndjson.status, 0, ndjson.report);
  assert.deepEqual(ndjson.values, ['{"a":1}', '{"b":2}']);
});

test('a line longer than maxRequestBytes is reported and skipped without being held; the lines after it are sent', async (t) => {
  // Without a limit, input with no newline grew one string until the process failed (a RangeError at 512 MB).
  const long = 'x'.repeat(1024 * 1024 + 1);
  const { values, report, status } = await produceAll([], `first\n${long}\nlast\n`);
  assert.equal(status, 1);
  assert.deepEqual(values, ['first', 'last']);
  assert.match(report, /line 2: longer than maxRequestBytes \(1,048,577 bytes, at most 1,048,576\): not sent/);
  assert.match(report, /2 records delivered to t, 1 failed/);
});

test('the progress line is given the bytes and latency of what was delivered, not zeros', async (t) => {
  const { tick } = Progress.prototype;
  t.after(() => (Progress.prototype.tick = tick));
  const ticks: [number, number, number][] = [];
  Progress.prototype.tick = function (bytes: number, records: number, latencyMs: number) {
    ticks.push([bytes, records, latencyMs]);
  };
  await produceAll([], Buffer.from([0x61, 0x62, 0x63, 0x0a, 0xc3, 0xa9, 0x0a, 0xff, 0x0a]));
  assert.equal(ticks.length, 1);
  const [bytes, records, latencyMs] = ticks[0]!;
  assert.deepEqual([bytes, records], [6, 3], 'three bytes, two (é) and one (an invalid byte, sent as it is) in three records');
  assert.ok(latencyMs > 0);
});

test('a failure the linger timer\'s wait for a place hears (another call\'s rejection) ends the command: it was dropped, and the summary said "0 failed"', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { connect, sendBatch, close } = Producer.prototype;
  t.after(() => Object.assign(Producer.prototype, { connect, sendBatch, close }));
  const calls: { resolve: (result: unknown) => void; reject: (error: Error) => void }[] = [];
  Producer.prototype.connect = async () => undefined;
  Producer.prototype.close = async () => undefined;
  Producer.prototype.sendBatch = (() => new Promise((resolve, reject) => calls.push({ resolve, reject }))) as unknown as typeof Producer.prototype.sendBatch;
  const input = new PassThrough();
  const err = new PassThrough();
  let report = '';
  err.on('data', (chunk: Buffer) => (report += chunk.toString()));
  const run = runProduce(['--topic', 't', '--brokers', '127.0.0.1:1'], input, new PassThrough(), err as unknown as NodeJS.WriteStream);
  run.catch(() => undefined);
  const turns = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  // Eight lines, each sent alone by the linger timer: the eighth call fills the set, and its timer waits for a place.
  for (let line = 1; line <= 8; line++) {
    input.write(`line ${line}\n`);
    await turns();
    t.mock.timers.tick(10);
    await turns();
  }
  assert.equal(calls.length, 8);
  calls[0]!.reject(new Error('the first call failed whole'));
  await turns();
  for (const call of calls.slice(1)) call.resolve({ failures: [] });
  input.end();
  await assert.rejects(run, /the first call failed whole/);
  assert.doesNotMatch(report, /0 failed/);
});

test('--partition above 2^31 - 1 (Kafka\'s partitions are int32: 1e20 was taken, and every line failed) is a usage mistake naming the flag', async (t) => {
  const { values, restore } = deliverAll();
  t.after(restore);
  const produce = (partition: string): Promise<number> => {
    const input = new PassThrough();
    input.end('a\n');
    return runProduce(['--topic', 't', '--brokers', '127.0.0.1:1', '--partition', partition], input, new PassThrough(), new PassThrough() as unknown as NodeJS.WriteStream);
  };
  for (const partition of ['1e20', '2147483648']) {
    await assert.rejects(produce(partition), (error: unknown) =>
      error instanceof UsageError && error.message === `--partition must be an integer from 0 to 2147483647, got "${partition}"`);
  }
  assert.deepEqual(values, [], 'nothing was sent');
  assert.equal(await produce('2147483647'), 0);
  assert.deepEqual(values, ['a']);
});

test('the usage text names the line ends \\n and \\r in words, not as a line break and a carriage return', () => {
  // A raw \r in the help moved the cursor to the line's start, and the text after it overwrote the text before.
  assert.equal(PRODUCE_USAGE.includes('\r'), false);
  assert.match(PRODUCE_USAGE, /Lines end at \\n \(a \\r before it is\ndropped\)/);
});
