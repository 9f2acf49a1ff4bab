/**
 * Fetching an idempotent producer's id from a cluster that keeps failing it (src/main/producer-id.ts), against the
 * in-process fake broker on 127.0.0.1: every connection is cut right after its ApiVersions handshake (a flapping
 * broker), so each InitProducerId is lost and retried after a backoff. The backoff is a minute here: close must end
 * that wait, leaving no timer to hold the process open for the rest of it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Producer } from '../../src/main/producer.js';
import { ProducerClosedError } from '../../src/shared/producer-errors.js';
import { FAKE_API, FakeBroker } from '../helpers/fake-broker.js';
import { trackTimers } from '../helpers/timers.js';

/** A broker that answers the handshake and then drops the connection, every time. */
async function flappingBroker(): Promise<FakeBroker> {
  const broker = await FakeBroker.start(1);
  broker.tamper = (apiKey, frame) => {
    if (apiKey === FAKE_API.apiVersions) {
      const { socket } = broker.requests.at(-1)!;
      setImmediate(() => socket.destroy()); // once the answer is written
    }
    return frame;
  };
  return broker;
}

test('close while InitProducerId waits out its backoff against a flapping broker ends that wait: no timer is left', { timeout: 30_000 }, async (t) => {
  // Backoffs only (48 s and more, with jitter): the requests' own time-outs and the sweeps are shorter.
  const backoffs = trackTimers(t, 40_000);
  const broker = await flappingBroker();
  const producer = new Producer({ brokers: [broker.address], workers: 1, retryBackoffMs: 60_000, retryBackoffMaxMs: 60_000, bufferTimeoutMs: 600_000 });
  try {
    const connecting = producer.connect().then(() => assert.fail('connected to a broker that drops every connection'), (error: unknown) => error);
    // The first InitProducerId was lost with its connection: the fetch now waits out its backoff.
    while (backoffs.size === 0) await new Promise((resolve) => setImmediate(resolve));
    assert.ok(broker.connections >= 1);
    await producer.close();
    const error = await connecting;
    assert.ok(error instanceof ProducerClosedError && error.delivery === 'not-sent', String(error));
    assert.equal(backoffs.size, 0, 'the backoff timer was cleared by close');
  } finally {
    await producer.close({ timeoutMs: 0 });
    await broker.close();
  }
});
