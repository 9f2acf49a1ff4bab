/**
 * Request and response headers.
 *
 *   RequestHeader v1 => api_key:int16 api_version:int16 correlation_id:int32 client_id:nullable_string
 *   RequestHeader v2 => v1 + tagged_fields            (every flexible request; client_id keeps its int16 length)
 *   ResponseHeader v0 => correlation_id:int32
 *   ResponseHeader v1 => v0 + tagged_fields            (flexible responses, except ApiVersions: always v0)
 */
import type { ApiDefinition } from './api.js';
import { isFlexible } from './api.js';
import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

export const API_VERSIONS_KEY = 18;

export function writeRequestHeader(
  writer: Writer,
  api: ApiDefinition<unknown, unknown>,
  version: number,
  correlationId: number,
  clientId: string | null,
): void {
  writer.int16(api.key).int16(version).int32(correlationId).string(clientId);
  if (isFlexible(api, version)) writer.taggedFields();
}

/** Reads what follows the correlation id: the tagged fields of a flexible response header, if any. */
export function readResponseHeaderRest(reader: Reader, api: ApiDefinition<unknown, unknown>, version: number): void {
  // ApiVersions answers with header v0 whatever the body version, so a client that cannot parse the body version
  // it asked for can still read the error and the supported range (KIP-511).
  if (api.key !== API_VERSIONS_KEY && isFlexible(api, version)) reader.taggedFields();
}
