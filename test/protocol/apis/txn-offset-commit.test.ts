import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_TOPICS_PER_ANSWER } from '../../../src/protocol/apis/fields.js';
import { TxnOffsetCommit } from '../../../src/protocol/apis/txn-offset-commit.js';
import { ProtocolError, UnsupportedVersionError } from '../../../src/shared/errors.js';
import { type MessageSpec, checkDecoderFuzz, topicPartitionErrorsSpec, checkResponseRoundTrip, decodeAll, emptyTopicsAnswer, encodeWith, hex, schemaDecode, versions } from './wire-schema.js';

// Transcribed from TxnOffsetCommitRequest.json / TxnOffsetCommitResponse.json (validVersions 0-5, flexible 3+).
const requestSpec: MessageSpec = {
  flexibleFrom: 3,
  fields: [
    { name: 'transactionalId', type: 'string', versions: '0+' },
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '0+' },
    { name: 'producerEpoch', type: 'int16', versions: '0+' },
    { name: 'generationId', type: 'int32', versions: '3+' },
    { name: 'memberId', type: 'string', versions: '3+' },
    { name: 'groupInstanceId', type: 'string', versions: '3+', nullable: '3+' },
    {
      name: 'topics',
      versions: '0+',
      type: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'partitions',
          versions: '0+',
          type: [
            { name: 'partition', type: 'int32', versions: '0+' },
            { name: 'offset', type: 'int64', versions: '0+' },
            { name: 'leaderEpoch', type: 'int32', versions: '2+' },
            { name: 'metadata', type: 'string', versions: '0+', nullable: '0+' },
          ],
        },
      ],
    },
  ],
};
const responseSpec = topicPartitionErrorsSpec(3);

const base = { transactionalId: 'tx', groupId: 'g', producerId: 7n, producerEpoch: 1 };
const topics = [{ name: 't', partitions: [{ partition: 1, offset: 42n, leaderEpoch: 5, metadata: null }] }];

describe('TxnOffsetCommit request', () => {
  it('v0 golden bytes: no leader epoch, no group metadata', () => {
    const expected = hex(`
      0002 7478  0001 67          // transactional_id "tx", group_id "g"
      0000000000000007 0001       // producer_id 7, producer_epoch 1
      00000001 0001 74            // topics: 1, name "t"
        00000001                  //   partitions: 1
          00000001                //     partition_index 1
          000000000000002a        //     committed_offset 42
          ffff                    //     committed_metadata: null
    `);
    assert.deepEqual(encodeWith(TxnOffsetCommit, 0, { ...base, topics }), expected);
  });

  it('v5 golden bytes: group metadata, leader epoch, compact forms, tag sections', () => {
    const expected = hex(`
      03 7478  02 67              // transactional_id, group_id
      0000000000000007 0001
      0000000c                    // generation_id 12
      02 6d                       // member_id "m"
      00                          // group_instance_id: null
      02 02 74                    // topics: 1, name "t"
        02                        //   partitions: 1
          00000001 000000000000002a
          00000005                //     committed_leader_epoch 5
          01                      //     committed_metadata: "" (the default)
          00                      //     partition tags
        00                        //   topic tags
      00                          // request tags
    `);
    const noMetadata = [{ name: 't', partitions: [{ partition: 1, offset: 42n, leaderEpoch: 5 }] }];
    assert.deepEqual(encodeWith(TxnOffsetCommit, 5, { ...base, generationId: 12, memberId: 'm', topics: noMetadata }), expected);
  });

  for (const version of versions(TxnOffsetCommit)) {
    it(`v${version}: decodes back through the schema decoder`, () => {
      const request = version >= 3 ? { ...base, generationId: 3, memberId: 'm', groupInstanceId: 'i', topics } : { ...base, topics };
      const expected: Record<string, unknown> = { ...request, generationId: undefined, memberId: undefined, groupInstanceId: undefined };
      if (version >= 3) Object.assign(expected, { generationId: 3, memberId: 'm', groupInstanceId: 'i' });
      for (const key of Object.keys(expected)) if (expected[key] === undefined) delete expected[key];
      expected.topics = topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => (version >= 2 ? p : { partition: p.partition, offset: p.offset, metadata: p.metadata })),
      }));
      assert.deepEqual(schemaDecode(requestSpec, encodeWith(TxnOffsetCommit, version, request), version), expected);
    });
  }

  it('refuses group metadata below v3 rather than drop it, and v6', () => {
    assert.throws(() => encodeWith(TxnOffsetCommit, 2, { ...base, generationId: 1, topics }), UnsupportedVersionError);
    assert.throws(() => encodeWith(TxnOffsetCommit, 2, { ...base, memberId: 'm', topics }), UnsupportedVersionError);
    assert.throws(() => encodeWith(TxnOffsetCommit, 2, { ...base, groupInstanceId: 'i', topics }), UnsupportedVersionError);
    assert.throws(() => encodeWith(TxnOffsetCommit, 6, { ...base, topics }), UnsupportedVersionError);
  });
});

describe('TxnOffsetCommit response', () => {
  it('hand-built v0 and v5 bodies', () => {
    const expected = { throttleTimeMs: 1, topics: [{ name: 't', partitions: [{ partitionIndex: 1, errorCode: 22 }] }] };
    assert.deepEqual(decodeAll(TxnOffsetCommit, hex('00000001 00000001 0001 74 00000001 00000001 0016'), 0), expected);
    assert.deepEqual(decodeAll(TxnOffsetCommit, hex('00000001 02 02 74 02 00000001 0016 00 00 00'), 5), expected);
  });

  for (const version of [0, 3, 4, 5]) {
    it(`v${version}: ${MAX_TOPICS_PER_ANSWER + 1} empty topics are refused at the count, ${MAX_TOPICS_PER_ANSWER} still decode`, () => {
      const emptyTopics = (count: number): Uint8Array => emptyTopicsAnswer(version >= 3, count);
      const isCap = (e: unknown): boolean =>
        e instanceof ProtocolError && /TxnOffsetCommit response topics: array of 65537 items, more than the 65536/.test(e.message);
      assert.throws(() => decodeAll(TxnOffsetCommit, emptyTopics(MAX_TOPICS_PER_ANSWER + 1), version), isCap);
      assert.equal(decodeAll(TxnOffsetCommit, emptyTopics(MAX_TOPICS_PER_ANSWER), version).topics.length, MAX_TOPICS_PER_ANSWER);
    });
  }

  for (const version of versions(TxnOffsetCommit)) {
    it(`v${version}: round trip through the schema codec`, () => checkResponseRoundTrip(TxnOffsetCommit, responseSpec, version));
    it(`v${version}: garbage and truncation raise only ProtocolError`, () => checkDecoderFuzz(TxnOffsetCommit, responseSpec, version));
  }
});
