import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Produce, produceRequestSize, type ProduceRequest } from '../../../src/protocol/apis/produce.js';
import { Reader } from '../../../src/protocol/reader.js';
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
  schemaEncode,
  versions,
} from './wire-schema.js';

// Transcribed from ProduceRequest.json / ProduceResponse.json (Kafka 4.1: validVersions 3-13, flexible 9+).
const requestSpec: MessageSpec = {
  flexibleFrom: 9,
  fields: [
    { name: 'transactionalId', type: 'string', versions: '3+', nullable: '3+' },
    { name: 'acks', type: 'int16', versions: '0+' },
    { name: 'timeoutMs', type: 'int32', versions: '0+' },
    {
      name: 'topicData',
      versions: '0+',
      type: [
        { name: 'name', type: 'string', versions: '0-12' },
        { name: 'topicId', type: 'uuid', versions: '13+' },
        {
          name: 'partitionData',
          versions: '0+',
          type: [
            { name: 'index', type: 'int32', versions: '0+' },
            { name: 'records', type: 'records', versions: '0+', nullable: '0+' },
          ],
        },
      ],
    },
  ],
};

const responseSpec: MessageSpec = {
  flexibleFrom: 9,
  fields: [
    {
      name: 'responses',
      versions: '0+',
      type: [
        { name: 'name', type: 'string', versions: '0-12' },
        { name: 'topicId', type: 'uuid', versions: '13+' },
        {
          name: 'partitionResponses',
          versions: '0+',
          type: [
            { name: 'index', type: 'int32', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
            { name: 'baseOffset', type: 'int64', versions: '0+' },
            { name: 'logAppendTimeMs', type: 'int64', versions: '2+' },
            { name: 'logStartOffset', type: 'int64', versions: '5+' },
            {
              name: 'recordErrors',
              versions: '8+',
              type: [
                { name: 'batchIndex', type: 'int32', versions: '8+' },
                { name: 'message', type: 'string', versions: '8+', nullable: '8+' },
              ],
            },
            { name: 'errorMessage', type: 'string', versions: '8+', nullable: '8+' },
            {
              name: 'currentLeader',
              versions: '10+',
              tag: 0,
              struct: true,
              type: [
                { name: 'leaderId', type: 'int32', versions: '10+' },
                { name: 'leaderEpoch', type: 'int32', versions: '10+' },
              ],
            },
          ],
        },
      ],
    },
    { name: 'throttleTimeMs', type: 'int32', versions: '1+' },
    {
      name: 'nodeEndpoints',
      versions: '10+',
      tag: 0,
      type: [
        { name: 'nodeId', type: 'int32', versions: '10+' },
        { name: 'host', type: 'string', versions: '10+' },
        { name: 'port', type: 'int32', versions: '10+' },
        { name: 'rack', type: 'string', versions: '10+', nullable: '10+' },
      ],
    },
  ],
};

const TOPIC_ID = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
const RECORDS = Uint8Array.of(0xde, 0xad, 0xbe, 0xef);

const sample: ProduceRequest = {
  acks: -1,
  timeoutMs: 30000,
  topicData: [{ name: 'events', topicId: TOPIC_ID, partitionData: [{ index: 2, records: RECORDS }] }],
};

describe('Produce request: golden bytes', () => {
  it('v3: classic strings, int32 array counts and bytes lengths', () => {
    const expected = hex(`
      ffff                  // transactional_id: null (int16 -1)
      ffff                  // acks: -1
      00007530              // timeout_ms: 30000
      00000001              // topic_data: 1 topic (int32)
      0006 6576656e7473     // name: int16 length 6, "events"
      00000001              // partition_data: 1 partition
      00000002              // index: 2
      00000004 deadbeef     // records: int32 length 4, the batch bytes
    `);
    assert.deepEqual(encodeWith(Produce, 3, sample), expected);
    assert.equal(produceRequestSize(3, sample), expected.length);
  });

  it('v9: compact lengths (N+1) and a tag section closing each struct', () => {
    const expected = hex(`
      00                    // transactional_id: null (compact: 0)
      ffff                  // acks: -1
      00007530              // timeout_ms: 30000
      02                    // topic_data: 1 topic (uvarint N+1)
      07 6576656e7473       // name: uvarint 6+1, "events"
      02                    // partition_data: 1 partition
      00000002              // index: 2
      05 deadbeef           // records: uvarint 4+1, the batch bytes
      00                    // partition tagged fields: none
      00                    // topic tagged fields: none
      00                    // request tagged fields: none
    `);
    assert.deepEqual(encodeWith(Produce, 9, sample), expected);
    assert.equal(produceRequestSize(9, sample), expected.length);
  });

  it('v13: the 16-byte topic id replaces the name', () => {
    const expected = hex(`
      00 ffff 00007530 02   // transactional_id null, acks -1, timeout 30000, 1 topic
      a0a1a2a3a4a5a6a7 a8a9aaabacadaeaf  // topic_id: 16 bytes
      02 00000002 05 deadbeef 00          // 1 partition: index 2, records, tags
      00                    // topic tagged fields
      00                    // request tagged fields
    `);
    assert.deepEqual(encodeWith(Produce, 13, sample), expected);
    assert.equal(produceRequestSize(13, sample), expected.length);
  });

  it('v9: a transactional id and a 200-byte batch use multi-byte lengths', () => {
    const records = new Uint8Array(200).fill(7);
    const request: ProduceRequest = {
      transactionalId: 'tx',
      acks: 1,
      timeoutMs: 5,
      topicData: [{ name: 't', partitionData: [{ index: 0, records }] }],
    };
    const bytes = encodeWith(Produce, 9, request);
    assert.deepEqual(bytes.subarray(0, 3), hex('03 7478')); // transactional_id: uvarint 2+1, "tx"
    assert.deepEqual(bytes.subarray(3, 5), hex('0001')); // acks: 1
    // after timeout (4), topic count (1), name (2), partition count (1), index (4): records length 201 = c9 01
    assert.deepEqual(bytes.subarray(17, 19), hex('c901'));
    assert.deepEqual(bytes.subarray(19, 219), records);
    assert.equal(bytes.length, 219 + 3);
    assert.equal(produceRequestSize(9, request), bytes.length);
  });
});

describe('Produce request: cross-check against the schema decoder', () => {
  const partition = fc.record({ index: fc.integer({ min: 0, max: 2 ** 31 - 1 }), records: fc.uint8Array({ maxLength: 300 }) });
  const topic = fc.record({
    name: fc.string({ unit: 'grapheme', maxLength: 10 }),
    topicId: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    partitionData: fc.array(partition, { maxLength: 3 }),
  });
  const request = fc.record(
    {
      transactionalId: fc.option(fc.string({ unit: 'grapheme', maxLength: 10 }), { nil: null }),
      acks: fc.constantFrom(0 as const, 1 as const, -1 as const),
      timeoutMs: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      topicData: fc.array(topic, { maxLength: 3 }),
    },
    { requiredKeys: ['acks', 'timeoutMs', 'topicData'] },
  );

  for (const version of versions(Produce)) {
    it(`v${version}: every field decodes back, and produceRequestSize is exact`, () => {
      fc.assert(
        fc.property(request, (req) => {
          const bytes = encodeWith(Produce, version, req);
          assert.equal(produceRequestSize(version, req), bytes.length);
          const decoded = schemaDecode(requestSpec, bytes, version);
          assert.deepEqual(decoded, {
            transactionalId: req.transactionalId ?? null,
            acks: req.acks,
            timeoutMs: req.timeoutMs,
            topicData: req.topicData.map((t) => ({
              ...(version >= 13 ? { topicId: t.topicId } : { name: t.name }),
              partitionData: t.partitionData.map((p) => ({ index: p.index, records: p.records })),
            })),
          });
          // and the schema's own encoding of those fields is byte-identical
          assert.deepEqual(schemaEncode(requestSpec, decoded, version), bytes);
        }),
        { numRuns: 100 },
      );
    });
  }

  it('refuses v13 without a topic id, and versions outside 3–13', () => {
    const noId: ProduceRequest = { acks: 1, timeoutMs: 1, topicData: [{ name: 'x', partitionData: [] }] };
    assert.throws(() => encodeWith(Produce, 13, noId), TypeError);
    assert.throws(() => encodeWith(Produce, 2, sample), UnsupportedVersionError);
    assert.throws(() => encodeWith(Produce, 14, sample), UnsupportedVersionError);
    assert.throws(() => Produce.decodeResponse(new Reader(new Uint8Array(0)), 2), UnsupportedVersionError);
  });
});

describe('Produce response: hand-built bodies', () => {
  it('v3 (classic): offsets, log append time, throttle after the array', () => {
    const w = new Writer()
      .int32(1) // responses: 1 topic
      .string('events')
      .int32(1) // partition_responses: 1
      .int32(2) // index
      .int16(0) // error_code
      .int64(42n) // base_offset
      .int64(-1n) // log_append_time_ms
      .int32(7); // throttle_time_ms
    assert.deepEqual(decodeAll(Produce, w.finish(), 3), {
      responses: [
        {
          name: 'events',
          topicId: null,
          partitionResponses: [
            {
              index: 2,
              errorCode: 0,
              baseOffset: 42n,
              logAppendTimeMs: -1n,
              logStartOffset: -1n,
              recordErrors: [],
              errorMessage: null,
              currentLeader: null,
            },
          ],
        },
      ],
      throttleTimeMs: 7,
      nodeEndpoints: [],
    });
  });

  it('v8 (classic): log start offset, record errors and error message', () => {
    const w = new Writer().int32(1).string('t').int32(1);
    w.int32(0).int16(87).int64(-1n).int64(-1n).int64(5n); // index, INVALID_RECORD, offsets, log_start_offset 5
    w.int32(1).int32(3).string('bad key'); // record_errors: [{3, "bad key"}]
    w.string('batch dropped'); // error_message
    w.int32(0); // throttle
    const partition = decodeAll(Produce, w.finish(), 8).responses[0]!.partitionResponses[0]!;
    assert.equal(partition.errorCode, 87);
    assert.equal(partition.logStartOffset, 5n);
    assert.deepEqual(partition.recordErrors, [{ batchIndex: 3, message: 'bad key' }]);
    assert.equal(partition.errorMessage, 'batch dropped');
  });

  it('v10 (flexible): current_leader and node_endpoints tagged fields (KIP-951)', () => {
    const leader = new Writer().int32(3).int32(17).taggedFields().finish(); // leader_id 3, epoch 17, no tags
    const endpoints = new Writer()
      .uvarint(2) // 1 endpoint
      .int32(3)
      .compactString('broker-3')
      .int32(9094)
      .compactString(null)
      .taggedFields()
      .finish();
    const w = new Writer().uvarint(2).compactString('events').uvarint(2);
    w.int32(0).int16(6).int64(-1n).int64(-1n).int64(-1n); // NOT_LEADER_OR_FOLLOWER
    w.uvarint(1).compactString(null); // no record errors, no message
    w.taggedFields([[0, leader]]); // partition tags: current_leader
    w.taggedFields(); // topic tags
    w.int32(0); // throttle
    w.taggedFields([[0, endpoints]]); // response tags: node_endpoints
    const response = decodeAll(Produce, w.finish(), 10);
    assert.deepEqual(response.responses[0]!.partitionResponses[0]!.currentLeader, { leaderId: 3, leaderEpoch: 17 });
    assert.deepEqual(response.nodeEndpoints, [{ nodeId: 3, host: 'broker-3', port: 9094, rack: null }]);
  });

  it('v13: topics come back by id', () => {
    const w = new Writer().uvarint(2).uuid(TOPIC_ID).uvarint(1).taggedFields().int32(0).taggedFields();
    const response = decodeAll(Produce, w.finish(), 13);
    assert.deepEqual(response.responses, [{ name: null, topicId: TOPIC_ID, partitionResponses: [] }]);
  });
});

describe('Produce response: every version against the schema, and fuzzed', () => {
  for (const version of versions(Produce)) {
    it(`v${version}: round trip through the schema codec`, () => checkResponseRoundTrip(Produce, responseSpec, version));
    it(`v${version}: garbage and truncation raise only ProtocolError`, () =>
      checkDecoderFuzz(Produce, responseSpec, version));
  }
});
