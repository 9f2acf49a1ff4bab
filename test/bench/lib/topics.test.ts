import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LATEST_TIMESTAMP, ListOffsets } from '../../../bench/lib/list-offsets.js';
import { countMismatch } from '../../../bench/lib/topics.js';
import { type MessageSpec, checkDecoderFuzz, checkResponseRoundTrip, encodeWith, hex, schemaDecode, versions } from '../../protocol/apis/wire-schema.js';

describe("the broker's count against what a run sent", () => {
  const sent = { warmupRecords: 300_000, records: 100_000 };

  it('passes only on the exact count: the producers are idempotent, a retried batch is written once', () => {
    assert.equal(countMismatch(sent, 400_000), undefined);
    assert.equal(
      countMismatch(sent, 399_988),
      'the broker holds 399,988 records, expected 400,000 (300,000 warm-up + 100,000 measured)',
    );
    assert.match(countMismatch(sent, 400_012)!, /holds 400,012 records, expected 400,000/, 'written twice is as wrong as lost');
    assert.match(countMismatch(sent, 0)!, /holds 0 records/);
  });

  it('with transactions, wants at least what was sent: each commit adds a marker per partition it wrote to', () => {
    const txn = { ...sent, transactionRecords: 10_000 };
    assert.equal(countMismatch(txn, 400_000), undefined);
    assert.equal(countMismatch(txn, 400_640), undefined);
    assert.match(countMismatch(txn, 399_999)!, /holds 399,999 records and transaction markers, fewer than the 400,000 records sent/);
  });
});

// Transcribed from ListOffsetsRequest.json and ListOffsetsResponse.json (flexible 6+), for the versions the module
// speaks (v0's max_num_offsets and old_style_offsets, v10's timeout_ms left out).
const requestSpec: MessageSpec = {
  flexibleFrom: 6,
  fields: [
    { name: 'replicaId', type: 'int32', versions: '0+' },
    { name: 'isolationLevel', type: 'int8', versions: '2+' },
    {
      name: 'topics', versions: '0+', type: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'partitions', versions: '0+', type: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'currentLeaderEpoch', type: 'int32', versions: '4+' },
            { name: 'timestamp', type: 'int64', versions: '0+' },
          ],
        },
      ],
    },
  ],
};
const responseSpec: MessageSpec = {
  flexibleFrom: 6,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '2+' },
    {
      name: 'topics', versions: '0+', type: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'partitions', versions: '0+', type: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
            { name: 'timestamp', type: 'int64', versions: '1+' },
            { name: 'offset', type: 'int64', versions: '1+' },
            { name: 'leaderEpoch', type: 'int32', versions: '4+' },
          ],
        },
      ],
    },
  ],
};

describe('ListOffsets (bench/lib/list-offsets.ts)', () => {
  const request = { isolationLevel: 0 as const, topics: [{ name: 't', partitions: [{ partitionIndex: 3, timestamp: LATEST_TIMESTAMP }] }] };

  it('v1 golden bytes: a client (replica -1) asking for the latest offset', () => {
    assert.deepEqual(
      encodeWith(ListOffsets, 1, request),
      hex(`
        ffffffff            // replica_id: -1
        00000001 0001 74    // topics: 1, name "t"
        00000001 00000003   // partitions: 1, partition_index 3
        ffffffffffffffff    // timestamp: -1, the latest offset
      `),
    );
  });

  it('writes every version where the schema puts each field: read_uncommitted, no leader epoch to fence with', () => {
    for (const version of versions(ListOffsets)) {
      const decoded = schemaDecode(requestSpec, encodeWith(ListOffsets, version, request), version);
      assert.deepEqual(decoded, {
        replicaId: -1,
        ...(version >= 2 && { isolationLevel: 0 }),
        topics: [{ name: 't', partitions: [{ partitionIndex: 3, ...(version >= 4 && { currentLeaderEpoch: -1 }), timestamp: -1n }] }],
      }, `v${version}`);
    }
  });

  it('reads every field of every version, and only a ProtocolError from garbage', () => {
    for (const version of versions(ListOffsets)) {
      checkResponseRoundTrip(ListOffsets, responseSpec, version);
      checkDecoderFuzz(ListOffsets, responseSpec, version);
    }
  });
});
