import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ApiDefinition } from '../../../src/protocol/api.js';
import {
  ApiVersions,
  CLIENT_SOFTWARE_NAME,
  CLIENT_SOFTWARE_VERSION,
  DEFAULT_API_VERSIONS_REQUEST,
  UNSUPPORTED_VERSION_ERROR,
  negotiateVersion,
  versionRanges,
  type ApiVersionRange,
  type ApiVersionsResponse,
} from '../../../src/protocol/apis/api-versions.js';
import { Reader } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';
import { ConfigError, ProtocolError, UnsupportedVersionError } from '../../../src/shared/errors.js';
import { hex } from './wire-schema.js';

/** A broker-side encoder, written from ApiVersionsResponse.json (apache/kafka), independent of the decoder. */
function encodeResponse(
  version: number,
  errorCode: number,
  apiKeys: readonly ApiVersionRange[],
  throttleTimeMs = 0,
  topTags: readonly (readonly [number, Uint8Array])[] = [],
  itemTags: readonly (readonly [number, Uint8Array])[] = [],
): Buffer {
  const w = new Writer();
  w.int16(errorCode);
  if (version >= 3) {
    w.compactArray(apiKeys, (ww, k) => ww.int16(k.apiKey).int16(k.minVersion).int16(k.maxVersion).taggedFields(itemTags));
  } else {
    w.array(apiKeys, (ww, k) => ww.int16(k.apiKey).int16(k.minVersion).int16(k.maxVersion));
  }
  if (version >= 1) w.int32(throttleTimeMs);
  if (version >= 3) w.taggedFields(topTags);
  return Buffer.from(w.finish());
}

function decode(bytes: Uint8Array, version: number): ApiVersionsResponse {
  return ApiVersions.decodeResponse(new Reader(bytes), version);
}

function encodeRequest(version: number, request = DEFAULT_API_VERSIONS_REQUEST): Buffer {
  const w = new Writer();
  ApiVersions.encodeRequest(w, version, request);
  return Buffer.from(w.finish());
}

/** What a response without finalized features decodes to (every version below v3, and v3+ without tags 1 and 2). */
const NO_FEATURES = { finalizedFeaturesEpoch: -1n, finalizedFeatures: new Map() };

const RANGES: ApiVersionRange[] = [
  { apiKey: 0, minVersion: 3, maxVersion: 13 },
  { apiKey: 3, minVersion: 0, maxVersion: 13 },
  { apiKey: 18, minVersion: 0, maxVersion: 4 },
];

describe('ApiVersions request', () => {
  it('has an empty body in v0..v2', () => {
    for (const version of [0, 1, 2]) assert.equal(encodeRequest(version).length, 0, `v${version}`);
  });

  it('sends the client software name and version as compact strings from v3, then an empty tag section', () => {
    // 0x0a = 'ringkafka'.length + 1; 0x06 = '0.1.0'.length + 1; 0x00 = no tagged fields.
    const expected = Buffer.concat([
      Buffer.from([0x0a]),
      Buffer.from('ringkafka'),
      Buffer.from([0x06]),
      Buffer.from('0.1.0'),
      Buffer.from([0x00]),
    ]);
    assert.deepEqual(encodeRequest(3), expected);
    assert.deepEqual(encodeRequest(4), expected);
  });

  it('names ringkafka at the version in package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(CLIENT_SOFTWARE_NAME, 'ringkafka');
    assert.equal(CLIENT_SOFTWARE_VERSION, pkg.version);
  });

  it('refuses software names the broker would reject (KIP-511 pattern)', () => {
    for (const bad of ['@scope/pkg', '-lead', 'trail.', '', 'spa ce']) {
      assert.throws(
        () => encodeRequest(3, { clientSoftwareName: bad, clientSoftwareVersion: '1.0' }),
        ConfigError,
        JSON.stringify(bad),
      );
    }
    assert.throws(() => encodeRequest(4, { clientSoftwareName: 'ok', clientSoftwareVersion: '1.0-' }), ConfigError);
    assert.equal(encodeRequest(3, { clientSoftwareName: 'a', clientSoftwareVersion: '1.2-rc.3' }).length, 1 + 1 + 1 + 8 + 1);
  });
});

