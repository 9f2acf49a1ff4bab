/**
 * Record values for the throughput benchmark. Every client sends the same values, read from one file, because
 * Kafka's ProducerPerformance can only take its values from a file (`--payload-file`, one value a line, picked at
 * random) or make one random value for the whole run (`--record-size`), and one repeated value would make lz4
 * look far better than real traffic. The values are uppercase letters, as ProducerPerformance generates them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from './stats.js';

/** Distinct values for the micro benches and the broker's warm-up: a 64 KiB lz4 block of 100 B records repeats few. */
export const PAYLOAD_VALUES = 1024;

/**
 * The distinct values in the file the measured clients read: enough for 4 MiB, at least PAYLOAD_VALUES (41,944 of
 * 100 B, 4,096 of 1 KiB). Record i takes value i mod n, so a batch of consecutive records repeats no value within
 * lz4's 64 KiB window; but a client whose partitioner moves on every 64 KiB (franz-go's default) fills a batch with
 * runs from different points of the cycle, and with 1,024 values of 100 B those runs repeated one another: 200,000
 * records lz4-compressed by franz-go took 16.9 MB on the broker's disk against ringkafka's 21.6 MB (in two franz-go
 * batches 18 and 42 % of the records repeated a value within 64 KiB; each ringkafka batch was one run), and
 * franz-go's compressor ran faster on them. With 4 MiB of values its records stayed at 108 B each, like everyone's.
 * Java picks a value at random per record: a repeat within 600 records is 1.4 % likely now, 44 % with 1,024.
 */
export function payloadCount(valueBytes: number): number {
  return Math.max(PAYLOAD_VALUES, Math.ceil((4 << 20) / valueBytes));
}

/** `count` values of `valueBytes` random uppercase letters, the same for a given size and seed. */
export function payloadValues(valueBytes: number, count = PAYLOAD_VALUES, seed = 0x5eed): string[] {
  const random = seededRandom(seed + valueBytes);
  const values: string[] = [];
  for (let i = 0; i < count; i++) {
    let value = '';
    for (let j = 0; j < valueBytes; j++) value += String.fromCharCode(65 + Math.floor(random() * 26));
    values.push(value);
  }
  return values;
}

/** Writes `count` values of `valueBytes` letters (payloadValues), one per line, into `dir`; returns the file's path. */
export function writePayloadFile(
  dir: string, valueBytes: number, count = payloadCount(valueBytes), seed = 0x5eed,
): string {
  const path = join(dir, `payload-${valueBytes}.txt`);
  writeFileSync(path, payloadValues(valueBytes, count, seed).join('\n') + '\n');
  return path;
}

/** Reads a payload file back as one Buffer per non-empty line. */
export function readPayloads(path: string): Buffer[] {
  const values = readFileSync(path, 'latin1')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => Buffer.from(line, 'latin1'));
  if (values.length === 0) throw new Error(`no values in ${path}`);
  return values;
}

/**
 * Writes `count` distinct keys, one per line, into `dir`; returns the file's path. Keys are `key-0000000` …
 * (11 bytes): short, as keys usually are, and the same for every client, so murmur2 spreads them alike.
 */
export function writeKeyFile(dir: string, count: number): string {
  const lines = Array.from({ length: count }, (_, i) => `key-${String(i).padStart(7, '0')}`);
  const path = join(dir, `keys-${count}.txt`);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}
