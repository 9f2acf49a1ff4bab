/**
 * Connection against small in-process fake brokers: only for what a real broker will not do on demand (split and
 * merged frames, answers out of order, silence, a cut connection, hostile sizes). The real broker test is
 * connection.broker.test.ts. No test waits on time: each waits for an event (a request seen, a socket closed).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import net from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import type { ApiDefinition } from '../../src/protocol/api.js';
import { BY_REFERENCE_MIN_BYTES, Writer } from '../../src/protocol/writer.js';
import { Connection, type ConnectionOptions } from '../../src/net/connection.js';
import { FakeSaslBroker, until } from '../helpers/fake-sasl-broker.js';
import { AbortError } from '../../src/shared/producer-errors.js';
import {
  ConfigError,
  ConnectionError,
  ProtocolError,
  RequestTimeoutError,
  RequestNotSentError,
  UnsupportedVersionError,
} from '../../src/shared/errors.js';

const ECHO_KEY = 1000;
/** A test API: the request carries an int32, the answer echoes it. Flexible (header v2/v1) from v1. */
const Echo: ApiDefinition<number, number> = {
  key: ECHO_KEY,
  name: 'Echo',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: 1,
  encodeRequest: (writer, _version, value) => void writer.int32(value),
  decodeResponse: (reader) => reader.int32(),
};
/**
 * Echo's key and request; its answer is read as a throttle time, which the client waits out from v1 (KIP-219). The
 * fake broker echoes the request's value, so the test picks the throttle time.
 */
const Throttled: ApiDefinition<number, { throttleTimeMs: number }> = {
  ...Echo,
  name: 'Throttled',
  clientThrottlesFrom: 1,
  decodeResponse: (reader) => ({ throttleTimeMs: reader.int32() }),
};
/** Listed by no fake broker. */
const Missing: ApiDefinition<number, number> = { ...Echo, key: 1001, name: 'Missing' };

interface Received {
  readonly apiKey: number;
  readonly version: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  readonly body: Buffer;
  readonly socket: net.Socket;
}

type Ranges = readonly (readonly [key: number, min: number, max: number])[];
const DEFAULT_RANGES: Ranges = [[18, 0, 4], [ECHO_KEY, 0, 1], [0, 3, 13]];

/** Encodes an ApiVersions answer the way a broker does (ApiVersionsResponse.json), with header v0. */
function apiVersionsAnswer(version: number, errorCode: number, ranges: Ranges): Buffer {
  const w = new Writer();
  w.int16(errorCode);
  if (version >= 3) w.compactArray(ranges, (ww, [k, min, max]) => ww.int16(k).int16(min).int16(max).taggedFields());
  else w.array(ranges, (ww, [k, min, max]) => ww.int16(k).int16(min).int16(max));
  if (version >= 1) w.int32(0);
  if (version >= 3) w.taggedFields();
  return Buffer.from(w.finish());
}

function int32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(value);
  return b;
}

/**
 * A fake broker: parses request frames (independently of the code under test: plain concatenation), answers
 * ApiVersions with `ranges` unless `onRequest` takes it, and hands every other request to `onRequest`.
 * `changed` fires on every request seen and every socket closed, so tests wait on `until(...)`.
 */
class FakeBroker extends EventEmitter {
  readonly requests: Received[] = [];
  readonly sockets = new Set<net.Socket>();
  closedSockets = 0;
  #server: net.Server;

