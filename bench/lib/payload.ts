/**
 * Record values for the throughput benchmark. Every client sends the same values, read from one file, because
 * Kafka's ProducerPerformance can only take its values from a file (`--payload-file`, one value a line, picked at
 * random) or make one random value for the whole run (`--record-size`), and one repeated value would make lz4
 * look far better than real traffic.
 *
 * The values are JSON-like events, as services send them: the same field names in every value, field values that
 * vary (ids, timestamps, numbers, words of a small vocabulary) and a tail of random letters that fills each value to
 * its exact size. LZ4 finds the structure and not the rest, as in real traffic: a mebibyte of consecutive values
 * compresses 2.5x at 100 B and 1.9x at 1 KiB (lz4-napi's block encoder; payload.test.ts keeps both between 1.3 and
 * 4). Random uppercase letters, as ProducerPerformance makes them and as this file did until 2026-12-07, left lz4
 * nothing to find (0.996x), so the lz4 scenarios measured no compression: franz-go and librdkafka threw the
 * compressed copy away and sent uncompressed batches, the other clients lz4 batches of stored blocks.
 *
 * Values are ASCII with no tab or newline: the file is one value a line, and ProducerPerformance splits on `\n`.
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

const EVENTS = ['page_view', 'click', 'add_to_cart', 'checkout', 'login', 'logout', 'search', 'signup'];
const WORDS = [
  'home', 'cart', 'search', 'product', 'account', 'orders', 'help', 'settings', 'blog', 'pricing', 'shoes', 'books',
  'garden', 'kitchen', 'toys', 'music',
];
const REGIONS = ['eu-west-1', 'eu-central-1', 'us-east-1', 'us-west-2', 'ap-south-1', 'sa-east-1'];
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64)', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5)', 'okhttp/4.12.0', 'curl/8.5.0'];
const STATUSES = [200, 200, 200, 200, 201, 204, 304, 400, 404, 500];
/** The value's last field: random letters to its exact size, where lz4 finds nothing to match. */
const TAIL_OPEN = ',"note":"';
const TAIL_CLOSE = '"}';
/** The fewest letters a tail has where the fields leave room for more. */
const TAIL_MIN = 8;
/** Below this a value cannot hold an id and a tail: it is all letters. */
const JSON_MIN_BYTES = 40;

/**
 * `count` distinct JSON-like values of exactly `valueBytes` ASCII bytes (above), the same for a given size and seed.
 * Fields go in a fixed order while they fit; at 1 KiB, after the top-level ones, line items repeat until about a
 * quarter of the value is left for the tail.
 */
export function payloadValues(valueBytes: number, count = PAYLOAD_VALUES, seed = 0x5eed): string[] {
  if (valueBytes < JSON_MIN_BYTES) return letterValues(valueBytes, count, seed);
  const random = seededRandom(seed + valueBytes);
  const int = (below: number): number => Math.floor(random() * below);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)]!;
  const letters = (n: number): string => {
    let text = '';
    for (let j = 0; j < n; j++) text += String.fromCharCode(65 + int(26));
    return text;
  };
  const values: string[] = [];
  for (let i = 0; i < count; i++) {
    const fields = [
      // 7919 is prime to 90,000,000: a distinct id for each of the first 90 million values, so no two values are equal
      `"id":${10_000_000 + ((i * 7919) % 90_000_000)}`,
      `"ts":${1_765_065_600_000 + i * 37 + int(1000)}`,
      `"user":"u${String(int(1_000_000)).padStart(6, '0')}"`,
      `"event":"${pick(EVENTS)}"`,
      `"status":${pick(STATUSES)}`,
      `"ms":${(random() * 500).toFixed(1)}`,
      `"region":"${pick(REGIONS)}"`,
      `"path":"/${pick(WORDS)}/${pick(WORDS)}?page=${1 + int(20)}"`,
      `"agent":"${pick(AGENTS)}"`,
      `"session":"${letters(4)}${int(10_000)}"`,
    ];
    let head = '{';
    const room = (text: string): number => valueBytes - text.length - TAIL_OPEN.length - TAIL_CLOSE.length;
    for (const field of fields) {
      const next = head === '{' ? `${head}${field}` : `${head},${field}`;
      if (room(next) < TAIL_MIN) break;
      head = next;
    }
    if (room(head) > valueBytes / 4 + 64) {
      const items: string[] = [];
      for (;;) {
        const item = `{"sku":"${pick(WORDS)}-${String(int(10_000)).padStart(4, '0')}","qty":${1 + int(5)},"price":${(random() * 200).toFixed(2)}}`;
        const next = `${head},"items":[${[...items, item].join(',')}]`;
        if (room(next) < valueBytes / 4) break;
        items.push(item);
      }
      if (items.length > 0) head = `${head},"items":[${items.join(',')}]`;
    }
    values.push(`${head}${TAIL_OPEN}${letters(room(head))}${TAIL_CLOSE}`);
  }
  return values;
}

/** `count` values of `valueBytes` random uppercase letters, as ProducerPerformance makes them (the micro benches' incompressible case). */
export function letterValues(valueBytes: number, count = PAYLOAD_VALUES, seed = 0x5eed): string[] {
  const random = seededRandom(seed + valueBytes);
  const values: string[] = [];
  for (let i = 0; i < count; i++) {
    let value = '';
    for (let j = 0; j < valueBytes; j++) value += String.fromCharCode(65 + Math.floor(random() * 26));
    values.push(value);
  }
  return values;
}

/** Writes `count` values of `valueBytes` (payloadValues), one per line, into `dir`; returns the file's path. */
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
