/**
 * The `tls` and `sasl` options, checked at construction like every other option. Both reach the worker threads,
 * which own the broker connections: TLS options must therefore survive a structured clone (no functions, no
 * SecureContext objects), and the OAUTHBEARER token provider stays on the main thread, which hands its tokens over.
 * No message here ever quotes a password, key or token: only field names and types.
 */
import tls from 'node:tls';
import { ConfigError } from '../shared/errors.js';
import type { OAuthBearerToken } from '../net/sasl.js';
import { nearestName } from './option-names.js';

export type { OAuthBearerToken } from '../net/sasl.js';

/** SASL with a user name and password. */
export interface SaslPasswordOptions {
  readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  readonly username: string;
  readonly password: string;
}

/** SASL/OAUTHBEARER (KIP-255): `token` is called on the main thread, before the last token expires. */
export interface SaslOAuthBearerOptions {
  readonly mechanism: 'oauthbearer';
  /** Returns a fresh token; `lifetimeMs` (default: from the token's `exp` claim, else 1 hour) drives its refresh. */
  readonly token: () => Promise<OAuthBearerToken> | OAuthBearerToken;
  /** SASL extensions sent with the token (RFC 7628): keys of letters only, not `auth`. */
  readonly extensions?: Readonly<Record<string, string>> | undefined;
}

export type SaslOptions = SaslPasswordOptions | SaslOAuthBearerOptions;

const MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer'];

/**
 * The `tls` option's object: the `tls.connect` options that are plain data. They travel to the worker threads, where
 * functions and native handles cannot go, so the members that can only be those are left out of the type (and a
 * function anywhere is refused at construction).
 */
export type TlsOptions = Omit<tls.ConnectionOptions, 'checkServerIdentity' | 'pskCallback' | 'lookup' | 'secureContext' | 'socket'>;

/**
 * The names `tls.connect` and `tls.createSecureContext` take (Node 20 to 24), for telling a typo from an option. A
 * name not listed is passed on as it is (a later Node's new option, say), unless it is a near miss of a listed one:
 * `rejectUnauthorised: false`, `CA` or `serverName` were taken, and Node ignored them without a word.
 */
const TLS_OPTION_NAMES = [
  'ALPNCallback', 'ALPNProtocols', 'SNICallback', 'allowHalfOpen', 'allowPartialTrustChain', 'autoSelectFamily',
  'autoSelectFamilyAttemptTimeout', 'blockList', 'ca', 'cert', 'checkServerIdentity', 'ciphers', 'clientCertEngine',
  'crl', 'dhparam', 'ecdhCurve', 'enableTrace', 'family', 'fd', 'handshakeTimeout', 'highWaterMark', 'hints',
  'honorCipherOrder', 'host', 'isServer', 'keepAlive', 'keepAliveInitialDelay', 'key', 'localAddress', 'localPort',
  'lookup', 'maxVersion', 'minDHSize', 'minVersion', 'noDelay', 'onread', 'passphrase', 'path', 'pfx', 'port',
  'privateKeyEngine', 'privateKeyIdentifier', 'pskCallback', 'pskIdentityHint', 'readable', 'rejectUnauthorized',
  'requestCert', 'requestOCSP', 'secureContext', 'secureOptions', 'secureProtocol', 'server', 'servername', 'session',
  'sessionIdContext', 'sessionTimeout', 'sigalgs', 'signal', 'socket', 'ticketKeys', 'timeout', 'writable',
];

/** `true` → Node's defaults (system CAs, host-name verification); an object → those `tls.connect` options. */
export function resolveTls(value: unknown): tls.ConnectionOptions | null {
  if (value === undefined || value === false) return null;
  if (value === true) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`options.tls must be true or an object of tls.connect options, got ${typeOf(value)}`);
  }
  checkCloneable(value, 'options.tls');
  const o = value as Record<string, unknown>;
  for (const name of Object.keys(o)) {
    if (TLS_OPTION_NAMES.includes(name)) continue;
    const near = nearestName(name, TLS_OPTION_NAMES);
    if (near !== undefined) throw new ConfigError(`options.tls: unknown option "${name}" (did you mean "${near}"?)`);
  }
  for (const field of ['ca', 'cert', 'key', 'pfx'] as const) {
    const v = o[field];
    if (v !== undefined && !isPem(v) && !(Array.isArray(v) && v.length > 0 && v.every((item) => isPem(item) || isObject(item)))) {
      throw new ConfigError(`options.tls.${field} must be a string, a Buffer or an array of them, got ${typeOf(v)}`);
    }
  }
  for (const field of ['servername', 'passphrase', 'minVersion', 'maxVersion', 'ciphers'] as const) {
    if (o[field] !== undefined && typeof o[field] !== 'string') {
      throw new ConfigError(`options.tls.${field} must be a string, got ${typeOf(o[field])}`);
    }
  }
  if (o.rejectUnauthorized !== undefined && typeof o.rejectUnauthorized !== 'boolean') {
    throw new ConfigError(`options.tls.rejectUnauthorized must be a boolean, got ${typeOf(o.rejectUnauthorized)}`);
  }
  if ((o.cert === undefined) !== (o.key === undefined) && o.pfx === undefined) {
    throw new ConfigError(`options.tls.${o.cert === undefined ? 'cert' : 'key'} is missing: a client certificate needs both cert and key`);
  }
  const options = { ...(value as tls.ConnectionOptions) };
  checkSecureContext(options);
  return options;
}

