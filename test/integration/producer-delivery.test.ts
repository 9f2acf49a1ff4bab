/**
 * End to end against the real broker, read back by Kafka's own tools (docs/architecture.md: never only by code of ours):
 * 200 000 records over 16 partitions with the defaults (acks=all, idempotent), keyed and keyless mixed, then one
 * smaller run per codec. What is checked:
 *  - every send resolves, and the metadata it resolves with is where the record really is;
 *  - the broker holds exactly what was sent (GetOffsetShell), no record lost or duplicated;
 *  - order per partition is send order, and per key the sequence numbers in the values run 0, 1, 2, … without a
 *    gap (console consumer);
 *  - keyed records sit on the partition Java's partitioner picks (partitionForKey is cross-checked against Java
 *    in test/main/murmur2.test.ts);
 *  - idempotence as the broker stored it (DumpLogSegments): one producer id, and in every partition sequences
 *    starting at 0 with each batch's baseSequence = the previous batch's lastSequence + 1;
 *  - a sendBatch with `results: 'failures'` reports exactly its bad records, by index, and delivers the rest;
 *  - full batches, which a worker writes over their own entries in its arena and sends from there
 *    (src/workers/entry-encoder.ts), uncompressed and lz4 (a block stored, a block compressed), read back whole.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { Producer } from '../../src/main/producer.js';
import { partitionForKey } from '../../src/main/partitioner.js';
import type { RecordMetadata } from '../../src/main/types.js';
import type { Compression } from '../../src/main/options.js';
import { createTopic, uniqueTopic, useBroker } from '../helpers/broker.js';
import { consume, dumpBatches, endOffsets, localSegments, type ConsumedRecord, type DumpedBatch } from '../helpers/readback.js';
import { fulfilled } from '../helpers/results.js';

const PARTITIONS = 16;
const RECORDS = 200_000;
const KEYS = 1000;

interface Planned {
  readonly key: string | null;
  readonly value: string;
}

/**
 * Record i: every third one keyless, the others keyed with one of KEYS keys. The value carries the send index and,
 * for a keyed record, its sequence number among the records of its key ("i/seq"), so order can be checked per
 * partition and per key from what the consumer prints.
 */
function plan(count: number, prefix = ''): Planned[] {
  const perKey = new Map<string, number>();
  const planned: Planned[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 3 === 0) {
      planned.push({ key: null, value: `${prefix}${i}/-` });
      continue;
    }
    const key = `key-${(i * 7919) % KEYS}`;
    const seq = perKey.get(key) ?? 0;
    perKey.set(key, seq + 1);
    planned.push({ key, value: `${prefix}${i}/${seq}` });
  }
  return planned;
}

/** The send index and per-key sequence carried by a value written by plan(). */
function parseValue(value: string, prefix = ''): { index: number; seq: number | null } {
  if (!value.startsWith(prefix)) assert.fail(`value ${value} does not start with ${prefix}`);
  const [index, seq] = value.slice(prefix.length).split('/');
  return { index: Number(index), seq: seq === '-' ? null : Number(seq) };
}

/**
 * assert for the per-record loops: the message is built only on failure (200 000 template strings per check would
 * cost seconds), and the values are shown as assert.equal would show them.
 */
function same<T>(actual: T, expected: T, what: () => string): void {
  if (actual !== expected) assert.fail(`${what()}: expected ${String(expected)}, got ${String(actual)}`);
}

function holds(condition: boolean, what: () => string): void {
  if (!condition) assert.fail(what());
}

/**
 * What the producer reported is consistent on its own: keyed records on Java's partition, and per partition the
 * offsets are exactly 0..n-1, increasing in send order.
 */
function checkReported(planned: readonly Planned[], reported: readonly RecordMetadata[], topic: string, partitions: number): number[] {
  const perPartition = new Array<number>(partitions).fill(0);
  const lastOffset = new Array<number>(partitions).fill(-1);
  reported.forEach((metadata, i) => {
    same(metadata.topic, topic, () => `record ${i}: topic`);
    holds(Number.isInteger(metadata.partition) && metadata.partition >= 0 && metadata.partition < partitions, () => `record ${i}: partition ${metadata.partition}`);
    const key = planned[i]!.key;
    if (key !== null) {
      same(metadata.partition, partitionForKey(Buffer.from(key), partitions), () => `record ${i} (key ${key}) on Java's partition`);
    }
    holds(metadata.offset > lastOffset[metadata.partition]!, () => `record ${i}: offset ${metadata.offset} after ${lastOffset[metadata.partition]} (send order)`);
    lastOffset[metadata.partition] = metadata.offset;
    perPartition[metadata.partition]!++;
  });
  // Increasing offsets and a count equal to last offset + 1 mean exactly 0..n-1: no offset reported twice, none skipped.
  perPartition.forEach((n, p) => assert.equal(lastOffset[p], n - 1, `partition ${p}: ${n} records end at offset ${n - 1}`));
  return perPartition;
}

