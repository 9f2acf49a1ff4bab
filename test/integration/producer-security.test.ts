/**
 * TLS and SASL against the real secured broker (`npm run kafka -- start --secure`): every mechanism over SASL_SSL
 * and mutual TLS on the SSL listener, records read back over PLAINTEXT by Kafka's console consumer (exact count and
 * order); then the failures — wrong password, failing or expired OAUTHBEARER token, unknown CA, wrong host name,
 * missing client certificate, a TLS listener reached without TLS — each a clear error, promptly, with a bounded
 * number of connection attempts, and no password or token in anything the producer emits.
 */
import assert from 'node:assert/strict';
import type net from 'node:net';
import { after, before, describe, test, type TestContext } from 'node:test';
import { Producer } from '../../src/main/producer.js';
import type { ProducerOptions } from '../../src/main/options.js';
import { Connection } from '../../src/net/connection.js';
import { KafkaProducerError } from '../../src/shared/errors.js';
import { SASL_USER, createTopic, uniqueTopic, useBroker, useSecureBroker, type SecureBroker } from '../helpers/broker.js';
import { consume } from '../helpers/readback.js';
import { countingRelay } from '../helpers/counting-relay.js';
import { FakeBroker } from '../helpers/fake-broker.js';

const RECORDS = 60;
const WRONG_PASSWORD = 'not-alice-secret-7f3a';

/** An unsecured JWS (`alg: none`, empty signature) as Kafka's default OAUTHBEARER validator accepts it. */
function unsecuredJws(claims: Record<string, unknown>): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none' })}.${part(claims)}.`;
}

function aliceToken(expiresInS: number): string {
  const now = Math.floor(Date.now() / 1000);
  return unsecuredJws({ sub: SASL_USER.username, iat: now - 5, exp: now + expiresInS, scope: 'produce' });
}

/** Every text an error carries: message, stack and its causes. */
function errorText(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 10; depth++) {
    if (e instanceof Error) {
      parts.push(e.message, e.stack ?? '');
      e = e.cause;
    } else {
      parts.push(String(e));
      break;
    }
  }
  return parts.join('\n');
}

let plain: string[];
let secure: SecureBroker | undefined;
let skip: string | false = false;
/** Everything the producers emitted, for the no-secret check at the end, and the secrets it must not contain. */
const emitted: string[] = [];
const secrets: string[] = [SASL_USER.password, WRONG_PASSWORD];

before(async () => {
  plain = await useBroker();
  const found = await useSecureBroker();
  if ('skip' in found) skip = found.skip;
  else secure = found;
});

async function produceAndReadBack(name: string, options: ProducerOptions): Promise<void> {
  const topic = uniqueTopic(`security-${name}`);
  await createTopic(topic, 1);
  const producer = new Producer({ workers: 2, lingerMs: 1, ...options });
  producer.on('deliveryError', (error) => emitted.push(errorText(error)));
  try {
    const results = await Promise.all(
      Array.from({ length: RECORDS }, (_, i) => producer.send({ topic, key: `k${i}`, value: `${name}-${i}` })),
    );
    assert.deepEqual(results.map((r) => r.offset), Array.from({ length: RECORDS }, (_, i) => i));
    emitted.push(JSON.stringify(producer.metrics()));
  } finally {
    await producer.close();
  }
  const records = await consume(plain, topic, RECORDS);
  assert.deepEqual(records.map((r) => r.value), Array.from({ length: RECORDS }, (_, i) => `${name}-${i}`));
}

/** Sends `count` records with a producer that must fail to authenticate; returns the distinct errors. */
/**
 * How a connection trusting the test CA fails against a TLS listener that presents `cert` (and ends every
 * connection it accepts): the listener is closed when the test ends.
 */
async function connectPresented(t: TestContext, cert: string, key: string): Promise<KafkaProducerError> {
  const tls = await import('node:tls');
  const server = tls.createServer({ cert, key }, (socket) => socket.destroy());
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const { port } = server.address() as net.AddressInfo;
  return Connection.connect({
    host: '127.0.0.1', port, clientId: 'test', requestTimeoutMs: 10_000, maxInFlight: 1, tls: { ca: secure!.ca },
  }).then(() => assert.fail('connected'), (e: unknown) => e as KafkaProducerError);
}

