/**
 * The gate in front of new connections after an authentication failure: a refused login holds for every broker (the
 * same credentials fail everywhere), a TLS failure only for the broker whose certificate or settings failed. One
 * broker's certificate refused every new connection of the thread, to healthy brokers too, for a backoff that each
 * new failure there started again.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthGate } from '../../src/net/auth-gate.js';
import { tlsFailure } from '../../src/net/tls-errors.js';
import { AuthenticationError } from '../../src/shared/producer-errors.js';

const B1 = { host: '10.0.0.1', port: 9093 };
const B2 = { host: '10.0.0.2', port: 9093 };
// A backoff of a minute: whatever the gate refuses, it refuses for the whole test.
const gate = (): AuthGate => new AuthGate(60_000, 60_000);
const wrongHost = (address: string): AuthenticationError =>
  tlsFailure(Object.assign(new Error('altname'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), address)!;

describe('AuthGate', () => {
  it("a broker's TLS failure refuses new connections to that broker only", () => {
    const auth = gate();
    const failure = wrongHost('10.0.0.2:9093');
    auth.failed(failure, B2);
    assert.throws(() => auth.check(B2), (error) => error === failure);
    assert.doesNotThrow(() => auth.check(B1), 'a healthy broker was refused with another broker\'s TLS failure');
    assert.equal(auth.refusing(B1), undefined);
    // A success elsewhere does not clear it; one at that broker does.
    auth.succeeded(B1);
    assert.equal(auth.refusing(B2), failure);
    auth.succeeded(B2);
    assert.equal(auth.refusing(B2), undefined);
  });

  it('a refused login refuses new connections to every broker until a connection succeeds', () => {
    const auth = gate();
    const refused = new AuthenticationError('SaslAuthenticate failed: SASL_AUTHENTICATION_FAILED');
    auth.failed(refused, B2);
    assert.throws(() => auth.check(B1), (error) => error === refused);
    assert.throws(() => auth.check(), (error) => error === refused);
    auth.succeeded(B1);
    assert.doesNotThrow(() => auth.check(B2));
  });

  it('a failure that is not an authentication failure refuses nothing', () => {
    const auth = gate();
    auth.failed(new Error('ECONNREFUSED'), B2);
    assert.doesNotThrow(() => auth.check(B2));
  });
});
