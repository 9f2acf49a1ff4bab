/**
 * The wire protocol on a real broker: a RecordBatch v2 encoded by us with each of the five codecs, sent with our
 * Connection and Produce encoder, is read back by Kafka's own console consumer with the same keys, values, null
 * values, headers and timestamps, and Kafka's DumpLogSegments reports every batch valid with the right codec; and a
 * record of random bytes just under the request limit, which no codec shrinks, is delivered with each of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Producer } from '../../src/main/producer.js';
import { Connection } from '../../src/net/connection.js';
import { Produce } from '../../src/protocol/apis/produce.js';
import { Metadata } from '../../src/protocol/apis/metadata.js';
import { encodeRecordBatch, type BatchRecord } from '../../src/protocol/record-batch.js';
import { CODEC_NAMES, Codec } from '../../src/protocol/compression.js';
import { TOOLS, createTopic, localSegment, runKafkaTool, uniqueTopic, useBroker } from '../helpers/broker.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const BASE_TIME = Date.now() - 60_000;

function records(codec: string): BatchRecord[] {
  return Array.from({ length: 50 }, (_, i) => ({
    key: i % 10 === 3 ? null : utf8(`key-${i}`),
    // Every seventh value is null; the rest long enough for compression to matter.
    value: i % 7 === 0 ? null : utf8(`${codec} value ${i} `.repeat(20)),
    headers: i % 2 === 0 ? [[utf8('h1'), utf8(`v${i}`)], [utf8('h2'), null]] : [],
    timestamp: BASE_TIME + i * 3,
  }));
}

test('batches with every codec are read back by the console consumer and validated by DumpLogSegments', async (t) => {
  const [address] = await useBroker();
  const [host, port] = address!.split(':');
  const topic = uniqueTopic('codecs');
  await createTopic(topic, CODEC_NAMES.length);
  const connection = await Connection.connect({ host: host!, port: Number(port), clientId: 'ringkafka-test', requestTimeoutMs: 30_000, maxInFlight: 5 });
  try {
    const metadata = await connection.request(Metadata, { topics: [topic], allowAutoTopicCreation: false });
    const topicId = metadata.topics[0]!.topicId ?? new Uint8Array(16);
    // One partition per codec, all in one Produce request (one batch per partition).
    const partitionData = await Promise.all(
      CODEC_NAMES.map(async (name, index) => ({ index, records: await encodeRecordBatch(records(name), { producerId: -1n, producerEpoch: -1, baseSequence: -1, codec: Codec[name] }) })),
    );
    // A partition created a moment ago may still answer NOT_LEADER_OR_FOLLOWER (6): resend those (not written).
    let pending = partitionData;
    for (let attempt = 0; pending.length > 0 && attempt < 50; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 200));
      const response = await connection.request(Produce, { acks: -1, timeoutMs: 30_000, topicData: [{ name: topic, topicId, partitionData: pending }] });
      const failed = new Set<number>();
      for (const p of response.responses[0]!.partitionResponses) {
        if (p.errorCode === 6) failed.add(p.index);
        else assert.equal(p.errorCode, 0, `partition ${p.index} accepted`);
      }
      pending = pending.filter((p) => failed.has(p.index));
    }
    assert.equal(pending.length, 0, 'every partition accepted its batch');
    t.diagnostic(`Produce v${connection.versionFor(Produce)}`);
  } finally {
    await connection.close();
  }

  for (const [partition, codec] of CODEC_NAMES.entries()) {
    const { stdout } = await runKafkaTool(TOOLS.consoleConsumer, [
      '--bootstrap-server', address!, '--topic', topic, '--partition', String(partition), '--offset', 'earliest',
      '--max-messages', '50', '--timeout-ms', '30000',
      '--property', 'print.key=true', '--property', 'print.headers=true', '--property', 'print.timestamp=true',
      '--property', 'key.separator=|', '--property', 'headers.separator=,', '--property', 'null.literal=<null>',
    ]);
    const lines = stdout.split('\n').filter((line) => line.startsWith('CreateTime:'));
    assert.equal(lines.length, 50, `${codec}: 50 records read back`);
    for (const [i, line] of lines.entries()) {
      const expected = records(codec)[i]!;
      const headers = expected.headers.length === 0 ? 'NO_HEADERS' : `h1:v${i},h2:<null>`;
      const key = expected.key === null ? '<null>' : `key-${i}`;
      const value = expected.value === null ? '<null>' : `${codec} value ${i} `.repeat(20);
      assert.equal(line, `CreateTime:${expected.timestamp}|${headers}|${key}|${value}`, `${codec} record ${i}`);
    }
    const segment = localSegment(topic, partition);
    if (segment === null) {
      t.diagnostic('DumpLogSegments skipped: KAFKA_BROKERS points at a cluster whose files are not local');
      continue;
    }
    const dump = await runKafkaTool(TOOLS.dumpLogSegments, ['--files', segment]);
    const batches = dump.stdout.split('\n').filter((line) => line.startsWith('baseOffset:'));
    assert.equal(batches.length, 1, `${codec}: one batch`);
    assert.match(batches[0]!, /isvalid: true/, `${codec}: batch CRC valid`);
    assert.match(batches[0]!, new RegExp(`compresscodec: ${codec}\\b`, 'i'), `${codec}: codec recorded`);
    assert.match(batches[0]!, /count: 50/, `${codec}: 50 records`);
  }
});

test('a record of random bytes just under the request limit is delivered with every codec: one no codec shrinks goes uncompressed', async (t) => {
  // gzip grows random data by about 100 bytes a mebibyte and xerial snappy by 4 bytes per 32 KiB block: sent as
  // compressed, a record the producer accepted as fitting was refused MESSAGE_TOO_LARGE by the broker.
  const brokers = await useBroker();
  const topic = uniqueTopic('codecs-random');
  await createTopic(topic, 1);
  const value = randomBytes(1_048_400);
  for (const codec of CODEC_NAMES) {
    const producer = new Producer({ brokers, workers: 1, compression: codec });
    try {
      const metadata = await producer.send({ topic, partition: 0, value });
      t.diagnostic(`${codec}: offset ${metadata.offset}`);
    } finally {
      await producer.close();
    }
  }
  const segment = localSegment(topic, 0);
  if (segment === null) return t.diagnostic('DumpLogSegments skipped: KAFKA_BROKERS points at a cluster whose files are not local');
  const dump = await runKafkaTool(TOOLS.dumpLogSegments, ['--files', segment]);
  const codecs = dump.stdout.split('\n').filter((line) => line.startsWith('baseOffset:')).map((line) => /compresscodec: (\w+)/.exec(line)![1]!.toLowerCase());
  // lz4 stores a block it cannot shrink inside its frame; the others go as they are.
  assert.deepEqual(codecs, CODEC_NAMES.map((codec) => (codec === 'lz4' ? 'lz4' : 'none')));
});
