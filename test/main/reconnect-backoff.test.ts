/**
 * The reconnect backoff on the main thread (src/net/reconnect-pacing.ts), against a server on 127.0.0.1 that resets
 * every connection it accepts: nothing Kafka, so every attempt to connect fails. With a retry backoff of 0 or 1 ms,
 * the loops that wait for the bootstrap connection (the producer id, a topic's metadata) reconnected as fast as each
 * attempt failed, hundreds of times a second, until their deadline; each now waits the reconnect backoff too, up to
 * its deadline, and gives up there. The workers' links: test/workers/cluster-view.test.ts.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test, type TestContext } from 'node:test';
import { Producer } from '../../src/main/producer.js';
import { TopicRegistry } from '../../src/main/topic-registry.js';
import { AbortError, UnknownTopicError } from '../../src/shared/producer-errors.js';
import { FAKE_API, FakeBroker } from '../helpers/fake-broker.js';
import { trackTimers } from '../helpers/timers.js';
import { ConnectionError } from '../../src/shared/errors.js';

/** A server that destroys every connection at once; `connections` counts them. */
async function resettingServer(t: TestContext): Promise<{ address: string; connections: () => number }> {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    socket.resetAndDestroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as net.AddressInfo;
  return { address: `127.0.0.1:${port}`, connections: () => connections };
}

/** Retries at once, reconnects after a minute: one attempt fits in the deadline, the next would not. */
const OPTIONS = { workers: 1, retryBackoffMs: 0, retryBackoffMaxMs: 0, reconnectBackoffMs: 60_000, reconnectBackoffMaxMs: 60_000, bufferTimeoutMs: 1_000 };

test('connect with a retry backoff of 0 and a cluster out of reach: one attempt, not one per failure, then its error', { timeout: 30_000 }, async (t) => {
  const server = await resettingServer(t);
  const producer = new Producer({ brokers: server.address, ...OPTIONS });
  t.after(() => producer.close({ timeoutMs: 0 }));
  const error = await producer.connect().then(() => assert.fail('connected to a server that resets every connection'), (e: unknown) => e);
  assert.ok(error instanceof ConnectionError, String(error));
  assert.equal(server.connections(), 1, 'the second attempt would come after the deadline: none was made');
});

test('a send to a cluster out of reach with a retry backoff of 1 ms: its topic is asked for once, not once per failure', { timeout: 30_000 }, async (t) => {
  // 1 ms, not 0: with 0, the topic's fetch used to give up after its first failure (topic-registry.test.ts).
  const server = await resettingServer(t);
  const producer = new Producer({ brokers: server.address, ...OPTIONS, retryBackoffMs: 1, retryBackoffMaxMs: 1, idempotent: false });
  t.after(() => producer.close({ timeoutMs: 0 }));
  const error = await producer.send({ topic: 'events', value: 'x' }).then(() => assert.fail('delivered'), (e: unknown) => e);
  assert.ok(error instanceof UnknownTopicError && /ECONNRESET/.test(error.message), String(error));
  assert.equal(server.connections(), 1, 'the second attempt would come after the deadline: none was made');
});

test('a send after a failed attempt waits out the reconnect backoff before connecting, whichever loop asks', { timeout: 30_000 }, async (t) => {
  // Each loop paced only itself: a topic asked for after another's failed attempt connected at once.
  const server = await resettingServer(t);
  const producer = new Producer({ brokers: server.address, ...OPTIONS, idempotent: false });
  t.after(() => producer.close({ timeoutMs: 0 }));
  await assert.rejects(producer.send({ topic: 'first', value: 'x' }), UnknownTopicError);
  assert.equal(server.connections(), 1);
  await assert.rejects(producer.send({ topic: 'second', value: 'x' }), UnknownTopicError);
  assert.equal(server.connections(), 1, 'the second topic\'s fetch waits for the pause that follows the first failure');
});

