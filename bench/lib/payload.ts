/**
 * Record values for the throughput benchmark. Every client sends the same values, read from one file, because
 * Kafka's ProducerPerformance can only take its values from a file (`--payload-file`, one value a line, picked at
 * random) or make one random value for the whole run (`--record-size`), and one repeated value would make lz4
 * look far better than real traffic. The values are uppercase letters, as ProducerPerformance generates them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from './stats.js';

/** Distinct values: enough that a 64 KiB lz4 block of 100 B records holds few repeats. */
export const PAYLOAD_VALUES = 1024;

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
export function writePayloadFile(dir: string, valueBytes: number, count = PAYLOAD_VALUES, seed = 0x5eed): string {
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
