/**
 * Waiting for a connection attempt that a silent cluster holds up (src/main/producer.ts, src/main/producer-shutdown.ts,
 * src/main/worker-group.ts), against a server on 127.0.0.1 that accepts connections and never answers. The attempt's
 * request would wait out requestTimeoutMs (60 s here): close must end by its own deadline, or at once when nothing
 * waits any more, and leave no connection open; a caller of connect() may stop waiting with its signal, without
 * failing the sends that wait.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import { Producer } from '../../src/main/producer.js';
import { AbortError, ProducerClosedError } from '../../src/shared/producer-errors.js';
import { ConfigError } from '../../src/shared/errors.js';

/** A server that accepts and never answers; `closed()` resolves once every connection it took has ended. */
async function silentServer(): Promise<{ server: Server; address: string; accepted: () => number; closed: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.resume(); // reads and drops the requests: a socket whose data is never read never hears its peer's end
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    server,
    address: `127.0.0.1:${port}`,
    accepted: () => sockets.length,
    closed: async () => {
      await Promise.all(sockets.map((socket) => (socket.closed ? undefined : once(socket, 'close'))));
    },
  };
}

/** Resolves once the server took a connection: the producer's attempt is under way. */
async function connectionTaken(accepted: () => number): Promise<void> {
  while (accepted() === 0) await new Promise((resolve) => setTimeout(resolve, 10));
}

/**
 * Runs `fn` with a producer pointed at a silent server, once the producer's connection attempt is under way (the
 * server took its connection); then checks that every connection the server took has ended.
 */
async function withSilentCluster<T>(
  start: (producer: Producer) => T, fn: (producer: Producer, started: T) => Promise<void>, transactionalId?: string,
): Promise<void> {
  const silent = await silentServer();
  const producer = new Producer({ brokers: silent.address, workers: 1, requestTimeoutMs: 60_000, bufferTimeoutMs: 60_000, transactionalId });
  try {
    const started = start(producer);
    await connectionTaken(silent.accepted);
    await fn(producer, started);
    await silent.closed(); // the attempt's connection was closed, not left to its request timeout
  } finally {
    silent.server.close();
  }
}

/** A promise's rejection, or undefined if it resolved. */
const failureOf = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => undefined, (error: unknown) => error);

test('close({ timeoutMs: 0 }) while the connection attempt waits for a silent cluster ends, failing the waiting record not-sent', { timeout: 30_000 }, async () => {
  await withSilentCluster((producer) => failureOf(producer.send({ topic: 't', value: 'v' })), async (producer, sent) => {
    await producer.close({ timeoutMs: 0 });
    const error = await sent;
    assert.ok(error instanceof ProducerClosedError && error.delivery === 'not-sent', String(error));
  });
});

test('close() without a deadline, nothing waiting, ends without waiting for a connection attempt nobody needs', { timeout: 30_000 }, async () => {
  await withSilentCluster((producer) => failureOf(producer.connect()), async (producer, connecting) => {
    await producer.close();
    const error = await connecting;
    assert.ok(error instanceof ProducerClosedError && error.delivery === 'not-sent', String(error));
  });
});

test('close({ signal }) aborted while the connection attempt waits ends at the abort', { timeout: 30_000 }, async () => {
  await withSilentCluster((producer) => producer.sendBatch([{ topic: 't', value: 'a' }, { topic: 't', value: 'b' }]), async (producer, sent) => {
    const controller = new AbortController();
    const closing = producer.close({ signal: controller.signal });
    controller.abort();
    await closing;
    const results = await sent;
    assert.ok(results.every((r) => r.status === 'rejected' && (r.reason as { delivery?: string }).delivery === 'not-sent'));
  });
});

test('connect({ signal }) stops waiting at the abort; the attempt goes on for a send that waits, which close then fails', { timeout: 30_000 }, async () => {
  await withSilentCluster((producer) => failureOf(producer.send({ topic: 't', value: 'v' })), async (producer, sent) => {
    const controller = new AbortController();
    const connecting = failureOf(producer.connect({ signal: controller.signal }));
    controller.abort();
    const error = await connecting;
    assert.ok(error instanceof AbortError && error.delivery === 'not-sent', String(error));
    assert.equal(producer.metrics().bufferedRecords, 0);
    await producer.close({ timeoutMs: 0 });
    const failure = await sent;
    assert.ok(failure instanceof ProducerClosedError, `the send waited on, then failed at close: ${String(failure)}`);
  });
});

test('connect with a signal already aborted rejects at once; bad options are refused naming connect', async () => {
  const producer = new Producer({ brokers: '127.0.0.1:9', workers: 1 });
  try {
    await assert.rejects(producer.connect({ signal: AbortSignal.abort() }), (error: unknown) => error instanceof AbortError);
    await assert.rejects(producer.connect({ signal: 'soon' as unknown as AbortSignal }), (error: unknown) => error instanceof ConfigError && /connect/.test(error.message));
    await assert.rejects(producer.connect(null as unknown as object), (error: unknown) => error instanceof ConfigError && /connect options must be an object/.test(error.message));
  } finally {
    await producer.close({ timeoutMs: 0 });
  }
});

test('a transactional producer\'s close({ timeoutMs: 0 }) while transaction() waits for a silent cluster ends, failing it', { timeout: 30_000 }, async () => {
  const open = (producer: Producer) => failureOf(producer.transaction(async (tx) => {
    await tx.send({ topic: 't', value: 'v' });
  }));
  await withSilentCluster(open, async (producer, opened) => {
    await producer.close({ timeoutMs: 0 });
    const error = await opened;
    assert.ok(error instanceof ProducerClosedError, String(error));
  }, 'tx-silent');
});