async function expectAuthFailure(options: ProducerOptions, count = 20): Promise<KafkaProducerError> {
  const producer = new Producer({ workers: 1, bufferTimeoutMs: 60_000, ...options });
  try {
    const topic = uniqueTopic('security-refused');
    const results = await Promise.allSettled(Array.from({ length: count }, (_, i) => producer.send({ topic, value: `v${i}` })));
    assert.ok(results.every((r) => r.status === 'rejected'), 'every send fails');
    const reasons = results.map((r) => (r as PromiseRejectedResult).reason as KafkaProducerError);
    for (const reason of reasons) {
      emitted.push(errorText(reason));
      assert.equal(reason.code, 'ERR_AUTHENTICATION', errorText(reason));
      assert.equal(reason.retriable, false);
    }
    emitted.push(JSON.stringify(producer.metrics()));
    return reasons[0]!;
  } finally {
    await producer.close();
  }
}

describe('secured broker', () => {
  test('SASL PLAIN over TLS', async (t) => {
    if (skip) return t.skip(skip);
    await produceAndReadBack('plain', { brokers: secure!.saslSsl, tls: { ca: secure!.ca }, sasl: { mechanism: 'plain', ...SASL_USER } });
  });

  test('SASL SCRAM-SHA-256 over TLS', async (t) => {
    if (skip) return t.skip(skip);
    await produceAndReadBack('scram256', { brokers: secure!.saslSsl, tls: { ca: secure!.ca }, sasl: { mechanism: 'scram-sha-256', ...SASL_USER } });
  });

  test('SASL SCRAM-SHA-512 over TLS', async (t) => {
    if (skip) return t.skip(skip);
    await produceAndReadBack('scram512', { brokers: secure!.saslSsl, tls: { ca: secure!.ca }, sasl: { mechanism: 'scram-sha-512', ...SASL_USER } });
  });

  test('SASL OAUTHBEARER over TLS, one provider call serving the metadata connection and every worker', async (t) => {
    if (skip) return t.skip(skip);
    let calls = 0;
    await produceAndReadBack('oauth', {
      brokers: secure!.saslSsl,
      tls: { ca: secure!.ca },
      sasl: {
        mechanism: 'oauthbearer',
        token: async () => {
          calls++;
          return { value: aliceToken(3600) };
        },
      },
    });
    assert.equal(calls, 1);
  });

  test('mutual TLS on the SSL listener', async (t) => {
    if (skip) return t.skip(skip);
    await produceAndReadBack('mtls', { brokers: secure!.ssl, tls: { ca: secure!.ca, cert: secure!.clientCert, key: secure!.clientKey } });
  });

  test('a wrong PLAIN password fails every send with AuthenticationError, with few connection attempts', async (t) => {
    if (skip) return t.skip(skip);
    const relay = await countingRelay(secure!.saslSsl[0]!);
    try {
      const options: ProducerOptions = {
        brokers: [relay.address],
        tls: { ca: secure!.ca, servername: 'localhost' },
        sasl: { mechanism: 'plain', username: SASL_USER.username, password: WRONG_PASSWORD },
      };
      const error = await expectAuthFailure(options, 50);
      assert.match(error.message, /PLAIN/);
      // 50 sends waiting together share one attempt: the failure reaches all of them, none opens its own socket.
      assert.ok(relay.connections() <= 2, `${relay.connections()} connection attempts for 50 sends`);
    } finally {
      await relay.close();
    }
  });

  test('a wrong SCRAM password fails with AuthenticationError; the same user with the right one then works', async (t) => {
    if (skip) return t.skip(skip);
    for (const mechanism of ['scram-sha-256', 'scram-sha-512'] as const) {
      const error = await expectAuthFailure({
        brokers: secure!.saslSsl,
        tls: { ca: secure!.ca },
        sasl: { mechanism, username: SASL_USER.username, password: WRONG_PASSWORD },
      });
      assert.match(error.message, new RegExp(mechanism, 'i'));
    }
    await produceAndReadBack('scram-after-failure', { brokers: secure!.saslSsl, tls: { ca: secure!.ca }, sasl: { mechanism: 'scram-sha-256', ...SASL_USER } });
  });

  test('an OAUTHBEARER token provider that throws, and an expired token, fail with AuthenticationError', async (t) => {
    if (skip) return t.skip(skip);
    const secretToken = aliceToken(3600);
    const thrown = await expectAuthFailure({
      brokers: secure!.saslSsl,
      tls: { ca: secure!.ca },
      sasl: {
        mechanism: 'oauthbearer',
        token: () => {
          throw new Error(`provider down, last token was ${secretToken}`);
        },
      },
    });
    // Says what the provider did (each failure read "…failed (AuthenticationError)"), never what it said.
    assert.match(thrown.message, /the OAUTHBEARER token provider threw Error/);
    assert.ok(!errorText(thrown).includes(secretToken));
    const shapeless = await expectAuthFailure({
      brokers: secure!.saslSsl,
      tls: { ca: secure!.ca },
      sasl: { mechanism: 'oauthbearer', token: async () => ({ token: secretToken }) as unknown as { value: string } },
    });
    assert.match(shapeless.message, /the OAUTHBEARER token provider returned no \{ value \} with a bearer token in it/);
    const expired = aliceToken(-60);
    const refused = await expectAuthFailure({
      brokers: secure!.saslSsl,
      tls: { ca: secure!.ca },
      sasl: { mechanism: 'oauthbearer', token: async () => ({ value: expired }) },
    });
    assert.match(refused.message, /OAUTHBEARER/);
    secrets.push(secretToken, expired);
  });

  test('TLS failures say which: unknown CA, wrong host name, missing client certificate', async (t) => {
    if (skip) return t.skip(skip);
    const unknownCa = await expectAuthFailure({ brokers: secure!.saslSsl, tls: true, sasl: { mechanism: 'plain', ...SASL_USER } }, 5);
    assert.match(unknownCa.message, /not signed by a trusted CA/);
    const wrongHost = await expectAuthFailure(
      { brokers: secure!.saslSsl, tls: { ca: secure!.ca, servername: 'wrong-host.invalid' }, sasl: { mechanism: 'plain', ...SASL_USER } },
      5,
    );
    assert.match(wrongHost.message, /does not cover the host name/);
    const noClientCert = await expectAuthFailure({ brokers: secure!.ssl, tls: { ca: secure!.ca } }, 5);
    assert.match(noClientCert.message, /client certificate/);
  });

  test('a certificate for another host name is refused, even from a trusted CA', async (t) => {
    if (skip) return t.skip(skip);
    const error = await connectPresented(t, secure!.wrongHostCert, secure!.wrongHostKey);
    assert.equal(error.code, 'ERR_AUTHENTICATION');
    assert.match(error.message, /does not cover the host name/);
  });

  test('a bootstrap broker whose certificate is wrong is passed over: the next one connects, and the records are written', async (t) => {
    // One broker's TLS failure (its certificate) stopped the bootstrap loop as a refused login does, so a producer
    // listing it first never connected, whatever the brokers after it.
    if (skip) return t.skip(skip);
    const tls = await import('node:tls');
    let handshakes = 0;
    const server = tls.createServer({ cert: secure!.wrongHostCert, key: secure!.wrongHostKey }, (socket) => socket.destroy());
    server.on('tlsClientError', () => void handshakes++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => server.close(resolve)));
    const { port } = server.address() as net.AddressInfo;
    await produceAndReadBack('wrong-first', {
      brokers: [`127.0.0.1:${port}`, ...secure!.ssl], tls: { ca: secure!.ca, cert: secure!.clientCert, key: secure!.clientKey },
    });
    assert.ok(handshakes >= 1, 'the broker with the wrong certificate was tried first');
  });

  test('a certificate made for clients only is refused at once as an authentication failure, not retried', async (t) => {
    // OpenSSL's INVALID_PURPOSE (like a revoked certificate) was not among the codes read as TLS failures: a plain
    // ConnectionError, retried until the send's buffer timeout.
    if (skip) return t.skip(skip);
    const error = await connectPresented(t, secure!.clientCert, secure!.clientKey);
    assert.equal(error.code, 'ERR_AUTHENTICATION', errorText(error));
    assert.match(error.message, /the broker's certificate did not verify \(INVALID_PURPOSE: /);
  });

  test("one broker's certificate failure does not fail sends to another broker", async (t) => {
    // Node 2's certificate does not cover its address; node 1's is good. The worker's gate held node 2's TLS failure
    // for every broker: a send to a partition node 1 leads, on a connection not yet open, failed at once with node
    // 2's error and was never sent. A backoff of 30 s keeps that refusal up for the whole test.
    if (skip) return t.skip(skip);
    const fake = await FakeBroker.start(2, () => false, { autoAck: true });
    t.after(() => fake.close());
    const good = await countingRelay(fake.address, { tls: { cert: secure!.brokerCert, key: secure!.brokerKey } });
    const bad = await countingRelay(fake.address, { tls: { cert: secure!.wrongHostCert, key: secure!.wrongHostKey } });
    t.after(() => Promise.all([good.close(), bad.close()]));
    const node = (nodeId: number, address: string) => ({ nodeId, host: '127.0.0.1', port: Number(address.split(':')[1]) });
    fake.listedBrokers = [node(1, good.address), node(2, bad.address)];
    fake.leaderOf = (_topic, partition) => (partition === 0 ? 2 : 1);
    const producer = new Producer({
      brokers: [good.address], tls: { ca: secure!.ca }, workers: 1, lingerMs: 0, retryBackoffMs: 30_000, retryBackoffMaxMs: 30_000,
    });
    t.after(() => producer.close({ timeoutMs: 1000 }));
    const toBad = await producer.send({ topic: 'tls-gate', partition: 0, value: 'to node 2' }).then(() => assert.fail('sent'), (e: unknown) => e as KafkaProducerError);
    assert.equal(toBad.code, 'ERR_AUTHENTICATION', errorText(toBad));
    assert.match(toBad.message, new RegExp(`TLS with ${bad.address} failed: the broker's certificate does not cover the host name`));
    const before = good.connections();
    const toGood = await producer.send({ topic: 'tls-gate', partition: 1, value: 'to node 1' });
    assert.equal(toGood.partition, 1);
    assert.ok(good.connections() > before, 'node 1 was connected to');
  });

  test('a TLS listener reached without TLS fails with a ConnectionError that suggests the tls option', async (t) => {
    if (skip) return t.skip(skip);
    const [host, port] = secure!.saslSsl[0]!.split(':');
    const error = await Connection.connect({
      host: host!, port: Number(port), clientId: 'test', requestTimeoutMs: 10_000, maxInFlight: 1,
    }).then(() => assert.fail('connected'), (e: unknown) => e as KafkaProducerError);
    assert.equal(error.code, 'ERR_CONNECTION', errorText(error));
    assert.match(error.message, /set the tls option/);
  });

  test('a listener of the wrong kind for the sasl option says so: SASL against a PLAINTEXT one, none against SASL_SSL', async (t) => {
    if (skip) return t.skip(skip);
    const [host, port] = plain[0]!.split(':');
    const refused = await Connection.connect({
      host: host!, port: Number(port), clientId: 'test', requestTimeoutMs: 10_000, maxInFlight: 1, sasl: { mechanism: 'plain', ...SASL_USER },
    }).then(() => assert.fail('connected'), (e: unknown) => e as KafkaProducerError);
    // It said "SaslHandshake with … failed: ILLEGAL_SASL_STATE".
    assert.equal(refused.code, 'ERR_AUTHENTICATION', errorText(refused));
    assert.match(refused.message, /is not a SASL listener .*leave out the sasl option/);

    // TLS without sasl against SASL_SSL: ApiVersions is answered, then the broker hangs up at the first request.
    const [secureHost, securePort] = secure!.saslSsl[0]!.split(':');
    const connection = await Connection.connect({
      host: secureHost!, port: Number(securePort), clientId: 'test', requestTimeoutMs: 10_000, maxInFlight: 1, tls: { ca: secure!.ca },
    });
    const { Metadata } = await import('../../src/protocol/apis/metadata.js');
    const lost = await connection.request(Metadata, { topics: [], allowAutoTopicCreation: false })
      .then(() => assert.fail('answered'), (e: unknown) => e as KafkaProducerError);
    assert.match(lost.message, /closed by the broker before answering its first request after the handshake; if it is a SASL_PLAINTEXT or SASL_SSL listener, set the sasl option/);
  });

  test('no password or token appears in any error, event or metrics() output above', (t) => {
    if (skip) return t.skip(skip);
    assert.ok(emitted.length > 10);
    const text = emitted.join('\n');
    for (const secret of secrets) {
      const at = text.indexOf(secret);
      assert.equal(at, -1, `a secret appears in: ${text.slice(Math.max(0, at - 200), at)}…`);
    }
  });
});
