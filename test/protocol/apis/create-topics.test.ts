import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CreateTopics, type CreateTopicsRequest } from '../../../src/protocol/apis/create-topics.js';
import { Writer } from '../../../src/protocol/writer.js';
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

// Transcribed from CreateTopicsRequest.json / CreateTopicsResponse.json (validVersions 0-7, flexible 5+).
const requestSpec: MessageSpec = {
  flexibleFrom: 5,
  fields: [
    {
      name: 'topics',
      versions: '0+',
      type: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'numPartitions', type: 'int32', versions: '0+' },
        { name: 'replicationFactor', type: 'int16', versions: '0+' },
        {
          name: 'assignments',
          versions: '0+',
          type: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'brokerIds', type: '[]int32', versions: '0+' },
          ],
        },
        {
          name: 'configs',
          versions: '0+',
          type: [
            { name: 'name', type: 'string', versions: '0+' },
            { name: 'value', type: 'string', versions: '0+', nullable: '0+' },
          ],
        },
      ],
    },
    { name: 'timeoutMs', type: 'int32', versions: '0+' },
    { name: 'validateOnly', type: 'bool', versions: '1+' },
  ],
};

const responseSpec: MessageSpec = {
  flexibleFrom: 5,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '2+' },
    {
      name: 'topics',
      versions: '0+',
      type: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'topicId', type: 'uuid', versions: '7+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '1+', nullable: '0+' },
        { name: 'topicConfigErrorCode', type: 'int16', versions: '5+', tag: 0, default: 0 },
        { name: 'numPartitions', type: 'int32', versions: '5+' },
        { name: 'replicationFactor', type: 'int16', versions: '5+' },
        {
          name: 'configs',
          versions: '5+',
          nullable: '5+',
          type: [
            { name: 'name', type: 'string', versions: '5+' },
            { name: 'value', type: 'string', versions: '5+', nullable: '5+' },
            { name: 'readOnly', type: 'bool', versions: '5+' },
            { name: 'configSource', type: 'int8', versions: '5+' },
            { name: 'isSensitive', type: 'bool', versions: '5+' },
          ],
        },
      ],
    },
  ],
};

describe('CreateTopics request', () => {
  it('v5 golden bytes: one topic with broker defaults and one config', () => {
    const request: CreateTopicsRequest = {
      topics: [{ name: 't', numPartitions: 3, replicationFactor: -1, configs: [{ name: 'a', value: null }] }],
      timeoutMs: 1000,
      validateOnly: false,
    };
    const expected = hex(`
      02            // topics: 1
      02 74         // name: "t"
      00000003      // num_partitions: 3
      ffff          // replication_factor: -1 (broker default)
      01            // assignments: empty
      02            // configs: 1
      02 61 00 00   //   name "a", value null, config tags
      00            // topic tags
      000003e8      // timeout_ms: 1000
      00            // validate_only: false
      00            // request tags
    `);
    assert.deepEqual(encodeWith(CreateTopics, 5, request), expected);
  });

  const request = fc.record({
    topics: fc.array(
      fc.record({
        name: fc.string({ maxLength: 6 }),
        numPartitions: fc.integer({ min: -1, max: 1000 }),
        replicationFactor: fc.integer({ min: -1, max: 5 }),
        assignments: fc.array(
          fc.record({ partitionIndex: fc.nat(100), brokerIds: fc.array(fc.nat(10), { maxLength: 3 }) }),
          { maxLength: 2 },
        ),
        configs: fc.array(
          fc.record({ name: fc.string({ maxLength: 6 }), value: fc.option(fc.string({ maxLength: 6 }), { nil: null }) }),
          { maxLength: 2 },
        ),
      }),
      { maxLength: 3 },
    ),
    timeoutMs: fc.nat(),
    validateOnly: fc.boolean(),
  });
  for (const version of versions(CreateTopics)) {
    it(`v${version}: matches the schema encoding of the same request`, () => {
      fc.assert(
        fc.property(request, (req) => {
          const bytes = encodeWith(CreateTopics, version, req);
          assert.deepEqual(bytes, schemaEncode(requestSpec, req, version));
          assert.deepEqual(schemaDecode(requestSpec, bytes, version), structuredClone(req));
        }),
        { numRuns: 50 },
      );
    });
  }
});

describe('CreateTopics response', () => {
  it('v4 (classic): name, error code, message', () => {
    const body = new Writer()
      .int32(0)
      .int32(1)
      .string('t')
      .int16(36)
      .string('Topic already exists.')
      .finish();
    assert.deepEqual(decodeAll(CreateTopics, body, 4).topics, [
      {
        name: 't',
        topicId: null,
        errorCode: 36,
        errorMessage: 'Topic already exists.',
        topicConfigErrorCode: 0,
        numPartitions: -1,
        replicationFactor: -1,
        configs: null,
      },
    ]);
  });

  it('v7 (flexible): topic id, partitions, configs and the tagged config error code', () => {
    const topicId = new Uint8Array(16).fill(0x11);
    const body = new Writer()
      .int32(0)
      .uvarint(2)
      .compactString('t')
      .uuid(topicId)
      .int16(0)
      .compactString(null)
      .int32(3)
      .int16(1)
      .uvarint(2) // configs: 1
      .compactString('cleanup.policy')
      .compactString('delete')
      .bool(false)
      .int8(5) // config_source: DEFAULT_CONFIG
      .bool(false)
      .taggedFields()
      .taggedFields([[0, new Writer().int16(29).finish()]]) // topic_config_error_code: TOPIC_AUTHORIZATION_FAILED
      .taggedFields()
      .finish();
    assert.deepEqual(decodeAll(CreateTopics, body, 7).topics, [
      {
        name: 't',
        topicId,
        errorCode: 0,
        errorMessage: null,
        topicConfigErrorCode: 29,
        numPartitions: 3,
        replicationFactor: 1,
        configs: [{ name: 'cleanup.policy', value: 'delete', readOnly: false, configSource: 5, isSensitive: false }],
      },
    ]);
  });

  for (const version of versions(CreateTopics)) {
    it(`v${version}: round trip through the schema codec`, () => checkResponseRoundTrip(CreateTopics, responseSpec, version));
    it(`v${version}: garbage and truncation raise only ProtocolError`, () =>
      checkDecoderFuzz(CreateTopics, responseSpec, version));
  }
});
