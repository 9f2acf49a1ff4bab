/**
 * ApiVersions (key 18), versions 0–4, and version negotiation.
 *
 *   ApiVersionsRequest v0–v2 => (empty body)
 *   ApiVersionsRequest v3+   => client_software_name:compact_string client_software_version:compact_string
 *                               tagged_fields
 *
 *   ApiVersionsResponse v0   => error_code:int16 [api_key:int16 min_version:int16 max_version:int16]
 *   ApiVersionsResponse v1–2 => v0 + throttle_time_ms:int32
 *   ApiVersionsResponse v3+  => error_code:int16 compact[api_key min_version max_version tagged_fields]
 *                               throttle_time_ms:int32 tagged_fields   (1 finalized_features_epoch:int64,
 *                               2 finalized_features:compact[name:compact_string max_version_level:int16
 *                               min_version_level:int16 tagged_fields]; 0 supported_features and
 *                               3 zk_migration_ready: ignored)
 *
 * The response header is always v0 (no tagged fields), whatever the body version (see headers.ts).
 *
 * KIP-511: a broker that does not know the version we sent answers UNSUPPORTED_VERSION (35) with the body in
 * v0 format and its own ApiVersions range in api_keys, so the client can retry at that broker's maximum. The
 * decoder therefore never trusts the requested version alone (see `decodeResponse`).
 */
import type { ApiDefinition } from '../api.js';
import { Reader } from '../reader.js';
import type { Writer } from '../writer.js';
import { ConfigError, ProtocolError, UnsupportedVersionError } from '../../shared/errors.js';

/** Kafka error code UNSUPPORTED_VERSION; kept here so this module does not depend on the full error table. */
export const UNSUPPORTED_VERSION_ERROR = 35;

export const CLIENT_SOFTWARE_NAME = 'ringkafka';
/** Must equal package.json's version (a test checks it): `src/protocol` stays pure and reads no files. */
export const CLIENT_SOFTWARE_VERSION = '0.1.0';

/** The broker rejects the whole request (INVALID_REQUEST) when a name or version does not match this (KIP-511). */
const SOFTWARE_PATTERN = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;

export interface ApiVersionsRequest {
  readonly clientSoftwareName: string;
  readonly clientSoftwareVersion: string;
}

export interface ApiVersionRange {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
}

/** A cluster-wide finalized feature level range (KIP-584), e.g. `transaction.version`. */
export interface FinalizedFeature {
  readonly minVersion: number;
  readonly maxVersion: number;
}

export interface ApiVersionsResponse {
  readonly errorCode: number;
  readonly apiKeys: readonly ApiVersionRange[];
  /** 0 when the body had no such field (v0, or the v0-format UNSUPPORTED_VERSION answer). */
  readonly throttleTimeMs: number;
  /**
   * v3+: the epoch of `finalizedFeatures`, -1 when the broker sent none. Brokers learn feature changes at different
   * times; the Java client keeps the features of the answer with the highest epoch (`ApiVersions.update`).
   */
  readonly finalizedFeaturesEpoch: bigint;
  /** v3+: cluster-wide finalized features by name; empty when the broker sent none (and below v3). */
  readonly finalizedFeatures: ReadonlyMap<string, FinalizedFeature>;
  /** The version whose format the body was actually read in: 0 for a KIP-511 fallback answer. */
  readonly bodyVersion: number;
}

/** Inclusive version range, as kept per API key after the handshake. */
export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

export const DEFAULT_API_VERSIONS_REQUEST: ApiVersionsRequest = {
  clientSoftwareName: CLIENT_SOFTWARE_NAME,
  clientSoftwareVersion: CLIENT_SOFTWARE_VERSION,
};

const FLEXIBLE_FROM = 3;
/** Smallest api_keys item: int16 ×3 (+ one tagged-field byte when flexible); bounds hostile counts. */
const ITEM_BYTES_CLASSIC = 6;
const ITEM_BYTES_FLEXIBLE = 7;
/**
 * An api key is a non-negative int16 and each is listed once. Bounded by the frame alone, the list of a hostile or
 * mistaken answer (read on every connection, before authentication) took about 8.5 times its frame in the heap.
 */
const MAX_API_KEYS = 32_768;
/** Smallest finalized_features item: empty name, two int16 levels, tag section. */
const FEATURE_ITEM_BYTES = 6;
const TAG_FINALIZED_FEATURES_EPOCH = 1;
const TAG_FINALIZED_FEATURES = 2;
const NO_FEATURES: ReadonlyMap<string, FinalizedFeature> = new Map();

export const ApiVersions: ApiDefinition<ApiVersionsRequest, ApiVersionsResponse> = {
  key: 18,
  name: 'ApiVersions',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: FLEXIBLE_FROM,
  clientThrottlesFrom: 2,

  encodeRequest(writer: Writer, version: number, request: ApiVersionsRequest): void {
    if (version < FLEXIBLE_FROM) return;
    checkSoftwareField('clientSoftwareName', request.clientSoftwareName);
    checkSoftwareField('clientSoftwareVersion', request.clientSoftwareVersion);
    writer.compactString(request.clientSoftwareName).compactString(request.clientSoftwareVersion).taggedFields();
  },

  decodeResponse(reader: Reader, version: number): ApiVersionsResponse {
    // error_code leads every version, so it can be read before the format is known.
    const errorCode = reader.int16();
    if (version === 0) return decodeBody(reader, 0, errorCode);
    if (errorCode === UNSUPPORTED_VERSION_ERROR) {
      // KIP-511: UNSUPPORTED_VERSION comes in v0 format; the requested format is the second choice.
      return decodeEither(reader.raw(reader.remaining), 0, version, errorCode);
    }
    if (version < FLEXIBLE_FROM) return decodeBody(reader, version, errorCode);
    // A broker that predates flexible versions may answer a flexible request in v0 format whatever the code.
    return decodeEither(reader.raw(reader.remaining), version, 0, errorCode);
  },
};

