/**
 * The reconnect backoff on the main thread (src/net/reconnect-pacing.ts), against a server on 127.0.0.1 that resets
 * every connection it accepts: nothing Kafka, so every attempt to connect fails. With a retry backoff of 0 or 1 ms,
 * the loops that wait for the bootstrap connection (the producer id, a topic's metadata) reconnected as fast as each
 * attempt failed, hundreds of times a second, until their deadline; each now waits the reconnect backoff too, and
 * gives up when that pause would reach past its deadline. The workers' links: test/workers/cluster-view.test.ts.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test, type TestContext } from 'node:test';
import { Producer } from '../../src/main/producer.js';
import { ConnectionError } from '../../src/shared/errors.js';
import { UnknownTopicError } from '../../src/shared/producer-errors.js';

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

test('connect with a retry backoff of 0 and a cluster out of reach: one attempt, not one per failure, then its error', async (t) => {
  const server = await resettingServer(t);
  const producer = new Producer({ brokers: server.address, ...OPTIONS });
  t.after(() => producer.close({ timeoutMs: 0 }));
  const error = await producer.connect().then(() => assert.fail('connected to a server that resets every connection'), (e: unknown) => e);
  assert.ok(error instanceof ConnectionError, String(error));
  assert.equal(server.connections(), 1, 'the second attempt would come after the deadline: none was made');
});

test('a send to a cluster out of reach with a retry backoff of 1 ms: its topic is asked for once, not once per failure', async (t) => {
  // 1 ms, not 0: with 0, the topic's fetch used to give up after its first failure (topic-registry.test.ts).
  const server = await resettingServer(t);
  const producer = new Producer({ brokers: server.address, ...OPTIONS, retryBackoffMs: 1, retryBackoffMaxMs: 1, idempotent: false });
  t.after(() => producer.close({ timeoutMs: 0 }));
  const error = await producer.send({ topic: 'events', value: 'x' }).then(() => assert.fail('delivered'), (e: unknown) => e);
  assert.ok(error instanceof UnknownTopicError && /ECONNRESET/.test(error.message), String(error));
  assert.equal(server.connections(), 1, 'the second attempt would come after the deadline: none was made');
});
