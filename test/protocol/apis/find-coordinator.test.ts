import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CoordinatorType, FindCoordinator } from '../../../src/protocol/apis/find-coordinator.js';
import { Reader } from '../../../src/protocol/reader.js';
import { ProtocolError, UnsupportedVersionError } from '../../../src/shared/errors.js';
import {
  type MessageSpec,
  checkDecoderFuzz,
  decodeAll,
  encodeWith,
  hex,
  messageArbitrary,
  schemaDecode,
  schemaEncode,
  versions,
} from './wire-schema.js';

// Transcribed from FindCoordinatorRequest.json / FindCoordinatorResponse.json (validVersions 0-6, flexible 3+;
// v4+ batches keys, KIP-699).
const requestSpec: MessageSpec = {
  flexibleFrom: 3,
  fields: [
    { name: 'key', type: 'string', versions: '0-3' },
    { name: 'keyType', type: 'int8', versions: '1+' },
    { name: 'coordinatorKeys', type: '[]string', versions: '4+' },
  ],
};
const coordinatorFields = [
  { name: 'key', type: 'string', versions: '4+' },
  { name: 'nodeId', type: 'int32', versions: '4+' },
  { name: 'host', type: 'string', versions: '4+' },
  { name: 'port', type: 'int32', versions: '4+' },
  { name: 'errorCode', type: 'int16', versions: '4+' },
  { name: 'errorMessage', type: 'string', versions: '4+', nullable: '4+' },
] as const;
const responseSpec: MessageSpec = {
  flexibleFrom: 3,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+' },
    { name: 'errorCode', type: 'int16', versions: '0-3' },
    { name: 'errorMessage', type: 'string', versions: '1-3', nullable: '1-3' },
    { name: 'nodeId', type: 'int32', versions: '0-3' },
    { name: 'host', type: 'string', versions: '0-3' },
    { name: 'port', type: 'int32', versions: '0-3' },
    { name: 'coordinators', type: coordinatorFields, versions: '4+' },
  ],
};

const request = { keyType: CoordinatorType.TRANSACTION, key: 'tx' };

describe('FindCoordinator request', () => {
  it('v1 golden bytes: key, then key type', () => {
    assert.deepEqual(encodeWith(FindCoordinator, 1, request), hex('0002 7478  01'));
  });

  it('v3 golden bytes: compact key, key type, tag section', () => {
    assert.deepEqual(encodeWith(FindCoordinator, 3, request), hex('03 7478  01  00'));
  });

  it('v6 golden bytes: key type, then coordinator_keys with the one key (KIP-699)', () => {
    assert.deepEqual(encodeWith(FindCoordinator, 6, request), hex('01  02 03 7478  00'));
  });

  for (const version of versions(FindCoordinator)) {
    it(`v${version}: decodes back through the schema decoder`, () => {
      const decoded = schemaDecode(requestSpec, encodeWith(FindCoordinator, version, { keyType: 0, key: 'group-1' }), version);
      assert.deepEqual(decoded, version >= 4 ? { keyType: 0, coordinatorKeys: ['group-1'] } : { keyType: 0, key: 'group-1' });
    });
  }

  it('refuses v0 (no key type) and v7', () => {
    assert.throws(() => encodeWith(FindCoordinator, 0, request), UnsupportedVersionError);
    assert.throws(() => encodeWith(FindCoordinator, 7, request), UnsupportedVersionError);
  });
});

describe('FindCoordinator response', () => {
  const found = { throttleTimeMs: 0, errorCode: 0, errorMessage: null, nodeId: 1, host: 'h', port: 9092 };

  it('hand-built v1 (classic) and v3 (compact) bodies', () => {
    const classic = hex('00000000 0000 ffff 00000001 0001 68 00002384');
    assert.deepEqual(decodeAll(FindCoordinator, classic, 1), found);
    const flexible = hex('00000000 0000 00 00000001 02 68 00002384 00');
    assert.deepEqual(decodeAll(FindCoordinator, flexible, 3), found);
  });

  it('hand-built v4 body: the one coordinator of the one key, normalised', () => {
    const body = hex(`
      00000000               // throttle_time_ms
      02                     // coordinators: 1
        03 7478              //   key "tx"
        ffffffff             //   node_id -1
        01                   //   host ""
        ffffffff             //   port -1
        000f                 //   error_code 15 (COORDINATOR_NOT_AVAILABLE)
        05 6e6f6e65          //   error_message "none"
        00                   //   tags
      00                     // tags
    `);
    assert.deepEqual(decodeAll(FindCoordinator, body, 4), {
      throttleTimeMs: 0,
      errorCode: 15,
      errorMessage: 'none',
      nodeId: -1,
      host: '',
      port: -1,
    });
  });

  it('refuses a v4+ answer with no coordinator or several, a null host, and a hostile count', () => {
    const one = '03 7478 00000001 02 68 00002384 0000 00 00';
    for (const [what, body] of [
      ['no coordinator', '00000000 01 00'],
      ['two coordinators', `00000000 03 ${one} ${one} 00`],
      ['null coordinators', '00000000 00 00'],
      ['a null host', '00000000 02 03 7478 00000001 00 00002384 0000 00 00 00'],
      ['a hostile count', '00000000 ffffffff0f'],
    ]) {
      assert.throws(() => FindCoordinator.decodeResponse(new Reader(hex(body!)), 5), ProtocolError, what);
    }
    assert.throws(() => FindCoordinator.decodeResponse(new Reader(hex('00000000 0000 ffff 00000001 ffff 00002384')), 1), ProtocolError);
  });

  for (const version of versions(FindCoordinator)) {
    it(`v${version}: random answers decode to the fields the schema put there`, () => {
      const spec = responseSpec;
      fc.assert(
        fc.property(messageArbitrary(spec, version), fc.boolean(), (message, unknownTags) => {
          if (version >= 4) {
            const coordinators = message.coordinators as Record<string, unknown>[];
            if (coordinators.length !== 1) coordinators.splice(0, coordinators.length, { key: 'k', nodeId: 1, host: 'h', port: 1, errorCode: 0, errorMessage: null });
            if (coordinators[0]!.host === null) coordinators[0]!.host = '';
            if (coordinators[0]!.key === null) coordinators[0]!.key = '';
          } else if (message.host === null) message.host = '';
          const bytes = schemaEncode(spec, message, version, { unknownTags: unknownTags && version >= 3 });
          const decoded = decodeAll(FindCoordinator, bytes, version);
          const source = version >= 4 ? (message.coordinators as Record<string, unknown>[])[0]! : message;
          assert.deepEqual(decoded, {
            throttleTimeMs: message.throttleTimeMs,
            errorCode: source.errorCode,
            errorMessage: source.errorMessage,
            nodeId: source.nodeId,
            host: source.host,
            port: source.port,
          });
        }),
        { numRuns: 60 },
      );
    });
    it(`v${version}: garbage and truncation raise only ProtocolError`, () => checkDecoderFuzz(FindCoordinator, responseSpec, version));
  }
});
