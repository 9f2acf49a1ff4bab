/**
 * The ingestion service example (examples/ingest) as its clients see it: HTTP in, records in Kafka (read back with
 * Kafka's own console consumer), back-pressure as 503 with Retry-After, a departed client's records never sent, and
 * a graceful shutdown on SIGTERM that exits 0.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Producer, type ProducerMetrics, type ProducerRecord } from '../../src/main/index.js';
import { createIngestService, type IngestService } from '../../examples/ingest/service.js';
import { createTopic, uniqueTopic, useBroker } from '../helpers/broker.js';
import { consume, endOffsets, until } from '../helpers/readback.js';
import { FakeBroker } from '../helpers/fake-broker.js';
import { MAIN, ROOT, listen, ndjson } from './fixtures/ingest-http.js';


let brokers: string[];
let producer: Producer;
let service: IngestService;
let base: string;

before(async () => {
  brokers = await useBroker();
  producer = new Producer({ brokers, clientId: 'ingest-test' });
  service = createIngestService(producer);
  base = await listen(service);
});
after(() => service.shutdown(10_000));

test('POST NDJSON: 200 once every record is acknowledged, keyed by ?key=, values unchanged', { timeout: 300_000 }, async () => {
  const topic = uniqueTopic('ingest');
  await createTopic(topic, 1);
  const body = ndjson({ user: 'u1', n: 1 }, { user: 'u2', n: 2 }, { user: 'u1', n: 3 });
  const res = await fetch(`${base}/topics/${topic}?key=user`, { method: 'POST', body });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { delivered: 3 });
  const read = await consume(brokers, topic, 3);
  assert.deepEqual(read.map((r) => [r.key, r.value]), [['u1', '{"user":"u1","n":1}'], ['u2', '{"user":"u2","n":2}'], ['u1', '{"user":"u1","n":3}']]);
});

test('ack=accept: 202 as soon as the producer took the records; they still reach the broker', { timeout: 300_000 }, async () => {
  const topic = uniqueTopic('ingest-accept');
  await createTopic(topic, 1);
  // The topic's metadata is loaded by a first acknowledged request, so trySend takes both records below at once (a first
  // record it refused would be sent acknowledged: test/examples/ingest-shutdown.test.ts).
  assert.equal((await fetch(`${base}/topics/${topic}`, { method: 'POST', body: ndjson({ n: 0 }) })).status, 200);
  const res = await fetch(`${base}/topics/${topic}?ack=accept`, { method: 'POST', body: ndjson({ n: 1 }, { n: 2 }) });
  assert.equal(res.status, 202);
  assert.deepEqual(await res.json(), { accepted: 2 });
  assert.deepEqual((await consume(brokers, topic, 3)).map((r) => r.value), ['{"n":0}', '{"n":1}', '{"n":2}']);
});

test('a bad line is a 400 naming it, and nothing of the request is sent', { timeout: 120_000 }, async () => {
  const topic = uniqueTopic('ingest-bad');
  await createTopic(topic, 1);
  const bad = await fetch(`${base}/topics/${topic}`, { method: 'POST', body: `${ndjson({ n: 1 })}\n{"n":\n${ndjson({ n: 3 })}` });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: string }).error, /^line 2: not JSON/);
  const noKey = await fetch(`${base}/topics/${topic}?key=user`, { method: 'POST', body: ndjson({ user: 'a' }, { n: 2 }) });
  assert.equal(noKey.status, 400);
  assert.match(((await noKey.json()) as { error: string }).error, /^line 2: no "user" field/);
  const badTopic = await fetch(`${base}/topics/no%20spaces`, { method: 'POST', body: ndjson({ n: 1 }) });
  assert.equal(badTopic.status, 400);
  assert.deepEqual([...(await endOffsets(brokers, topic)).values()], [0], 'nothing reached the topic');
});

test('a line too large for the producer: 413, reported not-sent, and the lines around it are delivered', { timeout: 120_000 }, async () => {
  const topic = uniqueTopic('ingest-too-large');
  await createTopic(topic, 1);
  // Over the producer's maxRequestBytes (1 MiB by default), under the service's 8 MiB body limit.
  const body = ndjson({ n: 1 }, { big: 'x'.repeat(1_100_000) }, { n: 3 });
  const res = await fetch(`${base}/topics/${topic}`, { method: 'POST', body });
  const answer = (await res.json()) as { delivered: number; failures: { index: number; error: string; delivery: string }[] };
  // It was a 502 with `delivery: "unknown"`, though the producer refused the record before sending anything of it.
  assert.equal(res.status, 413, JSON.stringify(answer));
  assert.equal(res.headers.get('retry-after'), null, 'resending the same line fails the same way');
  assert.equal(answer.delivered, 2);
  assert.deepEqual(answer.failures.map((f) => [f.index, f.delivery]), [[1, 'not-sent']]);
  assert.match(answer.failures[0]!.error, /^ERR_RECORD_TOO_LARGE: /);
  assert.deepEqual([...(await endOffsets(brokers, topic)).values()], [2], 'only the two small lines were written');
});

test('a request target that is no URL, or a topic that is no percent-encoding, is a 400; the service lives on', async () => {
  for (const path of ['/topics/%E0%A4%A', '//']) {
    // Raw, so the client sends the target as it is (it threw in the service, outside any catch: the process died).
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${base}/`, { method: 'POST', path }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end('{"n":1}');
    });
    assert.equal(status, 400, path);
  }
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
  // ?key= names a field of the line's own: an inherited one (toString) is no key.
  const res = await fetch(`${base}/topics/${uniqueTopic('ingest-own-key')}?key=toString`, { method: 'POST', body: ndjson({ n: 1 }) });
  assert.equal(res.status, 400);
  assert.match(((await res.json()) as { error: string }).error, /no "toString" field/);
});

test('GET /metrics counts requests by status and shows the event-loop delay', async () => {
  const text = await (await fetch(`${base}/metrics`)).text();
  assert.match(text, /^ingest_requests_total\{code="200"\} [1-9]/m);
  assert.match(text, /^nodejs_eventloop_delay_p99_seconds [0-9.e-]+$/m);
  assert.match(text, /^ringkafka_buffered_bytes \d+$/m);
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
});

test('a full buffer: 503 with Retry-After and where to resend from; accept mode says how many it took', { timeout: 60_000 }, async () => {
  // A broker that never answers Produce: the first request fills the budget and nothing frees it.
  const stalled = await FakeBroker.start(1);
  // bufferTimeoutMs bounds the wait for the connection too: connected first, so only the budget can time out.
  const small = new Producer({ brokers: [stalled.address], workers: 1, maxBufferedBytes: 8192, bufferTimeoutMs: 1000, lingerMs: 0 });
  await small.connect();
  const full = createIngestService(small, { retryAfterSeconds: 3 });
  const url = await listen(full);
  try {
    // Three records fill most of the 8 KiB budget; not even one more fits.
    const value = 'x'.repeat(2500);
    // Never answered (the broker holds it): the shutdown below cuts it.
    void fetch(`${url}/topics/t`, { method: 'POST', body: ndjson({ value }, { value }, { value }) }).catch(() => undefined);
    await stalled.nextProduce(0);
    const res = await fetch(`${url}/topics/t`, { method: 'POST', body: ndjson({ value }, { value }, { value }) });
    const body = (await res.json()) as { delivered: number; notSentFrom: number; failures: { delivery: string }[] };
    assert.equal(res.status, 503, JSON.stringify(body));
    assert.equal(res.headers.get('retry-after'), '3');
    assert.equal(body.delivered, 0);
    assert.equal(body.notSentFrom, 0);
    assert.ok(body.failures.every((f) => f.delivery === 'not-sent'));
    const accept = await fetch(`${url}/topics/t?ack=accept`, { method: 'POST', body: ndjson({ value }) });
    assert.equal(accept.status, 503);
    assert.deepEqual(await accept.json(), { accepted: 0, total: 1, error: 'the buffer is full: resend from `accepted`' });
    // Both 503s are the producer's limit, counted apart from the request limit's (they shared `code="503"`).
    assert.match(await (await fetch(`${url}/metrics`)).text(), /^ingest_requests_total\{code="503",reason="buffer_full"\} 2$/m);
  } finally {
    await full.shutdown(500);
    await stalled.close();
  }
});

test('notSentFrom: resending from it writes nothing twice and leaves nothing out, else it is -1', async () => {
  // Each line's `r` is its outcome: delivered, or failed with that `delivery`.
  const svc = createIngestService({
    sendBatch: async (records) => records.map((record): PromiseSettledResult<unknown> => {
      const { r } = JSON.parse(String(record.value)) as { r: string };
      return r === 'ok' ? { status: 'fulfilled', value: undefined } : { status: 'rejected', reason: Object.assign(new Error(r), { code: 'ERR_DELIVERY_TIMEOUT', delivery: r }) };
    }),
    close: async () => undefined,
  });
  const url = await listen(svc);
  try {
    // It was the first not-sent failure: resending from 1 in the second case wrote record 2 twice, perhaps; in the
    // third it left record 0 out, perhaps; in the fourth it wrote record 1 twice.
    const cases = [[['ok', 'not-sent', 'not-sent'], 503, 1], [['ok', 'not-sent', 'unknown'], 502, -1], [['unknown', 'not-sent'], 502, -1], [['not-sent', 'ok'], 503, -1]] as const;
    for (const [outcomes, status, notSentFrom] of cases) {
      const res = await fetch(`${url}/topics/t`, { method: 'POST', body: ndjson(...outcomes.map((r) => ({ r }))) });
      assert.deepEqual([res.status, ((await res.json()) as { notSentFrom: number }).notSentFrom], [status, notSentFrom], outcomes.join());
    }
  } finally {
    await svc.shutdown(1000);
  }
});

test('a client that goes away: its waiting records are never sent and the buffer waiters are released', { timeout: 60_000 }, async () => {
  const stalled = await FakeBroker.start(1);
  const small = new Producer({ brokers: [stalled.address], workers: 1, maxBufferedBytes: 8192, bufferTimeoutMs: 30_000, lingerMs: 0 });
  const svc = createIngestService(small);
  const url = await listen(svc);
  try {
    const value = 'y'.repeat(2500);
    void fetch(`${url}/topics/t`, { method: 'POST', body: ndjson({ value }, { value }, { value }) }).catch(() => undefined);
    await stalled.nextProduce(0);
    const client = new AbortController();
    const waiting = fetch(`${url}/topics/t`, { method: 'POST', body: ndjson({ value }, { value }), signal: client.signal });
    await until(() => small.metrics().waiters > 0, 'the second request waits for buffer space');
    client.abort();
    await assert.rejects(waiting);
    await until(() => small.metrics().waiters === 0, 'the departed request stops waiting');
    let metrics = '';
    for (let i = 0; i < 100 && !/ingest_aborted_requests_total 1/.test(metrics); i++) {
      metrics = await (await fetch(`${url}/metrics`)).text();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.match(metrics, /ingest_aborted_requests_total 1/);
    const sent = (): number => stalled.produces.reduce((sum, p) => sum + [...p.recordCounts.values()].reduce((a, b) => a + b, 0), 0);
    // The first request's three may leave in more than one Produce, the later ones a moment after the first: counted
    // at once, a loaded machine saw 1. The departed request's two can never leave: the first three hold the buffer.
    await until(() => sent() >= 3, "the first request's records to reach the broker");
    assert.equal(sent(), 3, 'only the first request\'s records went to the broker');
  } finally {
    await svc.shutdown(500);
    await stalled.close();
  }
});

test('a client that goes away mid-upload is counted as aborted, not as a server error', async () => {
  const svc = createIngestService({ sendBatch: async (records) => records.map(() => ({ status: 'fulfilled', value: undefined })), close: async () => undefined });
  const url = await listen(svc);
  try {
    const received = once(svc.server, 'request');
    const req = http.request(`${url}/topics/t`, { method: 'POST', headers: { 'content-length': '1000' } });
    req.on('error', () => undefined);
    req.write('{"n":1}\n');
    await received;
    req.destroy();
    let metrics = '';
    for (let i = 0; i < 500 && !/ingest_aborted_requests_total 1|code="500"/.test(metrics); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      metrics = await (await fetch(`${url}/metrics`)).text();
    }
    // It was a 500: a dashboard of server errors counted every client that gave up.
    assert.doesNotMatch(metrics, /code="500"/);
    assert.match(metrics, /^ingest_aborted_requests_total 1$/m);
  } finally {
    await svc.shutdown(1000);
  }
});

test('beyond maxConcurrentRequests under way: 503 with Retry-After at once, the body unread', { timeout: 60_000 }, async () => {
  let calls = 0;
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  const svc = createIngestService({
    // The first two requests stay under way until released; later ones are answered at once.
    sendBatch: async (records) => {
      if (++calls <= 2) await held;
      return records.map(() => ({ status: 'fulfilled', value: undefined }));
    },
    close: async () => undefined,
  }, { maxConcurrentRequests: 2, retryAfterSeconds: 4 });
  const url = await listen(svc);
  try {
    const first = fetch(`${url}/topics/t`, { method: 'POST', body: ndjson({ n: 1 }) });
    const second = fetch(`${url}/topics/t`, { method: 'POST', body: ndjson({ n: 2 }) });
    await until(() => calls === 2, 'two requests under way');
    // It was taken: requests under way, each holding its body, had no limit, and neither had memory.
    const third = await fetch(`${url}/topics/t`, { method: 'POST', body: ndjson({ n: 3 }) });
    assert.equal(third.status, 503);
    assert.equal(third.headers.get('retry-after'), '4');
    assert.equal(calls, 2, 'nothing of the refused request was sent');
    // A body that never comes is not waited for.
    const unread = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${url}/topics/t`, { method: 'POST', headers: { 'content-length': '1000' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
        req.destroy();
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    assert.equal(unread, 503);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /^ingest_requests_total\{code="503",reason="max_concurrent_requests"\} 2$/m);
    assert.doesNotMatch(metrics, /buffer_full/);
    release();
    assert.deepEqual([(await first).status, (await second).status], [200, 200]);
    // The released slots are free again.
    assert.equal((await fetch(`${url}/topics/t`, { method: 'POST', body: ndjson({ n: 4 }) })).status, 200);
  } finally {
    release();
    await svc.shutdown(1000);
  }
});

test('GET /healthz: 503 with the reason while the cluster cannot be reached', { timeout: 60_000 }, async () => {
  // A port nobody listens on: every connection attempt is refused.
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const unreachable = new Producer({ brokers: [`127.0.0.1:${port}`], workers: 1, bufferTimeoutMs: 500 });
  const svc = createIngestService(unreachable);
  const url = await listen(svc);
  try {
    assert.equal((await fetch(`${url}/healthz`)).status, 200, 'healthy until a delivery fails');
    const res = await fetch(`${url}/topics/t`, { method: 'POST', body: ndjson({ n: 1 }) });
    // The connection's refusal, or the wait for one that ran past bufferTimeoutMs.
    assert.ok(res.status === 502 || res.status === 503, await res.text());
    // It was a 200 while every send failed: a load balancer kept sending there.
    const health = await fetch(`${url}/healthz`);
    const body = (await health.json()) as { status: string; reason: string };
    assert.equal(health.status, 503, JSON.stringify(body));
    assert.equal(body.status, 'failing');
    assert.match(body.reason, /^ERR_(CONNECTION|BUFFER_TIMEOUT): /);
  } finally {
    await svc.shutdown(1000);
  }
});

test('GET /healthz: failing from a failed delivery until a record is acknowledged, or unhealthyForMs passes', { timeout: 60_000 }, async () => {
  let fail = true;
  let sent = 0;
  const emitter = new EventEmitter();
  const failure = (): Error => Object.assign(new Error('no leader'), { code: 'ERR_DELIVERY_TIMEOUT', delivery: 'unknown' });
  const stub = {
    sendBatch: async (records: readonly ProducerRecord[]) => records.map((r): PromiseSettledResult<unknown> => {
      if (String(r.value).includes('big')) return { status: 'rejected', reason: Object.assign(new Error('too large'), { code: 'ERR_RECORD_TOO_LARGE' }) };
      return fail ? { status: 'rejected', reason: failure() } : { status: 'fulfilled', value: undefined };
    }),
    close: async () => undefined,
    on: (event: 'deliveryError', listener: (error: unknown) => void) => emitter.on(event, listener),
    metrics: () => ({ recordsSent: sent }) as ProducerMetrics,
  };
  const health = async (url: string): Promise<[number, unknown]> => {
    const res = await fetch(`${url}/healthz`);
    return [res.status, await res.json()];
  };
  const svc = createIngestService(stub);
  const url = await listen(svc);
  try {
    assert.equal((await fetch(`${url}/topics/t`, { method: 'POST', body: ndjson({ n: 1 }) })).status, 502);
    assert.deepEqual(await health(url), [503, { status: 'failing', reason: 'ERR_DELIVERY_TIMEOUT: no leader' }]);
    // A line the producer refuses says nothing of the cluster: it neither fails nor clears the health.
    assert.equal((await fetch(`${url}/topics/t`, { method: 'POST', body: ndjson({ big: 1 }) })).status, 413);
    assert.equal((await health(url))[0], 503);
    fail = false;
    assert.equal((await fetch(`${url}/topics/t`, { method: 'POST', body: ndjson({ big: 2 }) })).status, 413);
    assert.equal((await health(url))[0], 503);
    assert.equal((await fetch(`${url}/topics/t`, { method: 'POST', body: ndjson({ n: 2 }) })).status, 200);
    assert.deepEqual(await health(url), [200, { status: 'ok' }], 'an acknowledged request clears it');
    // Accept mode's failures come as deliveryError; a record the producer counts as sent since clears it.
    emitter.emit('deliveryError', failure());
    assert.equal((await health(url))[0], 503);
    sent++;
    assert.deepEqual(await health(url), [200, { status: 'ok' }], 'a record sent since clears it');
  } finally {
    await svc.shutdown(1000);
  }
  // With no traffic (a balancer sends none to an instance it took out) the failure stops counting after a while.
  const brief = createIngestService(stub, { unhealthyForMs: 100 });
  const briefUrl = await listen(brief);
  try {
    emitter.emit('deliveryError', failure());
    assert.equal((await health(briefUrl))[0], 503);
    let status = 503;
    for (let i = 0; i < 500 && status === 503; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      status = (await health(briefUrl))[0];
    }
    assert.equal(status, 200);
  } finally {
    await brief.shutdown(1000);
  }
});

test('ack=accept: a line the producer refuses after taking the lines before it answers how many it took', async () => {
  const taken: string[] = [];
  const svc = createIngestService({
    sendBatch: async (records) => records.map(() => ({ status: 'fulfilled', value: undefined })),
    trySend: (record) => {
      if (String(record.value).length > 20) throw Object.assign(new Error('record of 1500010 bytes exceeds maxRequestBytes'), { code: 'ERR_RECORD_TOO_LARGE' });
      taken.push(String(record.value));
      return true;
    },
    close: async () => undefined,
  });
  const url = await listen(svc);
  try {
    const res = await fetch(`${url}/topics/t?ack=accept`, { method: 'POST', body: ndjson({ n: 1 }, { n: 2 }, { big: 'x'.repeat(30) }, { n: 4 }) });
    // It was a 500 with no count: the client resent the whole body, and the first two were written twice.
    assert.equal(res.status, 413);
    assert.deepEqual(await res.json(), { accepted: 2, total: 4, error: 'line 3: record of 1500010 bytes exceeds maxRequestBytes' });
    assert.deepEqual(taken, ['{"n":1}', '{"n":2}']);
    assert.match(await (await fetch(`${url}/metrics`)).text(), /^ingest_records_total 2$/m);
  } finally {
    await svc.shutdown(1000);
  }
});

test('any producer with sendBatch and close serves: ack=accept is 501 without trySend, /metrics has the service\'s own figures', async () => {
  const batches: string[][] = [];
  let closedWithin: number | undefined;
  const svc = createIngestService({
    sendBatch: async (records) => {
      batches.push(records.map((r) => `${r.topic}:${String(r.value)}`));
      return records.map(() => ({ status: 'fulfilled', value: undefined }));
    },
    close: async ({ timeoutMs }) => {
      closedWithin = timeoutMs;
    },
  });
  const url = await listen(svc);
  try {
    const res = await fetch(`${url}/topics/t`, { method: 'POST', body: ndjson({ n: 1 }, { n: 2 }) });
    assert.deepEqual([res.status, await res.json()], [200, { delivered: 2 }]);
    assert.deepEqual(batches, [['t:{"n":1}', 't:{"n":2}']]);
    const accept = await fetch(`${url}/topics/t?ack=accept`, { method: 'POST', body: ndjson({ n: 3 }) });
    assert.equal(accept.status, 501);
    assert.equal(batches.length, 1, 'nothing of the refused request was sent');
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /^ingest_records_total 2$/m);
    assert.doesNotMatch(metrics, /ringkafka_/);
  } finally {
    await svc.shutdown(1000);
  }
  assert.ok(closedWithin !== undefined && closedWithin <= 1000, 'shutdown closes the producer within its deadline');
});

test('SIGTERM: the service stops accepting, answers what it holds, closes the producer and exits 0', { timeout: 120_000 }, async () => {
  const topic = uniqueTopic('ingest-term');
  await createTopic(topic, 1);
  // An empty SHUTDOWN_MS is unset, the 10 s default: it was a 0 ms deadline, and the drain cut what it held.
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { cwd: ROOT, env: { ...process.env, PORT: '0', KAFKA_BROKERS: brokers.join(','), SHUTDOWN_MS: '' } });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const limit = setTimeout(() => child.kill('SIGKILL'), 100_000);
  try {
    await until(() => /listening on \d+/.test(out), 'the service listens', 60_000);
    const port = /listening on (\d+)/.exec(out)![1];
    const warm = await fetch(`http://127.0.0.1:${port}/topics/${topic}`, { method: 'POST', body: ndjson({ n: 0 }) });
    assert.equal(warm.status, 200);
    // Accepted, not yet acknowledged when the signal comes: the shutdown must flush them.
    const res = await fetch(`http://127.0.0.1:${port}/topics/${topic}?ack=accept`, { method: 'POST', body: ndjson({ n: 1 }, { n: 2 }) });
    assert.equal(res.status, 202);
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, out);
    assert.match(out, /SIGTERM: draining within 10000 ms\ndrained/);
    assert.deepEqual((await consume(brokers, topic, 3)).map((r) => r.value), ['{"n":0}', '{"n":1}', '{"n":2}'], 'what was accepted was flushed before exit');
  } finally {
    clearTimeout(limit);
    child.kill('SIGKILL');
  }
});

test('a SHUTDOWN_MS or PORT that is no number in range stops the start with an error naming it', { timeout: 120_000 }, async () => {
  for (const [name, value] of [['SHUTDOWN_MS', 'soon'], ['SHUTDOWN_MS', '-5'], ['PORT', '80a']] as const) {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { cwd: ROOT, env: { ...process.env, PORT: '0', KAFKA_BROKERS: brokers.join(','), [name]: value } });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    // Taken as NaN, the value started the service instead: it listens, and is ended here.
    const listening = until(() => /listening on \d+/.test(out) || child.exitCode !== null, 'the service to listen or exit', 60_000).then(() => child.kill('SIGKILL'), () => undefined);
    try {
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.doesNotMatch(out, /listening on/, `${name}=${value}`);
      assert.notEqual(code, 0);
      assert.match(out, new RegExp(`${name} must be .*, got "${value}"`));
    } finally {
      child.kill('SIGKILL');
      await listening;
    }
  }
});

test('an option that is not a whole number in range is refused at once, naming it', () => {
  const stub = { sendBatch: async () => [], close: async () => undefined };
  for (const [name, value] of [['maxConcurrentRequests', 0], ['maxConcurrentRequests', Number.NaN], ['maxBodyBytes', -1], ['unhealthyForMs', 1.5], ['retryAfterSeconds', -1]] as const) {
    assert.throws(() => createIngestService(stub, { [name]: value }), new RegExp(`options\\.${name} must be a whole number`), `${name}: ${value}`);
  }
});

test('shutdown removes the deliveryError listener it added to the producer, even when close rejects', async () => {
  const listeners = new Set<unknown>();
  const stub = {
    sendBatch: async () => [],
    close: async () => undefined,
    on: (_: 'deliveryError', listener: unknown) => listeners.add(listener),
    off: (_: 'deliveryError', listener: unknown) => listeners.delete(listener),
  };
  const stubService = createIngestService(stub);
  assert.equal(listeners.size, 1);
  await listen(stubService);
  await stubService.shutdown(1000);
  assert.equal(listeners.size, 0);
  // A close that rejects skipped the removal.
  const closeFails = createIngestService({ ...stub, close: async () => Promise.reject(new Error('close failed')) });
  await listen(closeFails);
  await assert.rejects(closeFails.shutdown(1000), /close failed/);
  assert.equal(listeners.size, 0);
});
