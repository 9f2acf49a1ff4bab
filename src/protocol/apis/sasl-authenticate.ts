/**
 * SaslAuthenticate (key 36), versions 0–2: carries one SASL token each way after SaslHandshake v1.
 * From v1 the broker may state a session lifetime (KIP-368): re-authenticate on the same connection before it ends.
 */
import type { ApiDefinition } from '../api.js';
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';
import { ProtocolError, UnsupportedVersionError } from '../../shared/errors.js';

const MIN_VERSION = 0;
const MAX_VERSION = 2;
const FLEXIBLE_FROM = 2;

export interface SaslAuthenticateRequest {
  readonly authBytes: Uint8Array;
}

export interface SaslAuthenticateResponse {
  /** SASL_AUTHENTICATION_FAILED (58) on bad credentials, with `errorMessage` saying why. */
  readonly errorCode: number;
  readonly errorMessage: string | null;
  /** The server's token (a copy, it does not pin the response buffer). */
  readonly authBytes: Uint8Array;
  /** v1+: milliseconds until the session expires, 0 for no limit (and before v1). */
  readonly sessionLifetimeMs: bigint;
}

function checkVersion(version: number): void {
  if (!(version >= MIN_VERSION && version <= MAX_VERSION)) {
    throw new UnsupportedVersionError(`SaslAuthenticate v${version} is not supported (ringkafka speaks v0–v2)`);
  }
}

/*
 * SaslAuthenticateRequest v0–v1 => auth_bytes:bytes
 * SaslAuthenticateRequest v2    => auth_bytes:compact_bytes tagged_fields
 */
function encodeRequest(writer: Writer, version: number, request: SaslAuthenticateRequest): void {
  checkVersion(version);
  if (version >= FLEXIBLE_FROM) writer.compactBytes(request.authBytes).taggedFields();
  else writer.bytes(request.authBytes);
}

/*
 * SaslAuthenticateResponse v0–v1 => error_code:int16 error_message:nullable_string auth_bytes:bytes
 *                                   session_lifetime_ms:int64 (v1+)
 * SaslAuthenticateResponse v2    => error_code:int16 error_message:compact_nullable_string
 *                                   auth_bytes:compact_bytes session_lifetime_ms:int64 tagged_fields
 */
function decodeResponse(reader: Reader, version: number): SaslAuthenticateResponse {
  checkVersion(version);
  const flexible = version >= FLEXIBLE_FROM;
  const errorCode = reader.int16();
  const errorMessage = flexible ? reader.compactString() : reader.string();
  const authBytes = flexible ? reader.compactBytes() : reader.bytes();
  if (authBytes === null) throw new ProtocolError('SaslAuthenticate response has null auth_bytes');
  const sessionLifetimeMs = version >= 1 ? reader.int64() : 0n;
  if (flexible) reader.taggedFields();
  return { errorCode, errorMessage, authBytes: new Uint8Array(authBytes), sessionLifetimeMs };
}

export const SaslAuthenticate: ApiDefinition<SaslAuthenticateRequest, SaslAuthenticateResponse> = {
  key: 36,
  name: 'SaslAuthenticate',
  minVersion: MIN_VERSION,
  maxVersion: MAX_VERSION,
  flexibleFrom: FLEXIBLE_FROM,
  encodeRequest,
  decodeResponse,
};
