import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Codec } from '../../src/protocol/compression.js';
import { RecordState } from '../../src/shared/record-states.js';
import { recordEntrySize, writeRecordEntry } from '../../src/shared/record-entry.js';
import type { WorkerInit } from '../../src/shared/worker-protocol.js';
import { Accumulator } from '../../src/workers/accumulator.js';
import type { PartitionState } from '../../src/workers/partition-state.js';

const LINGER_MS = 100;
const TOPIC = 0;

/** An accumulator of one topic, lingering LINGER_MS, with what it needs of a worker's init and nothing more. */
function accumulator(): { batches: Accumulator; add: (partition: number, now: number) => void } {
  const init = {
    settings: { lingerMs: LINGER_MS, batchMaxBytes: 1 << 20, deliveryTimeoutMs: 120_000, idempotent: false, codec: Codec.none, transactionalId: null },
    producerId: -1n,
    producerEpoch: -1,
  } as unknown as WorkerInit;
  const states = new Uint8Array(64).fill(RecordState.buffered);
  const batches = new Accumulator(init, states, { dropped: () => {}, encoded: () => {}, failed: () => {} }, {
    take: (size) => Buffer.allocUnsafe(size),
    give: () => {},
  });
  batches.addTopic(TOPIC, 't');
  const ring = new ArrayBuffer(4096);
  const bytes = Buffer.from(ring);
  const words = new Int32Array(ring);
  let recordId = 0;
  const add = (partition: number, now: number): void => {
    const record = { timestamp: now, key: null, value: Buffer.from('v'), headers: [] };
    writeRecordEntry(bytes, words, 0, recordId++, TOPIC, partition, record);
    batches.add(bytes, 0, recordEntrySize(record.key, record.value, record.headers), now);
    batches.copyPending();
  };
  return { batches, add };
}

/** Partitions with a sealed batch, in order. */
function sealed(batches: Accumulator): number[] {
  return batches.partitions.filter((p) => p.sealed.length > 0).map((p) => p.partition).sort((a, b) => a - b);
}

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
