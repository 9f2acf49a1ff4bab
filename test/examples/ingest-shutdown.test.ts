/**
 * The ingestion service example (examples/ingest) without a real broker: its shutdown (connections that hold no
 * request, a second call), its answers when a refused line meets broker failures, and ack=accept on a topic whose
 * metadata is not loaded yet. Stub producers, and for the last one ringkafka's Producer on the in-process fake broker.
 * No test here is timed: each test's timeout only detects a hang.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Producer, type ProducerRecord } from '../../src/main/index.js';
import { createIngestService, type IngestProducer } from '../../examples/ingest/service.js';
import { FakeBroker } from '../helpers/fake-broker.js';
import { until } from '../helpers/readback.js';
import { MAIN, ROOT, listen, ndjson } from './fixtures/ingest-http.js';



const delivered = (): PromiseSettledResult<unknown> => ({ status: 'fulfilled', value: undefined });
const failed = (code: string, message: string, delivery?: string): PromiseSettledResult<unknown> => ({
  status: 'rejected',
  reason: Object.assign(new Error(message), { code }, delivery === undefined ? {} : { delivery }),
});

/** A stub producer that records its close calls; `sendBatch` answers each record as `outcome` says. */
function stub(outcome: (record: ProducerRecord) => PromiseSettledResult<unknown> = delivered): IngestProducer & { closes: number[] } {
  const closes: number[] = [];
  return {
    closes,
    sendBatch: async (records) => records.map(outcome),
    close: async ({ timeoutMs }) => {
      closes.push(timeoutMs);
    },
  };
}

test('shutdown with no request under way: a connection without one (a TCP check, half a request line) does not hold it, and the producer is closed', { timeout: 20_000 }, async () => {
  const producer = stub();
  const svc = createIngestService(producer);
  const url = await listen(svc);
  const { port } = svc.server.address() as AddressInfo;
  const connected = new Promise<void>((resolve) => {
    let n = 0;
    svc.server.on('connection', () => ++n === 3 && resolve());
  });
  // A keep-alive connection whose request was answered, a load balancer's TCP check that sends nothing, and a client
  // part-way through its request line. Only the first is an idle connection to Node: the other two held
  // server.close(), and shutdown never got to close the producer.
  const keepAlive = net.connect(port, '127.0.0.1');
  const check = net.connect(port, '127.0.0.1');
  const partial = net.connect(port, '127.0.0.1');
  const sockets = [keepAlive, check, partial];
  for (const socket of sockets) socket.on('error', () => undefined);
  // 'close' alone: a cut connection may end in ECONNRESET, which once() would take for a failure.
  const ended = sockets.map((socket) => new Promise((resolve) => socket.on('close', resolve)));
  await connected;
  let answered = '';
  keepAlive.on('data', (chunk: Buffer) => (answered += chunk.toString()));
  keepAlive.write('GET /healthz HTTP/1.1\r\nHost: ingest\r\n\r\n');
  await until(() => answered.includes('"status":"ok"'), 'the keep-alive request to be answered');
  partial.write('POST /topics/t HT');
  try {
    await svc.shutdown(300);
    assert.equal(producer.closes.length, 1, 'the producer is closed');
    assert.ok(producer.closes[0]! <= 300, 'within the deadline');
    await Promise.all(ended);
    // Nothing listens any more.
    await assert.rejects(fetch(`${url}/healthz`));
  } finally {
    for (const socket of sockets) socket.destroy();
  }
});

test('shutdown called twice (SIGTERM, then SIGINT): both calls end when the drain ends, and the producer is closed once', { timeout: 20_000 }, async () => {
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  let calls = 0;
  const producer = stub();
  producer.sendBatch = async (records) => {
    calls++;
    await held;
    return records.map(delivered);
  };
  const svc = createIngestService(producer);
  const url = await listen(svc);
  try {
    const underWay = fetch(`${url}/topics/t`, { method: 'POST', body: ndjson({ n: 1 }) });
    await until(() => calls === 1, 'the request to be under way');
    // A deadline far beyond this test's timeout: a call that waited it out, as the first one did (the second
    // replaced its drain), fails the test.
    const first = svc.shutdown(60_000);
    const second = svc.shutdown(60_000);
    release();
    const res = await underWay;
    assert.deepEqual([res.status, await res.json()], [200, { delivered: 1 }], 'the request under way was answered');
    await Promise.all([first, second]);
    assert.equal(producer.closes.length, 1, 'the producer is closed once');
    assert.ok(producer.closes[0]! > 0, 'with the time left before the deadline');
    assert.equal(second, first, 'the second call is the first shutdown');
  } finally {
    release();
  }
});

