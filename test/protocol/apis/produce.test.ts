import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_PARTITIONS_PER_ANSWER, MAX_TOPICS_PER_ANSWER } from '../../../src/protocol/apis/fields.js';
import {
  MAX_NODE_ENDPOINTS_PER_ANSWER,
  MAX_RECORD_ERRORS_KEPT,
  Produce,
  produceRequestSize,
  type ProduceRequest,
} from '../../../src/protocol/apis/produce.js';
import { Reader } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';
import { ProtocolError, UnsupportedVersionError } from '../../../src/shared/errors.js';
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
              recordErrorsCut: 0,
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

describe('Produce response: caps on counts no real answer reaches', () => {
  const refused = (pattern: RegExp) => (e: unknown) => e instanceof ProtocolError && pattern.test(e.message);
  // The smallest topic of each form: an empty name (v8) or a zero id (v13) and an empty partition array (+ tags).
  const emptyTopic = { 8: hex('0000 00000000'), 9: hex('01 01 00'), 13: hex(`${'00'.repeat(16)} 01 00`) } as const;
  // Topics as they are on the wire, built as one fill rather than one Writer call each.
  const topics = (version: 8 | 9 | 13, count: number): Uint8Array => {
    const w = version < 9 ? new Writer().int32(count) : new Writer().uvarint(count + 1);
    w.raw(Buffer.alloc(count * emptyTopic[version].length, emptyTopic[version])).int32(0); // topics, throttle
    return (version < 9 ? w : w.taggedFields()).finish();
  };

  for (const version of [8, 9, 13] as const) {
    it(`v${version}: ${MAX_TOPICS_PER_ANSWER + 1} empty topics are refused at the count, ${MAX_TOPICS_PER_ANSWER} still decode`, () => {
      const over = topics(version, MAX_TOPICS_PER_ANSWER + 1);
      const isCap = refused(/Produce response topics: array of 65537 items, more than the 65536/);
      assert.throws(() => decodeAll(Produce, over, version), isCap);
      assert.equal(decodeAll(Produce, topics(version, MAX_TOPICS_PER_ANSWER), version).responses.length, MAX_TOPICS_PER_ANSWER);
    });
  }

  it('v9: an answer of realistic size (200 topics of 50 partitions, some with record errors) decodes whole', () => {
    const w = new Writer().uvarint(201);
    for (let t = 0; t < 200; t++) {
      w.compactString(`topic-${t}`).uvarint(51);
      for (let p = 0; p < 50; p++) {
        w.int32(p).int16(p % 10 === 0 ? 87 : 0).int64(BigInt(p)).int64(-1n).int64(0n);
        if (p % 10 === 0) w.uvarint(3).int32(0).compactString('no key').taggedFields().int32(4).compactString(null).taggedFields();
        else w.uvarint(1);
        w.compactString(null).taggedFields();
      }
      w.taggedFields();
    }
    const response = decodeAll(Produce, w.int32(0).taggedFields().finish(), 9);
    assert.equal(response.responses.length, 200);
    const partitions = response.responses.flatMap((topic) => topic.partitionResponses);
    assert.equal(partitions.length, 10_000);
    assert.equal(partitions.reduce((n, p) => n + p.recordErrors.length, 0), 2_000);
    assert.deepEqual(partitions[10]!.recordErrors, [{ batchIndex: 0, message: 'no key' }, { batchIndex: 4, message: null }]);
  });

  // A v9 partition up to its record_errors count, and a whole one with no record errors.
  const partitionHead = (w: Writer, index: number): Writer => w.int32(index).int16(0).int64(0n).int64(-1n).int64(0n);
  const partition = (w: Writer, index: number): Writer => partitionHead(w, index).uvarint(1).compactString(null).taggedFields();

  it('v9: the partitions of all topics share one budget, and a count past what is left is refused before it is read', () => {
    // Three partitions in the first topic; the second claims, within the per-array cap, one more than is left.
    const claim = (count: number): Uint8Array => {
      const w = new Writer().uvarint(3).compactString('a').uvarint(4);
      for (let p = 0; p < 3; p++) partition(w, p);
      return w.taggedFields().compactString('b').uvarint(count + 1).finish();
    };
    const left = MAX_PARTITIONS_PER_ANSWER - 3;
    assert.throws(
      () => Produce.decodeResponse(new Reader(claim(left + 1)), 9),
      refused(/Produce response partition_responses: array of 1048574 items, more than the 1048573 left of the 1048576 partitions/),
    );
    // Exactly what is left passes the budget; this frame then fails only for want of bytes.
    assert.throws(() => Produce.decodeResponse(new Reader(claim(left)), 9), refused(/partition_responses: array of 1048573 items cannot fit/));
  });

  it('v9 and v8: record errors past MAX_RECORD_ERRORS_KEPT in an answer are read past, not kept, and the answer decodes', () => {
    // A true answer may list one per record (keyless records to a compacted topic), more than any cap: refused, it
    // failed its batch as corrupt, and the retry met the same answer for ever.
    const many = MAX_RECORD_ERRORS_KEPT + 5;
    const flexible = new Writer().uvarint(3).compactString('a').uvarint(2);
    partitionHead(flexible, 0).uvarint(3).int32(0).compactString('first').taggedFields().int32(1).compactString(null).taggedFields();
    flexible.compactString(null).taggedFields().taggedFields().compactString('b').uvarint(2);
    partitionHead(flexible, 0).uvarint(many + 1);
    for (let i = 0; i < many; i++) flexible.int32(i).compactString(i % 2 === 0 ? 'no key' : null).taggedFields();
    flexible.compactString(null).taggedFields().taggedFields();
    const v9 = decodeAll(Produce, flexible.int32(7).taggedFields().finish(), 9);
    const [a, b] = v9.responses.map((topic) => topic.partitionResponses[0]!.recordErrors);
    assert.deepEqual(a, [{ batchIndex: 0, message: 'first' }, { batchIndex: 1, message: null }]);
    assert.equal(b!.length, MAX_RECORD_ERRORS_KEPT - 2, 'the answer keeps MAX_RECORD_ERRORS_KEPT in all');
    const cut = v9.responses.map((topic) => topic.partitionResponses[0]!.recordErrorsCut);
    assert.deepEqual(cut, [0, 7], 'and says how many of each partition it read past');
    assert.equal(v9.throttleTimeMs, 7, 'and reads on past the rest');

    const classic = new Writer().int32(1).string('t').int32(1).int32(0).int16(87).int64(-1n).int64(-1n).int64(0n).int32(many);
    for (let i = 0; i < many; i++) classic.int32(i).string(i % 2 === 0 ? 'no key' : null);
    const v8 = decodeAll(Produce, classic.string(null).int32(3).finish(), 8);
    assert.equal(v8.responses[0]!.partitionResponses[0]!.recordErrors.length, MAX_RECORD_ERRORS_KEPT);
    assert.equal(v8.responses[0]!.partitionResponses[0]!.recordErrorsCut, 5);
    assert.equal(v8.throttleTimeMs, 3);
  });

  it('v8: a record_errors count that cannot fit in the frame is refused at the count', () => {
    const w = new Writer().int32(1).string('t').int32(1).int32(0).int16(87).int64(-1n).int64(-1n).int64(0n);
    w.int32(1 << 20).string(null).int32(0); // record_errors count, error_message, throttle
    assert.throws(() => Produce.decodeResponse(new Reader(w.finish()), 8), refused(/Produce response record_errors: array of 1048576 items cannot fit/));
  });

  it('v10: node_endpoints past MAX_NODE_ENDPOINTS_PER_ANSWER are refused at the count', () => {
    const endpoints = new Writer().uvarint(MAX_NODE_ENDPOINTS_PER_ANSWER + 2).finish();
    const w = new Writer().uvarint(1).int32(0).taggedFields([[0, endpoints]]);
    const isCap = refused(/Produce response node_endpoints: array of 65537 items, more than the 65536/);
    assert.throws(() => decodeAll(Produce, w.finish(), 10), isCap);
  });
});
