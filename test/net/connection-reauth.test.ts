/**
 * KIP-368 re-authentication of a Connection, against a fake SASL/PLAIN broker that states a session lifetime of a
 * few hundred ms: the connection authenticates again on the same socket, requests made meanwhile wait and then go
 * in order, a refusal fails the connection with AuthenticationError, and a close during re-authentication settles
 * everything. Waits are for events or states, each bounded (a hang detector, not a speed assertion).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { ApiDefinition } from '../../src/protocol/api.js';
import { Connection } from '../../src/net/connection.js';
import { ConnectionError } from '../../src/shared/errors.js';
import { AuthenticationError } from '../../src/shared/producer-errors.js';
import { ECHO_KEY, FakeSaslBroker, until, type SaslRound } from '../helpers/fake-sasl-broker.js';

const SASL_HANDSHAKE = 17;
const SASL_AUTHENTICATE = 36;
const PASSWORD = 'secret-5d1c';

const Echo: ApiDefinition<number, number> = {
  key: ECHO_KEY,
  name: 'Echo',
  minVersion: 0,
  maxVersion: 0,
  flexibleFrom: 1,
  encodeRequest: (writer, _version, value) => void writer.int32(value),
  decodeResponse: (reader) => reader.int32(),
};

/** Echo's answer read as a throttle time the client waits out (KIP-219); the broker echoes the value asked. */
const ThrottledEcho: ApiDefinition<number, { throttleTimeMs: number }> = {
  ...Echo,
  name: 'ThrottledEcho',
  clientThrottlesFrom: 0,
  decodeResponse: (reader) => ({ throttleTimeMs: reader.int32() }),
};

const brokers: FakeSaslBroker[] = [];
const connections: Connection[] = [];
after(async () => {
  await Promise.all(connections.map((connection) => connection.close()));
  await Promise.all(brokers.map((broker) => broker.close()));
});

async function setUp(rounds: (round: number) => SaslRound): Promise<{ broker: FakeSaslBroker; connection: Connection }> {
  const broker = await FakeSaslBroker.start(rounds, PASSWORD);
  brokers.push(broker);
  const connection = await Connection.connect({
    host: '127.0.0.1',
    port: broker.port,
    clientId: 'reauth-test',
    requestTimeoutMs: 10_000,
    maxInFlight: 5,
    sasl: { mechanism: 'plain', username: 'alice', password: PASSWORD },
  });
  connections.push(connection);
  return { broker, connection };
}

