/**
 * The ApiVersions handshake every connection starts with: ApiVersions at our highest version (v4) first; if the
 * broker answers UNSUPPORTED_VERSION (in v0 format, KIP-511) it lists its own ApiVersions range, and we ask once
 * more at that maximum. The answer gives the version ranges of every API the broker speaks.
 */
import type { ApiDefinition } from '../protocol/api.js';
import {
  ApiVersions,
  DEFAULT_API_VERSIONS_REQUEST,
  UNSUPPORTED_VERSION_ERROR,
  versionRanges,
  type FinalizedFeature,
  type VersionRange,
} from '../protocol/apis/api-versions.js';
import { brokerError } from '../protocol/error-codes.js';
import { UnsupportedVersionError } from '../shared/errors.js';

export interface HandshakeResult {
  /** The ApiVersions version the broker accepted. */
  readonly version: number;
  readonly ranges: Map<number, VersionRange>;
  /** The cluster's finalized features as this broker knows them (empty below ApiVersions v3). */
  readonly finalizedFeatures: ReadonlyMap<string, FinalizedFeature>;
  /** Their epoch; -1 when the broker sent none. */
  readonly finalizedFeaturesEpoch: bigint;
}

/** What the handshake needs of a connection: one way to send a request at a given version. */
export type Requester = <Req, Res>(api: ApiDefinition<Req, Res>, request: Req, version: number) => Promise<Res>;

export async function apiVersionsHandshake(send: Requester, address: string): Promise<HandshakeResult> {
  let version = ApiVersions.maxVersion;
  let response = await send(ApiVersions, DEFAULT_API_VERSIONS_REQUEST, version);
  if (response.errorCode === UNSUPPORTED_VERSION_ERROR) {
    // A broker older than KIP-511 (Kafka 2.4) lists no range for ApiVersions: v0 is then the one left to try.
    // `version - 1` keeps a broker that names our own version from making us loop on it.
    const theirs = response.apiKeys.find((range) => range.apiKey === ApiVersions.key);
    version = Math.min(theirs?.maxVersion ?? 0, version - 1);
    if (version < ApiVersions.minVersion) {
      throw new UnsupportedVersionError(`${address} supports no ApiVersions version that ringkafka speaks`);
    }
    response = await send(ApiVersions, DEFAULT_API_VERSIONS_REQUEST, version);
  }
  if (response.errorCode === UNSUPPORTED_VERSION_ERROR) {
    throw new UnsupportedVersionError(`${address} refused ApiVersions v${version} after listing it`);
  }
  if (response.errorCode !== 0) throw brokerError(response.errorCode, `ApiVersions handshake with ${address}`);
  return {
    version,
    ranges: versionRanges(response),
    finalizedFeatures: response.finalizedFeatures,
    finalizedFeaturesEpoch: response.finalizedFeaturesEpoch,
  };
}
