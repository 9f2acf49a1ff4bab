/**
 * The size checks every record passes when it is accepted, a send's as a sendBatch's: within the byte budget and a
 * Produce request, and within one entry of a worker's record ring.
 */
import { MAX_RECORD_ENTRY } from './shared-memory.js';
import type { ResolvedOptions } from './options.js';
import type { PreparedRecord } from './serialize.js';
import { MAX_VALUE_PAD, RECORD_HEADER_BYTES } from '../shared/record-entry.js';
import { RecordTooLargeError } from '../shared/producer-errors.js';

/** A RecordBatch v2's header: what a batch of one record adds around it. */
const BATCH_HEADER_BYTES = 61;
/**
 * A record's own framing at its largest varints: length 5, attributes 1, timestamp delta 10, offset delta 5, key and
 * value lengths 5 each, header count 5; and 10 per header (its key and value lengths).
 */
const RECORD_FRAMING_MAX = 36;
const HEADER_FRAMING_MAX = 10;

/**
 * Throws RecordTooLargeError naming the limit a record's size is over. The budget counts the accounted size (key,
 * value and header bytes); a request must hold the record framed in a batch of its own, counted at its largest as
 * Java's estimateSizeInBytesUpperBound does. Counting the bytes alone let a 1 MiB value through that no request of
 * maxRequestBytes can carry, and records of many empty headers (two bytes each on the wire) through at any count:
 * both met MESSAGE_TOO_LARGE at the broker after a linger and a round trip instead of an error at once.
 *
 * The bound is the uncompressed batch's, as Java's is. A codec may make a batch of incompressible bytes larger: gzip
 * and snappy add about 300 bytes per MiB, so with them a record within a few hundred bytes of the limit can still
 * be refused by a broker whose max.message.bytes is maxRequestBytes (the broker's default is 12 bytes above the
 * default maxRequestBytes). It then fails with MESSAGE_TOO_LARGE, having been written nowhere.
 */
export function checkRecordSize(prepared: Pick<PreparedRecord, 'size' | 'headers'>, options: Pick<ResolvedOptions, 'maxBufferedBytes' | 'maxRequestBytes'>): void {
  const size = prepared.size;
  if (size > options.maxBufferedBytes) {
    throw new RecordTooLargeError(`record of ${size} bytes exceeds maxBufferedBytes (${options.maxBufferedBytes})`);
  }
  const framed = size + BATCH_HEADER_BYTES + RECORD_FRAMING_MAX + HEADER_FRAMING_MAX * prepared.headers.length;
  if (framed > options.maxRequestBytes) {
    throw new RecordTooLargeError(
      `record of ${size} bytes, ${framed} framed in a batch, exceeds maxRequestBytes (${options.maxRequestBytes})`,
    );
  }
  // A record travels to its worker as one ring entry, at most half the ring (whatever maxRequestBytes says).
  if (size + RECORD_HEADER_BYTES + MAX_VALUE_PAD + 8 * prepared.headers.length > MAX_RECORD_ENTRY) {
    throw new RecordTooLargeError(`record of ${size} bytes exceeds the ${MAX_RECORD_ENTRY}-byte limit of a worker's record ring`);
  }
}