test('acknowledged: a refused line beside broker failures answers as the broker failures do (503 with Retry-After, or 502), not 413', { timeout: 20_000 }, async () => {
  // Each line's `r`: delivered, refused as too large, or failed at the broker with that `delivery`.
  const svc = createIngestService(stub((record) => {
    const { r } = JSON.parse(String(record.value)) as { r: string };
    if (r === 'ok') return delivered();
    if (r === 'big') return failed('ERR_RECORD_TOO_LARGE', 'record of 1500010 bytes exceeds maxRequestBytes');
    return failed('ERR_DELIVERY_TIMEOUT', 'no leader', r);
  }), { retryAfterSeconds: 2 });
  const url = await listen(svc);
  const post = async (...outcomes: string[]): Promise<[number, string | null, { delivered: number; notSentFrom: number; failures: { index: number; delivery: string }[] }]> => {
    const res = await fetch(`${url}/topics/t`, { method: 'POST', body: ndjson(...outcomes.map((r) => ({ r }))) });
    return [res.status, res.headers.get('retry-after'), (await res.json()) as never];
  };
  try {
    // It was a 413 with no Retry-After, which says the other lines were sent: the third was not.
    const [status, retryAfter, body] = await post('ok', 'big', 'not-sent');
    assert.deepEqual([status, retryAfter], [503, '2'], JSON.stringify(body));
    assert.equal(body.delivered, 1);
    assert.equal(body.notSentFrom, 2, 'resending from 2 writes nothing twice; the refused line would fail again');
    assert.deepEqual(body.failures.map((f) => [f.index, f.delivery]), [[1, 'not-sent'], [2, 'not-sent']]);
    const [unknownStatus, unknownRetry, unknownBody] = await post('big', 'unknown', 'ok');
    assert.deepEqual([unknownStatus, unknownRetry], [502, null], JSON.stringify(unknownBody));
    assert.equal(unknownBody.notSentFrom, -1);
    // Refusals alone are still a 413, with no Retry-After: resending the line fails the same way.
    const [onlyRefused, onlyRetry, onlyBody] = await post('ok', 'big', 'ok');
    assert.deepEqual([onlyRefused, onlyRetry], [413, null], JSON.stringify(onlyBody));
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /^ingest_requests_total\{code="503",reason="buffer_full"\} 1$/m);
    assert.match(metrics, /^ingest_requests_total\{code="502"\} 1$/m);
    assert.match(metrics, /^ingest_requests_total\{code="413"\} 1$/m);
  } finally {
    await svc.shutdown(1000);
  }
});

test('ack=accept: a first record trySend refuses goes by an acknowledged send, then trySend takes the rest', { timeout: 20_000 }, async () => {
  // trySend says no until the topic's metadata is loaded, which an acknowledged send does (as ringkafka's does).
  const loaded = new Set<string>();
  const sent: string[][] = [];
  const taken: string[] = [];
  let outcome = delivered;
  const producer = stub();
  producer.sendBatch = async (records) => {
    sent.push(records.map((r) => String(r.value)));
    const results = records.map(() => outcome());
    if (results.every((r) => r.status === 'fulfilled')) for (const r of records) loaded.add(r.topic);
    return results;
  };
  producer.trySend = (record) => {
    if (!loaded.has(record.topic)) return false;
    taken.push(String(record.value));
    return true;
  };
  const svc = createIngestService(producer, { retryAfterSeconds: 2 });
  const url = await listen(svc);
  const post = async (topic: string, ...ns: number[]): Promise<[number, string | null, unknown]> => {
    const res = await fetch(`${url}/topics/${topic}?ack=accept`, { method: 'POST', body: ndjson(...ns.map((n) => ({ n }))) });
    return [res.status, res.headers.get('retry-after'), await res.json()];
  };
  try {
    // It was a 503 "the buffer is full", counted as buffer_full, on the first request to every topic.
    assert.deepEqual(await post('fresh', 1, 2, 3), [202, null, { accepted: 3 }]);
    assert.deepEqual(sent, [['{"n":1}']], 'only the first record waited for its acknowledgement');
    assert.deepEqual(taken, ['{"n":2}', '{"n":3}']);
    assert.deepEqual(await post('fresh', 4), [202, null, { accepted: 1 }]);
    assert.equal(sent.length, 1, 'once loaded, trySend takes every record');
    // No room (or no metadata) within bufferTimeoutMs: the full buffer's answer, nothing taken.
    outcome = () => failed('ERR_BUFFER_TIMEOUT', 'no buffer space within 2000 ms', 'not-sent');
    assert.deepEqual(await post('other', 5, 6), [503, '2', { accepted: 0, total: 2, error: 'the buffer is full: resend from `accepted`' }]);
    // A record the producer refuses: as trySend's refusal, how many were taken and the line.
    outcome = () => failed('ERR_RECORD_TOO_LARGE', 'record of 1500010 bytes exceeds maxRequestBytes');
    assert.deepEqual(await post('other', 7), [413, null, { accepted: 0, total: 1, error: 'line 1: record of 1500010 bytes exceeds maxRequestBytes' }]);
    // Perhaps written: a 502 that says so, never a 503 inviting a resend that might write it twice.
    outcome = () => failed('ERR_DELIVERY_TIMEOUT', 'no answer', 'unknown');
    assert.deepEqual(await post('other', 8, 9), [502, null, { accepted: 0, total: 2, error: 'line 1: ERR_DELIVERY_TIMEOUT: no answer', delivery: 'unknown' }]);
    assert.deepEqual(taken, ['{"n":2}', '{"n":3}', '{"n":4}'], 'nothing of the failed requests was taken after their first record');
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /^ingest_requests_total\{code="202"\} 2$/m);
    assert.match(metrics, /^ingest_requests_total\{code="503",reason="buffer_full"\} 1$/m);
    assert.match(metrics, /^ingest_records_total 4$/m);
  } finally {
    await svc.shutdown(1000);
  }
});

