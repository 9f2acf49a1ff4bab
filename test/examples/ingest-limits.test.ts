/**
 * The ingestion service example (examples/ingest) at the edges of what it takes: bodies that are not UTF-8, keys that
 * JSON numbers cannot hold, more lines or bytes than its limits, a failure list longer than it reports, methods and
 * encodings it does not serve. What the real broker got is read back; the rest runs on stub producers. No test here is
 * timed: each test's timeout only detects a hang.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Producer, type ProducerRecord } from '../../src/main/index.js';
import { createIngestService, type IngestProducer, type IngestService } from '../../examples/ingest/service.js';
import { createTopic, uniqueTopic, useBroker } from '../helpers/broker.js';
import { consume, endOffsets } from '../helpers/readback.js';
import { listen, ndjson } from './fixtures/ingest-http.js';

let brokers: string[];
let producer: Producer;
let service: IngestService;
let base: string;

before(async () => {
  brokers = await useBroker();
  producer = new Producer({ brokers, clientId: 'ingest-limits-test' });
  service = createIngestService(producer);
  base = await listen(service);
});
after(() => service.shutdown(10_000));

/** A stub producer that keeps every batch it is given and answers each record as `outcome` says. */
function stub(outcome: (record: ProducerRecord) => PromiseSettledResult<unknown> = () => ({ status: 'fulfilled', value: undefined })): IngestProducer & { batches: ProducerRecord[][] } {
  const batches: ProducerRecord[][] = [];
  return { batches, sendBatch: async (records) => (batches.push([...records]), records.map(outcome)), close: async () => undefined };
}

interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Whether the service said `100 Continue`. */
  continued: boolean;
}

/**
 * A request written by hand (`send` writes what it wants of the body, and may leave it unfinished); its answer, or the
 * error the connection ended with (a reset instead of an answer fails the test).
 */
function raw(url: string, options: http.RequestOptions, send: (req: http.ClientRequest) => void): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    let continued = false;
    const req = http.request(url, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode!, headers: res.headers, body, continued });
        req.destroy();
      });
    });
    req.on('continue', () => (continued = true));
    req.on('error', reject);
    send(req);
  });
}

test('a body that is not valid UTF-8: 400 naming the line, nothing of the request is sent', { timeout: 120_000 }, async () => {
  const topic = uniqueTopic('ingest-utf8');
  await createTopic(topic, 1);
  // `ff fe` was decoded to two U+FFFD, answered 200, and Kafka got `ef bf bd ef bf bd` for the client's bytes.
  const body = Buffer.concat([Buffer.from('{"n":1}\n{"s":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n{"n":3}\n')]);
  const res = await fetch(`${base}/topics/${topic}`, { method: 'POST', body });
  const answer = (await res.json()) as { error: string };
  assert.equal(res.status, 400, JSON.stringify(answer));
  assert.match(answer.error, /^line 2: not valid UTF-8/);
  // Valid multi-byte UTF-8 is taken as before.
  const ok = await fetch(`${base}/topics/${topic}`, { method: 'POST', body: ndjson({ s: 'é€' }) });
  assert.equal(ok.status, 200);
  assert.deepEqual([...(await endOffsets(brokers, topic)).values()], [1], 'only the valid request reached the topic');
});

test('?key= on a number JSON cannot hold exactly: 400 naming the line and field; a safe integer is its digits', { timeout: 300_000 }, async () => {
  const topic = uniqueTopic('ingest-key-number');
  await createTopic(topic, 1);
  // Both were keyed `12345678901234567000`: two users' records under one key, in one partition.
  const big = await fetch(`${base}/topics/${topic}?key=u`, { method: 'POST', body: '{"u":"a"}\n{"u":12345678901234567891}\n{"u":12345678901234567892}\n' });
  const answer = (await big.json()) as { error: string };
  assert.equal(big.status, 400, JSON.stringify(answer));
  assert.match(answer.error, /^line 2: the "u" field is not a string or a safe integer/);
  for (const u of [1.5, true, { id: 1 }]) {
    const res = await fetch(`${base}/topics/${topic}?key=u`, { method: 'POST', body: ndjson({ u }) });
    assert.equal(res.status, 400, JSON.stringify(u));
  }
  const ok = await fetch(`${base}/topics/${topic}?key=u`, { method: 'POST', body: ndjson({ u: 9007199254740991 }, { u: 'b' }) });
  assert.equal(ok.status, 200);
  assert.deepEqual((await consume(brokers, topic, 2)).map((r) => r.key), ['9007199254740991', 'b']);
  assert.deepEqual([...(await endOffsets(brokers, topic)).values()], [2], 'nothing of the refused requests was written');
});

test('more lines than maxLinesPerRequest: 413 before anything is sent', { timeout: 120_000 }, async () => {
  const topic = uniqueTopic('ingest-lines');
  await createTopic(topic, 1);
  // 100,001 tiny lines (200 KB, far under the body limit): the cost is per line, and 4,000,000 of them held ~1.7 GB.
  const res = await fetch(`${base}/topics/${topic}`, { method: 'POST', body: '1\n'.repeat(100_001) });
  const answer = (await res.json()) as { error: string };
  assert.equal(res.status, 413, JSON.stringify(answer).slice(0, 200));
  assert.match(answer.error, /more than 100000 lines \(maxLinesPerRequest\)/);
  assert.deepEqual([...(await endOffsets(brokers, topic)).values()], [0], 'nothing reached the topic');
  // Configurable; a final newline is not a line of its own.
  const few = stub();
  const svc = createIngestService(few, { maxLinesPerRequest: 2 });
  const url = await listen(svc);
  try {
    assert.equal((await fetch(`${url}/topics/t`, { method: 'POST', body: '1\n2\n' })).status, 200);
    assert.equal((await fetch(`${url}/topics/t`, { method: 'POST', body: '1\n2\n3' })).status, 413);
    assert.equal(few.batches.length, 1);
  } finally {
    await svc.shutdown(1000);
  }
  assert.throws(() => createIngestService(few, { maxLinesPerRequest: 0 }), /options\.maxLinesPerRequest must be a whole number/);
});

