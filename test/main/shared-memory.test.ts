/** shared-memory.ts: every buffer the producer shares with its workers, each of the size its layout needs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  COMPLETION_RING_BYTES, MAX_RECORD_ENTRY, RECORD_RING_BYTES, allocateProducerMemory, allocateWorkerMemory,
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
    const a = allocateWorkerMemory();
    const b = allocateWorkerMemory();
    assert.equal(a.recordRing.byteLength, RING_HEADER_BYTES + RECORD_RING_BYTES);
    assert.equal(a.completionRing.byteLength, RING_HEADER_BYTES + COMPLETION_RING_BYTES);
    assert.equal(new RingWriter(a.recordRing).maxEntryBytes, MAX_RECORD_ENTRY);
    new WorkerStats(a.stats).add(WorkerStat.REQUESTS);
    assert.equal(new WorkerStats(b.stats).get(WorkerStat.REQUESTS), 0, 'no buffer is shared between two workers');
    assert.notEqual(a.recordRing, b.recordRing);
    assert.notEqual(a.completionRing, b.completionRing);
  });
});
