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
import { createRing } from '../shared/ring.js';
import { createWorkerStats } from '../shared/worker-stats.js';

/**
 * A record ring holds what its worker has not read yet, so it needs to be only as large as a burst the worker is
 * behind by, and to take the largest record the producer accepts (an entry is at most half a ring). Its pages are
 * written all over as the ring turns, so all of it is resident once records flow: a fixed 16 MiB ring was 12 MiB
 * more resident memory per worker than 4 MiB. Alternated kfake runs of 4 MiB against 16 MiB (`npx tsx
 * bench/throughput.ts --broker kfake --clients ringkafka --scenarios S --records N --repeat 1`, 1,000,000 or
 * 3,000,000 records; medians of the pairs' ratios): records/s 1.3x at 100B-lz4 (14 pairs, 11 higher; the worker's
 * CPU per record about 15 % lower, a cause not pinned down), 0.94x at 1KiB-lz4 (21 pairs), 0.97x at 1KiB-none (19)
 * and 100B-none (7), 1.02x keyed and 1.07x at 1p (4 and 3); peak RSS 8–28 MB lower at 1 KiB and 100B-none, 86 MB at
 * 100B-lz4. 8 MiB was between the two (five rounds of three). At 2 MiB the main thread waited for ring space at
 * 1 KiB (event-loop utilisation 0.61 against 0.73–0.78).
 */
export const MIN_RECORD_RING_BYTES = 4 * 1024 * 1024;
/** The ring of a producer that accepts records of several MiB (a large `maxRequestBytes`); entries up to 8 MiB. */
export const MAX_RECORD_RING_BYTES = 16 * 1024 * 1024;
export const COMPLETION_RING_BYTES = 1024 * 1024;

/**
 * The record ring's size for a producer whose largest record is `largestRecord` bytes (largestRecordBytes in
 * options.ts): the smallest power of two from MIN_RECORD_RING_BYTES that is four times that, up to
 * MAX_RECORD_RING_BYTES. An entry may take half the ring, so the largest record leaves as many bytes again for its
 * entry's fixed fields and header lengths (record-entry.ts). A record whose entry still does not fit is refused with
 * RecordTooLargeError (RecordIntake#checkSize).
 */
export function recordRingBytes(largestRecord: number): number {
  let capacity = MIN_RECORD_RING_BYTES;
  while (capacity < MAX_RECORD_RING_BYTES && capacity < 4 * largestRecord) capacity *= 2;
  return capacity;
}

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

/** `recordRingBytes`: the producer's record ring size (recordRingBytes()). */
export function allocateWorkerMemory(recordRingBytes: number): WorkerMemory {
  return {
    recordRing: createRing({ capacity: recordRingBytes }),
    completionRing: createRing({ capacity: COMPLETION_RING_BYTES }),
    stats: createWorkerStats(),
  };
}
