/**
 * The worker's batch encoder, registered on a tinybench `Bench` by bench/micro.ts: `encodeEntries`
 * (src/workers/entry-encoder.ts) turning about 1 MiB of record entries in a partition's arena into one
 * RecordBatch v2, with the worker's reused batch buffers (src/workers/batch-buffers.ts), as a worker seals a full
 * batch. No key, no header: the shape of the throughput bench's records.
 *
 *   entry-encoder/<size>/none   1 MiB of records of <size>-byte values, uncompressed, into a batch buffer of its
 *                               own: the path of a batch filling under half its arena (a full one is written
 *                               over its own entries, which a loop could do only once per arena; the throughput
 *                               bench measures that)
 *   entry-encoder/<size>/lz4    the same, lz4 (random uppercase letters, the throughput bench's values: lz4 finds
 *                               little to match at 1 KiB, so that section is stored)
 */
import type { Bench } from 'tinybench';
import { Codec } from '../../src/protocol/compression.js';
import type { BatchHeader } from '../../src/protocol/record-batch.js';
import { recordEntrySize, writeRecordEntry } from '../../src/shared/record-entry.js';
import { BatchBufferPool } from '../../src/workers/batch-buffers.js';
import { encodeEntries } from '../../src/workers/entry-encoder.js';
import { payloadValues } from '../lib/payload.js';

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
    const values = payloadValues(size).map((value) => Buffer.from(value, 'latin1'));
    const arena = Buffer.allocUnsafe(2 * BATCH_BYTES);
    const words = new Int32Array(arena.buffer, arena.byteOffset, arena.byteLength >> 2);
    const offsets: number[] = [];
    const timestamp = Date.now();
    // Entries back to back at 4-byte steps, as the ring and the arena hold them.
    for (let at = 0, i = 0; at < BATCH_BYTES; i++) {
      const record = { timestamp: timestamp + (i >> 6), key: null, value: values[i % values.length]!, headers: [] };
      writeRecordEntry(arena, words, at, i, 0, 0, record);
      offsets.push(at);
      at += (recordEntrySize(null, record.value, []) + 3) & ~3;
    }
    const entryOffsets = Int32Array.from(offsets);
    for (const codec of [Codec.none, Codec.lz4]) {
      const header: BatchHeader = { producerId: 1234n, producerEpoch: 0, baseSequence: 0, codec, crcAtSend: true };
      const name = `entry-encoder/${size}/${codec === Codec.none ? 'none' : 'lz4'}`;
      bench.add(name, () => {
        // Both codecs encode synchronously here (lz4 on the calling thread, compression.ts `compressesNow`).
        buffers.give(encodeEntries(arena, entryOffsets, entryOffsets.length, header, buffers) as Buffer);
      });
      tasks.push({ name, recordsPerOp: entryOffsets.length, bytesPerOp: entryOffsets.length * size });
    }
  }
  return tasks;
}