test('ack=accept on ringkafka\'s Producer: the first request to a topic whose metadata is not loaded yet is a 202, not a full buffer', { timeout: 60_000 }, async () => {
  const broker = await FakeBroker.start(1, () => false, { autoAck: true });
  const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 0 });
  const svc = createIngestService(producer);
  const url = await listen(svc);
  try {
    // Connected first: what trySend lacks is the topic's metadata alone.
    await producer.connect();
    const res = await fetch(`${url}/topics/never-sent-to?ack=accept`, { method: 'POST', body: ndjson({ n: 1 }, { n: 2 }) });
    assert.deepEqual([res.status, await res.json()], [202, { accepted: 2 }]);
    assert.doesNotMatch(await (await fetch(`${url}/metrics`)).text(), /buffer_full/);
  } finally {
    await svc.shutdown(10_000);
    await broker.close();
  }
});

test('main.ts: SIGTERM then SIGINT is one drain; it ends when the request under way is answered, and the process exits 0', { timeout: 90_000 }, async () => {
  // A broker that holds every Produce until the test answers it: a request stays under way across both signals.
  const broker = await FakeBroker.start(1);
  // A deadline beyond this test's timeout: a drain that waited it out, as the first signal's did, fails the test.
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { cwd: ROOT, env: { ...process.env, PORT: '0', KAFKA_BROKERS: broker.address, SHUTDOWN_MS: '120000' } });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  try {
    await until(() => /listening on \d+/.test(out) || child.exitCode !== null, 'the service to listen');
    const port = /listening on (\d+)/.exec(out)?.[1];
    assert.ok(port !== undefined, out);
    const underWay = fetch(`http://127.0.0.1:${port}/topics/t`, { method: 'POST', body: ndjson({ n: 1 }) });
    const produce = await broker.nextProduce(0);
    child.kill('SIGTERM');
    await until(() => /SIGTERM: draining/.test(out), 'SIGTERM to be handled');
    child.kill('SIGINT');
    await until(() => /SIGINT/.test(out), 'SIGINT to be handled');
    broker.answer(produce, 0n);
    const res = await underWay;
    assert.deepEqual([res.status, await res.json()], [200, { delivered: 1 }]);
    const [code] = await exited;
    assert.equal(code, 0, out);
    assert.match(out, /SIGTERM: draining within 120000 ms\n/);
    assert.equal(out.match(/^drained$/gm)?.length, 1, out);
    assert.doesNotMatch(out, /SIGINT: draining/, 'one drain, not two');
  } finally {
    child.kill('SIGKILL');
    await broker.close();
  }
});

