/**
 * A cluster that refuses every connection (src/main/producer.ts, src/main/waiting-sends.ts): a caller that stops
 * waiting with its signal (a deadline of its own, as AbortSignal.timeout gives) learns why the producer has no
 * connection, not only that the wait was aborted.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { Producer } from '../../src/main/producer.js';
import { connectFailure } from '../../src/main/producer-internals.js';
import { AbortError, ProducerClosedError } from '../../src/shared/producer-errors.js';
import { ConnectionError } from '../../src/shared/errors.js';

/** An address on 127.0.0.1 where nothing listens: a port the system gave a server that has closed. */
async function refusingAddress(): Promise<string> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return `127.0.0.1:${port}`;
}

test('connect({ signal }) and send({ signal }) aborted after an attempt was refused say why it failed', { timeout: 30_000 }, async () => {
  const producer = new Producer({ brokers: await refusingAddress(), workers: 1, bufferTimeoutMs: 300 });
  try {
    assert.equal(connectFailure(producer), undefined, 'no attempt has failed yet');
    // A first attempt runs to its end, so the producer knows why it could not connect.
    await assert.rejects(producer.connect(), (error: unknown) => error instanceof ConnectionError && /ECONNREFUSED/.test(error.message));
    // What the CLI's notice says to a user waiting for the cluster (src/cli/connect-notice.ts).
    assert.match(connectFailure(producer) ?? '', /ECONNREFUSED/);
    const connecting = new AbortController();
    const connected = producer.connect({ signal: connecting.signal });
    connecting.abort();
    await assert.rejects(connected, (error: unknown) => error instanceof AbortError && error.delivery === 'not-sent'
      && /^connect aborted; the connection attempt goes on for the sends that wait for it; its last attempt failed: .*ECONNREFUSED/.test(error.message));
    const sending = new AbortController();
    const sent = producer.send({ topic: 't', value: 'v' }, { signal: sending.signal });
    sending.abort();
    await assert.rejects(sent, (error: unknown) => error instanceof AbortError && error.delivery === 'not-sent'
      && /^aborted while waiting for the connection or topic metadata; its last attempt failed: .*ECONNREFUSED/.test(error.message));
  } finally {
    await producer.close({ timeoutMs: 0 });
  }
});

test('close fails a send waiting for a cluster that refuses it as closed, with why the last attempt failed', { timeout: 30_000 }, async () => {
  const producer = new Producer({ brokers: await refusingAddress(), workers: 1 });
  const sent = producer.send({ topic: 't', value: 'v' });
  // Closed once an attempt has failed (loopback refuses at once), while the send still waits (bufferTimeoutMs, 60 s).
  for (let i = 0; i < 1000 && connectFailure(producer) === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  await producer.close({ timeoutMs: 0 });
  // It said "the producer closed while the record waited for its topic", with no reason, or "the producer is closed",
  // as to a call made after close.
  await assert.rejects(sent, (error: unknown) => error instanceof ProducerClosedError && error.delivery === 'not-sent'
    && /^the producer closed while the record waited for the connection( or topic metadata)?; its last attempt failed: .*ECONNREFUSED/.test(error.message));
});
