import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  MAX_BROKERS_PER_ANSWER,
  MAX_PARTITIONS_PER_ANSWER,
  MAX_TOPICS_PER_ANSWER,
  MAX_PARTITIONS_PER_TOPIC,
  Metadata,
  checkAnswer,
  checkBrokers,
  isRebootstrap,
  partitionLeaders, reachableLeaders,
  type MetadataPartition,
  type MetadataRequest,
  type MetadataTopic,
} from '../../../src/protocol/apis/metadata.js';
import { Reader } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { BrokerError, ProtocolError, UnsupportedVersionError } from '../../../src/shared/errors.js';
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

// Transcribed from MetadataRequest.json / MetadataResponse.json (validVersions 0-13, flexible 9+).
const requestSpec: MessageSpec = {
  flexibleFrom: 9,
  fields: [
    {
      name: 'topics',
      versions: '0+',
      nullable: '1+',
      type: [
        { name: 'topicId', type: 'uuid', versions: '10+' },
        { name: 'name', type: 'string', versions: '0+', nullable: '10+' },
      ],
    },
    { name: 'allowAutoTopicCreation', type: 'bool', versions: '4+' },
    { name: 'includeClusterAuthorizedOperations', type: 'bool', versions: '8-10' },
    { name: 'includeTopicAuthorizedOperations', type: 'bool', versions: '8+' },
  ],
};

const int32s = '[]int32' as const;
const responseSpec: MessageSpec = {
  flexibleFrom: 9,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '3+' },
    {
      name: 'brokers',
      versions: '0+',
      type: [
        { name: 'nodeId', type: 'int32', versions: '0+' },
        { name: 'host', type: 'string', versions: '0+' },
        { name: 'port', type: 'int32', versions: '0+' },
        { name: 'rack', type: 'string', versions: '1+', nullable: '1+' },
      ],
    },
    { name: 'clusterId', type: 'string', versions: '2+', nullable: '2+' },
    { name: 'controllerId', type: 'int32', versions: '1+' },
    {
      name: 'topics',
      versions: '0+',
      type: [
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'name', type: 'string', versions: '0+', nullable: '12+' },
        { name: 'topicId', type: 'uuid', versions: '10+' },
        { name: 'isInternal', type: 'bool', versions: '1+' },
        {
          name: 'partitions',
          versions: '0+',
          type: [
            { name: 'errorCode', type: 'int16', versions: '0+' },
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'leaderId', type: 'int32', versions: '0+' },
            { name: 'leaderEpoch', type: 'int32', versions: '7+' },
            { name: 'replicaNodes', type: int32s, versions: '0+' },
            { name: 'isrNodes', type: int32s, versions: '0+' },
            { name: 'offlineReplicas', type: int32s, versions: '5+' },
          ],
        },
        { name: 'topicAuthorizedOperations', type: 'int32', versions: '8+' },
      ],
    },
    { name: 'clusterAuthorizedOperations', type: 'int32', versions: '8-10' },
    { name: 'errorCode', type: 'int16', versions: '13+' },
  ],
};

