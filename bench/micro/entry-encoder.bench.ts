/**
 * The worker's batch encoder, registered on a tinybench `Bench` by bench/micro.ts: `encodeEntries`
 * (src/workers/entry-encoder.ts) turning about 1 MiB of record entries in a partition's arena into one
 * RecordBatch v2, with the worker's reused batch buffers (src/workers/batch-buffers.ts), as a worker seals a full
 * batch. No key, no header: the shape of the throughput bench's records.
 *
 *   entry-encoder/<size>/none   1 MiB of records of <size>-byte values, uncompressed, into a batch buffer of its
 *                               own: the path of a batch filling under half its arena
 *   entry-encoder/<size>/lz4    the same, lz4 (random uppercase letters, the throughput bench's values until
 *                               2026-12-07, kept so its numbers compare across builds: lz4 finds little to match
 *                               at 1 KiB, so that section is stored)
 *   entry-encoder/<size>/none-in-place  the same entries, uncompressed, written over themselves in their arena, as
 *                               a full batch is. Encoding in place consumes the entries, so each iteration first
 *                               lays them out again from a pristine copy (one memcpy of the arena)…
 *   entry-encoder/<size>/relay  …which this task does alone: the in-place encode costs the difference of the two.
 */
import type { Bench } from 'tinybench';
import { Codec } from '../../src/protocol/compression.js';
import type { BatchHeader } from '../../src/protocol/record-batch.js';
import { recordEntrySize, writeRecordEntry } from '../../src/shared/record-entry.js';
import { BatchBufferPool } from '../../src/workers/batch-buffers.js';
import { encodeEntries } from '../../src/workers/entry-encoder.js';
import { ARENA_HEAD } from '../../src/workers/partition-state.js';
import { letterValues } from '../lib/payload.js';

const BATCH_BYTES = 1 << 20;

/** Records per iteration and value bytes, so the caller can print records/s and MB/s. */
export interface EntryEncoderTask {
  readonly name: string;
  readonly recordsPerOp: number;
  readonly bytesPerOp: number;
}

export function registerEntryEncoderBench(bench: Bench): EntryEncoderTask[] {
  const tasks: EntryEncoderTask[] = [];
  const buffers = new BatchBufferPool(64 * 1024 * 1024);
  for (const size of [100, 1024]) {
    const values = letterValues(size).map((value) => Buffer.from(value, 'latin1'));
    const arena = Buffer.allocUnsafeSlow(2 * BATCH_BYTES);
    const words = new Int32Array(arena.buffer, arena.byteOffset, arena.byteLength >> 2);
    const offsets: number[] = [];
    const timestamp = Date.now();
    // Entries back to back at 4-byte steps after the arena's head room, as a partition's arena holds them.
    let end = ARENA_HEAD;
    for (let i = 0; end < ARENA_HEAD + BATCH_BYTES; i++) {
      const record = { timestamp: timestamp + (i >> 6), key: null, value: values[i % values.length]!, headers: [] };
      writeRecordEntry(arena, words, end, i, 0, 0, record);
      offsets.push(end);
      end += (recordEntrySize(null, record.value, []) + 3) & ~3;
    }
    const entryOffsets = Int32Array.from(offsets);
    const pristine = Buffer.from(arena.subarray(0, end)); // a copy
    for (const codec of [Codec.none, Codec.lz4]) {
      const header: BatchHeader = { producerId: 1234n, producerEpoch: 0, baseSequence: 0, codec, crcAtSend: true };
      const name = `entry-encoder/${size}/${codec === Codec.none ? 'none' : 'lz4'}`;
      bench.add(name, () => {
        // Both codecs encode synchronously here (lz4 on the calling thread, compression.ts `compressesNow`).
        buffers.give(encodeEntries(arena, entryOffsets, entryOffsets.length, header, buffers) as Buffer);
      });
      tasks.push({ name, recordsPerOp: entryOffsets.length, bytesPerOp: entryOffsets.length * size });
    }
    const header: BatchHeader = { producerId: 1234n, producerEpoch: 0, baseSequence: 0, codec: Codec.none, crcAtSend: true };
    // An arena of its own: the tasks above keep reading their entries from `arena`.
    const consumed = Buffer.allocUnsafeSlow(arena.length);
    const relay = (): void => void consumed.set(pristine);
    bench.add(`entry-encoder/${size}/none-in-place`, () => {
      relay();
      const batch = encodeEntries(consumed, entryOffsets, entryOffsets.length, header, buffers, true) as Buffer;
      if (batch.buffer !== consumed.buffer) throw new Error('the batch was not written in place');
    });
    bench.add(`entry-encoder/${size}/relay`, relay);
    for (const name of [`entry-encoder/${size}/none-in-place`, `entry-encoder/${size}/relay`]) {
      tasks.push({ name, recordsPerOp: entryOffsets.length, bytesPerOp: entryOffsets.length * size });
    }
  }
  return tasks;
}
