/**
 * The size checks every record passes when it is accepted, a send's as a sendBatch's: within the byte budget and a
 * Produce request, and within one entry of a worker's record ring.
 */
import { MAX_RECORD_ENTRY } from './shared-memory.js';
import type { ResolvedOptions } from './options.js';
import type { PreparedRecord } from './serialize.js';
import { MAX_VALUE_PAD, RECORD_HEADER_BYTES } from '../shared/record-entry.js';
import { RecordTooLargeError } from '../shared/producer-errors.js';

/** Throws RecordTooLargeError naming the limit a record's size is over. */
export function checkRecordSize(prepared: Pick<PreparedRecord, 'size' | 'headers'>, options: Pick<ResolvedOptions, 'maxBufferedBytes' | 'maxRequestBytes'>): void {
  const size = prepared.size;
  const limit = Math.min(options.maxBufferedBytes, options.maxRequestBytes);
  if (size > limit) {
    throw new RecordTooLargeError(`record of ${size} bytes exceeds ${size > options.maxBufferedBytes ? 'maxBufferedBytes' : 'maxRequestBytes'} (${limit})`);
  }
  // A record travels to its worker as one ring entry, at most half the ring (whatever maxRequestBytes says).
  if (size + RECORD_HEADER_BYTES + MAX_VALUE_PAD + 8 * prepared.headers.length > MAX_RECORD_ENTRY) {
    throw new RecordTooLargeError(`record of ${size} bytes exceeds the ${MAX_RECORD_ENTRY}-byte limit of a worker's record ring`);
  }
}