  constructor(onRequest: (req: Received, broker: FakeBroker) => boolean | void, ranges: Ranges = DEFAULT_RANGES) {
    super();
    this.#server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('error', () => {});
      socket.on('close', () => {
        this.sockets.delete(socket);
        this.closedSockets++;
        this.emit('changed');
      });
      let pending = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
          const frame = pending.subarray(4, 4 + pending.readInt32BE(0));
          pending = pending.subarray(4 + frame.length);
          const req = parseRequest(frame, socket);
          this.requests.push(req);
          const handled = onRequest(req, this) === true;
          if (!handled && req.apiKey === 18) this.reply(req, apiVersionsAnswer(req.version, 0, ranges));
          this.emit('changed');
        }
      });
    });
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  async listen(): Promise<this> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    return this;
  }

  /** Requests other than ApiVersions. */
  get calls(): Received[] {
    return this.requests.filter((r) => r.apiKey !== 18);
  }

  /** The answer frame: size, correlation id, tagged fields when flexible (never for ApiVersions), body. */
  frame(req: Received, body: Buffer, correlationId = req.correlationId): Buffer {
    const flexibleHeader = req.apiKey === ECHO_KEY && req.version >= 1;
    const header = Buffer.concat([int32(correlationId), flexibleHeader ? Buffer.from([0]) : Buffer.alloc(0)]);
    return Buffer.concat([int32(header.length + body.length), header, body]);
  }

  reply(req: Received, body: Buffer): void {
    req.socket.write(this.frame(req, body));
  }

  echo(req: Received): void {
    this.reply(req, req.body.subarray(0, 4));
  }

  /** Resolves once `condition` holds, checked now and after every request and socket close. */
  async until(condition: () => boolean): Promise<void> {
    while (!condition()) await once(this, 'changed');
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

function parseRequest(frame: Buffer, socket: net.Socket): Received {
  const apiKey = frame.readInt16BE(0);
  const version = frame.readInt16BE(2);
  const correlationId = frame.readInt32BE(4);
  const idLength = frame.readInt16BE(8);
  const clientId = idLength < 0 ? null : frame.toString('utf8', 10, 10 + idLength);
  let offset = 10 + Math.max(0, idLength);
  const flexible = (apiKey === 18 && version >= 3) || (apiKey === ECHO_KEY && version >= 1);
  if (flexible) {
    assert.equal(frame[offset], 0, 'request header v2 carries an empty tag section');
    offset += 1;
  }
  return { apiKey, version, correlationId, clientId, body: frame.subarray(offset), socket };
}

const BASE: Omit<ConnectionOptions, 'port'> = {
  host: '127.0.0.1',
  clientId: 'test-client',
  requestTimeoutMs: 10_000,
  maxInFlight: 5,
};

/** A fake broker and a connection to it, both closed when the test ends, whatever happened. */
async function setup(
  t: TestContext,
  onRequest: (req: Received, broker: FakeBroker) => boolean | void,
  options: Partial<ConnectionOptions> = {},
  ranges?: Ranges,
): Promise<{ broker: FakeBroker; conn: Connection }> {
  const broker = await new FakeBroker(onRequest, ranges).listen();
  t.after(() => broker.close());
  const conn = await Connection.connect({ ...BASE, port: broker.port, ...options });
  t.after(() => conn.close());
  return { broker, conn };
}

const value = (req: Received): number => req.body.readInt32BE(0);

/** Asserts a rejection's class (and optionally more), returning the error. */
async function rejects<E extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  const error = await promise.then(
    () => assert.fail(`expected ${type.name}, but it resolved`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
  return error;
}

describe('Connection', { timeout: 20_000 }, () => {
  it('handshakes with ApiVersions v4, sending the client id and software name, and negotiates versions', async (t) => {
    const { broker, conn } = await setup(t, (req, b) => void (req.apiKey === ECHO_KEY && b.echo(req)));
    const [handshake] = broker.requests;
    assert.equal(handshake?.apiKey, 18);
    assert.equal(handshake.version, 4);
    assert.equal(handshake.clientId, 'test-client');
    assert.deepEqual(handshake.body, Buffer.from('\x0aringkafka\x060.1.0\x00', 'latin1'));
    assert.equal(conn.apiVersionsVersion, 4);
    assert.deepEqual(conn.brokerVersions.get(0), { min: 3, max: 13 });
    assert.equal(conn.versionFor(Echo), 1);
    assert.equal(await conn.request(Echo, 42), 42);
    assert.equal(broker.calls[0]?.version, 1);
    assert.equal(await conn.request(Echo, -7, { version: 0 }), -7); // non-flexible header v1 / response v0
    await rejects(conn.request(Missing, 1), UnsupportedVersionError);
  });

  for (const brokerMax of [3, 2]) {
    it(`retries ApiVersions at the broker's max (v${brokerMax}) after a v0-format UNSUPPORTED_VERSION`, async (t) => {
      const ranges: Ranges = [[18, 0, brokerMax], [ECHO_KEY, 0, 1]];
      const { broker, conn } = await setup(
        t,
        (req, b) => {
          if (req.apiKey === ECHO_KEY) b.echo(req);
          if (req.apiKey !== 18 || req.version <= brokerMax) return false;
          // KIP-511: error 35 in v0 format (no throttle time, no tags), listing the broker's ApiVersions range.
          b.reply(req, apiVersionsAnswer(0, 35, [[18, 0, brokerMax]]));
          return true;
        },
        {},
        ranges,
      );
      assert.deepEqual(broker.requests.map((r) => r.version), [4, brokerMax]);
      assert.equal(conn.apiVersionsVersion, brokerMax);
      assert.equal(conn.versionFor(Echo), 1);
      assert.equal(await conn.request(Echo, 5), 5);
    });
  }

  it('fails connect with UnsupportedVersionError when the broker refuses the fallback version too', async (t) => {
    const broker = await new FakeBroker((req, b) => {
      b.reply(req, apiVersionsAnswer(0, 35, [[18, 0, 2]]));
      return true;
    }).listen();
    t.after(() => broker.close());
    await rejects(Connection.connect({ ...BASE, port: broker.port }), UnsupportedVersionError);
    await broker.until(() => broker.closedSockets === 1);
  });

  it('reads answers merged into one write and answers split byte by byte', async (t) => {
    let mode: 'merge' | 'split' = 'merge';
    const held: Received[] = [];
    const { broker, conn } = await setup(t, (req, b) => {
      if (req.apiKey !== ECHO_KEY) return;
      held.push(req);
      if (held.length < 5) return;
      const bytes = Buffer.concat(held.splice(0).map((r) => b.frame(r, r.body.subarray(0, 4))));
      if (mode === 'merge') {
        req.socket.write(bytes);
      } else {
        void (async () => {
          for (const byte of bytes) await new Promise((done) => req.socket.write(Buffer.from([byte]), done));
        })();
      }
    });
    const values = [1, -2, 300_000, 2 ** 31 - 1, -(2 ** 31)];
    assert.deepEqual(await Promise.all(values.map((v, i) => conn.request(Echo, v, { version: i % 2 }))), values);
    mode = 'split';
    assert.deepEqual(await Promise.all(values.map((v, i) => conn.request(Echo, v, { version: (i + 1) % 2 }))), values);
    assert.equal(broker.calls.length, 10);
  });

  it('fails everything with ProtocolError when answers come out of correlation order', async (t) => {
    const { broker, conn } = await setup(t, () => {}, { maxInFlight: 2 });
    const first = conn.request(Echo, 1);
    const second = conn.request(Echo, 2);
    const queued = conn.request(Echo, 3);
    await broker.until(() => broker.calls.length === 2);
    const [a, b] = broker.calls as [Received, Received];
    a.socket.write(Buffer.concat([broker.frame(b, int32(2)), broker.frame(a, int32(1))]));
    await Promise.all([
      rejects(first, ProtocolError),
      rejects(second, ProtocolError),
      rejects(queued, RequestNotSentError), // never sent: safe to send elsewhere
    ]);
    assert.ok((await conn.closed) instanceof ProtocolError);
    await broker.until(() => broker.closedSockets === 1);
  });

  it('fails with ProtocolError on an answer when nothing is in flight', async (t) => {
    const { broker, conn } = await setup(t, () => {});
    const [handshake] = broker.requests as [Received];
    handshake.socket.write(broker.frame(handshake, int32(0), 12345));
    assert.ok((await conn.closed) instanceof ProtocolError);
    await rejects(conn.request(Echo, 1), ConnectionError);
  });

  it('times out a request that gets no answer, fails everything pending and closes', async (t) => {
    // 500 ms: the handshake's answers must come within it too, on a loaded machine.
    const { broker, conn } = await setup(t, () => {}, { requestTimeoutMs: 500, maxInFlight: 2 });
    const first = conn.request(Echo, 1);
    const second = conn.request(Echo, 2);
    const queued = conn.request(Echo, 3);
    const [, secondError] = await Promise.all([
      rejects(first, RequestTimeoutError),
      rejects(second, ConnectionError),
      rejects(queued, RequestNotSentError),
    ]);
    assert.ok(secondError.cause instanceof RequestTimeoutError);
    assert.ok(!(secondError instanceof RequestNotSentError), 'the written request may have reached the broker');
    assert.equal(conn.inFlight + conn.queued, 0);
    await conn.closed;
    await broker.until(() => broker.closedSockets === 1);
    assert.equal(broker.calls.length, 2);
  });

  it('fails connect with RequestTimeoutError when ApiVersions gets no answer', async (t) => {
    const broker = await new FakeBroker(() => true).listen();
    t.after(() => broker.close());
    await rejects(Connection.connect({ ...BASE, port: broker.port, requestTimeoutMs: 100 }), RequestTimeoutError);
    await broker.until(() => broker.closedSockets === 1);
  });

  it('fails connect within connectTimeoutMs when ApiVersions gets no answer, however long requestTimeoutMs is, naming the step', async (t) => {
    // Bounded by requestTimeoutMs alone, a listener that accepted TCP and never answered held the attempt 30 s (the
    // default) before a bootstrap list moved on to its next address.
    const broker = await new FakeBroker(() => true).listen();
    t.after(() => broker.close());
    const error = await rejects(Connection.connect({ ...BASE, port: broker.port, requestTimeoutMs: 600_000, connectTimeoutMs: 200 }), ConnectionError);
    assert.match(error.message, /accepted the connection but did not complete the ApiVersions handshake within connectTimeoutMs \(200 ms\)/);
    await broker.until(() => broker.closedSockets === 1);
  });

  it('fails every pending request with ConnectionError when the broker cuts the connection', async (t) => {
    const { broker, conn } = await setup(
      t,
      (req) => void (req.apiKey === ECHO_KEY && value(req) === 2 && req.socket.destroy()),
      { maxInFlight: 2 },
    );
    const pending = [conn.request(Echo, 1), conn.request(Echo, 2), conn.request(Echo, 3)];
    await Promise.all(pending.map((request) => rejects(request, ConnectionError)));
    assert.ok((await conn.closed) instanceof ConnectionError);
    await rejects(conn.request(Echo, 4), ConnectionError);
    assert.equal(broker.calls.length, 2);
  });

  it('removes an aborted queued request, which is never sent', async (t) => {
    const held: Received[] = [];
    const { broker, conn } = await setup(t, (req, b) => {
      if (req.apiKey !== ECHO_KEY) return;
      if (value(req) === 1) held.push(req);
      else b.echo(req);
    }, { maxInFlight: 1 });
    const first = conn.request(Echo, 1);
    const controller = new AbortController();
    const second = conn.request(Echo, 2, { signal: controller.signal });
    assert.equal(conn.queued, 1);
    controller.abort(new Error('caller gave up'));
    const error = await rejects(second, AbortError);
    assert.equal(error.code, 'ERR_ABORTED');
    assert.equal(error.delivery, 'not-sent');
    assert.equal(conn.queued, 0);
    await broker.until(() => held.length === 1);
    broker.echo(held[0]!);
    assert.equal(await first, 1);
    assert.equal(await conn.request(Echo, 3), 3);
    assert.deepEqual(broker.calls.map(value), [1, 3]);
  });

  it('releases the caller of an aborted written request but holds its slot until the answer', async (t) => {
    let outstanding = 0;
    let maxOutstanding = 0;
    const held: Received[] = [];
    const { broker, conn } = await setup(t, (req, b) => {
      if (req.apiKey !== ECHO_KEY) return;
      maxOutstanding = Math.max(maxOutstanding, ++outstanding);
      if (value(req) === 1) held.push(req);
      else (outstanding--, b.echo(req));
    }, { maxInFlight: 1 });
    const controller = new AbortController();
    const first = conn.request(Echo, 1, { signal: controller.signal });
    await broker.until(() => held.length === 1);
    controller.abort();
    assert.equal((await rejects(first, AbortError)).delivery, 'unknown');
    const second = conn.request(Echo, 2);
    assert.equal(conn.inFlight, 1);
    assert.equal(conn.queued, 1);
    outstanding--;
    broker.echo(held[0]!);
    assert.equal(await second, 2);
    assert.equal(maxOutstanding, 1);
    assert.deepEqual(broker.calls.map(value), [1, 2]);
  });

  it('rejects at once when the signal is already aborted', async (t) => {
    const { broker, conn } = await setup(t, () => {});
    await rejects(conn.request(Echo, 1, { signal: AbortSignal.abort() }), AbortError);
    assert.equal(conn.inFlight + conn.queued, 0);
    assert.equal(broker.calls.length, 0);
  });

  it('keeps at most maxInFlight requests outstanding and queues the rest in order', async (t) => {
    const TOTAL = 10;
    const MAX = 3;
    const held: Received[] = [];
    let maxOutstanding = 0;
    const { broker, conn } = await setup(t, (req, b) => {
      if (req.apiKey !== ECHO_KEY) return;
      held.push(req);
      maxOutstanding = Math.max(maxOutstanding, held.length);
      // Answer only when the client could not have sent more (or all have arrived): a client over the limit
      // shows up as more than MAX outstanding here.
      if (held.length >= MAX || b.calls.length === TOTAL) for (const r of held.splice(0)) b.echo(r);
    }, { maxInFlight: MAX });
    const results = Array.from({ length: TOTAL }, (_, i) => conn.request(Echo, i));
    assert.equal(conn.inFlight, MAX);
    assert.equal(conn.queued, TOTAL - MAX);
    assert.deepEqual(await Promise.all(results), Array.from({ length: TOTAL }, (_, i) => i));
    assert.equal(maxOutstanding, MAX);
    assert.deepEqual(broker.calls.map(value), Array.from({ length: TOTAL }, (_, i) => i));
  });

  it('sends an acks=0 request without awaiting an answer, in order with the requests around it', async (t) => {
    const held: Received[] = [];
    const { broker, conn } = await setup(t, (req, b) => {
      if (req.apiKey !== ECHO_KEY || value(req) < 0) return; // negative: like acks=0 Produce, no answer
      if (value(req) === 1) held.push(req);
      else b.echo(req);
    }, { maxInFlight: 1 });
    await conn.send(Echo, -1);
    assert.equal(conn.inFlight, 0);
    // If the send had registered a correlation id, this answer would not match and fail with ProtocolError.
    assert.equal(await conn.request(Echo, 7), 7);
    const first = conn.request(Echo, 1); // holds the only slot
    const second = conn.request(Echo, 2); // queued
    const sent = conn.send(Echo, -2); // must not overtake the queued request
    assert.equal(conn.queued, 2);
    await broker.until(() => held.length === 1);
    broker.echo(held[0]!);
    assert.deepEqual(await Promise.all([first, second, sent]), [1, 2, undefined]);
    assert.equal(await conn.request(Echo, 8), 8);
    assert.deepEqual(broker.calls.map(value), [-1, 7, 1, 2, -2, 8]);
    assert.equal(new Set(broker.calls.map((r) => r.correlationId)).size, 6);
  });

  describe('throttling (KIP-219)', () => {
    const echoAll = (req: Received, b: FakeBroker): void => void (req.apiKey === ECHO_KEY && b.echo(req));

    it('after an answer with a throttle time, from the version the client waits from, holds what follows unsent until close', async (t) => {
      const { broker, conn } = await setup(t, echoAll);
      assert.deepEqual(await conn.request(Throttled, 60_000), { throttleTimeMs: 60_000 });
      const controller = new AbortController();
      const aborted = conn.request(Echo, 1, { signal: controller.signal });
      const closedOn = conn.request(Echo, 2);
      const sent = conn.send(Echo, -3); // acks=0 too: the broker is not reading
      assert.equal(conn.queued, 3);
      assert.equal(conn.inFlight, 0);
      controller.abort();
      assert.equal((await rejects(aborted, AbortError)).delivery, 'not-sent');
      const refused = [rejects(closedOn, RequestNotSentError), rejects(sent, RequestNotSentError)];
      await conn.close();
      await Promise.all(refused);
      assert.deepEqual(broker.calls.map(value), [60_000]);
    });

    it('writes what it held, in order, once the throttle is over', async (t) => {
      const { broker, conn } = await setup(t, echoAll);
      // Long enough to outlast the few microtasks between the answer and the next calls, on a loaded machine too.
      await conn.request(Throttled, 300);
      const held = [conn.request(Echo, 2), conn.request(Echo, 3)];
      assert.equal(conn.queued, 2);
      assert.deepEqual(await Promise.all(held), [2, 3]);
      assert.equal(await conn.request(Echo, 4), 4);
      assert.deepEqual(broker.calls.map(value), [300, 2, 3, 4]);
    });

    it('before that version the broker held its answer back itself: nothing waits again', async (t) => {
      const { conn } = await setup(t, echoAll);
      await conn.request(Throttled, 60_000, { version: 0 });
      const next = conn.request(Echo, 5);
      assert.equal(conn.queued, 0);
      assert.equal(await next, 5);
    });

    it('holds at most requestTimeoutMs: a throttle time of 24 days (a corrupted answer) does not silence the connection', async (t) => {
      const { broker, conn } = await setup(t, echoAll, { requestTimeoutMs: 500 });
      await conn.request(Throttled, 0x7fffffff);
      const next = conn.request(Echo, 6);
      assert.equal(conn.queued, 1);
      assert.equal(await next, 6);
      assert.deepEqual(broker.calls.map(value), [0x7fffffff, 6]);
    });

    it('a held request keeps the process alive until it is written and answered, on an unref\'d connection too', async (t) => {
      // In a child process of its own, so that nothing else keeps it alive: had the hold's timer been unref'd, the
      // child would exit (status 13, an unsettled top-level await) with the request never written.
      const { broker } = await setup(t, echoAll);
      const connection = new URL('../../src/net/connection.ts', import.meta.url).href;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
        const { Connection } = await import(${JSON.stringify(connection)});
        const Echo = { key: ${ECHO_KEY}, name: 'Echo', minVersion: 0, maxVersion: 1, flexibleFrom: 1,
          encodeRequest: (writer, _version, value) => void writer.int32(value), decodeResponse: (reader) => reader.int32() };
        const Throttled = { ...Echo, clientThrottlesFrom: 1, decodeResponse: (reader) => ({ throttleTimeMs: reader.int32() }) };
        const conn = (await Connection.connect({ host: '127.0.0.1', port: ${broker.port}, clientId: 'c', requestTimeoutMs: 10000, maxInFlight: 5 })).unref();
        await conn.request(Throttled, 500);
        const held = conn.request(Echo, 7);
        console.log('queued', conn.queued);
        console.log('answered', await held);
        await conn.close();
      `], { stdio: ['ignore', 'pipe', 'inherit'], timeout: 15_000 });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      const [status] = await once(child, 'exit');
      assert.equal(stdout, 'queued 1\nanswered 7\n');
      assert.equal(status, 0);
    });

    it('a held request aborted leaves no timer behind to keep the process alive', async (t) => {
      const { conn } = await setup(t, echoAll);
      await conn.request(Throttled, 60_000);
      const timers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
      const before = timers();
      const controller = new AbortController();
      const held = conn.request(Echo, 1, { signal: controller.signal });
      assert.equal(timers(), before + 1, 'the hold\'s timer, while a request waits on it');
      controller.abort();
      assert.equal((await rejects(held, AbortError)).delivery, 'not-sent');
      assert.equal(timers(), before);
    });

    it('the hold is measured on a monotonic clock: the wall clock stepped back does not lengthen it', async (t) => {
      const { broker, conn } = await setup(t, echoAll);
      await conn.request(Throttled, 300);
      const wallClock = Date.now;
      const stepped = wallClock() - 600_000;
      t.mock.method(Date, 'now', () => stepped); // ten minutes back, and stopped there
      const held = conn.request(Echo, 9);
      assert.equal(conn.queued, 1);
      assert.equal(await held, 9);
      assert.deepEqual(broker.calls.map(value), [300, 9]);
    });

    it('an answer whose caller gave up still throttles the connection', async (t) => {
      const held: Received[] = [];
      const { conn } = await setup(t, (req, b) => {
        if (req.apiKey !== ECHO_KEY) return;
        held.push(req);
        // Both answers in one write: the abandoned throttled one, then one whose caller waits.
        if (held.length === 2) req.socket.write(Buffer.concat(held.map((r) => b.frame(r, r.body.subarray(0, 4)))));
      });
      const controller = new AbortController();
      const abandoned = conn.request(Throttled, 60_000, { signal: controller.signal });
      const behind = conn.request(Echo, 7);
      assert.equal(conn.inFlight, 2);
      controller.abort();
      assert.equal((await rejects(abandoned, AbortError)).delivery, 'unknown');
      assert.equal(await behind, 7);
      const next = conn.request(Echo, 8);
      assert.equal(conn.queued, 1, 'held by the abandoned answer\'s throttle');
      const refused = rejects(next, RequestNotSentError);
      await conn.close();
      await refused;
    });
  });

  it('TLS to a listener that hangs up on the ClientHello (a plaintext one) says to leave out the tls option', async (t) => {
    // A plaintext Kafka listener reads the ClientHello as a request of hundreds of megabytes and closes the
    // connection: the error said only that the connection closed while connecting.
    const server = net.createServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.after(() => server.close());
    const port = (server.address() as net.AddressInfo).port;
    const error = await rejects(Connection.connect({ ...BASE, port, tls: { rejectUnauthorized: false } }), ConnectionError);
    assert.match(error.message, new RegExp(`if 127\\.0\\.0\\.1:${port} is a PLAINTEXT or SASL_PLAINTEXT listener, leave out the tls option`));
  });

  it('fails acks=0 sends the broker does not take within requestTimeoutMs, and closes the connection', async (t) => {
    // A broker that stops reading (its TCP window shut): the sends' writes never completed, so they stayed pending
    // until close, and the sink, which counts them in flight, sent nothing more to that broker.
    const Blob: ApiDefinition<Buffer, number> = { ...Echo, encodeRequest: (writer, _version, bytes) => void writer.int32(-3).bytes(bytes) };
    const { broker, conn } = await setup(t, () => undefined, { requestTimeoutMs: 300 });
    for (const socket of broker.sockets) socket.pause();
    // 64 MiB: more than the loopback's socket buffers on both sides hold.
    const sends = Array.from({ length: 8 }, () => conn.send(Blob, Buffer.alloc(8 * 1024 * 1024)));
    const errors = await Promise.all(sends.map((send) => rejects(send, ConnectionError)));
    assert.ok(errors.some((error) => error.cause instanceof RequestTimeoutError && /acks=0/.test(error.cause.message)), String(errors[0]));
    assert.ok(conn.isClosed);
  });

  it('writes a frame whose large byte arrays are kept by reference, byte for byte and in order', async (t) => {
    // Blob's request is an int32 and two large arrays (bytes fields): Writer keeps both by reference, so the frame
    // goes out as five pieces, corked; the broker must read exactly one frame with them in place.
    const Blob: ApiDefinition<readonly [Buffer, Buffer], number> = {
      ...Echo,
      encodeRequest: (writer, _version, [first, second]) => void writer.int32(3).bytes(first).bytes(second),
    };
    const first = Buffer.alloc(BY_REFERENCE_MIN_BYTES, 0xa1);
    const second = Buffer.alloc(3 * BY_REFERENCE_MIN_BYTES + 5, 0xb2);
    const { broker, conn } = await setup(t, (req, b) => {
      if (req.apiKey === ECHO_KEY) b.echo(req);
    });
    assert.equal(await conn.request(Blob, [first, second]), 3);
    const [call] = broker.calls;
    assert.deepEqual(call!.body, Buffer.concat([int32(3), int32(first.length), first, int32(second.length), second]));
    assert.equal(await conn.request(Echo, 4), 4, 'the next frame starts where that one ended');
  });

  for (const [name, bytes] of [
    ['negative', int32(-1)],
    ['over 100 MiB', int32(100 * 1024 * 1024 + 1)],
    ['too small for a correlation id', Buffer.from([0, 0, 0, 2, 0, 0])],
  ] as const) {
    it(`fails with ProtocolError and closes on a ${name} frame size`, async (t) => {
      const { broker, conn } = await setup(t, (req) => void (req.apiKey === ECHO_KEY && req.socket.write(bytes)));
      await rejects(conn.request(Echo, 1), ProtocolError);
      assert.ok((await conn.closed) instanceof ProtocolError);
      await broker.until(() => broker.closedSockets === 1);
    });
  }

  it('fails the request whose answer body cannot be decoded with ProtocolError, and closes the connection', async (t) => {
    // The frame boundaries held, but a broker sending malformed bodies is not trusted with what follows: the
    // request behind it fails too (it was written, so like a network error), and the caller reconnects.
    const { broker, conn } = await setup(t, (req, b) => {
      if (req.apiKey === ECHO_KEY && value(req) === 1) b.reply(req, Buffer.from([0, 1]));
    });
    const bad = conn.request(Echo, 1, { version: 0 });
    const behind = conn.request(Echo, 2, { version: 0 });
    await rejects(bad, ProtocolError);
    await rejects(behind, ProtocolError);
    assert.ok((await conn.closed) instanceof ProtocolError);
    assert.equal(conn.proven, false, 'no answer after the handshake decoded');
    await broker.until(() => broker.closedSockets === 1);
  });

  it('is proven once an answer after the handshake decodes', async (t) => {
    const { conn } = await setup(t, (req, b) => void (req.apiKey === ECHO_KEY && b.echo(req)));
    assert.equal(conn.proven, false, 'the handshake alone proves nothing');
    assert.equal(await conn.request(Echo, 7), 7);
    assert.equal(conn.proven, true);
  });

  it('close() is idempotent, rejects what is pending and closes the socket', async (t) => {
    const { broker, conn } = await setup(t, () => {}, { maxInFlight: 1 });
    const pending = conn.request(Echo, 1);
    const queued = conn.request(Echo, 2);
    await broker.until(() => broker.calls.length === 1);
    const settled = Promise.all([rejects(pending, ConnectionError), rejects(queued, ConnectionError)]);
    await Promise.all([conn.close(), conn.close()]);
    await settled;
    await conn.close();
    await rejects(conn.request(Echo, 3), ConnectionError);
    await rejects(conn.send(Echo, 3), ConnectionError);
    await broker.until(() => broker.closedSockets === 1);
  });

  it('fails connect with ConnectionError when nothing listens', async () => {
    const probe = net.createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as net.AddressInfo;
    await new Promise((done) => probe.close(done));
    await rejects(Connection.connect({ ...BASE, port }), ConnectionError);
  });

  it('aborts connecting during the handshake and closes the socket', async (t) => {
    const broker = await new FakeBroker(() => true).listen(); // never answers ApiVersions
    t.after(() => broker.close());
    const controller = new AbortController();
    const connecting = Connection.connect({ ...BASE, port: broker.port, signal: controller.signal });
    await broker.until(() => broker.requests.length === 1);
    controller.abort();
    assert.equal((await rejects(connecting, AbortError)).code, 'ERR_ABORTED');
    await broker.until(() => broker.closedSockets === 1);
    await rejects(Connection.connect({ ...BASE, port: broker.port, signal: AbortSignal.abort() }), AbortError);
  });

  it('aborts during SASL while no request is out (the token provider still working): at once, and the socket closes', async (t) => {
    const broker = await FakeSaslBroker.start(() => ({ lifetimeMs: 0 }));
    t.after(() => broker.close());
    const controller = new AbortController();
    let asked!: () => void;
    const providerAsked = new Promise<void>((resolve) => (asked = resolve));
    const token = (): Promise<{ value: string }> => {
      asked();
      return new Promise(() => {}); // a provider that never answers
    };
    const connecting = Connection.connect({ ...BASE, port: broker.port, signal: controller.signal, sasl: { mechanism: 'oauthbearer', token } });
    await providerAsked;
    controller.abort(new Error('the caller gave up'));
    const error = await rejects(connecting, AbortError);
    assert.deepEqual([error.code, error.delivery], ['ERR_ABORTED', 'not-sent']);
    await until(broker, () => broker.closedSockets === 1, 'the socket closed');
  });

  it('names the step when the broker hangs up during SASL authentication, and the socket closes', async (t) => {
    const ranges: Ranges = [[18, 0, 4], [17, 1, 1], [36, 0, 2]];
    const broker = await new FakeBroker((req) => {
      if (req.apiKey !== 17) return false;
      req.socket.destroy(); // hangs up on SaslHandshake, as a broker may that will not take the mechanism here
      return true;
    }, ranges).listen();
    t.after(() => broker.close());
    const connecting = Connection.connect({ ...BASE, port: broker.port, sasl: { mechanism: 'plain', username: 'alice', password: 'secret-81f2' } });
    const error = await rejects(connecting, ConnectionError);
    assert.match(error.message, new RegExp(`^connection to 127\\.0\\.0\\.1:${broker.port} .* during SASL PLAIN authentication$`));
    assert.doesNotMatch(error.message, /secret-81f2/);
    await broker.until(() => broker.closedSockets === 1);
  });

  it('aborts while the TCP connection is being set up', async (t) => {
    const broker = await new FakeBroker(() => {}).listen();
    t.after(() => broker.close());
    const controller = new AbortController();
    const connecting = Connection.connect({ ...BASE, port: broker.port, signal: controller.signal });
    controller.abort(); // synchronously: the socket has not connected yet
    assert.equal((await rejects(connecting, AbortError)).delivery, 'not-sent');
    assert.equal(broker.requests.length, 0);
  });

  it('rejects bad options with ConfigError naming the field', async () => {
    for (const [field, bad] of [
      ['port', { port: 0 }],
      ['requestTimeoutMs', { port: 1, requestTimeoutMs: 0 }],
      ['maxInFlight', { port: 1, maxInFlight: 1.5 }],
      ['connectTimeoutMs', { port: 1, connectTimeoutMs: -1 }],
    ] as const) {
      const error = await rejects(Connection.connect({ ...BASE, ...bad }), ConfigError);
      assert.match(error.message, new RegExp(field));
    }
  });
});
