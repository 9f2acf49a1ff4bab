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

/**
 * Big enough that a burst of 1 MiB batches for many partitions rarely waits; entries are at most half of it.
 *
 * Why not smaller, though every page of a ring turns resident as it wraps (4 MiB would be 12 MiB less per worker):
 * a ring of 4 MiB was measured against this one in alternated kfake runs (`npx tsx bench/throughput.ts --broker
 * kfake --clients ringkafka --scenarios S --records N --repeat 1`, medians of the pairs' ratios) and cost
 * records/s at 1 KiB: 0.94x at 1KiB-lz4 (21 pairs), 0.97x at 1KiB-none (19) and at 100B-none (7), and 0.80–0.84x
 * for 1 KiB lz4 values that compress well (a standalone producer, two pairs), though 1.3x at 100B-lz4 (14 pairs, 11
 * higher). 8 MiB was no better with such values (0.78–0.89x, two pairs). The batches were smaller with the smaller
 * ring (568 against 618 records of 1 KiB on average): while anyone waits for buffer space a worker seals every open
 * batch each time it has read the ring (accumulator.ts), so what one read takes, at most a ring, bounds the batches
 * at saturation.
 */
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