test('shutdown fails, saying how many, when records answered 202 were failed by the producer\'s close', { timeout: 20_000 }, async () => {
  // It said "drained" and succeeded, and the only trace of the lost records was a counter that ended with the process.
  let listener: ((error: unknown) => void) | undefined;
  const producer: IngestProducer = {
    ...stub(),
    trySend: () => true,
    on: (_event, added) => (listener = added),
    off: () => (listener = undefined),
    close: async () => {
      for (let i = 0; i < 3; i++) listener?.(Object.assign(new Error('the producer closed'), { code: 'ERR_PRODUCER_CLOSED' }));
    },
  };
  const svc = createIngestService(producer);
  const url = await listen(svc);
  const res = await fetch(`${url}/topics/t?ack=accept`, { method: 'POST', body: ndjson({ n: 1 }, { n: 2 }, { n: 3 }) });
  assert.deepEqual([res.status, await res.json()], [202, { accepted: 3 }]);
  await assert.rejects(svc.shutdown(5_000), /^Error: 3 records answered 202 \(ack=accept\) failed as the producer closed: not delivered$/);
  assert.equal(listener, undefined, 'the listener is removed all the same');
});

test('a topic the cluster does not have: 404 with no Retry-After, counted as such, and /healthz stays 200', { timeout: 60_000 }, async () => {
  // It was the full buffer's 503 with Retry-After (a retry that could never succeed), counted as buffer_full, and it
  // turned /healthz to 503: one client posting to a wrong topic took the instance out of its balancer.
  const broker = await FakeBroker.start(1, (topic) => topic === 'missing', { autoAck: true });
  const producer = new Producer({ brokers: [broker.address], workers: 1, bufferTimeoutMs: 300 });
  const svc = createIngestService(producer);
  const url = await listen(svc);
  try {
    await producer.connect();
    for (const mode of ['all', 'accept']) {
      const res = await fetch(`${url}/topics/missing?ack=${mode}`, { method: 'POST', body: ndjson({ n: 1 }) });
      assert.equal(res.status, 404, mode);
      assert.equal(res.headers.get('retry-after'), null, mode);
      assert.match(JSON.stringify(await res.json()), /ERR_UNKNOWN_TOPIC|not available/, mode);
    }
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /ingest_requests_total\{code="404"\} 2/);
    assert.doesNotMatch(metrics, /buffer_full/);
  } finally {
    await svc.shutdown(10_000);
    await broker.close();
  }
});

test('a topic the cluster cannot be asked about (no broker answers) is an outage: 503 with Retry-After, and /healthz 503, not 404', { timeout: 60_000 }, async () => {
  const broker = await FakeBroker.start(1, () => false, { autoAck: true });
  const producer = new Producer({ brokers: [broker.address], workers: 1, bufferTimeoutMs: 300, reconnectBackoffMs: 10 });
  const svc = createIngestService(producer);
  const url = await listen(svc);
  try {
    await producer.connect();
    await broker.close();
    const res = await fetch(`${url}/topics/never-asked?ack=all`, { method: 'POST', body: ndjson({ n: 1 }) });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '1');
    assert.equal((await fetch(`${url}/healthz`)).status, 503);
  } finally {
    await svc.shutdown(2_000).catch(() => undefined);
  }
});

test('a client that sends its body too slowly gets 408 after requestTimeoutMs, and its slot is free again', { timeout: 20_000 }, async () => {
  // Node's default (300 s) let clients trickling a byte a second hold every slot for five minutes.
  const svc = createIngestService(stub(), { requestTimeoutMs: 200, maxConcurrentRequests: 1 });
  const url = await listen(svc);
  const { port } = svc.server.address() as AddressInfo;
  try {
    const slow = net.connect(port, '127.0.0.1');
    slow.on('error', () => undefined);
    let answer = '';
    slow.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    const ended = new Promise((resolve) => slow.on('close', resolve));
    slow.write('POST /topics/t HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"n":');
    await ended;
    assert.match(answer, /^HTTP\/1\.1 408 /);
    const res = await fetch(`${url}/topics/t`, { method: 'POST', body: ndjson({ n: 1 }) });
    assert.equal(res.status, 200, 'the slot is free');
  } finally {
    await svc.shutdown(5_000);
  }
});

test('an answer sent while shutting down closes its connection: a client\'s next request on it met a reset', { timeout: 20_000 }, async () => {
  let release: (() => void) | undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  let called: (() => void) | undefined;
  const underWay = new Promise<void>((resolve) => (called = resolve));
  const producer: IngestProducer = {
    ...stub(),
    sendBatch: async (records) => {
      called!();
      await held;
      return records.map(delivered);
    },
  };
  const svc = createIngestService(producer);
  const url = await listen(svc);
  const answered = fetch(`${url}/topics/t`, { method: 'POST', body: ndjson({ n: 1 }) });
  await underWay;
  const stopping = svc.shutdown(5_000);
  release!();
  const res = await answered;
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('connection'), 'close');
  await stopping;
});
