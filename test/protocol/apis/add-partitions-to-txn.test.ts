import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AddPartitionsToTxn } from '../../../src/protocol/apis/add-partitions-to-txn.js';
import { MAX_PARTITIONS_PER_ANSWER, MAX_TOPICS_PER_ANSWER } from '../../../src/protocol/apis/fields.js';
import { Reader } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';
import { ProtocolError, UnsupportedVersionError } from '../../../src/shared/errors.js';
import { type MessageSpec, checkDecoderFuzz, topicPartitionErrorsSpec, checkResponseRoundTrip, decodeAll, emptyTopicsAnswer, encodeWith, hex, schemaDecode, versions } from './wire-schema.js';

// Transcribed from AddPartitionsToTxnRequest.json / AddPartitionsToTxnResponse.json, the client versions 0-3
// (V3AndBelow* fields; flexible 3+).
const requestSpec: MessageSpec = {
  flexibleFrom: 3,
  fields: [
    { name: 'transactionalId', type: 'string', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '0+' },
    { name: 'producerEpoch', type: 'int16', versions: '0+' },
    {
      name: 'topics',
      versions: '0+',
      type: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]int32', versions: '0+' },
      ],
    },
  ],
};
const responseSpec = topicPartitionErrorsSpec(3);

const request = { transactionalId: 'tx', producerId: 7n, producerEpoch: 1, topics: [{ name: 't', partitions: [0, 2] }] };

describe('AddPartitionsToTxn request', () => {
  it('v0 golden bytes (classic)', () => {
    const expected = hex(`
      0002 7478            // transactional_id: "tx"
      0000000000000007     // producer_id: 7
      0001                 // producer_epoch: 1
      00000001             // topics: 1
        0001 74            //   name: "t"
        00000002 00000000 00000002  // partitions: [0, 2]
    `);
    assert.deepEqual(encodeWith(AddPartitionsToTxn, 0, request), expected);
  });

  it('v3 golden bytes (compact, tag sections)', () => {
    const expected = hex(`
      03 7478              // transactional_id
      0000000000000007 0001
      02                   // topics: 1 (compact)
        02 74              //   name: "t"
        03 00000000 00000002  // partitions: [0, 2] (compact)
        00                 //   topic tags
      00                   // request tags
    `);
    assert.deepEqual(encodeWith(AddPartitionsToTxn, 3, request), expected);
  });

  for (const version of versions(AddPartitionsToTxn)) {
    it(`v${version}: decodes back through the schema decoder`, () => {
      assert.deepEqual(schemaDecode(requestSpec, encodeWith(AddPartitionsToTxn, version, request), version), request);
    });
  }

  it('refuses v4, the brokers-only batched version', () => {
    assert.throws(() => encodeWith(AddPartitionsToTxn, 4, request), UnsupportedVersionError);
  });
});

describe('AddPartitionsToTxn response', () => {
  it('hand-built v2 and v3 bodies: one error code per partition', () => {
    const classic = hex('00000000 00000001 0001 74 00000002 00000000 0000 00000002 0037');
    const expected = {
      throttleTimeMs: 0,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, errorCode: 0 }, { partitionIndex: 2, errorCode: 55 }] }],
    };
    assert.deepEqual(decodeAll(AddPartitionsToTxn, classic, 2), expected);
    const flexible = hex('00000000 02 02 74 03 00000000 0000 00 00000002 0037 00 00 00');
    assert.deepEqual(decodeAll(AddPartitionsToTxn, flexible, 3), expected);
  });

  it('refuses null arrays, null names and hostile counts', () => {
    for (const [bytes, version] of [
      [hex('00000000 ffffffff'), 0],
      [hex('00000000 00000001 ffff 00000000'), 0],
      [hex('00000000 7fffffff'), 1],
      [hex('00000000 02 02 74 00 00 00'), 3],
    ] as const) {
      assert.throws(() => AddPartitionsToTxn.decodeResponse(new Reader(bytes), version), ProtocolError);
    }
  });

  const refused = (pattern: RegExp) => (e: unknown) => e instanceof ProtocolError && pattern.test(e.message);
  const emptyTopics = (version: number, count: number): Uint8Array => emptyTopicsAnswer(version >= 3, count);

  for (const version of [0, 3]) {
    it(`v${version}: ${MAX_TOPICS_PER_ANSWER + 1} empty topics are refused at the count, ${MAX_TOPICS_PER_ANSWER} still decode`, () => {
      const over = emptyTopics(version, MAX_TOPICS_PER_ANSWER + 1);
      const isCap = refused(/AddPartitionsToTxn response topics: array of 65537 items, more than the 65536/);
      assert.throws(() => decodeAll(AddPartitionsToTxn, over, version), isCap);
      assert.equal(decodeAll(AddPartitionsToTxn, emptyTopics(version, MAX_TOPICS_PER_ANSWER), version).topics.length, MAX_TOPICS_PER_ANSWER);
    });
  }

  it('v3: the partitions of all topics share one budget; a count past what is left is refused before it is read', () => {
    // Two partitions in topic a; topic b claims, within the per-array cap, one more than is left.
    const w = new Writer().int32(0).uvarint(3).compactString('a').uvarint(3);
    w.int32(0).int16(0).taggedFields().int32(1).int16(0).taggedFields().taggedFields();
    const left = MAX_PARTITIONS_PER_ANSWER - 2;
    w.compactString('b').uvarint(left + 1 + 1); // compact count: N + 1
    const isBudget = refused(/AddPartitionsToTxn response partitions: array of 1048575 items, more than the 1048574 left of the 1048576/);
    assert.throws(() => AddPartitionsToTxn.decodeResponse(new Reader(w.finish()), 3), isBudget);
  });

  for (const version of versions(AddPartitionsToTxn)) {
    it(`v${version}: round trip through the schema codec`, () => checkResponseRoundTrip(AddPartitionsToTxn, responseSpec, version));
    it(`v${version}: garbage and truncation raise only ProtocolError`, () => checkDecoderFuzz(AddPartitionsToTxn, responseSpec, version));
  }
});