/** What Kafka's console consumer read back: every record once, where the producer said, in order per partition. */
function checkConsumed(
  planned: readonly Planned[],
  reported: readonly RecordMetadata[],
  consumed: readonly ConsumedRecord[],
  partitions: number,
  prefix = '',
  headersOf?: (index: number) => string,
): void {
  assert.equal(consumed.length, planned.length, 'the console consumer read every record');
  const seen = new Uint8Array(planned.length);
  const lastIndex = new Array<number>(partitions).fill(-1);
  const nextSeq = new Map<string, number>();
  for (const record of consumed) {
    const { index, seq } = parseValue(record.value, prefix);
    const sent = planned[index];
    if (sent === undefined) assert.fail(`value ${record.value} was never sent`);
    same(seen[index], 0, () => `record ${index} read once`);
    seen[index] = 1;
    same(record.value, sent.value, () => `record ${index}: value`);
    same(record.key, sent.key ?? 'null', () => `record ${index}: key`);
    if (headersOf !== undefined) same(record.headers, headersOf(index), () => `record ${index}: headers`);
    same(record.partition, reported[index]!.partition, () => `record ${index}: partition as reported by send`);
    same(record.offset, reported[index]!.offset, () => `record ${index}: offset as reported by send`);
    // Order per partition: the consumer reads a partition in offset order, which must be send order.
    holds(index > lastIndex[record.partition]!, () => `partition ${record.partition}: record ${index} read after record ${lastIndex[record.partition]}`);
    lastIndex[record.partition] = index;
    if (sent.key !== null) {
      // The partition Kafka's consumer saw the key on is the one Java's partitioner computes.
      same(record.partition, partitionForKey(Buffer.from(sent.key), partitions), () => `key ${sent.key}: Java's partition`);
      const expected = nextSeq.get(sent.key) ?? 0;
      same(seq, expected, () => `key ${sent.key}: next sequence number`);
      nextSeq.set(sent.key, expected + 1);
    }
  }
}

/**
 * Idempotence as the broker stored it: in every partition, batches of one producer id and epoch (the same in all
 * partitions), sequences from 0, each batch continuing exactly where the previous one ended.
 */
function checkSequences(batchesByFile: Map<string, DumpedBatch[]>, files: readonly string[], counts: readonly number[], codec: string): void {
  const producerIds = new Set<bigint>();
  files.forEach((file, partition) => {
    const batches = batchesByFile.get(file);
    assert.ok(batches !== undefined, `DumpLogSegments dumped ${file}`);
    let nextSequence = 0;
    let nextOffset = 0;
    for (const batch of batches) {
      assert.ok(batch.valid, `partition ${partition}: batch at ${batch.baseOffset} has a valid CRC`);
      assert.equal(batch.codec, codec, `partition ${partition}: batch at ${batch.baseOffset} codec`);
      assert.ok(batch.producerId >= 0n, `partition ${partition}: batch at ${batch.baseOffset} carries a producer id`);
      producerIds.add(batch.producerId);
      assert.equal(batch.producerEpoch, batches[0]!.producerEpoch, `partition ${partition}: one epoch`);
      assert.equal(batch.baseOffset, nextOffset, `partition ${partition}: batches are contiguous in offsets`);
      assert.equal(batch.baseSequence, nextSequence, `partition ${partition}: batch at offset ${batch.baseOffset} starts at sequence ${nextSequence}`);
      assert.equal(batch.lastSequence - batch.baseSequence + 1, batch.count, `partition ${partition}: one sequence per record`);
      nextSequence = batch.lastSequence + 1;
      nextOffset = batch.lastOffset + 1;
    }
    assert.equal(nextSequence, counts[partition], `partition ${partition}: sequences cover its ${counts[partition]} records`);
  });
  assert.equal(producerIds.size, 1, `one producer id in every partition, got ${[...producerIds].join(', ')}`);
}

