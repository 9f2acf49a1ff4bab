/**
 * Connection against the real broker (test/helpers/broker.ts: KAFKA_BROKERS, else the local node started on
 * demand): the handshake negotiates, the version ranges are Kafka's, and pipelined requests come back matched.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ApiDefinition } from '../../src/protocol/api.js';
import { ApiVersions, DEFAULT_API_VERSIONS_REQUEST } from '../../src/protocol/apis/api-versions.js';
import { Connection } from '../../src/net/connection.js';
import { useBroker } from '../helpers/broker.js';

/** Only the version range matters here: versionFor never encodes or decodes. */
const MetadataRange: ApiDefinition<unknown, unknown> = {
  key: 3,
  name: 'Metadata',
  minVersion: 0,
  maxVersion: 13,
  flexibleFrom: 9,
  encodeRequest: () => {},
  decodeResponse: () => undefined,
};

test('connects to the real broker, negotiates ApiVersions and pipelines requests', { timeout: 120_000 }, async (t) => {
  const [address] = await useBroker();
  assert.ok(address, 'at least one broker address');
  const separator = address.lastIndexOf(':');
  const conn = await Connection.connect({
    host: address.slice(0, separator),
    port: Number(address.slice(separator + 1)),
    clientId: 'ringkafka-connection-test',
    requestTimeoutMs: 30_000,
    maxInFlight: 5,
  });
  t.after(() => conn.close());

  const apiVersions = conn.brokerVersions.get(ApiVersions.key);
  assert.ok(apiVersions, 'the broker lists ApiVersions');
  assert.equal(conn.apiVersionsVersion, Math.min(ApiVersions.maxVersion, apiVersions.max));
  assert.equal(conn.versionFor(ApiVersions), conn.apiVersionsVersion);

  const produce = conn.brokerVersions.get(0);
  assert.ok(produce && produce.max >= 9, `Produce max version ${produce?.max} should be at least 9`);
  assert.ok(conn.brokerVersions.has(3), 'the broker lists Metadata');
  const metadataVersion = conn.versionFor(MetadataRange);
  assert.ok(metadataVersion >= 0 && metadataVersion <= 13);

  // Twelve requests through five slots, at flexible and classic versions: each answer matches its request.
  const answers = await Promise.all(
    Array.from({ length: 12 }, (_, i) => conn.request(ApiVersions, DEFAULT_API_VERSIONS_REQUEST, { version: i % 5 })),
  );
  answers.forEach((answer, i) => {
    assert.equal(answer.errorCode, 0, `answer ${i}`);
    assert.equal(answer.bodyVersion, i % 5);
    assert.deepEqual(answer.apiKeys.find((k) => k.apiKey === 0), { apiKey: 0, minVersion: produce.min, maxVersion: produce.max });
  });
  assert.equal(conn.inFlight + conn.queued, 0);
});
