import assert from 'node:assert/strict';
import { randomFillSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { Codec } from '../../src/protocol/compression.js';
import { decodeRecordBatches } from '../../src/protocol/record-batch-decoder.js';
import { RecordState, cancel } from '../../src/shared/record-states.js';
import { recordEntrySize, writeRecordEntry } from '../../src/shared/record-entry.js';
import type { WorkerInit } from '../../src/shared/worker-protocol.js';
import { Accumulator } from '../../src/workers/accumulator.js';
import type { PartitionState } from '../../src/workers/partition-state.js';

const LINGER_MS = 100;
const TOPIC = 0;

/**
 * An accumulator of one topic, lingering LINGER_MS, with what it needs of a worker's init and nothing more. `add`
 * writes each record's entry at the same place of a scratch ring, as a ring reused after every read would, with
 * `v` and the record id as its value (padded with dots to `valueBytes`, or with random bytes after the first four);
 * the record states and the ids reported dropped are returned too.
 */
function accumulator({ codec = Codec.none as number, valueBytes = 0, random = false, take = (size: number): Buffer => Buffer.allocUnsafe(size) } = {}): {
  batches: Accumulator; add: (partition: number, now: number) => void; states: Uint8Array; dropped: number[]; failed: string[];
} {
  const init = {
    settings: { lingerMs: LINGER_MS, batchMaxBytes: 1 << 20, deliveryTimeoutMs: 120_000, idempotent: false, codec, transactionalId: null },
    producerId: -1n,
    producerEpoch: -1,
  } as unknown as WorkerInit;
  const states = new Uint8Array(256).fill(RecordState.buffered);
  const dropped: number[] = [];
  const failed: string[] = [];
  const events = { dropped: (_: unknown, ids: number[]) => dropped.push(...ids), encoded: () => {}, failed: (_: unknown, __: unknown, message: string) => failed.push(message) };
  const batches = new Accumulator(init, states, events, { take, give: () => {} });
  batches.addTopic(TOPIC, 't');
  const ring = new ArrayBuffer(8192);
  const bytes = Buffer.from(ring);
  const words = new Int32Array(ring);
  let recordId = 0;
  const add = (partition: number, now: number): void => {
    const value = Buffer.from(`v${recordId}`.padEnd(valueBytes, '.'));
    if (random) randomFillSync(value, 4); // incompressible after its first 4 bytes
    const record = { timestamp: now, key: null, value, headers: [] };
    writeRecordEntry(bytes, words, 0, recordId++, TOPIC, partition, record);
    batches.add(bytes, 0, recordEntrySize(record.key, record.value, record.headers), now);
    batches.copyPending();
  };
  return { batches, add, states, dropped, failed };
}

/** Partitions with a sealed batch, in order. */
function sealed(batches: Accumulator): number[] {
  return batches.partitions.filter((p) => p.sealed.length > 0).map((p) => p.partition).sort((a, b) => a - b);
}

describe('Accumulator.seal', () => {
  it('a batch whose encoding throws at once fails as one that fails later does: the worker reading its ring goes on', async () => {
    // gzip takes its scratch section synchronously; a take that throws (memory that cannot be had) escaped seal().
    let refuse = false;
    const take = (size: number): Buffer => {
      if (refuse) throw new RangeError('no memory');
      return Buffer.allocUnsafe(size);
    };
    const { batches, add, failed } = accumulator({ codec: Codec.gzip, take });
    add(0, 1000);
    refuse = true;
    assert.doesNotThrow(() => batches.sealDue(true, 1000, () => 1));
    refuse = false;
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(failed, ['encoding failed: RangeError: no memory']);
    add(1, 1001); // the accumulator takes records after it
    assert.equal(batches.hasOpen, true);
  });
});

describe('Accumulator.sealDue', () => {
  it('seals nothing before the oldest linger is over', () => {
    const { batches, add } = accumulator();
    add(0, 1000);
    add(1, 1050);
    batches.sealDue(false, 1000 + LINGER_MS - 1, () => 1);
    assert.deepEqual(sealed(batches), []);
  });

  it('seals, with a batch whose linger is over, the younger open batches led by the same broker, not those of others', () => {
    const { batches, add } = accumulator();
    add(0, 1000); // due at 1100
    add(1, 1050); // same broker, due at 1150: rides along
    add(2, 1060); // another broker: keeps lingering
    add(3, 1070); // leader unknown: keeps lingering with the unknown ones
    const leaders = new Map([[0, 1], [1, 1], [2, 2], [3, -1]]);
    const leaderOf = (p: PartitionState): number => leaders.get(p.partition)!;
    batches.sealDue(false, 1000 + LINGER_MS, leaderOf);
    assert.deepEqual(sealed(batches), [0, 1]);
    batches.sealDue(false, 1060 + LINGER_MS, leaderOf);
    assert.deepEqual(sealed(batches), [0, 1, 2]);
    assert.equal(batches.hasOpen, true, "partition 3's batch is still open");
  });

  it('seals every open batch, due or not, when told to send now', () => {
    const { batches, add } = accumulator();
    add(0, 1000);
    add(1, 1050);
    batches.sealDue(true, 1001, (p) => p.partition);
    assert.deepEqual(sealed(batches), [0, 1]);
    assert.equal(batches.hasOpen, false);
  });
});

describe('Accumulator.seal', () => {
  /** The values of the records in a sealed batch, decoded from its bytes. */
  async function values(batch: { bytes: Buffer | undefined }): Promise<string[]> {
    const [decoded] = await decodeRecordBatches(batch.bytes!);
    assert.equal(decoded!.crcValid, true);
    return decoded!.records.map((r) => Buffer.from(r.value!).toString());
  }

  it("keeps each record's bytes once copyPending returns, so the ring's space may be reused", async () => {
    // Every record's entry was written over the one before (accumulator() reuses the ring's first bytes).
    const { batches, add } = accumulator();
    for (let i = 0; i < 5; i++) add(0, 1000 + i);
    batches.sealDue(true, 1010, () => 1);
    const [batch] = batches.partitions[0]!.sealed;
    assert.deepEqual([...batch!.recordIds], [0, 1, 2, 3, 4]);
    assert.deepEqual(await values(batch!), ['v0', 'v1', 'v2', 'v3', 'v4']);
  });

  it('leaves out the records the main thread cancelled before the seal, reports their ids and numbers the rest from 0', async () => {
    const { batches, add, states, dropped } = accumulator();
    for (let i = 0; i < 6; i++) add(0, 1000 + i);
    assert.equal(cancel(states, 0), true);
    assert.equal(cancel(states, 3), true);
    batches.sealDue(true, 1010, () => 1);
    assert.deepEqual(dropped, [0, 3]);
    const [batch] = batches.partitions[0]!.sealed;
    assert.deepEqual([...batch!.recordIds], [1, 2, 4, 5]);
    const [decoded] = await decodeRecordBatches(batch!.bytes!);
    assert.deepEqual(decoded!.records.map((r) => [Buffer.from(r.value!).toString(), r.offsetDelta, r.timestamp]), [
      ['v1', 0, 1001],
      ['v2', 1, 1002],
      ['v4', 2, 1004],
      ['v5', 3, 1005],
    ]);
    assert.equal(decoded!.baseTimestamp, 1001, 'the first kept record sets the base timestamp');
  });

  it('seals no batch when every record of it was cancelled', () => {
    const { batches, add, states, dropped } = accumulator();
    add(0, 1000);
    add(0, 1001);
    cancel(states, 0);
    cancel(states, 1);
    batches.sealDue(true, 1010, () => 1);
    assert.deepEqual(dropped, [0, 1]);
    assert.equal(batches.partitions[0]!.sealed.length, 0);
    assert.equal(batches.hasOpen, false);
    add(0, 1020); // the partition's next batch starts afresh
    batches.sealDue(true, 1030, () => 1);
    assert.deepEqual([...batches.partitions[0]!.sealed[0]!.recordIds], [2]);
  });
});

describe('Accumulator.seal and the arena', () => {
  /** The values of a batch's records, decoded. */
  async function valuesOf(bytes: Buffer): Promise<string[]> {
    const [decoded] = await decodeRecordBatches(bytes);
    assert.equal(decoded!.crcValid, true);
    return decoded!.records.map((r) => Buffer.from(r.value!).toString());
  }
  const expected = (from: number, count: number, valueBytes: number): string[] =>
    Array.from({ length: count }, (_, i) => `v${from + i}`.padEnd(valueBytes, '.'));
  /** The first four bytes of each value of a batch of random values (`random: true`), decoded, after its CRC. */
  async function randomValuePrefixesOf(bytes: Buffer): Promise<string[]> {
    const [decoded] = await decodeRecordBatches(bytes);
    assert.equal(decoded!.crcValid, true);
    return decoded!.records.map((r) => Buffer.from(r.value!).subarray(0, 4).toString());
  }
  const expectedPrefixes = (from: number, count: number): string[] => expected(from, count, 4).map((v) => v.slice(0, 4));

  it('writes an uncompressed batch filling half its arena or more over its own entries, and gives the partition another arena', async () => {
    const { batches, add } = accumulator({ valueBytes: 1000 });
    for (let i = 0; i < 40; i++) add(0, 1000 + i); // ~41 KB of entries in the first arena of 64 KiB
    const p = batches.partitions[0]!;
    const arena = p.arena;
    batches.sealDue(true, 1100, () => 1);
    const bytes = p.sealed[0]!.bytes!;
    assert.equal(bytes.buffer, arena.buffer, 'the batch is the arena');
    assert.notEqual(p.arena.buffer, arena.buffer, 'the partition fills another');
    assert.equal(p.arena.length, arena.length);
    for (let i = 0; i < 40; i++) add(0, 1200 + i); // the next batch must leave the first one as it was
    assert.deepEqual(await valuesOf(bytes), expected(0, 40, 1000));
    batches.sealDue(true, 1300, () => 1);
    assert.deepEqual(await valuesOf(p.sealed[1]!.bytes!), expected(40, 40, 1000));
  });

  /**
   * Seals five 1,000-byte records (under half the first arena) and checks the batch was written over its own entries
   * and then copied out, the arena kept; then seals five more in that arena. Returns both batches.
   */
  async function sealTwoSmallBatches(options: Parameters<typeof accumulator>[0]): Promise<[Buffer, Buffer]> {
    const { batches, add } = accumulator({ valueBytes: 1000, ...options });
    for (let i = 0; i < 5; i++) add(0, 1000 + i);
    const p = batches.partitions[0]!;
    const arena = p.arena;
    batches.sealDue(true, 1100, () => 1);
    const bytes = p.sealed[0]!.bytes!;
    assert.notEqual(bytes.buffer, arena.buffer);
    assert.equal(p.arena, arena);
    assert.ok(arena.subarray(0, bytes.length).equals(bytes), 'written over its own entries, then copied out');
    // The batch was written over its entries before it was copied: the arena's next batch must not touch it.
    for (let i = 0; i < 5; i++) add(0, 1200 + i);
    batches.sealDue(true, 1300, () => 1);
    return [bytes, p.sealed[1]!.bytes!];
  }

  it('copies a batch filling less than half its arena into a buffer of its own, and keeps the arena', async () => {
    const [first, second] = await sealTwoSmallBatches({});
    assert.deepEqual(await valuesOf(first), expected(0, 5, 1000));
    assert.deepEqual(await valuesOf(second), expected(5, 5, 1000));
  });

  it('copies an lz4 batch under half its arena whose block did not shrink, and keeps the arena', async () => {
    const [first] = await sealTwoSmallBatches({ codec: Codec.lz4, random: true });
    assert.deepEqual(await randomValuePrefixesOf(first), expectedPrefixes(0, 5));
  });

  it('sends an lz4 batch whose block did not shrink from its arena too, and gives the partition another', async () => {
    const { batches, add } = accumulator({ codec: Codec.lz4, valueBytes: 1000, random: true });
    for (let i = 0; i < 40; i++) add(0, 1000 + i);
    const p = batches.partitions[0]!;
    const arena = p.arena;
    batches.sealDue(true, 1100, () => 1);
    const batch = p.sealed[0]!;
    assert.equal(batch.bytes!.buffer, arena.buffer);
    assert.notEqual(p.arena.buffer, arena.buffer);
    assert.deepEqual(await randomValuePrefixesOf(batch.bytes!), expectedPrefixes(0, 40));
  });

  it('compresses an lz4 batch whose block shrinks into a buffer of its own; the partition keeps its arena', async () => {
    const { batches, add } = accumulator({ codec: Codec.lz4, valueBytes: 1000 });
    for (let i = 0; i < 40; i++) add(0, 1000 + i);
    const p = batches.partitions[0]!;
    const arena = p.arena;
    batches.sealDue(true, 1100, () => 1);
    const batch = p.sealed[0]!;
    await batch.encoding;
    assert.notEqual(batch.bytes!.buffer, arena.buffer);
    assert.equal(p.arena, arena);
    assert.deepEqual(await valuesOf(batch.bytes!), expected(0, 40, 1000));
  });
});

describe('Accumulator.releaseIdle', () => {
  /**
   * Every partition the worker ever wrote to kept its arena for the producer's life: memory grew with the partitions
   * used over time (a producer writing to thousands of topics), outside maxBufferedBytes. Counted here as arenas
   * lent by the buffer source and not given back.
   */
  it('gives back the arenas of partitions idle for idleMs, keeps the open and the recent ones, and a released one takes an arena again', async () => {
    let given = 0;
    const init = {
      settings: { lingerMs: LINGER_MS, batchMaxBytes: 1 << 20, deliveryTimeoutMs: 120_000, idempotent: false, codec: Codec.none, transactionalId: null },
      producerId: -1n,
      producerEpoch: -1,
    } as unknown as WorkerInit;
    const batches = new Accumulator(init, new Uint8Array(4096).fill(RecordState.buffered), { dropped: () => {}, encoded: () => {}, failed: () => {} }, {
      take: (size) => Buffer.allocUnsafe(size),
      give: () => void given++,
    });
    const ring = new ArrayBuffer(8192);
    const bytes = Buffer.from(ring);
    const words = new Int32Array(ring);
    let recordId = 0;
    const add = (topic: number, now: number): void => {
      const record = { timestamp: now, key: null, value: Buffer.from(`v${recordId}`), headers: [] };
      writeRecordEntry(bytes, words, 0, recordId++, topic, 0, record);
      batches.add(bytes, 0, recordEntrySize(record.key, record.value, record.headers), now);
      batches.copyPending();
    };
    const TOPICS = 200;
    for (let t = 0; t < TOPICS; t++) {
      batches.addTopic(t, `t${t}`);
      add(t, 1000);
      batches.sealDue(true, 1000, () => 1);
    }
    batches.addTopic(TOPICS, 'recent');
    add(TOPICS, 50_000); // sealed, but opened recently
    batches.sealDue(true, 50_000, () => 1);
    batches.addTopic(TOPICS + 1, 'open');
    add(TOPICS + 1, 1000); // still open
    const held = (): number => batches.partitions.filter((p) => p.holdsArena).length;
    assert.equal(held(), TOPICS + 2, 'an arena held per partition ever written to');

    assert.equal(batches.releaseIdle(60_000, 30_000), TOPICS);
    assert.equal(held(), 2, 'only the open partition and the recent one hold an arena');
    assert.equal(given, TOPICS, 'every idle arena went back to the buffer source');
    assert.equal(batches.releaseIdle(60_000, 30_000), 0, 'nothing twice');

    // A released partition's next records take an arena again and seal into a correct batch.
    add(0, 70_000);
    add(0, 70_001);
    batches.sealDue(true, 70_002, () => 1);
    const p = batches.partitions[0]!;
    assert.equal(p.holdsArena, true);
    const batch = p.sealed.at(-1)!;
    const [decoded] = await decodeRecordBatches(batch.bytes!);
    assert.equal(decoded!.crcValid, true);
    assert.deepEqual(decoded!.records.map((r) => Buffer.from(r.value!).toString()), [`v${recordId - 2}`, `v${recordId - 1}`]);
  });
});

describe('Accumulator.sending', () => {
  it('lists the partitions with a sealed batch, in the order they first had one, and prunes those left with none', () => {
    const { batches, add } = accumulator();
    for (let partition = 0; partition < 100; partition++) add(partition, 1000);
    batches.sealDue(true, 1001, () => 1);
    batches.pruneSending();
    assert.equal(batches.sending.length, 100, 'each partition once');
    // Their batches answered (taken out of `sealed`) but for partitions 7 and 42: only those two stay.
    for (const p of batches.partitions) if (p.partition !== 7 && p.partition !== 42) p.sealed.splice(0);
    batches.pruneSending();
    assert.deepEqual(batches.sending.map((p) => p.partition), [7, 42]);
    assert.equal(batches.partitions.filter((p) => p.sending).length, 2, 'the pruned ones are no longer marked');
    // A pruned partition sealing again is listed again, after those already there.
    add(3, 2000);
    add(7, 2000);
    batches.sealDue(true, 2001, () => 1);
    assert.deepEqual(batches.sending.map((p) => p.partition), [7, 42, 3]);
  });
});

describe('a sealed batch\'s delivery deadline', () => {
  it('counts from when its first record came, not from the seal, less the lead before the main thread\'s sweep', () => {
    const { batches, add } = accumulator();
    add(0, 1000);
    add(0, 1040);
    batches.sealDue(false, 1000 + LINGER_MS, () => 1);
    const [p] = batches.partitions.filter((q) => q.sealed.length > 0);
    // deliveryTimeoutMs 120 s, lead 250 ms: before the sweep releases the first record (at 1000 + 120 s at the
    // earliest), and whatever the seal's time.
    assert.equal(p!.sealed[0]!.deadline, 1000 + 120_000 - 250);
  });
});

describe('Accumulator.idleTopics', () => {
  it('names a topic whose partitions opened their last batch idleMs ago and hold nothing open or sealed', () => {
    const { batches, add } = accumulator();
    add(0, 1000);
    add(1, 1000);
    const idleMs = 5000;
    assert.deepEqual(batches.idleTopics(1000 + idleMs, idleMs), [], 'batches open');
    batches.sealDue(true, 1000, () => 1);
    assert.deepEqual(batches.idleTopics(1000 + idleMs, idleMs), [], 'batches sealed, not yet delivered');
    for (const p of batches.partitions) p.sealed.length = 0; // delivered
    assert.deepEqual(batches.idleTopics(1000 + idleMs - 1, idleMs), [], 'not idle long enough');
    assert.deepEqual(batches.idleTopics(1000 + idleMs, idleMs), ['t']);
    add(1, 1000 + idleMs);
    batches.sealDue(true, 1000 + idleMs, () => 1);
    for (const p of batches.partitions) p.sealed.length = 0; // delivered: only its batch's opening time is left
    assert.deepEqual(batches.idleTopics(1000 + 2 * idleMs - 1, idleMs), [], 'one partition opened a batch since');
    assert.deepEqual(batches.idleTopics(1000 + 2 * idleMs, idleMs), ['t']);
  });

  it('never names a topic whose entry came before any of its records', () => {
    const { batches } = accumulator();
    batches.addTopic(7, 'new');
    // Neither 't' (set up with no record yet) nor 'new' has a partition: the view must keep asking for both.
    assert.deepEqual(batches.idleTopics(Number.MAX_SAFE_INTEGER, 1), []);
  });
});
