/**
 * Sends waiting for a topic's metadata, against the in-process fake broker: it stays silent on Metadata, which
 * a healthy broker will not do on demand. Each waiting send must fail at its own bufferTimeoutMs, not one
 * requestTimeoutMs after the other. The wait on the results is bounded only by the test's timeout, a hang
 * detector: the broker's silence would last a minute (requestTimeoutMs) if a send waited for it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Producer } from '../../src/main/producer.js';
import { UnknownTopicError } from '../../src/shared/producer-errors.js';
import { FAKE_API, FakeBroker } from '../helpers/fake-broker.js';

test('sends queued for a topic whose Metadata never comes each fail at their own bufferTimeoutMs, on one Metadata request', { timeout: 20_000 }, async () => {
  const broker = await FakeBroker.start(1);
  const producer = new Producer({ brokers: [broker.address], workers: 1, bufferTimeoutMs: 200, requestTimeoutMs: 60_000, deliveryTimeoutMs: 120_000 });
  let metadataRequests = 0;
  try {
    await producer.connect();
    broker.tamper = (apiKey, frame) => {
      if (apiKey !== FAKE_API.metadata) return frame;
      metadataRequests++;
      return null; // silence: the request would time out only after requestTimeoutMs
    };
    const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => producer.send({ topic: 'silent', value: `${i}` })));
    for (const result of results) {
      assert.equal(result.status, 'rejected');
      assert.ok(result.reason instanceof UnknownTopicError, String(result.reason));
    }
    assert.equal(metadataRequests, 1, 'the waiting sends shared one Metadata request');
  } finally {
    await producer.close({ timeoutMs: 1000 });
    await broker.close();
  }
});