describe('Metadata request', () => {
  it('v12 golden bytes: compact array of {zero topic id, name}, no cluster-operations flag', () => {
    const expected = hex(`
      02                                  // topics: 1 (uvarint N+1)
      00000000000000000000000000000000    // topic_id: zero UUID (we ask by name)
      07 6576656e7473                     // name: uvarint 6+1, "events"
      00                                  // topic tagged fields
      01                                  // allow_auto_topic_creation: true
      00                                  // include_topic_authorized_operations: false (cluster flag is v8-10 only)
      00                                  // request tagged fields
    `);
    assert.deepEqual(encodeWith(Metadata, 12, { topics: ['events'], allowAutoTopicCreation: true }), expected);
  });

  it('null topics means all topics: int32 -1 classic, 0 compact', () => {
    assert.deepEqual(encodeWith(Metadata, 1, { topics: null, allowAutoTopicCreation: true }), hex('ffffffff'));
    assert.deepEqual(encodeWith(Metadata, 4, { topics: null, allowAutoTopicCreation: false }), hex('ffffffff 00'));
    assert.deepEqual(encodeWith(Metadata, 8, { topics: [], allowAutoTopicCreation: true }), hex('00000000 01 00 00'));
    assert.deepEqual(encodeWith(Metadata, 13, { topics: null, allowAutoTopicCreation: false }), hex('00 00 00 00'));
  });

  const request = fc.record({
    topics: fc.option(fc.array(fc.string({ unit: 'grapheme', maxLength: 8 }), { maxLength: 4 }), { nil: null }),
    allowAutoTopicCreation: fc.boolean(),
  });
  for (const version of versions(Metadata)) {
    it(`v${version}: every field decodes back through the schema decoder`, () => {
      fc.assert(
        fc.property(request, (req: MetadataRequest) => {
          const decoded = schemaDecode(requestSpec, encodeWith(Metadata, version, req), version);
          const expected: Record<string, unknown> = {
            topics:
              req.topics?.map((name) => (version >= 10 ? { topicId: new Uint8Array(16), name } : { name })) ?? null,
          };
          if (version >= 4) expected['allowAutoTopicCreation'] = req.allowAutoTopicCreation;
          if (version >= 8 && version <= 10) expected['includeClusterAuthorizedOperations'] = false;
          if (version >= 8) expected['includeTopicAuthorizedOperations'] = false;
          assert.deepEqual(decoded, expected);
        }),
        { numRuns: 50 },
      );
    });
  }

  it('refuses v0 and v14', () => {
    assert.throws(() => encodeWith(Metadata, 0, { topics: null, allowAutoTopicCreation: true }), UnsupportedVersionError);
    assert.throws(() => Metadata.decodeResponse(new Reader(new Uint8Array(0)), 14), UnsupportedVersionError);
  });
});

