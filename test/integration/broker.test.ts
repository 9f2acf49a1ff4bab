/**
 * The foundation: the real broker the project starts answers over TCP, and Kafka's own tools run from the same
 * jars (they are the independent readers every other integration test relies on).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { Writer } from '../../src/protocol/writer.js';
import { Reader } from '../../src/protocol/reader.js';
import { TOOLS, runKafkaTool, uniqueTopic, useBroker } from '../helpers/broker.js';

/** Sends one ApiVersions v3 request by hand and returns the broker's version range per API key. */
async function apiVersionsV3(address: string): Promise<Map<number, { min: number; max: number }>> {
  const [host, port] = address.split(':');
  const socket = connect({ host: host!, port: Number(port) });
  try {
    await once(socket, 'connect');
    const frame = new Writer()
      .int32(0) // size, patched below
      .int16(18).int16(3).int32(7).string('ringkafka-test').taggedFields() // request header v2
      .compactString('ringkafka').compactString('0.1.0').taggedFields(); // ApiVersionsRequest v3
    const bytes = frame.patchInt32(0, frame.length - 4).finish();
    socket.write(bytes);
    let received = Buffer.alloc(0);
    while (received.length < 4 || received.length < 4 + received.readInt32BE(0)) {
      const [chunk] = (await once(socket, 'data')) as [Buffer];
      received = Buffer.concat([received, chunk]);
    }
    const reader = new Reader(received, 4);
    assert.equal(reader.int32(), 7, 'correlation id echoed');
    assert.equal(reader.int16(), 0, 'error code NONE');
    const ranges = new Map<number, { min: number; max: number }>();
    reader.compactArray((r) => {
      const key = r.int16();
      ranges.set(key, { min: r.int16(), max: r.int16() });
      r.taggedFields();
    });
    return ranges;
  } finally {
    socket.destroy();
  }
}

test('the broker answers ApiVersions v3 and supports flexible Produce (v9 or later)', async () => {
  const [address] = await useBroker();
  const ranges = await apiVersionsV3(address!);
  const produce = ranges.get(0);
  assert.ok(produce, 'Produce (key 0) is advertised');
  assert.ok(produce.max >= 9, `Produce max version ${produce.max} >= 9`);
  assert.ok(ranges.get(3), 'Metadata (key 3) is advertised');
});

test("Kafka's own TopicCommand creates and lists a topic from .kafka/libs", async () => {
  const brokers = await useBroker();
  const topic = uniqueTopic('foundation');
  await runKafkaTool(TOOLS.topics, ['--bootstrap-server', brokers.join(','), '--create', '--topic', topic, '--partitions', '2']);
  const { stdout } = await runKafkaTool(TOOLS.topics, ['--bootstrap-server', brokers.join(','), '--list']);
  assert.ok(stdout.split('\n').includes(topic), `${topic} listed`);
});