describe('ApiVersions response', () => {
  it('decodes v0 (no throttle time)', () => {
    const bytes = Buffer.from([0, 0, 0, 0, 0, 1, 0, 18, 0, 0, 0, 3]); // error 0, 1 item: key 18, 0..3
    assert.deepEqual(decode(bytes, 0), {
      errorCode: 0,
      apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }],
      throttleTimeMs: 0,
      bodyVersion: 0,
      ...NO_FEATURES,
    });
  });

  it('decodes v1 and v2 with throttle time', () => {
    for (const version of [1, 2]) {
      const response = decode(encodeResponse(version, 0, RANGES, 250), version);
      assert.deepEqual(response, { errorCode: 0, apiKeys: RANGES, throttleTimeMs: 250, bodyVersion: version, ...NO_FEATURES });
    }
  });

  it('decodes v3 and v4, skipping item and top-level tagged fields it does not use', () => {
    const features = new Uint8Array([2, 0x0e, ...Buffer.from('metadata.ver'), 0, 1, 0, 27, 0]); // tag 0, opaque here
    for (const version of [3, 4]) {
      const bytes = encodeResponse(version, 0, RANGES, 9, [[0, features], [99, new Uint8Array([1, 2, 3])]], [[5, new Uint8Array([42])]]);
      assert.deepEqual(decode(bytes, version), { errorCode: 0, apiKeys: RANGES, throttleTimeMs: 9, bodyVersion: version, ...NO_FEATURES });
    }
  });

  it('decodes the finalized features (tag 2) and their epoch (tag 1) from v3', () => {
    // Hand-built from ApiVersionsResponse.json: FinalizedFeatureKey is name, max_version_level, min_version_level.
    const finalized = hex(`
      03                                    // compact array: 2 items
      14 7472616e73616374696f6e2e76657273696f6e // "transaction.version" (19 bytes + 1)
      0002 0000 00                          // max level 2, min level 0, no tags
      11 6d657461646174612e76657273696f6e    // "metadata.version" (16 bytes + 1)
      001b 0001 00                          // max level 27, min level 1, no tags
    `);
    const epoch = hex('0000000000000007');
    for (const version of [3, 4]) {
      const bytes = encodeResponse(version, 0, RANGES, 0, [[1, epoch], [2, finalized]]);
      const response = decode(bytes, version);
      assert.equal(response.finalizedFeaturesEpoch, 7n);
      assert.deepEqual(
        response.finalizedFeatures,
        new Map([
          ['transaction.version', { minVersion: 0, maxVersion: 2 }],
          ['metadata.version', { minVersion: 1, maxVersion: 27 }],
        ]),
      );
    }
  });

  it('refuses malformed finalized features with ProtocolError (the v0 fallback cannot explain them either)', () => {
    const bad: [string, [number, Uint8Array]][] = [
      ['a null array', [2, hex('00')]],
      ['a null name', [2, hex('02 00 0002 0000 00')]],
      ['a truncated item', [2, hex('02 02 61 0002')]],
      ['a hostile count', [2, hex('ffffffff0f')]],
      ['bytes left over', [2, hex('01 00')]],
      ['a short epoch', [1, hex('000000')]],
    ];
    for (const [what, tag] of bad) {
      assert.throws(() => decode(encodeResponse(3, 0, RANGES, 0, [tag]), 3), ProtocolError, what);
    }
  });

  it('decodes the v0-format UNSUPPORTED_VERSION answer a broker sends to a version it does not know (KIP-511)', () => {
    const answer = encodeResponse(0, UNSUPPORTED_VERSION_ERROR, [{ apiKey: 18, minVersion: 0, maxVersion: 3 }]);
    for (const version of [1, 2, 3, 4]) {
      assert.deepEqual(decode(answer, version), {
        errorCode: 35,
        apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }],
        throttleTimeMs: 0,
        bodyVersion: 0,
        ...NO_FEATURES,
      });
    }
  });

  it('reads an UNSUPPORTED_VERSION answer in the requested format when it is not v0', () => {
    const answer = encodeResponse(3, UNSUPPORTED_VERSION_ERROR, [{ apiKey: 18, minVersion: 0, maxVersion: 3 }], 0);
    assert.equal(decode(answer, 4).bodyVersion, 4);
    assert.deepEqual(decode(answer, 4).apiKeys, [{ apiKey: 18, minVersion: 0, maxVersion: 3 }]);
  });

  it('falls back to v0 format only when it accounts for every byte', () => {
    // A pre-KIP-511 broker: error 35 semantics aside, a v0 body where a flexible one was asked for.
    const v0 = encodeResponse(0, 0, RANGES);
    assert.equal(decode(v0, 3).bodyVersion, 0);
    assert.deepEqual(decode(v0, 3).apiKeys, RANGES);
    // Trailing garbage: neither format fits, and the flexible format's error is reported.
    const garbage = Buffer.concat([v0, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])]);
    assert.throws(() => decode(garbage, 3), ProtocolError);
  });

  it('rejects a null api_keys array', () => {
    assert.throws(() => decode(Buffer.from([0, 0, 0xff, 0xff, 0xff, 0xff]), 0), ProtocolError);
    assert.throws(() => decode(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0]), 3), ProtocolError);
  });

  it('refuses more api_keys than there are api keys (32,768), before reading them', () => {
    // Bounded only by the frame, a hostile or mistaken answer's list took about 8.5 times its frame in the heap.
    const many = Array.from({ length: 32_769 }, (_, i) => ({ apiKey: i % 32_768, minVersion: 0, maxVersion: 1 }));
    for (const version of [0, 3]) {
      assert.throws(() => decode(encodeResponse(version, 0, many), version), /32769 items, more than the 32768/);
      assert.equal(decode(encodeResponse(version, 0, many.slice(1)), version).apiKeys.length, 32_768);
    }
  });

  it('round-trips any ranges at every version (property)', () => {
    const range = fc.record({
      apiKey: fc.integer({ min: -32768, max: 32767 }),
      minVersion: fc.integer({ min: -32768, max: 32767 }),
      maxVersion: fc.integer({ min: -32768, max: 32767 }),
    }).map((r): ApiVersionRange => ({ ...r })); // plain objects: fast-check's have a null prototype
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: -32768, max: 32767 }).filter((code) => code !== UNSUPPORTED_VERSION_ERROR),
        fc.array(range, { maxLength: 40 }),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        (version, errorCode, apiKeys, throttle) => {
          const decoded = decode(encodeResponse(version, errorCode, apiKeys, throttle), version);
          assert.deepEqual(decoded, {
            errorCode,
            apiKeys,
            throttleTimeMs: version >= 1 ? throttle : 0,
            bodyVersion: version,
            ...NO_FEATURES,
          });
        },
      ),
    );
  });

  it('raises only ProtocolError on random bytes (fuzz)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), fc.uint8Array({ maxLength: 64 }), (version, bytes) => {
        try {
          decode(bytes, version);
        } catch (error) {
          assert.ok(error instanceof ProtocolError, `v${version} ${Buffer.from(bytes).toString('hex')}: ${String(error)}`);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('raises ProtocolError on every truncation of a valid answer', () => {
    for (const version of [0, 1, 2, 3, 4]) {
      const whole = encodeResponse(version, 0, RANGES, 5, version >= 3 ? [[0, new Uint8Array([1])]] : []);
      for (let length = 0; length < whole.length; length++) {
        const cut = whole.subarray(0, length);
        if (version < 3) {
          assert.throws(() => decode(cut, version), ProtocolError, `v${version} cut at ${length}`);
        } else {
          // A prefix may happen to parse as a complete v0 body; anything else must be a ProtocolError.
          try {
            assert.equal(decode(cut, version).bodyVersion, 0, `v${version} cut at ${length}`);
          } catch (error) {
            assert.ok(error instanceof ProtocolError, `v${version} cut at ${length}: ${String(error)}`);
          }
        }
      }
    }
  });
});

