import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DeleteTopics } from '../../../src/protocol/apis/delete-topics.js';
import { Writer } from '../../../src/protocol/writer.js';
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

// Transcribed from DeleteTopicsRequest.json / DeleteTopicsResponse.json (validVersions 0-6, flexible 4+).
const requestSpec: MessageSpec = {
  flexibleFrom: 4,
  fields: [
    {
      name: 'topics',
      versions: '6+',
      type: [
        { name: 'name', type: 'string', versions: '6+', nullable: '6+' },
        { name: 'topicId', type: 'uuid', versions: '6+' },
      ],
    },
    { name: 'topicNames', type: '[]string', versions: '0-5' },
    { name: 'timeoutMs', type: 'int32', versions: '0+' },
  ],
};
const responseSpec: MessageSpec = {
  flexibleFrom: 4,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+' },
    {
      name: 'responses',
      versions: '0+',
      type: [
        { name: 'name', type: 'string', versions: '0+', nullable: '6+' },
        { name: 'topicId', type: 'uuid', versions: '6+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '5+', nullable: '5+' },
      ],
    },
  ],
};

const ID = new Uint8Array(16).fill(0x42);

describe('DeleteTopics request', () => {
  it('v3 golden bytes: classic array of names', () => {
    assert.deepEqual(
      encodeWith(DeleteTopics, 3, { topics: [{ name: 'ab' }], timeoutMs: 500 }),
      hex('00000001 0002 6162 000001f4'), // 1 name, "ab", timeout_ms 500
    );
  });
  it('v6 golden bytes: {name, topic_id} entries, zero UUID when deleting by name', () => {
    assert.deepEqual(
      encodeWith(DeleteTopics, 6, { topics: [{ name: 'ab' }, { name: null, topicId: ID }], timeoutMs: 500 }),
      hex(`
        03                                        // topics: 2
        03 6162 00000000000000000000000000000000 00   // "ab", zero UUID, tags
        00 42424242424242424242424242424242 00        // null name, topic id, tags
        000001f4 00                               // timeout_ms 500, request tags
      `),
    );
  });
  it('refuses a null name before v6', () => {
    assert.throws(() => encodeWith(DeleteTopics, 5, { topics: [{ name: null, topicId: ID }], timeoutMs: 1 }), TypeError);
  });

  const topic = fc.record({ name: fc.string({ maxLength: 6 }), topicId: fc.uint8Array({ minLength: 16, maxLength: 16 }) });
  for (const version of versions(DeleteTopics)) {
    it(`v${version}: every field decodes back through the schema decoder`, () => {
      fc.assert(
        fc.property(fc.array(topic, { maxLength: 3 }), fc.nat(), (topics, timeoutMs) => {
          const decoded = schemaDecode(requestSpec, encodeWith(DeleteTopics, version, { topics, timeoutMs }), version);
          assert.deepEqual(
            decoded,
            version >= 6 ? { topics: structuredClone(topics), timeoutMs } : { topicNames: topics.map((t) => t.name), timeoutMs },
          );
        }),
        { numRuns: 50 },
      );
    });
  }
});

describe('DeleteTopics response', () => {
  it('v1 (classic) and v6 (flexible) hand-built bodies', () => {
    const classic = new Writer().int32(0).int32(1).string('ab').int16(3).finish();
    assert.deepEqual(decodeAll(DeleteTopics, classic, 1), {
      throttleTimeMs: 0,
      responses: [{ name: 'ab', topicId: null, errorCode: 3, errorMessage: null }],
    });
    const flexible = new Writer()
      .int32(0)
      .uvarint(2)
      .compactString(null)
      .uuid(ID)
      .int16(100)
      .compactString('no such id')
      .taggedFields()
      .taggedFields()
      .finish();
    assert.deepEqual(decodeAll(DeleteTopics, flexible, 6).responses, [
      { name: null, topicId: ID, errorCode: 100, errorMessage: 'no such id' },
    ]);
  });

  for (const version of versions(DeleteTopics)) {
    it(`v${version}: round trip through the schema codec`, () => checkResponseRoundTrip(DeleteTopics, responseSpec, version));
    it(`v${version}: garbage and truncation raise only ProtocolError`, () =>
      checkDecoderFuzz(DeleteTopics, responseSpec, version));
  }
});
