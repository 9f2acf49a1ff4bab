/**
 * KIP-368 re-authentication against the real secured broker, whose SASL_SSL listener gives SCRAM-SHA-512 and
 * OAUTHBEARER sessions a lifetime of REAUTH_MS (scripts/kafka/config.ts). The lifetime is read from a connection
 * itself: a broker started before that setting existed states none (or, for OAUTHBEARER, the token's remaining
 * lifetime), and then these tests skip with a message — except in CI (CI=true), which starts its broker fresh,
 * where that is a failure.
 *
 * OAUTHBEARER is also run with tokens that expire within seconds, which any secured broker turns into as short a
 * session, so it runs (and fails without re-authentication) on a broker started without that setting too.
 *
 * A connection that does not re-authenticate is closed by the broker at the first request after its session ended,
 * so sending across more than one lifetime with no reconnect (one TCP connection through a counting relay) and no
 * batch resent after a lost connection (metrics().retries) shows that sessions were renewed on the same sockets.
 */
import assert from 'node:assert/strict';
import { before, describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Producer } from '../../src/main/producer.js';
import type { ProducerOptions } from '../../src/main/options.js';
import { Metadata } from '../../src/protocol/apis/metadata.js';
import { Connection } from '../../src/net/connection.js';
import type { SaslCredentials } from '../../src/net/sasl.js';
import { REAUTH_MS } from '../../scripts/kafka/config.js';
import { SASL_USER, createTopic, uniqueTopic, useBroker, useSecureBroker, type SecureBroker } from '../helpers/broker.js';
import { countingRelay } from '../helpers/counting-relay.js';
import { consume } from '../helpers/readback.js';

function aliceToken(expiresInS: number): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${part({ alg: 'none' })}.${part({ sub: SASL_USER.username, iat: now - 5, exp: now + expiresInS })}.`;
}

const scram512: SaslCredentials = { mechanism: 'scram-sha-512', ...SASL_USER };

let plain: string[];
let secure: SecureBroker | undefined;
let skip: string | false = false;

before(async () => {
  plain = await useBroker();
  const found = await useSecureBroker();
  if ('skip' in found) skip = found.skip;
  else secure = found;
});

/**
 * The session lifetime the broker states for `sasl`, from one connection; `undefined` (after skipping `t`) when
 * it states none outside CI.
 */
async function lifetimeOrSkip(t: TestContext, sasl: SaslCredentials): Promise<number | undefined> {
  const [host, port] = secure!.saslSsl[0]!.split(':');
  const connection = await Connection.connect({
    host: host!, port: Number(port), clientId: 'reauth-probe', requestTimeoutMs: 10_000, maxInFlight: 1, tls: { ca: secure!.ca }, sasl,
  });
  const lifetime = connection.sessionLifetimeMs;
  await connection.close();
  // Without the setting the broker states no lifetime, or for OAUTHBEARER the token's remaining one (an hour here).
  if (lifetime > 0 && lifetime <= REAUTH_MS) return lifetime;
  const why =
    `the broker at ${secure!.saslSsl[0]} states a session lifetime of ${lifetime} ms for ${sasl.mechanism}, not at most ` +
    `${REAUTH_MS} ms: it was started without connections.max.reauth.ms (restart it with ` +
    `\`npm run kafka -- start --secure\` to run this test)`;
  if (process.env.CI === 'true') assert.fail(why);
  t.skip(why);
  return undefined;
}

describe('re-authentication (KIP-368) with the real broker', () => {
  test('a connection renews its SASL_SSL session on the same socket, across several lifetimes', async (t) => {
    if (skip) return t.skip(skip);
    const lifetime = await lifetimeOrSkip(t, scram512);
    if (lifetime === undefined) return;
    const relay = await countingRelay(secure!.saslSsl[0]!);
    const connection = await Connection.connect({
      host: '127.0.0.1', port: Number(relay.address.split(':')[1]), clientId: 'reauth-test', requestTimeoutMs: 10_000,
      maxInFlight: 5, tls: { ca: secure!.ca, servername: 'localhost' }, sasl: scram512,
    });
    try {
      const started = Date.now();
      // Requests all along: one sent after a session ended without renewal would make the broker close the socket.
      while (connection.reauthentications < 2 || Date.now() - started < 1.5 * lifetime) {
        assert.ok(Date.now() - started < 6 * lifetime, `only ${connection.reauthentications} re-authentications`);
        const response = await connection.request(Metadata, { topics: [], allowAutoTopicCreation: false });
        assert.ok(response.brokers.length > 0);
        await sleep(100);
      }
      assert.equal(connection.isClosed, false);
      assert.ok(connection.sessionLifetimeMs > 0);
      assert.equal(relay.connections(), 1, 'one TCP connection for every session');
    } finally {
      await connection.close();
      await relay.close();
    }
  });

  for (const [name, sasl] of [
    ['SCRAM-SHA-512', scram512],
    // Tokens of 5 s: the broker ends a session when its token expires, so this one runs on any secured broker, and
    // each re-authentication must use the token the main thread refreshed meanwhile.
    ['OAUTHBEARER (5 s tokens)', { mechanism: 'oauthbearer', token: async () => ({ value: aliceToken(5) }) }],
  ] as const) {
    test(`a producer over SASL_SSL ${name} keeps sending across more than one session lifetime, without reconnecting`, async (t) => {
      if (skip) return t.skip(skip);
      const lifetime = await lifetimeOrSkip(t, sasl);
      if (lifetime === undefined) return;
      const topic = uniqueTopic(`reauth-${sasl.mechanism}`);
      await createTopic(topic, 1);
      const options: ProducerOptions = { brokers: secure!.saslSsl, tls: { ca: secure!.ca }, sasl, workers: 1, lingerMs: 1 };
      const producer = new Producer(options);
      const offsets: number[] = [];
      let sent = 0;
      try {
        const started = Date.now();
        while (Date.now() - started < 1.6 * lifetime) {
          const slice = Array.from({ length: 10 }, (_, i) => producer.send({ topic, value: `${name}-${sent + i}` }));
          sent += slice.length;
          for (const result of await Promise.all(slice)) offsets.push(result.offset);
          await sleep(200);
        }
        assert.deepEqual(offsets, Array.from({ length: sent }, (_, i) => i));
        assert.equal(producer.metrics().retries, 0, 'no batch was resent after a lost connection');
      } finally {
        await producer.close();
      }
      const records = await consume(plain, topic, sent);
      assert.deepEqual(records.map((r) => r.value), Array.from({ length: sent }, (_, i) => `${name}-${i}`));
    });
  }
});