/** Resolves once `condition` holds (checked every few ms, for state the broker cannot see); rejects after 10 s. */
async function poll(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`still waiting after 10 s for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * A session of 300 ms, one re-authentication (the second states no lifetime; `holdHandshake`: the broker keeps its
 * SaslHandshake answer), and an answer asking for `throttleMs` that arrives once the renewal waits for it.
 */
async function throttledDuringRenewal(
  throttleMs: number,
  holdHandshake: boolean,
): Promise<{ broker: FakeSaslBroker; connection: Connection; answered: { throttleTimeMs: number } }> {
  const { broker, connection } = await setUp((round) => (round === 1 ? { lifetimeMs: 300 } : { lifetimeMs: 0, hold: holdHandshake }));
  broker.holdEcho = true;
  const first = connection.request(ThrottledEcho, throttleMs);
  await until(broker, () => broker.count(ECHO_KEY) === 1, 'the Echo at the broker');
  await poll(() => connection.reauthenticating, 're-authentication to begin');
  broker.holdEcho = false;
  broker.releaseEcho();
  return { broker, connection, answered: await first };
}

describe('Connection re-authentication (KIP-368)', () => {
  it('re-authenticates on the same socket before each session ends, recording each new lifetime', async () => {
    const { broker, connection } = await setUp((round) => ({ lifetimeMs: round === 1 ? 300 : 200 + round }));
    assert.equal(connection.sessionLifetimeMs, 300);
    await poll(() => connection.reauthentications >= 2, 'two re-authentications');
    assert.equal(connection.sessionLifetimeMs, 200 + connection.reauthentications + 1);
    assert.equal(await connection.request(Echo, 42), 42);
    assert.equal(broker.sockets.length, 1, 'one socket for every session');
    assert.ok(broker.count(SASL_HANDSHAKE) >= 3);
    assert.ok(broker.seen.every((request) => request.socket === broker.sockets[0]));
    assert.equal(connection.isClosed, false);
    await connection.close();
  });

  it('waits for the answers in flight, holds new requests until the session is renewed, then sends them in order', async () => {
    // Round 2 states no lifetime, so exactly one re-authentication happens.
    const { broker, connection } = await setUp((round) => (round === 1 ? { lifetimeMs: 300 } : { lifetimeMs: 0, hold: true }));
    broker.holdEcho = true;
    const first = connection.request(Echo, 1);
    await until(broker, () => broker.count(ECHO_KEY) === 1, 'the first Echo at the broker');
    await poll(() => connection.reauthenticating, 're-authentication to begin');
    // The first Echo is still unanswered: no SaslHandshake may be written before its answer.
    assert.equal(broker.count(SASL_HANDSHAKE), 1);
    const second = connection.request(Echo, 2);
    const third = connection.request(Echo, 3);
    assert.equal(connection.queued, 2);
    assert.equal(connection.inFlight, 1);
    broker.holdEcho = false;
    broker.releaseEcho();
    assert.equal(await first, 1);
    await until(broker, () => broker.count(SASL_HANDSHAKE) === 2, 'the re-authentication SaslHandshake');
    assert.equal(broker.count(ECHO_KEY), 1, 'requests wait while re-authenticating');
    assert.equal(connection.queued, 2);
    broker.release();
    assert.deepEqual(await Promise.all([second, third]), [2, 3]);
    assert.deepEqual(
      broker.seen.map((request) => `${request.apiKey}:${request.detail}`),
      ['17:PLAIN', '36:1', `${ECHO_KEY}:1`, '17:PLAIN', '36:2', `${ECHO_KEY}:2`, `${ECHO_KEY}:3`],
    );
    assert.equal(connection.reauthentications, 1);
    assert.equal(connection.sessionLifetimeMs, 0);
    assert.equal(connection.reauthenticating, false);
    assert.equal(broker.sockets.length, 1);
    await connection.close();
  });

  it('a refused re-authentication fails the connection with AuthenticationError and settles the waiting requests', async () => {
    const { broker, connection } = await setUp((round) => (round === 1 ? { lifetimeMs: 300 } : { lifetimeMs: 300, hold: true, refuse: true }));
    await until(broker, () => broker.count(SASL_HANDSHAKE) === 2, 'the re-authentication SaslHandshake');
    const waiting = connection.request(Echo, 7);
    assert.equal(connection.queued, 1);
    broker.release();
    const error = await waiting.then(() => assert.fail('answered'), (e: unknown) => e);
    assert.ok(error instanceof ConnectionError, String(error));
    assert.ok(error.cause instanceof AuthenticationError, String(error.cause));
    const reason = await connection.closed;
    assert.ok(reason instanceof AuthenticationError, String(reason));
    assert.equal(reason.code, 'ERR_AUTHENTICATION');
    assert.match(reason.message, /PLAIN/);
    assert.ok(!reason.message.includes(PASSWORD));
    assert.equal(connection.isClosed, true);
    assert.equal(connection.reauthentications, 0);
    assert.equal(broker.count(ECHO_KEY), 0, 'the waiting request was never sent');
    await until(broker, () => broker.closedSockets === 1, 'the socket closed');
  });

  it('close during the SASL exchange of a re-authentication settles everything', async () => {
    const { broker, connection } = await setUp((round) => (round === 1 ? { lifetimeMs: 300 } : { lifetimeMs: 300, hold: true }));
    await until(broker, () => broker.count(SASL_HANDSHAKE) === 2, 'the re-authentication SaslHandshake');
    const waiting = connection.request(Echo, 8).then(() => assert.fail('answered'), (e: unknown) => e);
    await connection.close();
    const error = await waiting;
    assert.ok(error instanceof ConnectionError, String(error));
    assert.equal(connection.isClosed, true);
    await until(broker, () => broker.closedSockets === 1, 'the socket closed');
    broker.release(); // the held answer goes nowhere
    assert.equal(broker.count(SASL_AUTHENTICATE), 1);
    assert.equal(broker.count(ECHO_KEY), 0);
  });

  it('close while a re-authentication waits for answers in flight settles them and the queued requests', async () => {
    const { broker, connection } = await setUp((round) => ({ lifetimeMs: round === 1 ? 300 : 0 }));
    broker.holdEcho = true;
    const inFlight = connection.request(Echo, 1);
    await until(broker, () => broker.count(ECHO_KEY) === 1, 'the Echo at the broker');
    await poll(() => connection.reauthenticating, 're-authentication to begin');
    const queued = connection.request(Echo, 2);
    const settled = Promise.allSettled([inFlight, queued]);
    await connection.close();
    const [a, b] = await settled;
    assert.equal(a.status, 'rejected');
    assert.equal(b.status, 'rejected');
    assert.ok((a as PromiseRejectedResult).reason instanceof ConnectionError);
    assert.ok((b as PromiseRejectedResult).reason instanceof ConnectionError);
    await until(broker, () => broker.closedSockets === 1, 'the socket closed');
    assert.equal(broker.count(SASL_HANDSHAKE), 1, 'no re-authentication after close');
  });

  it('waits for a throttle that came with the last answer before it writes its SaslHandshake (KIP-219), then goes on', async () => {
    const { broker, connection, answered } = await throttledDuringRenewal(150, false);
    assert.deepEqual(answered, { throttleTimeMs: 150 });
    await until(broker, () => broker.count(SASL_HANDSHAKE) === 2, 'the re-authentication SaslHandshake');
    assert.equal(await connection.request(Echo, 5), 5);
    assert.equal(connection.reauthentications, 1);
    await connection.close();
  });

  it('a re-authentication held by a throttle writes nothing into the muted connection, and close ends its wait', async () => {
    // The broker holds the re-authentication's SaslHandshake answer: written, it would stay in flight.
    const { broker, connection } = await throttledDuringRenewal(60_000, true);
    await new Promise((resolve) => setImmediate(resolve)); // the renewal's steps after the answer have run
    assert.equal(connection.inFlight, 0, 'no SaslHandshake written while throttled');
    assert.equal(broker.count(SASL_HANDSHAKE), 1);
    const waiting = connection.request(Echo, 6).then(() => assert.fail('answered'), (e: unknown) => e);
    await connection.close();
    assert.ok((await waiting) instanceof ConnectionError);
    assert.equal(broker.count(SASL_HANDSHAKE), 1);
  });

  it('the re-authentication timer does not keep the process alive', async () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = timers();
    const { connection } = await setUp(() => ({ lifetimeMs: 60_000 }));
    connection.unref();
    assert.equal(connection.sessionLifetimeMs, 60_000);
    assert.equal(timers(), before, 'no timer holds the event loop');
    await connection.close();
  });
});
