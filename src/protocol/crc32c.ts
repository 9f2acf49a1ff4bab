/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of RecordBatch v2 (bytes 21..end).
 *
 * Native on purpose: bench/micro.ts measures `@node-rs/crc32` (hardware CRC instructions) at several GB/s on
 * batch-sized inputs against well under 1 GB/s for a slicing-by-8 table in TypeScript (bench/micro/crc32c-table.ts).
 * The table only wins below ~256 bytes, where the native call overhead (~0.2 µs) dominates and the absolute cost
 * is too small to matter, so one implementation is kept.
 */
import { requireOwn } from '../shared/own-files.js';

/**
 * Required, not imported: an ES module's `import` of a CommonJS package makes Node parse the package for its export
 * names with cjs-module-lexer, in each thread that does it, and this is the only CommonJS package a worker loads. A worker loading only this package added 8–11 MB of resident memory to the process when it
 * imported it, 3 MB when it required it; a worker that imported the whole worker entry, 52.8–53.0 MB against 53.7–56.3
 * (`node`, two and five runs each).
 */
const { crc32c: nativeCrc32c } = requireOwn<typeof import('@node-rs/crc32')>(import.meta.url, '@node-rs/crc32');

/** CRC-32C of `bytes[start, end)` as an unsigned 32-bit integer. */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (!(start >= 0 && start <= end && end <= bytes.length)) {
    // A programming error, never hostile input: callers derive the range from lengths they already checked.
    throw new RangeError(`crc32c range [${start}, ${end}) outside 0..${bytes.length}`);
  }
  const view = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end);
  return nativeCrc32c(view) >>> 0;
}
