import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tlsFailure } from '../../src/net/tls-errors.js';
import { AuthenticationError } from '../../src/shared/producer-errors.js';

function failure(code: string): Error {
  return Object.assign(new Error(`tls failed (${code})`), { code });
}

describe('tlsFailure', () => {
  it('reads a refused client certificate in the spellings of OpenSSL 1.1 and 3.x (Node 20, 22, 24)', () => {
    for (const code of [
      'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
      'ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE',
      'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
      'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
      'ERR_SSL_SSL/TLS_ALERT_CERTIFICATE_UNKNOWN',
    ]) {
      const error = tlsFailure(failure(code), '127.0.0.1:9192');
      assert.ok(error instanceof AuthenticationError, code);
      assert.match(error.message, /refused the client certificate/);
    }
  });

  it('a handshake_failure alert names both causes: nothing in common (versions, ciphers) or a wanted client certificate', () => {
    // Named as a refused certificate alone, a cipher mismatch sent the user to tls.cert and tls.key.
    for (const code of ['ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE']) {
      const error = tlsFailure(failure(code), '127.0.0.1:9192');
      assert.ok(error instanceof AuthenticationError, code);
      assert.match(error.message, /refused the handshake .*cipher suite.*client certificate/);
    }
  });

  it('names an untrusted CA, a wrong host name and an expired certificate, and leaves network errors alone', () => {
    assert.match(tlsFailure(failure('SELF_SIGNED_CERT_IN_CHAIN'), 'a:1')!.message, /trusted CA/);
    assert.match(tlsFailure(failure('ERR_TLS_CERT_ALTNAME_INVALID'), 'a:1')!.message, /host name/);
    assert.match(tlsFailure(failure('CERT_HAS_EXPIRED'), 'a:1')!.message, /not valid now/);
    assert.equal(tlsFailure(failure('ECONNRESET'), 'a:1'), undefined);
    assert.equal(tlsFailure(failure('ERR_SSL_WRONG_VERSION_NUMBER'), 'a:1'), undefined);
  });

  it('any other certificate Node refused (its authorizationError set) is an authentication failure too', () => {
    // A certificate made for clients only (INVALID_PURPOSE), a revoked one: retried as network trouble until the
    // send's buffer timeout, where Java fails the handshake at once (SslAuthenticationException).
    for (const code of ['INVALID_PURPOSE', 'CERT_REVOKED', 'CERT_REJECTED', 'INVALID_CA', 'PATH_LENGTH_EXCEEDED']) {
      assert.equal(tlsFailure(failure(code), 'a:1'), undefined, `${code} without a refused certificate`);
      const error = tlsFailure(failure(code), 'a:1', true);
      assert.ok(error instanceof AuthenticationError, code);
      assert.match(error.message, new RegExp(`^TLS with a:1 failed: the broker's certificate did not verify \\(${code}: `));
    }
  });
});