describe('negotiateVersion', () => {
  const api = (key: number, minVersion: number, maxVersion: number, name = 'Produce'): ApiDefinition<unknown, unknown> => ({
    key,
    name,
    minVersion,
    maxVersion,
    flexibleFrom: 9,
    encodeRequest: () => {},
    decodeResponse: () => undefined,
  });

  it('picks the highest version both sides speak', () => {
    const ranges = versionRanges({ errorCode: 0, apiKeys: RANGES, throttleTimeMs: 0, bodyVersion: 4, ...NO_FEATURES });
    assert.equal(negotiateVersion(api(0, 3, 11), ranges), 11); // ours lower
    assert.equal(negotiateVersion(api(0, 3, 20), ranges), 13); // the broker's lower
    assert.equal(negotiateVersion(ApiVersions, ranges), 4);
    assert.equal(negotiateVersion(api(3, 13, 13, 'Metadata'), ranges), 13); // one common version
  });

  it('throws UnsupportedVersionError naming the API when the broker lacks it', () => {
    assert.throws(() => negotiateVersion(api(22, 0, 5, 'InitProducerId'), new Map()), (error: unknown) => {
      assert.ok(error instanceof UnsupportedVersionError);
      assert.match(error.message, /InitProducerId/);
      return true;
    });
  });

  it('throws UnsupportedVersionError naming the API when the ranges do not overlap', () => {
    // Kafka 2.x-like broker that only knows Produce 0..2; ringkafka never sends below 3.
    assert.throws(() => negotiateVersion(api(0, 3, 13), new Map([[0, { min: 0, max: 2 }]])), (error: unknown) => {
      assert.ok(error instanceof UnsupportedVersionError);
      assert.match(error.message, /Produce/);
      assert.match(error.message, /0–2/);
      return true;
    });
    assert.throws(() => negotiateVersion(api(0, 3, 5), new Map([[0, { min: 6, max: 13 }]])), UnsupportedVersionError);
  });
});
