/**
 * The one place on the main thread that allocates shared memory. Every SharedArrayBuffer a worker is started with
 * comes from here: the control block and the record-state table (one each, shared by every thread) and, per worker,
 * its record ring, its completion ring and its statistics counters. Layouts are defined beside their readers and
 * writers in src/shared/; docs/shared-memory.md has the table of every region (who creates it, who writes, who
 * reads, and the Atomics protocol that hands it over).
 *
 * Buffers are never resized or reused across threads: a worker that crashed is replaced with fresh rings and
 * counters (allocateWorkerMemory again), so nothing the dead thread left half-written can reach its successor.
 */
import { ControlBlock, createControlBlock } from '../shared/control-block.js';
import { createProducerIdentity } from '../shared/producer-identity.js';
import { createRecordStates } from '../shared/record-states.js';
import { createRing, maxEntryBytes } from '../shared/ring.js';
import { createWorkerStats } from '../shared/worker-stats.js';

/** Big enough that a burst of 1 MiB batches for many partitions rarely waits; entries are at most half of it. */
export const RECORD_RING_BYTES = 16 * 1024 * 1024;
export const COMPLETION_RING_BYTES = 1024 * 1024;
/** The largest record entry a record ring takes. */
export const MAX_RECORD_ENTRY = maxEntryBytes(RECORD_RING_BYTES);

/** Shared by the main thread and every worker, for the producer's whole life. */
export interface ProducerMemory {
  readonly control: ControlBlock;
  /** One state byte per record id (record-states.ts); ids are the delivery table's. */
  readonly recordStates: SharedArrayBuffer;
  /** A transactional producer's id and epoch (producer-identity.ts), written by main between transactions; else null. */
  readonly identity: SharedArrayBuffer | null;
}

/** One worker thread's own buffers; a replacement thread gets new ones. */
export interface WorkerMemory {
  /** Main thread writes records and topic entries; the worker reads them. */
  readonly recordRing: SharedArrayBuffer;
  /** The worker writes one completion per batch; the main thread reads them. */
  readonly completionRing: SharedArrayBuffer;
  /** Counters the worker adds to and the main thread reads for metrics(). */
  readonly stats: SharedArrayBuffer;
}

/** `maxRecords` is maxBufferedRecords: the budget never lets more records be live, so ids never run out. */
export function allocateProducerMemory(maxRecords: number, transactional = false): ProducerMemory {
  return { control: createControlBlock(), recordStates: createRecordStates(maxRecords), identity: transactional ? createProducerIdentity() : null };
}

export function allocateWorkerMemory(): WorkerMemory {
  return {
    recordRing: createRing({ capacity: RECORD_RING_BYTES }),
    completionRing: createRing({ capacity: COMPLETION_RING_BYTES }),
    stats: createWorkerStats(),
  };
}
