/**
 * Our LZ4 frames on a real broker (src/protocol/lz4-frame.ts): one batch for each block maximum the frame may
 * declare (64 KiB, 256 KiB, 1 MiB, 4 MiB) and one whose block is stored as it is. The broker decompresses every
 * batch to validate it, Kafka's console consumer reads every value back, and DumpLogSegments reports each batch
 * valid and lz4.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Connection } from '../../src/net/connection.js';
import { Produce } from '../../src/protocol/apis/produce.js';
import { Metadata } from '../../src/protocol/apis/metadata.js';
import { RECORD_BATCH_OVERHEAD, encodeRecordBatch, type BatchRecord } from '../../src/protocol/record-batch.js';
import { Codec } from '../../src/protocol/compression.js';
import { TOOLS, createTopic, localSegment, runKafkaTool, uniqueTopic, useBroker } from '../helpers/broker.js';
import { dumpBatches } from '../helpers/readback.js';

const VALUE_BYTES = 1000;

/** Printable values: repetitive text compresses; seeded random printable characters do not. */
function value(kind: 'text' | 'random', i: number): string {
  if (kind === 'text') return `lz4 value ${i} `.repeat(VALUE_BYTES).slice(0, VALUE_BYTES);
  let x = (i + 1) * 2654435761;
  let out = '';
  for (let j = 0; j < VALUE_BYTES; j++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out += String.fromCharCode(33 + (x >>> 8) % 94);
  }
  return out;
}

interface Case {
  readonly name: string;
  readonly kind: 'text' | 'random';
  readonly count: number;
  /** The frame descriptor's BD byte expected, and whether its one block is stored as it is. */
  readonly bd: number;
  readonly stored: boolean;
}

const CASES: readonly Case[] = [
  { name: '64 KiB blocks', kind: 'text', count: 40, bd: 0x40, stored: false },
  { name: '256 KiB blocks', kind: 'text', count: 150, bd: 0x50, stored: false },
  { name: '1 MiB blocks', kind: 'text', count: 800, bd: 0x60, stored: false },
  { name: '4 MiB blocks', kind: 'text', count: 1600, bd: 0x70, stored: false },
  { name: 'a stored block', kind: 'random', count: 100, bd: 0x50, stored: true },
];

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

function records(c: Case): BatchRecord[] {
  const base = Date.now() - 60_000;
  return Array.from({ length: c.count }, (_, i) => ({ key: null, value: utf8(value(c.kind, i)), headers: [], timestamp: base + i }));
}

test('LZ4 frames of every block maximum, and a stored block, are accepted by the broker and read back by Kafka', async (t) => {
  const [address] = await useBroker();
  const [host, port] = address!.split(':');
  const topic = uniqueTopic('lz4-frames');
  await createTopic(topic, CASES.length);
  const batches = await Promise.all(
    CASES.map((c) => encodeRecordBatch(records(c), { producerId: -1n, producerEpoch: -1, baseSequence: -1, codec: Codec.lz4 })),
  );
  for (const [index, c] of CASES.entries()) {
    // The frame starts right after the batch header: magic (4), FLG, BD, HC, then the first block's size word.
    const frame = batches[index]!.subarray(RECORD_BATCH_OVERHEAD);
    assert.equal(frame[5], c.bd, `${c.name}: BD`);
    assert.equal(frame.readUInt32LE(7) >= 0x80000000, c.stored, `${c.name}: stored block`);
  }
  const connection = await Connection.connect({ host: host!, port: Number(port), clientId: 'ringkafka-test', requestTimeoutMs: 30_000, maxInFlight: 5 });
  try {
    const metadata = await connection.request(Metadata, { topics: [topic], allowAutoTopicCreation: false });
    const topicId = metadata.topics[0]!.topicId ?? new Uint8Array(16);
    // One batch per partition, each in its own request: together they would pass the broker's request limit.
    for (const [index, records] of batches.entries()) {
      let errorCode = 6;
      // A partition created a moment ago may still answer NOT_LEADER_OR_FOLLOWER (6): resend (not written).
      for (let attempt = 0; errorCode === 6 && attempt < 50; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 200));
        const response = await connection.request(Produce, { acks: -1, timeoutMs: 30_000, topicData: [{ name: topic, topicId, partitionData: [{ index, records }] }] });
        errorCode = response.responses[0]!.partitionResponses[0]!.errorCode;
      }
      assert.equal(errorCode, 0, `${CASES[index]!.name}: the broker accepted the batch`);
    }
  } finally {
    await connection.close();
  }

  for (const [partition, c] of CASES.entries()) {
    const { stdout } = await runKafkaTool(TOOLS.consoleConsumer, [
      '--bootstrap-server', address!, '--topic', topic, '--partition', String(partition), '--offset', 'earliest',
      '--max-messages', String(c.count), '--timeout-ms', '30000',
    ]);
    const lines = stdout.split('\n').filter((line) => line.length === VALUE_BYTES);
    assert.equal(lines.length, c.count, `${c.name}: every record read back`);
    for (const [i, line] of lines.entries()) assert.equal(line, value(c.kind, i), `${c.name}: record ${i}`);
    const segment = localSegment(topic, partition);
    if (segment === null) {
      t.diagnostic('DumpLogSegments skipped: KAFKA_BROKERS points at a cluster whose files are not local');
      continue;
    }
    const [dumped] = [...(await dumpBatches([segment])).values()];
    assert.equal(dumped?.length, 1, `${c.name}: one batch`);
    assert.deepEqual([dumped[0]!.valid, dumped[0]!.codec, dumped[0]!.count], [true, 'lz4', c.count], `${c.name}: a valid lz4 batch of every record`);
  }
});
