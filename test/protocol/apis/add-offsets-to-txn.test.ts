import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AddOffsetsToTxn } from '../../../src/protocol/apis/add-offsets-to-txn.js';
import { UnsupportedVersionError } from '../../../src/shared/errors.js';
import { type MessageSpec, checkDecoderFuzz, checkResponseRoundTrip, decodeAll, encodeWith, hex, schemaDecode, versions } from './wire-schema.js';

// Transcribed from AddOffsetsToTxnRequest.json / AddOffsetsToTxnResponse.json (validVersions 0-4, flexible 3+).
const requestSpec: MessageSpec = {
  flexibleFrom: 3,
  fields: [
    { name: 'transactionalId', type: 'string', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '0+' },
    { name: 'producerEpoch', type: 'int16', versions: '0+' },
    { name: 'groupId', type: 'string', versions: '0+' },
  ],
};
const responseSpec: MessageSpec = {
  flexibleFrom: 3,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
  ],
};

const request = { transactionalId: 'tx', producerId: 1n, producerEpoch: 0, groupId: 'g' };

describe('AddOffsetsToTxn request', () => {
  it('v0 golden bytes', () => {
    assert.deepEqual(encodeWith(AddOffsetsToTxn, 0, request), hex('0002 7478  0000000000000001  0000  0001 67'));
  });

  it('v4 golden bytes', () => {
    assert.deepEqual(encodeWith(AddOffsetsToTxn, 4, request), hex('03 7478  0000000000000001  0000  02 67  00'));
  });

  for (const version of versions(AddOffsetsToTxn)) {
    it(`v${version}: decodes back through the schema decoder`, () => {
      assert.deepEqual(schemaDecode(requestSpec, encodeWith(AddOffsetsToTxn, version, request), version), request);
    });
  }

  it('refuses v5', () => {
    assert.throws(() => encodeWith(AddOffsetsToTxn, 5, request), UnsupportedVersionError);
  });
});

describe('AddOffsetsToTxn response', () => {
  it('hand-built v0 and v3 bodies', () => {
    assert.deepEqual(decodeAll(AddOffsetsToTxn, hex('00000000 0033'), 0), { throttleTimeMs: 0, errorCode: 51 });
    assert.deepEqual(decodeAll(AddOffsetsToTxn, hex('0000000a 0000 00'), 3), { throttleTimeMs: 10, errorCode: 0 });
  });

  for (const version of versions(AddOffsetsToTxn)) {
    it(`v${version}: round trip through the schema codec`, () => checkResponseRoundTrip(AddOffsetsToTxn, responseSpec, version));
    it(`v${version}: garbage and truncation raise only ProtocolError`, () => checkDecoderFuzz(AddOffsetsToTxn, responseSpec, version));
  }
});
