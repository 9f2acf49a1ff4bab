/**
 * SaslHandshake (key 17), versions 0–1, never flexible (KAFKA-9577: its version cannot be bumped, so it stays
 * classic). v1 announces that SaslAuthenticate requests carry the tokens; v0 sent raw tokens and is not used by
 * ringkafka, but is encodable.
 */
import type { ApiDefinition } from '../api.js';
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';
import { ProtocolError, UnsupportedVersionError } from '../../shared/errors.js';

const MIN_VERSION = 0;
const MAX_VERSION = 1;
/** Never flexible: no version reaches this. */
const NEVER = Number.MAX_SAFE_INTEGER;

export interface SaslHandshakeRequest {
  /** e.g. `PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512`. */
  readonly mechanism: string;
}

export interface SaslHandshakeResponse {
  /** UNSUPPORTED_SASL_MECHANISM (33) when the mechanism is not enabled; `mechanisms` then lists those that are. */
  readonly errorCode: number;
  readonly mechanisms: readonly string[];
}

function checkVersion(version: number): void {
  if (!(version >= MIN_VERSION && version <= MAX_VERSION)) {
    throw new UnsupportedVersionError(`SaslHandshake v${version} is not supported (ringkafka speaks v0–v1)`);
  }
}

/* SaslHandshakeRequest v0–v1 => mechanism:string */
function encodeRequest(writer: Writer, version: number, request: SaslHandshakeRequest): void {
  checkVersion(version);
  writer.string(request.mechanism);
}

/* SaslHandshakeResponse v0–v1 => error_code:int16 mechanisms:[string] */
function decodeResponse(reader: Reader, version: number): SaslHandshakeResponse {
  checkVersion(version);
  const errorCode = reader.int16();
  const mechanisms = reader.array(readMechanism, 2);
  if (mechanisms === null) throw new ProtocolError('SaslHandshake response has a null mechanisms array');
  return { errorCode, mechanisms };
}

function readMechanism(reader: Reader): string {
  const mechanism = reader.string();
  if (mechanism === null) throw new ProtocolError('SaslHandshake response has a null mechanism');
  return mechanism;
}

export const SaslHandshake: ApiDefinition<SaslHandshakeRequest, SaslHandshakeResponse> = {
  key: 17,
  name: 'SaslHandshake',
  minVersion: MIN_VERSION,
  maxVersion: MAX_VERSION,
  flexibleFrom: NEVER,
  encodeRequest,
  decodeResponse,
};
