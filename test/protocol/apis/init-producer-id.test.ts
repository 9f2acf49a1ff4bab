import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { InitProducerId } from '../../../src/protocol/apis/init-producer-id.js';
import { Writer } from '../../../src/protocol/writer.js';
import { UnsupportedVersionError } from '../../../src/shared/errors.js';
import {
  type MessageSpec,
  checkDecoderFuzz,
  checkResponseRoundTrip,
  decodeAll,
  encodeWith,
  hex,
  schemaDecode,
  versions,
} from './wire-schema.js';

// Transcribed from InitProducerIdRequest.json / InitProducerIdResponse.json (validVersions 0-5, flexible 2+).
const requestSpec: MessageSpec = {
  flexibleFrom: 2,
  fields: [
    { name: 'transactionalId', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'transactionTimeoutMs', type: 'int32', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '3+' },
    { name: 'producerEpoch', type: 'int16', versions: '3+' },
  ],
};
const responseSpec: MessageSpec = {
  flexibleFrom: 2,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '0+' },
    { name: 'producerEpoch', type: 'int16', versions: '0+' },
  ],
};

describe('InitProducerId request', () => {
  it('v1 golden bytes (classic, idempotent producer)', () => {
    const expected = hex(`
      ffff        // transactional_id: null
      0000ea60    // transaction_timeout_ms: 60000
    `);
    assert.deepEqual(encodeWith(InitProducerId, 1, { transactionTimeoutMs: 60000 }), expected);
  });

  it('v4 golden bytes: compact null id, producer id and epoch default to -1, tag section', () => {
    const expected = hex(`
      00                  // transactional_id: null (compact)
      0000ea60            // transaction_timeout_ms: 60000
      ffffffffffffffff    // producer_id: -1
      ffff                // producer_epoch: -1
      00                  // tagged fields
    `);
    assert.deepEqual(encodeWith(InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60000 }), expected);
  });

  for (const version of versions(InitProducerId)) {
    it(`v${version}: every field decodes back through the schema decoder`, () => {
      const request = fc.record({
        transactionalId: fc.option(fc.string({ maxLength: 8 }), { nil: null }),
        transactionTimeoutMs: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        producerId: fc.bigInt({ min: -1n, max: 2n ** 63n - 1n }),
        producerEpoch: fc.integer({ min: -1, max: 32767 }),
      });
      fc.assert(
        fc.property(request, (req) => {
          const decoded = schemaDecode(requestSpec, encodeWith(InitProducerId, version, req), version);
          const expected: Record<string, unknown> = {
            transactionalId: req.transactionalId,
            transactionTimeoutMs: req.transactionTimeoutMs,
          };
          if (version >= 3) Object.assign(expected, { producerId: req.producerId, producerEpoch: req.producerEpoch });
          assert.deepEqual(decoded, expected);
        }),
        { numRuns: 50 },
      );
    });
  }

  it('refuses v6', () => {
    assert.throws(() => encodeWith(InitProducerId, 6, { transactionTimeoutMs: 1 }), UnsupportedVersionError);
  });
});

describe('InitProducerId response', () => {
  it('v0 (classic) and v2 (flexible) hand-built bodies', () => {
    const classic = new Writer().int32(0).int16(0).int64(4000n).int16(3).finish();
    assert.deepEqual(decodeAll(InitProducerId, classic, 0), {
      throttleTimeMs: 0,
      errorCode: 0,
      producerId: 4000n,
      producerEpoch: 3,
    });
    const flexible = new Writer().int32(10).int16(15).int64(-1n).int16(-1).taggedFields().finish();
    assert.deepEqual(decodeAll(InitProducerId, flexible, 2), {
      throttleTimeMs: 10,
      errorCode: 15, // COORDINATOR_NOT_AVAILABLE
      producerId: -1n,
      producerEpoch: -1,
    });
  });

  for (const version of versions(InitProducerId)) {
    it(`v${version}: round trip through the schema codec`, () =>
      checkResponseRoundTrip(InitProducerId, responseSpec, version));
    it(`v${version}: garbage and truncation raise only ProtocolError`, () =>
      checkDecoderFuzz(InitProducerId, responseSpec, version));
  }
});
