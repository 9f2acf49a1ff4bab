/**
 * FindCoordinator (key 10), versions 1–6: which broker coordinates a consumer group or a transactional id. v0 (no
 * key type) is deprecated and never needed: every broker that knows transactions speaks v1.
 *
 * From v4 (KIP-699) the request carries a batch of keys and the response one coordinator per key. ringkafka always
 * asks for exactly one key, so the response is normalised to that one coordinator whatever the version.
 */
import type { ApiDefinition } from '../api.js';
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';
import { ProtocolError } from '../../shared/errors.js';
import { readArray, readNullableString, readString, versionGuard, writeString } from './fields.js';

const MIN_VERSION = 1;
const MAX_VERSION = 6;
const FLEXIBLE_FROM = 3;
/** From v4 keys travel as coordinator_keys and answers as coordinators[] (KIP-699). */
const BATCHED_FROM = 4;

/** The key_type values (FindCoordinatorRequest.CoordinatorType in the Java client). */
export const CoordinatorType = { GROUP: 0, TRANSACTION: 1 } as const;
export type CoordinatorType = (typeof CoordinatorType)[keyof typeof CoordinatorType];

export interface FindCoordinatorRequest {
  readonly keyType: CoordinatorType;
  /** The group id or the transactional id. */
  readonly key: string;
}

export interface FindCoordinatorResponse {
  readonly throttleTimeMs: number;
  readonly errorCode: number;
  readonly errorMessage: string | null;
  /** -1 (and an empty host) when errorCode is not 0. */
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
}

const checkVersion = versionGuard('FindCoordinator', MIN_VERSION, MAX_VERSION);

/*
 * FindCoordinatorRequest v1–v2 => key:string key_type:int8
 * FindCoordinatorRequest v3    => key:compact_string key_type:int8 tagged_fields
 * FindCoordinatorRequest v4+   => key_type:int8 coordinator_keys:compact[compact_string] tagged_fields
 */
function encodeRequest(writer: Writer, version: number, request: FindCoordinatorRequest): void {
  checkVersion(version);
  if (version >= BATCHED_FROM) {
    writer.int8(request.keyType).uvarint(2).compactString(request.key).taggedFields();
    return;
  }
  const flexible = version >= FLEXIBLE_FROM;
  writeString(writer, flexible, request.key);
  writer.int8(request.keyType);
  if (flexible) writer.taggedFields();
}

/*
 * FindCoordinatorResponse v1–v2 => throttle_time_ms:int32 error_code:int16 error_message:nullable_string
 *                                  node_id:int32 host:string port:int32
 * FindCoordinatorResponse v3    => the same in compact form, tagged_fields
 * FindCoordinatorResponse v4+   => throttle_time_ms:int32 coordinators:compact[key:compact_string node_id:int32
 *                                  host:compact_string port:int32 error_code:int16
 *                                  error_message:compact_nullable_string tagged_fields] tagged_fields
 */
function decodeResponse(reader: Reader, version: number): FindCoordinatorResponse {
  checkVersion(version);
  const throttleTimeMs = reader.int32();
  if (version >= BATCHED_FROM) {
    // Smallest coordinator: empty key and host, node id, port, error code, null message, tag section.
    const coordinators = readArray(reader, true, readCoordinator, 14, 'FindCoordinator response coordinators');
    reader.taggedFields();
    const [only] = coordinators;
    if (only === undefined || coordinators.length !== 1) {
      throw new ProtocolError(`FindCoordinator response has ${coordinators.length} coordinators for one key`);
    }
    return { throttleTimeMs, ...only };
  }
  const flexible = version >= FLEXIBLE_FROM;
  const errorCode = reader.int16();
  const errorMessage = readNullableString(reader, flexible);
  const nodeId = reader.int32();
  const host = readString(reader, flexible, 'FindCoordinator response host');
  const port = reader.int32();
  if (flexible) reader.taggedFields();
  return { throttleTimeMs, errorCode, errorMessage, nodeId, host, port };
}

function readCoordinator(reader: Reader): Omit<FindCoordinatorResponse, 'throttleTimeMs'> {
  readString(reader, true, 'FindCoordinator response key'); // the one key we asked for
  const nodeId = reader.int32();
  const host = readString(reader, true, 'FindCoordinator response host');
  const port = reader.int32();
  const errorCode = reader.int16();
  const errorMessage = reader.compactString();
  reader.taggedFields();
  return { errorCode, errorMessage, nodeId, host, port };
}

export const FindCoordinator: ApiDefinition<FindCoordinatorRequest, FindCoordinatorResponse> = {
  key: 10,
  name: 'FindCoordinator',
  minVersion: MIN_VERSION,
  maxVersion: MAX_VERSION,
  flexibleFrom: FLEXIBLE_FROM,
  clientThrottlesFrom: 2,
  encodeRequest,
  decodeResponse,
};