describe('Metadata response: hand-built bodies', () => {
  it('v1 (classic): no throttle, no cluster id, no epochs', () => {
    const w = new Writer()
      .int32(1) // brokers: 1
      .int32(1) // node_id
      .string('localhost')
      .int32(9092)
      .string(null) // rack
      .int32(1) // controller_id
      .int32(1) // topics: 1
      .int16(0) // error_code
      .string('events')
      .bool(false) // is_internal
      .int32(1) // partitions: 1
      .int16(0) // error_code
      .int32(0) // partition_index
      .int32(1) // leader_id
      .array([1], (x, n) => x.int32(n)) // replica_nodes
      .array([1], (x, n) => x.int32(n)); // isr_nodes
    assert.deepEqual(decodeAll(Metadata, w.finish(), 1), {
      throttleTimeMs: 0,
      brokers: [{ nodeId: 1, host: 'localhost', port: 9092, rack: null }],
      clusterId: null,
      controllerId: 1,
      topics: [
        {
          errorCode: 0,
          name: 'events',
          topicId: null,
          isInternal: false,
          partitions: [
            { errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: -1, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] },
          ],
          topicAuthorizedOperations: -2147483648,
        },
      ],
      clusterAuthorizedOperations: -2147483648,
      errorCode: 0,
    });
  });

  it('refuses an answer listing more than MAX_PARTITIONS_PER_ANSWER partitions in all, each topic under its own limit, as it decodes', () => {
    // v1 partitions of 18 bytes each: two topics of half the limit plus one are a 19 MB frame, which decoded into
    // over a hundred MB of objects before the whole answer was bounded.
    const half = MAX_PARTITIONS_PER_ANSWER / 2 + 1;
    assert.ok(half < MAX_PARTITIONS_PER_TOPIC, 'each topic alone is within the per-topic limit');
    const w = new Writer(20 * 1024 * 1024).int32(0).int32(1).int32(2); // no brokers, controller_id, topics: 2
    for (const name of ['a', 'b']) {
      w.int16(0).string(name).bool(false).int32(half);
      for (let i = 0; i < half; i++) w.int16(0).int32(i).int32(-1).int32(0).int32(0);
    }
    assert.throws(() => decodeAll(Metadata, w.finish(), 1), (e: unknown) => e instanceof ProtocolError && /more than \d+ partitions/.test(e.message));
  });

  it('refuses more than MAX_BROKERS_PER_ANSWER brokers or MAX_TOPICS_PER_ANSWER topics before reading them', () => {
    // Each item is an object (and, for a v10+ topic, a 16-byte copy) several times its bytes on the wire, so the
    // count is refused at the array's head, not after the heap holds them.
    const brokers = MAX_BROKERS_PER_ANSWER + 1;
    const manyBrokers = new Writer(brokers * 12 + 64).int32(brokers);
    for (let i = 0; i < brokers; i++) manyBrokers.int32(i).string('').int32(9092).string(null);
    manyBrokers.int32(1).int32(0); // controller_id, no topics
    const isArrayBound = (e: unknown): boolean => e instanceof ProtocolError && /more than the 65536/.test(e.message);
    assert.throws(() => decodeAll(Metadata, manyBrokers.finish(), 1), isArrayBound);

    const topics = MAX_TOPICS_PER_ANSWER + 1;
    const manyTopics = new Writer(topics * 9 + 64).int32(0).int32(1).int32(topics); // no brokers, controller_id
    for (let i = 0; i < topics; i++) manyTopics.int16(0).string('').bool(false).int32(0);
    assert.throws(() => decodeAll(Metadata, manyTopics.finish(), 1), isArrayBound);
  });

  it('v13 (flexible): topic id, leader epoch, offline replicas and the top-level error code', () => {
    const topicId = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    const w = new Writer()
      .int32(5) // throttle_time_ms
      .uvarint(2) // brokers: 1
      .int32(2)
      .compactString('b2')
      .int32(9094)
      .compactString('rack-a')
      .taggedFields()
      .compactString('cluster-x')
      .int32(2) // controller_id
      .uvarint(2) // topics: 1
      .int16(0)
      .compactString('events')
      .uuid(topicId)
      .bool(false)
      .uvarint(2) // partitions: 1
      .int16(0)
      .int32(3) // partition_index
      .int32(2) // leader_id
      .int32(9) // leader_epoch
      .compactArray([2, 1], (x, n) => x.int32(n))
      .compactArray([2], (x, n) => x.int32(n))
      .compactArray([1], (x, n) => x.int32(n))
      .taggedFields()
      .int32(-2147483648) // topic_authorized_operations
      .taggedFields()
      .int16(129) // error_code: REBOOTSTRAP_REQUIRED
      .taggedFields();
    const response = decodeAll(Metadata, w.finish(), 13);
    assert.equal(response.throttleTimeMs, 5);
    assert.deepEqual(response.brokers, [{ nodeId: 2, host: 'b2', port: 9094, rack: 'rack-a' }]);
    assert.equal(response.clusterId, 'cluster-x');
    assert.deepEqual(response.topics[0]!.topicId, topicId);
    assert.deepEqual(response.topics[0]!.partitions[0], {
      errorCode: 0,
      partitionIndex: 3,
      leaderId: 2,
      leaderEpoch: 9,
      replicaNodes: [2, 1],
      isrNodes: [2],
      offlineReplicas: [1],
    });
    assert.equal(response.errorCode, 129);
  });
});

describe('Metadata response: every version against the schema, and fuzzed', () => {
  for (const version of versions(Metadata)) {
    it(`v${version}: round trip through the schema codec`, () => checkResponseRoundTrip(Metadata, responseSpec, version));
    it(`v${version}: garbage and truncation raise only ProtocolError`, () =>
      checkDecoderFuzz(Metadata, responseSpec, version));
  }
});