function checkSoftwareField(field: string, value: string): void {
  if (!SOFTWARE_PATTERN.test(value)) {
    throw new ConfigError(
      `ApiVersions ${field} must match [a-zA-Z0-9](?:[a-zA-Z0-9\\-.]*[a-zA-Z0-9])?, got ${JSON.stringify(value)}`,
    );
  }
}

/**
 * Reads `rest` (the body after error_code) in the `first` format; if that fails, in the `second` format, which
 * is accepted only when it accounts for every byte (so garbage is not mistaken for a fallback answer). The error
 * of the first attempt is the one reported.
 */
function decodeEither(rest: Uint8Array, first: number, second: number, errorCode: number): ApiVersionsResponse {
  try {
    return decodeBody(new Reader(rest), first, errorCode);
  } catch (firstError) {
    if (!(firstError instanceof ProtocolError)) throw firstError;
    try {
      const reader = new Reader(rest);
      const response = decodeBody(reader, second, errorCode);
      if (reader.remaining === 0) return response;
    } catch {
      // fall through: report the first failure, it names the format we expected
    }
    throw firstError;
  }
}

function decodeBody(reader: Reader, version: number, errorCode: number): ApiVersionsResponse {
  const flexible = version >= FLEXIBLE_FROM;
  const apiKeys = flexible
    ? reader.compactArray(readRangeFlexible, ITEM_BYTES_FLEXIBLE, MAX_API_KEYS)
    : reader.array(readRangeClassic, ITEM_BYTES_CLASSIC, MAX_API_KEYS);
  if (apiKeys === null) throw new ProtocolError('ApiVersions response has a null api_keys array');
  const throttleTimeMs = version >= 1 ? reader.int32() : 0;
  let finalizedFeaturesEpoch = -1n;
  let finalizedFeatures = NO_FEATURES;
  if (flexible) {
    // Supported features (tag 0) are not needed: what the cluster finalized is what a client may rely on.
    const tags = reader.taggedFields(TAG_FINALIZED_FEATURES_EPOCH, TAG_FINALIZED_FEATURES);
    const epoch = tags.get(TAG_FINALIZED_FEATURES_EPOCH);
    if (epoch !== undefined) finalizedFeaturesEpoch = readWhole(epoch, (r) => r.int64(), 'finalized_features_epoch');
    const features = tags.get(TAG_FINALIZED_FEATURES);
    if (features !== undefined) finalizedFeatures = readWhole(features, readFinalizedFeatures, 'finalized_features');
  }
  return { errorCode, apiKeys, throttleTimeMs, finalizedFeaturesEpoch, finalizedFeatures, bodyVersion: version };
}

/** Reads a tagged field's bytes, which must hold exactly one value. */
function readWhole<T>(bytes: Uint8Array, read: (reader: Reader) => T, what: string): T {
  const reader = new Reader(bytes);
  const value = read(reader);
  if (reader.remaining !== 0) throw new ProtocolError(`ApiVersions ${what} has ${reader.remaining} bytes left over`);
  return value;
}

function readFinalizedFeatures(reader: Reader): Map<string, FinalizedFeature> {
  const features = new Map<string, FinalizedFeature>();
  const items = reader.compactArray((r) => {
    const name = r.compactString();
    if (name === null) throw new ProtocolError('ApiVersions finalized feature with a null name');
    // The schema puts the max level before the min level (FinalizedFeatureKey in ApiVersionsResponse.json).
    const maxVersion = r.int16();
    const minVersion = r.int16();
    r.taggedFields();
    features.set(name, { minVersion, maxVersion });
  }, FEATURE_ITEM_BYTES);
  if (items === null) throw new ProtocolError('ApiVersions response has a null finalized_features array');
  return features;
}

function readRangeClassic(reader: Reader): ApiVersionRange {
  const apiKey = reader.int16();
  const minVersion = reader.int16();
  const maxVersion = reader.int16();
  return { apiKey, minVersion, maxVersion };
}

function readRangeFlexible(reader: Reader): ApiVersionRange {
  const range = readRangeClassic(reader);
  reader.taggedFields();
  return range;
}

/** The broker's ranges by API key, as `negotiateVersion` takes them. */
export function versionRanges(response: ApiVersionsResponse): Map<number, VersionRange> {
  const ranges = new Map<number, VersionRange>();
  for (const { apiKey, minVersion, maxVersion } of response.apiKeys) {
    ranges.set(apiKey, { min: minVersion, max: maxVersion });
  }
  return ranges;
}

/**
 * The highest version both ringkafka and the broker speak for `api`. Throws UnsupportedVersionError naming the
 * API when the ranges do not overlap (e.g. Produce below v3, which Kafka 4 refuses although it lists min 0: our
 * own `minVersion` keeps such versions out).
 */
export function negotiateVersion(
  api: ApiDefinition<unknown, unknown>,
  brokerRanges: ReadonlyMap<number, VersionRange>,
): number {
  const broker = brokerRanges.get(api.key);
  if (broker === undefined) {
    throw new UnsupportedVersionError(`the broker does not support ${api.name} (API key ${api.key})`);
  }
  const high = Math.min(api.maxVersion, broker.max);
  const low = Math.max(api.minVersion, broker.min);
  if (high < low) {
    throw new UnsupportedVersionError(
      `no common version of ${api.name} (API key ${api.key}): ringkafka speaks ${api.minVersion}–${api.maxVersion}, ` +
        `the broker ${broker.min}–${broker.max}`,
    );
  }
  return high;
}
