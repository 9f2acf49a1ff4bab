/**
 * TLS failures that retrying cannot fix, told apart from network trouble: the broker's certificate is not signed by
 * a trusted CA, does not cover the host name, has expired, failed verification for any other reason (a certificate
 * made for clients only, a revoked one), or the broker refused our client certificate (or its absence). Each becomes
 * an AuthenticationError that says which, as Java's SslAuthenticationException does. And the
 * opposite mistake, a TLS listener reached without TLS, told apart from a broker that hung up.
 */
import { ConnectionError, ProtocolError, type KafkaProducerError } from '../shared/errors.js';
import { AuthenticationError } from '../shared/producer-errors.js';

const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
/**
 * Alerts the broker sends when it wants a client certificate it did not get, or does not trust the one it got.
 * Matched on the alert's name: Node builds the code from OpenSSL's reason string, which OpenSSL 3.x spells
 * differently from 1.1 (`ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE` on Node 22 and 24, `ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE`
 * before).
 */
const CLIENT_REFUSED = /^ERR_SSL_.*ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN)$/;
/**
 * The broker ended the handshake without saying why: no cipher suite, protocol version or signature algorithm in
 * common, or (from older brokers) a client certificate it wanted. Named as a refused certificate alone, a cipher
 * mismatch sent the user to tls.cert and tls.key.
 */
const HANDSHAKE_REFUSED = /^ERR_SSL_.*ALERT_HANDSHAKE_FAILURE$/;

/**
 * The AuthenticationErrors made here. A TLS failure is one broker's (its certificate, its TLS settings), unlike a
 * refused SASL login, which every broker of the cluster refuses alike: connecting to a list of brokers moves on past
 * it (bootstrap.ts).
 */
const brokerTlsFailures = new WeakSet<Error>();

/** Whether `error` is a TLS failure of one broker's connection (tlsFailure made it). */
export function isBrokerTlsFailure(error: unknown): boolean {
  return error instanceof Error && brokerTlsFailures.has(error);
}

/**
 * An AuthenticationError for a TLS verification failure, or undefined for anything else. `verifyFailed`: Node
 * rejected the broker's certificate (the socket's authorizationError is set), whatever OpenSSL's reason: every
 * such failure is one retrying cannot fix, as Java's SslAuthenticationException is for any failed handshake.
 */
export function tlsFailure(error: Error, address: string, verifyFailed = false): AuthenticationError | undefined {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  let reason: string | undefined;
  if (UNTRUSTED.has(code)) reason = `the broker's certificate is not signed by a trusted CA (${code}); set tls.ca`;
  else if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    reason = `the broker's certificate does not cover the host name (${error.message})`;
  } else if (EXPIRED.has(code)) reason = `the broker's certificate is not valid now (${code})`;
  else if (CLIENT_REFUSED.test(code)) {
    reason = `the broker refused the client certificate or its absence (${code}); set tls.cert and tls.key`;
  } else if (HANDSHAKE_REFUSED.test(code)) {
    reason =
      `the broker refused the handshake (${code}): no TLS version or cipher suite in common (tls.minVersion, ` +
      `tls.ciphers against the broker's ssl.enabled.protocols, ssl.cipher.suites), or it wants a client certificate ` +
      `(tls.cert and tls.key)`;
  } else if (verifyFailed) {
    reason = `the broker's certificate did not verify (${code === '' ? error.message : `${code}: ${error.message}`}); check it and tls.ca`;
  }
  if (reason === undefined) return undefined;
  const failure = new AuthenticationError(`TLS with ${address} failed: ${reason}`, { cause: error });
  brokerTlsFailures.add(failure);
  return failure;
}

/**
 * `failure` of an ApiVersions handshake over plain TCP that got no Kafka answer at all, with the likely cause named:
 * a TLS listener answers it with a TLS alert (no Kafka frame) or hangs up.
 */
export function tlsListenerHint(failure: KafkaProducerError, address: string): KafkaProducerError {
  if (!(failure instanceof ProtocolError || (failure instanceof ConnectionError && /closed/.test(failure.message)))) return failure;
  return new ConnectionError(
    `${failure.message} during the ApiVersions handshake; if ${address} is a TLS (SSL or SASL_SSL) listener, set the tls option`,
    { cause: failure },
  );
}
