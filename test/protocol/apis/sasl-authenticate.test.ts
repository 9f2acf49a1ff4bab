import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SaslAuthenticate } from '../../../src/protocol/apis/sasl-authenticate.js';
import { Writer } from '../../../src/protocol/writer.js';
import {
  type MessageSpec,
  checkDecoderFuzz,
  checkResponseRoundTrip,
  decodeAll,
  encodeWith,
  hex,
  versions,
} from './wire-schema.js';

// Transcribed from SaslAuthenticateResponse.json (validVersions 0-2, flexible 2+).
const responseSpec: MessageSpec = {
  flexibleFrom: 2,
  fields: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'authBytes', type: 'bytes', versions: '0+' },
    { name: 'sessionLifetimeMs', type: 'int64', versions: '1+' },
  ],
};

// PLAIN token: \0user\0pw
const TOKEN = Uint8Array.of(0, 0x75, 0x73, 0x65, 0x72, 0, 0x70, 0x77);

describe('SaslAuthenticate request', () => {
  it('v1 golden bytes: int32 length and the token', () => {
    assert.deepEqual(encodeWith(SaslAuthenticate, 1, { authBytes: TOKEN }), hex('00000008 0075736572007077'));
  });
  it('v2 golden bytes: compact length, token, tag section', () => {
    assert.deepEqual(encodeWith(SaslAuthenticate, 2, { authBytes: TOKEN }), hex('09 0075736572007077 00'));
  });
});

describe('SaslAuthenticate response', () => {
  it('v0: no session lifetime', () => {
    const body = new Writer().int16(0).string(null).bytes(Uint8Array.of(1, 2)).finish();
    assert.deepEqual(decodeAll(SaslAuthenticate, body, 0), {
      errorCode: 0,
      errorMessage: null,
      authBytes: Uint8Array.of(1, 2),
      sessionLifetimeMs: 0n,
    });
  });

  it('v2: an authentication failure with a message, and a session lifetime (KIP-368)', () => {
    const body = new Writer()
      .int16(58)
      .compactString('Authentication failed: Invalid username or password')
      .compactBytes(new Uint8Array(0))
      .int64(3_600_000n)
      .taggedFields()
      .finish();
    const response = decodeAll(SaslAuthenticate, body, 2);
    assert.equal(response.errorCode, 58);
    assert.equal(response.errorMessage, 'Authentication failed: Invalid username or password');
    assert.deepEqual(response.authBytes, new Uint8Array(0));
    assert.equal(response.sessionLifetimeMs, 3_600_000n);
  });

  it('copies the server token out of the response buffer', () => {
    const body = new Writer().int16(0).string(null).bytes(Uint8Array.of(9)).int64(0n).finish();
    const response = decodeAll(SaslAuthenticate, body, 1);
    body.fill(0);
    assert.deepEqual(response.authBytes, Uint8Array.of(9));
  });

  for (const version of versions(SaslAuthenticate)) {
    it(`v${version}: round trip through the schema codec`, () =>
      checkResponseRoundTrip(SaslAuthenticate, responseSpec, version));
    it(`v${version}: garbage and truncation raise only ProtocolError`, () =>
      checkDecoderFuzz(SaslAuthenticate, responseSpec, version));
  }
});
