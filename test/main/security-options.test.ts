/** The tls and sasl options: checked at construction, ConfigError naming the field, never quoting a secret. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveOptions, type ProducerOptions } from '../../src/main/options.js';
import { ConfigError } from '../../src/shared/errors.js';

const SECRET = 'hunter2-secret-value';

function rejects(options: unknown, field: RegExp): void {
  assert.throws(
    () => resolveOptions(options as ProducerOptions, {}),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.match(error.message, field);
      assert.ok(!error.message.includes(SECRET), `the message quotes a secret: ${error.message}`);
      return true;
    },
  );
}

test('tls: true, an object of plain data, or absent', () => {
  assert.deepEqual(resolveOptions({ tls: true }, {}).tls, {});
  assert.equal(resolveOptions({}, {}).tls, null);
  assert.equal(resolveOptions({ tls: false }, {}).tls, null);
  const ca = Buffer.from('-----BEGIN CERTIFICATE-----');
  assert.deepEqual(resolveOptions({ tls: { ca, servername: 'localhost' } }, {}).tls, { ca, servername: 'localhost' });
});

test('bad tls options name their field', () => {
  rejects({ tls: 'yes' }, /options\.tls must be/);
  rejects({ tls: { ca: 42 } }, /options\.tls\.ca/);
  rejects({ tls: { rejectUnauthorized: 'no' } }, /options\.tls\.rejectUnauthorized/);
  rejects({ tls: { checkServerIdentity: () => undefined } }, /options\.tls\.checkServerIdentity cannot be a function/);
  rejects({ tls: { cert: 'PEM' } }, /options\.tls\.key is missing/);
  rejects({ tls: { key: SECRET } }, /options\.tls\.cert is missing/);
  rejects({ tls: { passphrase: 12 } }, /options\.tls\.passphrase/);
  // Typos of Node's option names, which Node would ignore without a word; a name far from every one is passed on.
  rejects({ tls: { rejectUnauthorised: false } }, /^options\.tls: unknown option "rejectUnauthorised" \(did you mean "rejectUnauthorized"\?\)$/);
  rejects({ tls: { CA: 'PEM' } }, /options\.tls: unknown option "CA" \(did you mean "ca"\?\)/);
  rejects({ tls: { serverName: 'kafka' } }, /options\.tls: unknown option "serverName" \(did you mean "servername"\?\)/);
  assert.deepEqual(resolveOptions({ tls: { someFutureNodeOption: 1 } as object }, {}).tls, { someFutureNodeOption: 1 });
});

test('the tls option\'s type leaves out what cannot travel to the worker threads (refused at construction too)', () => {
  // @ts-expect-error: checkServerIdentity is a function, which cannot reach the worker threads
  const withFunction: ProducerOptions = { tls: { checkServerIdentity: () => undefined } };
  rejects(withFunction, /options\.tls\.checkServerIdentity cannot be a function/);
  // A tls.ConnectionOptions value of plain data is taken as it is.
  const connectOptions: import('node:tls').ConnectionOptions = { servername: 'localhost' };
  assert.deepEqual(resolveOptions({ tls: connectOptions }, {}).tls, { servername: 'localhost' });
});

test("tls options Node's TLS refuses are refused at construction, naming the setting, never quoting a key", () => {
  // Each of these passed construction and failed every connection instead: sends then waited for bufferTimeoutMs.
  rejects({ tls: { minVersion: 'TLSv9' } }, /options\.tls is refused by Node's TLS: .*TLSv9/);
  rejects({ tls: { ciphers: 'NOT-A-CIPHER' } }, /options\.tls is refused by Node's TLS: .*cipher/i);
  rejects({ tls: { cert: 'not a certificate', key: SECRET } }, /options\.tls is refused by Node's TLS/);
});

test('sasl: each mechanism with its fields', () => {
  for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
    assert.deepEqual(resolveOptions({ sasl: { mechanism, username: 'u', password: SECRET } }, {}).sasl, { mechanism, username: 'u', password: SECRET });
  }
  const token = async () => ({ value: 'a.b.' });
  const resolved = resolveOptions({ sasl: { mechanism: 'oauthbearer', token, extensions: { logicalCluster: 'lc-1' } } }, {}).sasl;
  assert.equal(resolved?.mechanism, 'oauthbearer');
});

test('bad sasl options name their field and never quote the password', () => {
  rejects({ sasl: 'plain' }, /options\.sasl must be an object/);
  rejects({ sasl: { mechanism: 'GSSAPI', username: 'u', password: SECRET } }, /options\.sasl\.mechanism/);
  rejects({ sasl: { mechanism: 'plain', password: SECRET } }, /options\.sasl\.username must be a non-empty string, got undefined$/);
  rejects({ sasl: { mechanism: 'plain', username: 'u' } }, /options\.sasl\.password must be a non-empty string, got undefined$/);
  rejects({ sasl: { mechanism: 'scram-sha-256', username: 'u', password: '' } }, /options\.sasl\.password/);
  rejects({ sasl: { mechanism: 'scram-sha-512', username: 'u', password: 42 } }, /options\.sasl\.password/);
  rejects({ sasl: { mechanism: 'plain', username: 'u', password: SECRET, token: () => SECRET } }, /unexpected token/);
  rejects({ sasl: { mechanism: 'oauthbearer', token: SECRET } }, /options\.sasl\.token must be a function/);
  rejects({ sasl: { mechanism: 'oauthbearer', token: () => SECRET, extensions: { auth: 'x' } } }, /extensions/);
  rejects({ sasl: { mechanism: 'oauthbearer', token: () => SECRET, extensions: { ok: `${SECRET}\u0001` } } }, /options\.sasl\.extensions\.ok/);
  // Kafka's broker refuses an empty value (at least one character), so every authentication would fail.
  rejects({ sasl: { mechanism: 'oauthbearer', token: () => SECRET, extensions: { logicalCluster: '' } } }, /options\.sasl\.extensions\.logicalCluster must be a non-empty string/);
});