describe('Metadata answers checked before anything is sized by them', () => {
  const partition = (partitionIndex: number, leaderId = 1): MetadataPartition => ({
    errorCode: 0, partitionIndex, leaderId, leaderEpoch: -1, replicaNodes: [], isrNodes: [], offlineReplicas: [],
  });
  const topic = (partitions: MetadataPartition[]): MetadataTopic => ({
    errorCode: 0, name: 't', topicId: null, isInternal: false, partitions, topicAuthorizedOperations: 0,
  });

  it('gives the leader per partition index, in any listed order, -1 for none', () => {
    assert.deepEqual(partitionLeaders(topic([partition(2, 3), partition(0, -1), partition(1, 5)])), [-1, 5, 3]);
    assert.deepEqual(partitionLeaders(topic([])), []);
  });

  it('takes a leader the answer\'s broker list does not name as none (reachableLeaders), as Java does', () => {
    const brokers = [3, 5].map((nodeId) => ({ nodeId, host: 'h', port: 9092, rack: null }));
    assert.deepEqual(reachableLeaders(topic([partition(2, 3), partition(0, 7), partition(1, 5), partition(3, -1)]), brokers), [-1, 5, 3, -1]);
  });

  it('refuses an index outside 0..n-1 (the flipped byte of the issue: 922746883), a repeated index, a leader below -1', () => {
    assert.throws(() => partitionLeaders(topic([partition(922_746_883)])), /partition_index 922746883 is outside 0\.\.0/);
    assert.throws(() => partitionLeaders(topic([partition(0), partition(-1)])), ProtocolError);
    assert.throws(() => partitionLeaders(topic([partition(0), partition(0)])), /listed twice/);
    assert.throws(() => partitionLeaders(topic([partition(0, -2)])), ProtocolError);
  });

  it('refuses more partitions than the limit', () => {
    const many = { length: MAX_PARTITIONS_PER_TOPIC + 1 } as unknown as MetadataPartition[];
    assert.throws(() => partitionLeaders(topic(many)), /over the limit/);
  });

  it('refuses brokers with a negative node id, an empty host or a port outside 1..65535', () => {
    const broker = { nodeId: 1, host: 'h', port: 9092, rack: null };
    checkBrokers([broker]);
    for (const bad of [{ nodeId: -1 }, { host: '' }, { port: 0 }, { port: 65_536 }, { port: -9092 }]) {
      assert.throws(() => checkBrokers([{ ...broker, ...bad }]), ProtocolError, JSON.stringify(bad));
    }
  });

  it('an answer with a top-level error (v13) or no brokers is refused whole; REBOOTSTRAP_REQUIRED is told apart', () => {
    const broker = { nodeId: 1, host: 'h', port: 9092, rack: null };
    const answer = { throttleTimeMs: 0, brokers: [broker], clusterId: null, controllerId: 1, topics: [], clusterAuthorizedOperations: -2147483648, errorCode: 0 };
    checkAnswer(answer);
    const rebootstrap = (() => {
      try {
        checkAnswer({ ...answer, brokers: [], errorCode: ErrorCode.REBOOTSTRAP_REQUIRED });
      } catch (error) {
        return error;
      }
    })();
    assert.ok(rebootstrap instanceof BrokerError && rebootstrap.errorCode === ErrorCode.REBOOTSTRAP_REQUIRED, String(rebootstrap));
    assert.equal(isRebootstrap(rebootstrap), true);
    assert.equal(isRebootstrap(new ProtocolError('x')), false);
    assert.throws(() => checkAnswer({ ...answer, brokers: [] }), (error: unknown) => error instanceof ProtocolError && /no brokers/.test(error.message));
    assert.throws(() => checkAnswer({ ...answer, brokers: [{ ...broker, port: 0 }] }), ProtocolError);
  });
});
