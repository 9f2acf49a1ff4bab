/**
 * What a connection learnt of its broker in the ApiVersions handshake (handshake.ts): the version ranges of every
 * API it speaks and the cluster's finalized features; and the version each request is sent at, the highest both
 * sides speak, negotiated once per API and cached, since every request asks. Before the handshake nothing is known,
 * and only requests with an explicit version (the handshake's own) can be sent.
 */
import type { ApiDefinition } from '../protocol/api.js';
import { negotiateVersion, type FinalizedFeature, type VersionRange } from '../protocol/apis/api-versions.js';
import type { HandshakeResult } from './handshake.js';

const NONE: HandshakeResult = { version: -1, ranges: new Map(), finalizedFeatures: new Map(), finalizedFeaturesEpoch: -1n };

export class BrokerVersions {
  /** The ApiVersions version the handshake succeeded with; -1 before it. */
  readonly handshakeVersion: number;
  readonly ranges: ReadonlyMap<number, VersionRange>;
  readonly features: ReadonlyMap<string, FinalizedFeature>;
  /** -1 when the broker sent none. */
  readonly featuresEpoch: bigint;
  readonly #versions = new Map<number, number>();

  constructor(handshake: HandshakeResult = NONE) {
    this.handshakeVersion = handshake.version;
    this.ranges = handshake.ranges;
    this.features = handshake.finalizedFeatures;
    this.featuresEpoch = handshake.finalizedFeaturesEpoch;
  }

  /** The finalized max level of one feature, 0 when the broker did not list it (Kafka's reading of an absent one). */
  finalizedFeature(name: string): number {
    return this.features.get(name)?.maxVersion ?? 0;
  }

  /** As Connection.versionFor. */
  versionFor(api: ApiDefinition<unknown, unknown>, maxVersion?: number): number {
    let version = this.#versions.get(api.key);
    if (version === undefined) {
      version = negotiateVersion(api, this.ranges);
      this.#versions.set(api.key, version);
    }
    if (maxVersion === undefined || version <= maxVersion) return version;
    // Not cached: the cap belongs to this call, not to the connection.
    return negotiateVersion({ ...api, maxVersion: Math.min(api.maxVersion, maxVersion) }, this.ranges);
  }
}
