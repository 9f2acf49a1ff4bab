/**
 * SASL authentication of one connection, after its ApiVersions handshake and before any other request:
 * SaslHandshake v1 names the mechanism, then SaslAuthenticate carries the tokens (KIP-152). The same exchange runs
 * again on a live connection to re-authenticate (KIP-368).
 *
 *   PLAIN        → \0user\0password                                   (RFC 4616)
 *   SCRAM-SHA-*  → client-first, ← server-first, → client-final, ← server-final   (scram.ts)
 *   OAUTHBEARER  → n,,\x01auth=Bearer <token>[\x01key=value]*\x01\x01  (RFC 7628); a failure comes back as a
 *                  JSON challenge, answered with a single \x01, after which the broker sends the error.
 *
 * No secret ever enters an error message: the broker's own messages are passed through `redact` too.
 */
import type { ApiDefinition } from '../protocol/api.js';
import { SaslAuthenticate } from '../protocol/apis/sasl-authenticate.js';
import { SaslHandshake } from '../protocol/apis/sasl-handshake.js';
import { ErrorCode, errorInfo } from '../protocol/error-codes.js';
import { AuthenticationError } from '../shared/producer-errors.js';
import { KafkaProducerError } from '../shared/errors.js';
import { ScramClient } from './scram.js';

/** An OAUTHBEARER token: the compact JWS (or any token the broker validates) and how long it stays valid. */
export interface OAuthBearerToken {
  readonly value: string;
  readonly lifetimeMs?: number | undefined;
}

export type SaslCredentials =
  | {
      readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
      readonly username: string;
      readonly password: string;
    }
  | {
      readonly mechanism: 'oauthbearer';
      /** Called for every authentication; the caller decides how tokens are cached and refreshed. */
      readonly token: () => Promise<OAuthBearerToken>;
      /** SASL extensions sent with the token (RFC 7628 §3.1), e.g. a logical cluster id. */
      readonly extensions?: Readonly<Record<string, string>> | undefined;
    };

/** What authentication needs of a connection: one request at a chosen version. */
export type SaslRequester = <Req, Res>(api: ApiDefinition<Req, Res>, request: Req, version: number) => Promise<Res>;

export interface SaslSession {
  /** Milliseconds until the broker ends the session (KIP-368); 0 when it set no limit. */
  readonly sessionLifetimeMs: number;
}

const SEP = '\x01';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Replaces every secret in a text that may reach a caller (broker messages can echo what they were sent). */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length > 0) out = out.replaceAll(secret, '[redacted]');
  return out;
}

/**
 * Runs the SASL exchange at `authenticateVersion` (SaslAuthenticate, negotiated by the caller). Rejects with
 * AuthenticationError when the broker refuses the mechanism or the credentials, or a SCRAM server signature does
 * not verify; any other rejection comes from the connection.
 */
export async function saslAuthenticate(
  request: SaslRequester,
  credentials: SaslCredentials,
  authenticateVersion: number,
  address: string,
): Promise<SaslSession> {
  const mechanism = credentials.mechanism.toUpperCase();
  const handshake = await request(SaslHandshake, { mechanism }, 1);
  if (handshake.errorCode === ErrorCode.UNSUPPORTED_SASL_MECHANISM) {
    throw new AuthenticationError(
      `${address} does not enable SASL mechanism ${mechanism} (it offers ${handshake.mechanisms.join(', ') || 'none'})`,
    );
  }
  // What a listener without SASL (PLAINTEXT, SSL) answers: said in those words, not as the bare code.
  if (handshake.errorCode === ErrorCode.ILLEGAL_SASL_STATE) {
    throw new AuthenticationError(
      `${address} is not a SASL listener (SaslHandshake answered ILLEGAL_SASL_STATE): leave out the sasl option, or connect to the broker's SASL_PLAINTEXT or SASL_SSL listener`,
    );
  }
  if (handshake.errorCode !== 0) {
    throw new AuthenticationError(`SaslHandshake with ${address} failed: ${errorInfo(handshake.errorCode).name}`);
  }
  const secrets: string[] = credentials.mechanism === 'oauthbearer' ? [] : [credentials.password];
  let lifetime = 0n;
  const step = async (token: string | Uint8Array): Promise<Uint8Array> => {
    const authBytes = typeof token === 'string' ? encoder.encode(token) : token;
    const response = await request(SaslAuthenticate, { authBytes }, authenticateVersion);
    if (response.errorCode !== 0) {
      const detail = redact(response.errorMessage ?? errorInfo(response.errorCode).name, secrets);
      throw new AuthenticationError(`SASL ${mechanism} authentication with ${address} failed: ${detail}`);
    }
    lifetime = response.sessionLifetimeMs;
    return response.authBytes;
  };

  switch (credentials.mechanism) {
    case 'plain':
      await step(`\0${credentials.username}\0${credentials.password}`);
      break;
    case 'scram-sha-256':
    case 'scram-sha-512': {
      const scram = new ScramClient(credentials.mechanism === 'scram-sha-256' ? 'sha256' : 'sha512', credentials.username, credentials.password);
      const serverFirst = decoder.decode(await step(scram.clientFirst()));
      const serverFinal = decoder.decode(await step(await scram.clientFinal(serverFirst)));
      scram.verifyServerFinal(serverFinal);
      break;
    }
    case 'oauthbearer': {
      const token = await obtainToken(credentials);
      secrets.push(token.value);
      const extensions = Object.entries(credentials.extensions ?? {}).map(([key, value]) => `${key}=${value}${SEP}`).join('');
      const challenge = await step(`n,,${SEP}auth=Bearer ${token.value}${SEP}${extensions}${SEP}`);
      if (challenge.length > 0) {
        // An error challenge: the exchange must still be finished before the broker reports the failure.
        const status = redact(decoder.decode(challenge), secrets);
        await step(SEP).catch(() => undefined);
        throw new AuthenticationError(`SASL OAUTHBEARER authentication with ${address} failed: ${status}`);
      }
      break;
    }
  }
  return { sessionLifetimeMs: Number(lifetime) };
}

/** Calls the OAUTHBEARER token provider; rejects with AuthenticationError when it fails. */
async function obtainToken(credentials: SaslCredentials & { mechanism: 'oauthbearer' }): Promise<OAuthBearerToken> {
  try {
    return await credentials.token();
  } catch (error) {
    // The producer's own token cache (src/main/oauth-tokens.ts, and the worker's end of it) stands between every
    // connection and the user's provider, and its errors already say what went wrong without quoting the provider
    // (threw which type, gave no token in time, returned no bearer token): passed on as they are. Wrapped here too,
    // each one read "the OAUTHBEARER token provider failed (AuthenticationError)" whatever the provider did.
    if (error instanceof KafkaProducerError) throw error;
    // Anything else may name anything; only its type is reported.
    throw new AuthenticationError(`the OAUTHBEARER token provider failed (${error instanceof Error ? error.name : typeof error})`);
  }
}

/**
 * Credentials for one more authentication with the token obtained now: for OAUTHBEARER the token is fetched at
 * once (a re-authentication gets it before it stops the connection's writes), other mechanisms are returned as
 * they are. Rejects with AuthenticationError when the token provider fails.
 */
export async function withCurrentToken(credentials: SaslCredentials): Promise<SaslCredentials> {
  if (credentials.mechanism !== 'oauthbearer') return credentials;
  const token = await obtainToken(credentials);
  return { ...credentials, token: () => Promise.resolve(token) };
}
