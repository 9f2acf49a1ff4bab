/**
 * The hostile proxy's hand-written walks (wire-walk.ts), checked on frames built here field by field: a walk that
 * lands a byte early corrupts what the proxy forwards, and every fuzz run then fails its sends before any hostile
 * byte is sent (the campaign delivered nothing, and passed).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metadata } from '../../src/protocol/apis/metadata.js';
import { Reader } from '../../src/protocol/reader.js';
import { patchBrokerPorts, produceCounts } from './wire-walk.js';

const int16 = (value: number): Buffer => Buffer.from([(value >> 8) & 0xff, value & 0xff]);
const int32 = (value: number): Buffer => {
  const out = Buffer.alloc(4);
  out.writeInt32BE(value);
  return out;
};
const classicString = (text: string | null): Buffer => (text === null ? int16(-1) : Buffer.concat([int16(text.length), Buffer.from(text)]));
const compactString = (text: string | null): Buffer => (text === null ? Buffer.from([0]) : Buffer.concat([Buffer.from([text.length + 1]), Buffer.from(text)]));

/** A Metadata answer (size and correlation id first, as the proxy reads it) listing two brokers and no topic. */
function metadataAnswer(version: 1 | 13): Buffer {
  const flexible = version >= 9;
  const string = flexible ? compactString : classicString;
  const tags = flexible ? Buffer.from([0]) : Buffer.alloc(0);
  const broker = (nodeId: number, host: string, port: number, rack: string | null): Buffer =>
    Buffer.concat([int32(nodeId), string(host), int32(port), string(rack), tags]);
  const body = Buffer.concat([
    int32(7), // correlation id
    tags, // response header v1
    version >= 3 ? int32(0) : Buffer.alloc(0), // throttle_time_ms
    flexible ? Buffer.from([3]) : int32(2),
    broker(1, '127.0.0.1', 9092, null),
    broker(2, 'kafka-2.internal', 9093, 'rack-b'),
    version >= 2 ? string('cluster') : Buffer.alloc(0),
    int32(1), // controller_id
    flexible ? Buffer.from([1]) : int32(0), // no topics
    version >= 13 ? int16(0) : Buffer.alloc(0), // error_code
    tags,
  ]);
  return Buffer.concat([int32(body.length), body]);
}

describe('wire walks', () => {
  for (const version of [1, 13] as const) {
    it(`patchBrokerPorts rewrites each broker's port of a Metadata v${version} answer, and nothing else`, () => {
      const frame = metadataAnswer(version);
      patchBrokerPorts(frame, version, version >= 9, 45_678);
      const reader = new Reader(frame, 8);
      if (version >= 9) reader.taggedFields();
      const answer = Metadata.decodeResponse(reader, version);
      assert.deepEqual(
        answer.brokers.map(({ nodeId, host, port, rack }) => ({ nodeId, host, port, rack })),
        [
          { nodeId: 1, host: '127.0.0.1', port: 45_678, rack: null },
          { nodeId: 2, host: 'kafka-2.internal', port: 45_678, rack: 'rack-b' },
        ],
      );
    });
  }

  it('produceCounts reads each partition\'s record count from a Produce v3 request', () => {
    const batch = (records: number): Buffer => {
      const bytes = Buffer.alloc(70);
      bytes.writeInt32BE(records, 57);
      return Buffer.concat([int32(bytes.length), bytes]);
    };
    const frame = Buffer.concat([
      int16(0), int16(3), int32(9), classicString('a-client'), // header v1: api key, version, correlation id, client id
      classicString(null), int16(-1), int32(30_000), // transactional_id, acks, timeout_ms
      int32(1), classicString('topic'),
      int32(2), int32(0), batch(5), int32(3), batch(12),
    ]);
    assert.deepEqual([...produceCounts(frame, 3)], [[0, 5], [3, 12]]);
  });
});