test('many topics fetched at once from a cluster out of reach: one attempt, and no listener warning', { timeout: 30_000 }, async (t) => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error): number => warnings.push(warning);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const server = await resettingServer(t);
  const producer = new Producer({ brokers: server.address, ...OPTIONS, idempotent: false });
  t.after(() => producer.close({ timeoutMs: 0 }));
  const sends = Array.from({ length: 20 }, (_, i) => producer.send({ topic: `topic-${i}`, value: 'x' }));
  for (const outcome of await Promise.allSettled(sends)) assert.ok(outcome.status === 'rejected' && outcome.reason instanceof UnknownTopicError);
  assert.equal(server.connections(), 1);
  await new Promise((resolve) => setImmediate(resolve)); // a warning is emitted on the next tick
  assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map(String), []);
});

test('a broker that completes the handshake and drops every connection after it is reconnected to after the backoff', { timeout: 30_000 }, async (t) => {
  // The connection's end was booked when its socket's 'close' came, after the lost request had failed and its loop had
  // read the pause: the loop found none and reconnected at once.
  const broker = await FakeBroker.start(1);
  t.after(() => broker.close());
  broker.tamper = (apiKey, frame) => {
    if (apiKey === FAKE_API.apiVersions) {
      const { socket } = broker.requests.at(-1)!;
      setImmediate(() => socket.destroy()); // once the answer is written
    }
    return frame;
  };
  const producer = new Producer({ brokers: broker.address, ...OPTIONS });
  t.after(() => producer.close({ timeoutMs: 0 }));
  const error = await producer.connect().then(() => assert.fail('connected'), (e: unknown) => e);
  assert.ok(error instanceof ConnectionError, String(error));
  assert.equal(broker.connections, 1);
});

test('a coordinator out of reach is paced by its own address, and holds up neither the bootstrap connection nor others', { timeout: 30_000 }, async (t) => {
  const server = await resettingServer(t);
  const [host, port] = server.address.split(':');
  const coordinator = { host: host!, port: Number(port) };
  const registry = new TopicRegistry({
    brokers: [{ host: '127.0.0.1', port: 1 }], clientId: 'reconnect-backoff-test', requestTimeoutMs: 10_000, connectTimeoutMs: 10_000,
    retryBackoffMs: 0, retryBackoffMaxMs: 0, reconnectBackoffMs: 60_000, reconnectBackoffMaxMs: 60_000,
    metadataMaxAgeMs: 3_600_000, metadataMaxIdleMs: 3_600_000, tls: null, sasl: null,
  });
  t.after(() => registry.close());
  await assert.rejects(registry.connectTo(coordinator), ConnectionError);
  assert.equal(server.connections(), 1);
  assert.ok(registry.reconnectDelay(coordinator) > 40_000, 'a minute, less its jitter');
  assert.equal(registry.reconnectDelay(), 0, 'the bootstrap brokers were not tried');
  assert.equal(registry.reconnectDelay({ host: '127.0.0.1', port: 2 }), 0, 'another address');
  // The next attempt at that address waits out the pause; the caller's signal ends the wait.
  const stop = new AbortController();
  const second = registry.connectTo(coordinator, stop.signal);
  second.catch(() => undefined);
  await new Promise((resolve) => setImmediate(resolve));
  stop.abort();
  await assert.rejects(second, AbortError);
  assert.equal(server.connections(), 1);
});

test('a connect after a failed one waits out the rest of the pause only up to its deadline, then names the failure', { timeout: 10_000 }, async (t) => {
  // Its first attempt went straight into the shared attempt's pause, which no deadline bounds: a minute here.
  const pauses = trackTimers(t, 40_000);
  const server = await resettingServer(t);
  const producer = new Producer({ brokers: server.address, ...OPTIONS });
  t.after(() => producer.close({ timeoutMs: 0 }));
  await assert.rejects(producer.connect(), ConnectionError);
  const error = await producer.connect().then(() => assert.fail('connected'), (e: unknown) => e);
  assert.ok(error instanceof ConnectionError && /ECONNRESET/.test(error.message), String(error));
  assert.equal(server.connections(), 1);
  assert.equal(pauses.size, 0, 'no pause of the reconnect backoff is left waiting');
});
