/** shared-memory.ts: every buffer the producer shares with its workers, each of the size its layout needs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  COMPLETION_RING_BYTES, MAX_RECORD_RING_BYTES, MIN_RECORD_RING_BYTES, allocateProducerMemory, allocateWorkerMemory, recordRingBytes,
} from '../../src/main/shared-memory.js';
import { CONTROL_BLOCK_BYTES } from '../../src/shared/control-block.js';
import { RING_HEADER_BYTES, RingWriter } from '../../src/shared/ring.js';
import { RecordState } from '../../src/shared/record-states.js';
import { WorkerStat, WorkerStats } from '../../src/shared/worker-stats.js';

describe('shared memory', () => {
  it('the producer\'s buffers: a control block and one free state byte per record id', () => {
    const memory = allocateProducerMemory(1000);
    assert.ok(memory.control.buffer instanceof SharedArrayBuffer);
    assert.equal(memory.control.buffer.byteLength, CONTROL_BLOCK_BYTES);
    assert.ok(memory.recordStates instanceof SharedArrayBuffer);
    assert.equal(memory.recordStates.byteLength, 1000);
    assert.ok(new Uint8Array(memory.recordStates).every((state) => state === RecordState.free));
  });

  it('a worker\'s buffers: two rings and its counters, new ones on every call', () => {
    const a = allocateWorkerMemory(8 * MiB);
    const b = allocateWorkerMemory(8 * MiB);
    assert.equal(a.recordRing.byteLength, RING_HEADER_BYTES + 8 * MiB);
    assert.equal(a.completionRing.byteLength, RING_HEADER_BYTES + COMPLETION_RING_BYTES);
    assert.equal(new RingWriter(a.recordRing).maxEntryBytes, 4 * MiB - 4);
    new WorkerStats(a.stats).add(WorkerStat.REQUESTS);
    assert.equal(new WorkerStats(b.stats).get(WorkerStat.REQUESTS), 0, 'no buffer is shared between two workers');
    assert.notEqual(a.recordRing, b.recordRing);
    assert.notEqual(a.completionRing, b.completionRing);
  });

  it('a record ring four times the largest record, from 4 MiB up to 16 MiB', () => {
    assert.equal(MIN_RECORD_RING_BYTES, 4 * MiB);
    assert.equal(MAX_RECORD_RING_BYTES, 16 * MiB);
    assert.equal(recordRingBytes(1), 4 * MiB);
    assert.equal(recordRingBytes(MiB), 4 * MiB, 'the default maxRequestBytes');
    assert.equal(recordRingBytes(MiB + 1), 8 * MiB);
    assert.equal(recordRingBytes(2 * MiB), 8 * MiB);
    assert.equal(recordRingBytes(3 * MiB), 16 * MiB);
    assert.equal(recordRingBytes(64 * MiB), 16 * MiB, 'no larger: such records need a ring entry of at most 8 MiB');
  });

  it('a ring of recordRingBytes takes an entry of the largest record with as many bytes again to spare', () => {
    for (const largest of [1024, 100_000, MiB, 3 * MiB + 7, 4 * MiB]) {
      const maxEntry = new RingWriter(allocateWorkerMemory(recordRingBytes(largest)).recordRing).maxEntryBytes;
      assert.ok(maxEntry >= 2 * largest - 4, `${largest}: entries up to ${maxEntry} bytes`);
    }
  });
});

const MiB = 1024 * 1024;