describe('producer delivery against the real broker', { timeout: 300_000 }, () => {
  test(`${RECORDS} keyed and keyless records over ${PARTITIONS} partitions: all delivered once, in order, on Java's partitions, idempotent`, async (t) => {
    const brokers = await useBroker();
    const topic = uniqueTopic('delivery');
    await createTopic(topic, PARTITIONS);
    const planned = plan(RECORDS);

    // Several workers even on a small machine: partitions spread over threads that must share one producer id.
    const producer = new Producer({ brokers, clientId: 'delivery-test', workers: 3 });
    let reported: RecordMetadata[];
    try {
      const results = await Promise.allSettled(planned.map(({ key, value }) => producer.send({ topic, key, value })));
      reported = fulfilled(results);
      const metrics = producer.metrics();
      assert.equal(metrics.recordsSent, RECORDS);
      assert.equal(metrics.recordsFailed, 0);
      assert.equal(metrics.bufferedBytes, 0, 'every byte back in the budget');
      assert.equal(metrics.bufferedRecords, 0);
    } finally {
      await producer.close();
    }
    const counts = checkReported(planned, reported, topic, PARTITIONS);
    assert.ok(counts.every((n) => n > 0), `every partition received records: ${counts.join(' ')}`);

    const offsets = await endOffsets(brokers, topic);
    assert.equal(offsets.size, PARTITIONS, 'GetOffsetShell lists every partition');
    let total = 0;
    for (const [partition, end] of offsets) {
      assert.equal(end, counts[partition], `partition ${partition}: end offset equals the records sent there`);
      total += end;
    }
    assert.equal(total, RECORDS, 'the broker holds exactly the records sent');

    checkConsumed(planned, reported, await consume(brokers, topic, RECORDS), PARTITIONS);

    const segments = localSegments(topic, PARTITIONS);
    if ('skip' in segments) {
      t.diagnostic(`DumpLogSegments check skipped: ${segments.skip}`);
      return;
    }
    checkSequences(await dumpBatches(segments.files), segments.files, counts, 'none');
  });

  test('send order is partition order while the producer connects and loads metadata, with or without a signal', async () => {
    const brokers = await useBroker();
    const topic = uniqueTopic('call-order');
    await createTopic(topic, 1);
    // Not connected, topic not known: every send below waits for both. Some carry an AbortSignal (never fired),
    // which must not change when they are accepted: order per partition is call order (as for Java's send from
    // one thread).
    const producer = new Producer({ brokers, workers: 1, clientId: 'call-order' });
    try {
      const keep = new AbortController();
      const sends = Array.from({ length: 20 }, (_, i) =>
        producer.send({ topic, partition: 0, value: `#${i}` }, i % 3 === 0 ? { signal: keep.signal } : {}));
      const results = await Promise.all(sends);
      const offsets = results.map((r) => r.offset);
      assert.deepEqual(offsets, offsets.map((_, i) => offsets[0]! + i), `offsets in call order: ${offsets.join(' ')}`);
    } finally {
      await producer.close();
    }
  });

  test("sendBatch with results: 'failures': every good record is read back by the console consumer, only the bad ones are reported, by index", async () => {
    const brokers = await useBroker();
    const topic = uniqueTopic('failures-only');
    await createTopic(topic, 4);
    const producer = new Producer({ brokers, workers: 1, clientId: 'failures-only' });
    try {
      const count = 5000;
      // Bad records before and after the first slice of 2,048 (those after it are placed in later turns).
      const bad = new Set([10, 4500]);
      const records = Array.from({ length: count }, (_, i) => ({ topic, value: bad.has(i) ? (7 as unknown as string) : `v${i}` }));
      const outcome = await producer.sendBatch(records, { results: 'failures' });
      assert.equal(outcome.records, count);
      assert.deepEqual(outcome.failures.map((f) => [f.index, f.reason.name]), [[10, 'InvalidRecordError'], [4500, 'InvalidRecordError']]);
      await assert.rejects(producer.sendBatch(records, { results: 'some' as 'all' }), { name: 'ConfigError', message: /options\.results must be 'all' or 'failures', got "some"/ });

      const consumed = await consume(brokers, topic, count - bad.size);
      assert.equal(consumed.length, count - bad.size, 'the console consumer read every good record, and only those');
      const expected = records.flatMap((r, i) => (bad.has(i) ? [] : [r.value])).sort();
      assert.deepEqual(consumed.map((r) => r.value).sort(), expected);
    } finally {
      await producer.close();
    }
  });

  test('string values, short and long, ASCII and not, are written as their UTF-8: read back by the console consumer', async () => {
    const brokers = await useBroker();
    const topic = uniqueTopic('string-values');
    await createTopic(topic, 4);
    // Longer than 64 characters a value stays a string until its ring entry is written (writeRecordEntry encodes it
    // there); shorter, it is encoded at once. Both, in one batch, through sendBatch and send, lz4 and not.
    const shapes = [
      (i: number) => `ascii-${i}-${'x'.repeat(120)}`,
      (i: number) => `multi-${i}-${'é€😀'.repeat(30)}`,
      (i: number) => `short-${i}-ü`,
      (i: number) => `lone-${i}-\ud800-${'y'.repeat(70)}`,
      (i: number) => `json-${JSON.stringify({ i, text: 'z'.repeat(80) })}`,
    ];
    const values = Array.from({ length: 3000 }, (_, i) => shapes[i % shapes.length]!(i));
    for (const compression of ['none', 'lz4'] as const) {
      const producer = new Producer({ brokers, workers: 1, clientId: `string-values-${compression}`, compression });
      try {
        const half = values.length / 2;
        fulfilled(await producer.sendBatch(values.slice(0, half).map((value) => ({ topic, value: `${compression}:${value}` }))));
        await Promise.all(values.slice(half).map((value) => producer.send({ topic, value: `${compression}:${value}` })));
      } finally {
        await producer.close();
      }
    }
    const consumed = await consume(brokers, topic, 2 * values.length);
    // A lone surrogate has no UTF-8 form: like Buffer.from, the producer writes U+FFFD for it.
    const expected = ['none', 'lz4'].flatMap((codec) => values.map((value) => Buffer.from(`${codec}:${value}`, 'utf8').toString('utf8')));
    assert.deepEqual(consumed.map((r) => r.value).sort(), expected.sort());
  });

  test('every codec: records read back by the console consumer, batches stored compressed and valid', async (t) => {
    const brokers = await useBroker();
    const codecs: Compression[] = ['gzip', 'snappy', 'lz4', 'zstd'];
    const partitions = 4;
    const count = 3000;
    const base = uniqueTopic('codec');
    const topics = new Map(codecs.map((codec) => [codec, `${base}-${codec}`]));
    await Promise.all([...topics.values()].map((topic) => createTopic(topic, partitions)));
    // A header on every other record, and values long and repetitive enough to compress.
    const headersOf = (index: number): string => (index % 2 === 0 ? `trace:t-${index},kind:even` : 'NO_HEADERS');
    const padding = 'x'.repeat(100);

    const outcomes = new Map<Compression, { planned: Planned[]; reported: RecordMetadata[]; counts: number[] }>();
    await Promise.all(codecs.map(async (codec) => {
      const topic = topics.get(codec)!;
      const planned = plan(count, `${codec}:`).map((p) => ({ ...p, value: `${p.value}/${padding}` }));
      const producer = new Producer({ brokers, compression: codec, clientId: `codec-test-${codec}`, workers: 1 });
      try {
        const results = await Promise.allSettled(planned.map(({ key, value }, i) =>
          producer.send({ topic, key, value, headers: i % 2 === 0 ? [['trace', `t-${i}`], ['kind', 'even']] : undefined })));
        const reported = fulfilled(results);
        outcomes.set(codec, { planned, reported, counts: checkReported(planned, reported, topic, partitions) });
      } finally {
        await producer.close();
      }
    }));

    // One console consumer for the four topics (one JVM start instead of four); values carry the codec name.
    const consumed = await consume(brokers, `${base}-(gzip|snappy|lz4|zstd)`, codecs.length * count);
    assert.equal(consumed.length, codecs.length * count, 'the console consumer read every record of every codec');
    for (const codec of codecs) {
      const { planned, reported } = outcomes.get(codec)!;
      const mine = consumed
        .filter((r) => r.value.startsWith(`${codec}:`))
        .map((r) => ({ ...r, value: r.value.slice(0, r.value.lastIndexOf('/')) }));
      const trimmed = planned.map((p) => ({ ...p, value: p.value.slice(0, p.value.lastIndexOf('/')) }));
      for (const r of consumed) holds(!r.value.startsWith(`${codec}:`) || r.value.endsWith(`/${padding}`), () => `value intact: ${r.value}`);
      checkConsumed(trimmed, reported, mine, partitions, `${codec}:`, headersOf);
    }

    const segments = new Map(codecs.map((codec) => [codec, localSegments(topics.get(codec)!, partitions)]));
    const files = new Map<Compression, string[]>();
    for (const [codec, found] of segments) {
      if ('skip' in found) {
        t.diagnostic(`DumpLogSegments check skipped: ${found.skip}`);
        return;
      }
      files.set(codec, found.files);
    }
    const dumped = await dumpBatches([...files.values()].flat());
    for (const codec of codecs) checkSequences(dumped, files.get(codec)!, outcomes.get(codec)!.counts, codec);
  });
  test('full batches written in place in the arena, uncompressed and lz4 stored or compressed: every record read back, every batch valid', async (t) => {
    const brokers = await useBroker();
    const partitions = 2;
    const count = 1200;
    const batchMaxBytes = 256 * 1024;
    // Random base64 values (printable for the console consumer): lz4 cannot shrink them, so the block is stored and
    // the batch is sent from the arena; repeated ones compress, and the arena stays with its partition.
    const cases = [
      { name: 'none', compression: 'none', codec: 'none', value: (i: number) => `${i}:${randomBytes(768).toString('base64url')}` },
      { name: 'lz4-stored', compression: 'lz4', codec: 'lz4', value: (i: number) => `${i}:${randomBytes(768).toString('base64url')}` },
      { name: 'lz4-compressed', compression: 'lz4', codec: 'lz4', value: (i: number) => `${i}:${'z'.repeat(1024)}` },
    ] as const;
    const base = uniqueTopic('in-place');
    await Promise.all(cases.map(({ name }) => createTopic(`${base}-${name}`, partitions)));
    const sent = new Map<string, string[][]>();
    for (const { name, compression, value } of cases) {
      const topic = `${base}-${name}`;
      // The case's name first: the console consumer prints no topic.
      const records = Array.from({ length: count }, (_, i) => ({ topic, partition: i % partitions, value: `${name}/${value(i)}` }));
      // A long linger: every batch but each partition's last is sealed because it is full, never by the clock.
      const producer = new Producer({ brokers, compression, batchMaxBytes, lingerMs: 1000, workers: 1, clientId: `in-place-${name}` });
      try {
        const results = await producer.sendBatch(records);
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, count, `${name}: every record delivered`);
      } finally {
        await producer.close();
      }
      sent.set(name, Array.from({ length: partitions }, (_, p) => records.filter((r) => r.partition === p).map((r) => r.value)));
    }

    const consumed = await consume(brokers, `${base}-.*`, cases.length * count);
    assert.equal(consumed.length, cases.length * count, 'the console consumer read every record');
    for (const { name } of cases) {
      const mine = consumed.filter((r) => r.value.startsWith(`${name}/`));
      for (let p = 0; p < partitions; p++) {
        const read = mine.filter((r) => r.partition === p).map((r) => r.value);
        assert.deepEqual(read, sent.get(name)![p], `${name}: partition ${p} holds what was sent, in order, byte for byte`);
      }
    }

    for (const { name, codec } of cases) {
      const found = localSegments(`${base}-${name}`, partitions);
      if ('skip' in found) {
        t.diagnostic(`DumpLogSegments check skipped: ${found.skip}`);
        return;
      }
      const dumped = await dumpBatches(found.files);
      for (const file of found.files) {
        const batches = dumped.get(file)!;
        assert.ok(batches.length >= 2, `${name}: ${file} holds several batches`);
        for (const batch of batches) {
          assert.ok(batch.valid, `${name}: batch at ${batch.baseOffset} has a valid CRC`);
          assert.equal(batch.codec, codec, `${name}: batch at ${batch.baseOffset} codec`);
        }
        // ~1 KiB records in batches of 256 KiB: every batch but the last was sealed full, so written in place.
        for (const batch of batches.slice(0, -1)) assert.ok(batch.count > 200, `${name}: batch at ${batch.baseOffset} is a full one (${batch.count} records)`);
      }
    }
  });
});
