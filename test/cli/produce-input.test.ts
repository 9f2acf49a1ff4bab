/**
 * What `ringkafka produce` sends of its input's bytes, and what it does when its input fails: against a stand-in
 * producer (no broker).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { PassThrough, Readable } from 'node:stream';
import { runProduce } from '../../src/cli/produce.js';
import { UsageError } from '../../src/cli/args.js';
import type { ProducerRecord } from '../../src/main/index.js';
import { capturedOutput, standInProducer } from './fixtures/stand-in-producer.js';

/** A stand-in producer that delivers everything; the records it was given. */
function delivered(t: Parameters<typeof standInProducer>[0]): ProducerRecord[] {
  const records: ProducerRecord[] = [];
  standInProducer(t, {
    sendBatch: async (batch) => {
      records.push(...batch);
      return { failures: [] };
    },
  });
  return records;
}

/** The bytes a record's value goes out as: a string as UTF-8 (as the producer encodes it), bytes as they are. */
const bytesOf = (value: unknown): Buffer => (typeof value === 'string' ? Buffer.from(value) : Buffer.from(value as Uint8Array));

async function produce(argv: string[], input: Buffer): Promise<{ status: number; stderr: string }> {
  const stdin = new PassThrough();
  const { out, err, stderr } = capturedOutput();
  const run = runProduce(['--topic', 't', '--brokers', '127.0.0.1:1', ...argv], stdin, out, err);
  stdin.end(input);
  return { status: await run, stderr: stderr() };
}

test('--format lines sends each line\'s bytes unchanged, invalid UTF-8 included (it went out as U+FFFD, with exit status 0)', async (t) => {
  const records = delivered(t);
  // "café" in Latin-1, a lone continuation byte, a truncated 3-byte sequence, and valid UTF-8 beside them.
  const lines = [Buffer.from([0x63, 0x61, 0x66, 0xe9]), Buffer.from([0x80, 0x41]), Buffer.from([0xe2, 0x82]), Buffer.from('€ ok')];
  const { status, stderr } = await produce([], Buffer.concat(lines.flatMap((line) => [line, Buffer.from('\n')])));
  assert.equal(status, 0, stderr);
  assert.deepEqual(records.map((r) => bytesOf(r.value)), lines);
  assert.match(stderr, /4 records delivered to t, 0 failed/);
});

test('--format ndjson reports a line that is not valid UTF-8 by its number and sends the others; exit status 1', async (t) => {
  const records = delivered(t);
  const input = Buffer.concat([Buffer.from('{"a":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n{"b":"é"}\n')]);
  const { status, stderr } = await produce(['--format', 'ndjson'], input);
  assert.equal(status, 1);
  assert.match(stderr, /line 1: not valid UTF-8/);
  assert.deepEqual(records.map((r) => bytesOf(r.value).toString()), ['{"b":"é"}']);
  assert.match(stderr, /^1 record delivered to t, 1 failed/m);
});

test('--format ndjson still keeps a byte order mark on a later line (not JSON), as before; the first line\'s is dropped', async (t) => {
  const records = delivered(t);
  const { status, stderr } = await produce(['--format', 'ndjson'], Buffer.from('\uFEFF{"a":1}\n\uFEFF{"b":2}\n'));
  assert.equal(status, 1);
  assert.match(stderr, /line 2: not JSON/);
  assert.deepEqual(records.map((r) => bytesOf(r.value).toString()), ['{"a":1}']);
});

test('blank lines are skipped in both formats, Unicode spaces (U+00A0, U+3000) included, as String.trim() skipped them', async (t) => {
  const records = delivered(t);
  const input = Buffer.from('a\n \t\r\n\u00a0\n\u3000 \n\u00a0x\n');
  const lines = await produce([], input);
  assert.equal(lines.status, 0, lines.stderr);
  assert.deepEqual(records.splice(0).map((r) => bytesOf(r.value).toString()), ['a', '\u00a0x']);
  const ndjson = await produce(['--format', 'ndjson'], Buffer.from(' \n\u00a0\n1\n'));
  assert.equal(ndjson.status, 0, ndjson.stderr);
  assert.deepEqual(records.map((r) => bytesOf(r.value).toString()), ['1']);
});

/** An input that gives `chunks`, then fails as a terminal or pipe can (EIO) when more is asked of it. */
function failingInput(chunks: string[]): Readable {
  return new Readable({
    read() {
      const chunk = chunks.shift();
      if (chunk !== undefined) this.push(chunk);
      else this.destroy(Object.assign(new Error('read EIO'), { code: 'EIO' }));
    },
  });
}

test('an input that fails: the lines read are still sent and waited for, the summary says so, and the exit status is 1', async (t) => {
  const records = delivered(t);
  const { out, err, stderr } = capturedOutput();
  // It threw "read EIO" with the group being collected never sent and no summary.
  const status = await runProduce(['--topic', 't', '--brokers', '127.0.0.1:1'], failingInput(['a\nb\n', 'c\n']), out, err);
  assert.equal(status, 1);
  assert.deepEqual(records.map((r) => bytesOf(r.value).toString()), ['a', 'b', 'c']);
  assert.match(stderr(), /input error after line 3: read EIO/);
  assert.match(stderr(), /3 records delivered to t, 0 failed/);
});

test('an input that fails at once: nothing to send, the error and the summary are still said, exit status 1', async (t) => {
  const records = delivered(t);
  const { out, err, stderr } = capturedOutput();
  assert.equal(await runProduce(['--topic', 't', '--brokers', '127.0.0.1:1'], failingInput([]), out, err), 1);
  assert.deepEqual(records, []);
  assert.match(stderr(), /input error after line 0: read EIO/);
  assert.match(stderr(), /0 records delivered to t, 0 failed/);
});

test('the summary groups the failed count\'s digits as it does the delivered count\'s', async (t) => {
  const records = delivered(t);
  const input = Buffer.from(`${'not json\n'.repeat(1_200)}{"ok":1}\n`);
  const { status, stderr } = await produce(['--format', 'ndjson'], input);
  assert.equal(status, 1);
  assert.equal(records.length, 1);
  assert.match(stderr, /1 record delivered to t, 1,200 failed/);
});

test('a directory as stdin (`produce < dir`) is a usage mistake: it read as an empty input, "0 records delivered", status 0', async (t) => {
  let calls = 0;
  standInProducer(t, {
    connect: async () => {
      calls++;
    },
  });
  // Node gives a directory on fd 0 as a Readable that ends at once, with no error; its fd is the directory's.
  const fd = openSync(tmpdir(), 'r');
  t.after(() => closeSync(fd));
  const stdin = Object.assign(Readable.from([]), { fd });
  const { out, err } = capturedOutput();
  await assert.rejects(runProduce(['--topic', 't', '--brokers', '127.0.0.1:1'], stdin, out, err), (error: unknown) =>
    error instanceof UsageError && /stdin is a directory/.test(error.message));
  assert.equal(calls, 0, 'nothing connects');
});