test('more failures than the answer lists: failedCount says how many, truncated that the list is cut', async () => {
  const notSent = (): PromiseSettledResult<unknown> => ({ status: 'rejected', reason: Object.assign(new Error('no room'), { code: 'ERR_BUFFER_TIMEOUT', delivery: 'not-sent' }) });
  const svc = createIngestService(stub((record) => (String(record.value).includes('ok') ? { status: 'fulfilled', value: undefined } : notSent())));
  const url = await listen(svc);
  try {
    type Answer = { delivered: number; failedCount: number; failures: unknown[]; truncated?: boolean };
    const lines = ['{"ok":1}', ...Array.from({ length: 150 }, (_, i) => `{"n":${i}}`)];
    const many = await fetch(`${url}/topics/t`, { method: 'POST', body: lines.join('\n') });
    const body = (await many.json()) as Answer;
    // It listed 100 failures and nothing else: a client resending "the failures" left 50 out.
    assert.equal(many.status, 503);
    assert.deepEqual([body.delivered, body.failedCount, body.failures.length, body.truncated], [1, 150, 100, true]);
    const few = (await (await fetch(`${url}/topics/t`, { method: 'POST', body: ndjson({ n: 1 }, { ok: 2 }) })).json()) as Answer;
    assert.deepEqual([few.failedCount, few.failures.length, 'truncated' in few], [1, 1, false]);
  } finally {
    await svc.shutdown(1000);
  }
});

test('a body over maxBodyBytes: 413 and the connection closed, whether its length is declared, expected to continue, or found mid-upload', { timeout: 20_000 }, async () => {
  const producer = stub();
  const svc = createIngestService(producer, { maxBodyBytes: 1000 });
  const url = await listen(svc);
  try {
    // Chunked, no length: found mid-upload, the 413 written before the connection closes (the request was destroyed
    // first, and the client saw only a reset).
    const chunked = await raw(`${url}/topics/t`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (req) => void req.write('x'.repeat(2000)));
    assert.deepEqual([chunked.status, chunked.headers.connection], [413, 'close']);
    // Expect: 100-continue: refused before the client is told to send (Node said 100 Continue to every such request).
    const expecting = await raw(`${url}/topics/t`, { method: 'POST', headers: { 'content-length': '2000', expect: '100-continue' } }, (req) => {
      req.on('continue', () => req.end('x'.repeat(2000)));
      req.flushHeaders();
    });
    assert.deepEqual([expecting.status, expecting.continued], [413, false]);
    // Within the limit, the client is told to continue and its records go.
    const small = await raw(`${url}/topics/t`, { method: 'POST', headers: { 'content-length': '8', expect: '100-continue' } }, (req) => {
      req.on('continue', () => req.end('{"n":1}\n'));
      req.flushHeaders();
    });
    assert.deepEqual([small.status, small.continued], [200, true]);
    // Declared: refused on the headers alone, though not a byte of the body came (it waited for the body, and a
    // body over the limit was cut by a reset before the 413).
    const declared = await raw(`${url}/topics/t`, { method: 'POST', headers: { 'content-length': '2000' } }, (req) => req.flushHeaders());
    assert.deepEqual([declared.status, declared.headers.connection], [413, 'close']);
    assert.match(declared.body, /the body is over 1000 bytes/);
    assert.equal(producer.batches.length, 1, 'only the small request was sent');
    assert.equal((await fetch(`${url}/topics/t`, { method: 'POST', body: ndjson({ n: 2 }) })).status, 200, 'the service serves on');
  } finally {
    await svc.shutdown(1000);
  }
});

test('a known path with another method: 405 with Allow; HEAD on GET routes; an unsupported Content-Encoding: 415', async () => {
  const producer = stub();
  const svc = createIngestService(producer);
  const url = await listen(svc);
  try {
    for (const [method, path, allow] of [['GET', '/topics/t', 'POST'], ['PUT', '/topics/t', 'POST'], ['POST', '/healthz', 'GET, HEAD'], ['DELETE', '/metrics', 'GET, HEAD']] as const) {
      const res = await fetch(`${url}${path}`, { method });
      assert.deepEqual([res.status, res.headers.get('allow')], [405, allow], `${method} ${path}`);
    }
    assert.equal((await fetch(`${url}/nothing`)).status, 404);
    const head = await fetch(`${url}/healthz`, { method: 'HEAD' });
    assert.deepEqual([head.status, await head.text()], [200, '']);
    assert.equal((await fetch(`${url}/metrics`, { method: 'HEAD' })).status, 200);
    // gzip's bytes were parsed as NDJSON: a 400 "not JSON", or worse, compressed bytes that parse.
    const gzip = await raw(`${url}/topics/t`, { method: 'POST', headers: { 'content-encoding': 'gzip' } }, (req) => req.end('{"n":1}'));
    assert.equal(gzip.status, 415);
    const identity = await raw(`${url}/topics/t`, { method: 'POST', headers: { 'content-encoding': 'identity' } }, (req) => req.end('{"n":1}'));
    assert.equal(identity.status, 200);
    assert.equal(producer.batches.length, 1, 'only the identity request was sent');
  } finally {
    await svc.shutdown(1000);
  }
});
