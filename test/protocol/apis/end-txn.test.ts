import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EndTxn } from '../../../src/protocol/apis/end-txn.js';
import { Writer } from '../../../src/protocol/writer.js';
import { ProtocolError, UnsupportedVersionError } from '../../../src/shared/errors.js';
import { Reader } from '../../../src/protocol/reader.js';
import { type MessageSpec, checkDecoderFuzz, checkResponseRoundTrip, decodeAll, encodeWith, hex, versions } from './wire-schema.js';

// Transcribed from EndTxnResponse.json (validVersions 0-5, flexible 3+).
const responseSpec: MessageSpec = {
  flexibleFrom: 3,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '5+' },
    { name: 'producerEpoch', type: 'int16', versions: '5+' },
  ],
};

const request = { transactionalId: 'tx', producerId: 4000n, producerEpoch: 3, committed: true };

describe('EndTxn request', () => {
  it('v0 golden bytes (classic)', () => {
    const expected = hex(`
      0002 7478          // transactional_id: "tx"
      0000000000000fa0   // producer_id: 4000
      0003               // producer_epoch: 3
      01                 // committed: true
    `);
    assert.deepEqual(encodeWith(EndTxn, 0, request), expected);
  });

  it('v5 golden bytes (compact string, tag section)', () => {
    const expected = hex(`
      03 7478            // transactional_id: "tx" (compact: length + 1)
      0000000000000fa0   // producer_id
      0003               // producer_epoch
      00                 // committed: false
      00                 // tagged fields
    `);
    assert.deepEqual(encodeWith(EndTxn, 5, { ...request, committed: false }), expected);
  });

  it('refuses v6', () => {
    assert.throws(() => encodeWith(EndTxn, 6, request), UnsupportedVersionError);
  });
});

describe('EndTxn response', () => {
  it('v4 has no producer id: -1/-1; v5 carries the bumped epoch (KIP-890)', () => {
    const v4 = new Writer().int32(0).int16(48).taggedFields().finish();
    assert.deepEqual(decodeAll(EndTxn, v4, 4), { throttleTimeMs: 0, errorCode: 48, producerId: -1n, producerEpoch: -1 });
    const v5 = hex('00000005 0000 0000000000000fa0 0004 00');
    assert.deepEqual(decodeAll(EndTxn, v5, 5), { throttleTimeMs: 5, errorCode: 0, producerId: 4000n, producerEpoch: 4 });
  });

  it('rejects a v5 answer cut before the epoch', () => {
    assert.throws(() => EndTxn.decodeResponse(new Reader(hex('00000000 0000 0000000000000fa0')), 5), ProtocolError);
  });

  for (const version of versions(EndTxn)) {
    it(`v${version}: round trip through the schema codec`, () => checkResponseRoundTrip(EndTxn, responseSpec, version));
    it(`v${version}: garbage and truncation raise only ProtocolError`, () => checkDecoderFuzz(EndTxn, responseSpec, version));
  }
});