/**
 * Builds the TLS context the options describe, once, to refuse at construction what every connection would refuse:
 * an unknown `minVersion`, a cipher list OpenSSL does not know, a key that is not PEM, a wrong passphrase. Otherwise
 * each connection failed on them, and every send waited for its buffer timeout to report no broker reachable.
 * Node's and OpenSSL's messages name what is wrong without quoting a key or passphrase.
 */
function checkSecureContext(options: tls.ConnectionOptions): void {
  try {
    tls.createSecureContext(options);
  } catch (error) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    throw new ConfigError(`options.tls is refused by Node's TLS: ${typeof code === 'string' ? `${code}: ` : ''}${String(message)}`, { cause: error });
  }
}

export function resolveSasl(value: unknown): SaslOptions | null {
  if (value === undefined) return null;
  if (!isObject(value)) throw new ConfigError(`options.sasl must be an object, got ${typeOf(value)}`);
  const o = value as Record<string, unknown>;
  if (typeof o.mechanism !== 'string' || !MECHANISMS.includes(o.mechanism)) {
    throw new ConfigError(
      `options.sasl.mechanism must be one of ${MECHANISMS.map((m) => `'${m}'`).join(', ')}, got ` +
        `${typeof o.mechanism === 'string' ? JSON.stringify(o.mechanism) : typeOf(o.mechanism)}`,
    );
  }
  if (o.mechanism === 'oauthbearer') {
    onlyFields(o, ['mechanism', 'token', 'extensions']);
    if (typeof o.token !== 'function') {
      throw new ConfigError(`options.sasl.token must be a function () => Promise<{ value, lifetimeMs? }>, got ${typeOf(o.token)}`);
    }
    if (o.extensions !== undefined) {
      if (!isObject(o.extensions)) throw new ConfigError(`options.sasl.extensions must be an object of strings, got ${typeOf(o.extensions)}`);
      for (const [key, v] of Object.entries(o.extensions)) {
        // RFC 7628 §3.1: key = 1*ALPHA, value = *(VCHAR / SP / HTAB / CR / LF); `auth` is the token's own key.
        // Kafka's broker asks one character at least of a value: an empty one failed every authentication.
        if (!/^[A-Za-z]+$/.test(key) || key === 'auth') {
          throw new ConfigError(`options.sasl.extensions: key ${JSON.stringify(key)} must be letters only, and not "auth"`);
        }
        if (typeof v !== 'string' || !/^[\x21-\x7E \t\r\n]+$/.test(v)) {
          throw new ConfigError(`options.sasl.extensions.${key} must be a non-empty string of printable ASCII characters`);
        }
      }
    }
    return {
      mechanism: 'oauthbearer',
      token: o.token as SaslOAuthBearerOptions['token'],
      ...(o.extensions !== undefined && { extensions: { ...(o.extensions as Record<string, string>) } }),
    };
  }
  onlyFields(o, ['mechanism', 'username', 'password']);
  if (typeof o.username !== 'string' || o.username.length === 0) {
    throw new ConfigError(`options.sasl.username must be a non-empty string, got ${typeof o.username === 'string' ? 'an empty string' : typeOf(o.username)}`);
  }
  if (typeof o.password !== 'string' || o.password.length === 0) {
    throw new ConfigError(`options.sasl.password must be a non-empty string, got ${typeof o.password === 'string' ? 'an empty string' : typeOf(o.password)}`);
  }
  if (o.mechanism === 'plain' && (o.username.includes('\0') || o.password.includes('\0'))) {
    throw new ConfigError('options.sasl.username and options.sasl.password must not contain NUL characters (PLAIN separates fields with them)');
  }
  return { mechanism: o.mechanism as SaslPasswordOptions['mechanism'], username: o.username, password: o.password };
}

function onlyFields(o: Record<string, unknown>, allowed: readonly string[]): void {
  const extra = Object.keys(o).filter((key) => !allowed.includes(key));
  if (extra.length > 0) {
    throw new ConfigError(`options.sasl with mechanism '${String(o.mechanism)}' takes ${allowed.join(', ')}; unexpected ${extra.join(', ')}`);
  }
}

function isPem(v: unknown): boolean {
  return typeof v === 'string' || ArrayBuffer.isView(v);
}

function isObject(v: unknown): v is object {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Only what a structured clone keeps as it is: primitives, byte arrays, arrays and plain objects. */
function checkCloneable(value: unknown, path: string): void {
  if (value === null || ['string', 'number', 'boolean', 'undefined'].includes(typeof value) || ArrayBuffer.isView(value)) return;
  if (typeof value === 'function') {
    throw new ConfigError(`${path} cannot be a function: TLS options are handed to the worker threads, where functions cannot go`);
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkCloneable(item, `${path}[${i}]`));
    return;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (typeof value !== 'object' || (proto !== Object.prototype && proto !== null)) {
    throw new ConfigError(`${path} must be plain data (strings, Buffers, numbers, booleans), got ${typeOf(value)}`);
  }
  for (const [key, item] of Object.entries(value)) checkCloneable(item, `${path}.${key}`);
}

/** The type of a value, never the value itself (it may be a secret). */
function typeOf(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'object') return `an object${v.constructor?.name && v.constructor !== Object ? ` (${v.constructor.name})` : ''}`;
  return `a ${typeof v}`;
}
