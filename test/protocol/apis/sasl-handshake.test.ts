import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFlexible } from '../../../src/protocol/api.js';
import { SaslHandshake } from '../../../src/protocol/apis/sasl-handshake.js';
import { Writer } from '../../../src/protocol/writer.js';
import { ProtocolError } from '../../../src/shared/errors.js';
import { Reader } from '../../../src/protocol/reader.js';
import {
  type MessageSpec,
  checkDecoderFuzz,
  checkResponseRoundTrip,
  decodeAll,
  encodeWith,
  hex,
  versions,
} from './wire-schema.js';

// Transcribed from SaslHandshakeResponse.json (validVersions 0-1, flexibleVersions none).
const responseSpec: MessageSpec = {
  flexibleFrom: Number.MAX_SAFE_INTEGER,
  fields: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'mechanisms', type: '[]string', versions: '0+' },
  ],
};

describe('SaslHandshake', () => {
  it('is never flexible', () => {
    for (const version of versions(SaslHandshake)) assert.equal(isFlexible(SaslHandshake, version), false);
    assert.equal(isFlexible(SaslHandshake, 1000), false);
  });

  it('v1 request golden bytes: a classic string', () => {
    const expected = hex(`
      000d 5343 5241 4d2d 5348 412d 3235 36   // mechanism: int16 length 13, "SCRAM-SHA-256"
    `);
    assert.deepEqual(encodeWith(SaslHandshake, 1, { mechanism: 'SCRAM-SHA-256' }), expected);
  });

  it('decodes an UNSUPPORTED_SASL_MECHANISM answer with the enabled mechanisms', () => {
    const body = new Writer().int16(33).array(['PLAIN', 'SCRAM-SHA-512'], (w, m) => w.string(m)).finish();
    assert.deepEqual(decodeAll(SaslHandshake, body, 1), { errorCode: 33, mechanisms: ['PLAIN', 'SCRAM-SHA-512'] });
  });

  it('rejects a null mechanisms array', () => {
    const body = new Writer().int16(0).int32(-1).finish();
    assert.throws(() => SaslHandshake.decodeResponse(new Reader(body), 1), ProtocolError);
  });

  for (const version of versions(SaslHandshake)) {
    it(`v${version}: round trip through the schema codec`, () =>
      checkResponseRoundTrip(SaslHandshake, responseSpec, version));
    it(`v${version}: garbage and truncation raise only ProtocolError`, () =>
      checkDecoderFuzz(SaslHandshake, responseSpec, version));
  }
});
