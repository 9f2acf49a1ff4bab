import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { compressSync } from 'lz4-napi';
import { letterValues, PAYLOAD_VALUES, payloadCount, payloadValues, readPayloads, writePayloadFile } from '../../../bench/lib/payload.js';
import { seededRandom } from '../../../bench/lib/stats.js';

const WINDOW_BYTES = 64 * 1024; // how far back an lz4 match may reach
/** A record's bytes in a batch besides its value, about: length, attributes, deltas, key and value lengths, headers. */
const RECORD_OVERHEAD = 8;

/**
 * The share of records whose value repeats one within lz4's window in the same batch, for a client that sends
 * records in order (record i takes value i mod valueCount, as every bench client does) and moves to a partition
 * drawn at random every `switchBytes` of values, with 16 partitions and batches of 1 MiB of values.
 */
function repeatsInWindow(valueCount: number, valueBytes: number, switchBytes: number): number {
  const random = seededRandom(0x51ce);
  const runRecords = Math.floor(switchBytes / valueBytes);
  const batchRecords = Math.floor((1 << 20) / valueBytes);
  const windowRecords = Math.floor(WINDOW_BYTES / (valueBytes + RECORD_OVERHEAD));
  const batches: number[][] = Array.from({ length: 16 }, () => []);
  let repeats = 0;
  let records = 0;
  const countRepeats = (batch: readonly number[]): void => {
    const lastSeen = new Map<number, number>();
    batch.forEach((value, position) => {
      const seen = lastSeen.get(value);
      if (seen !== undefined && position - seen <= windowRecords) repeats++;
      lastSeen.set(value, position);
    });
    records += batch.length;
  };
  let i = 0;
  while (records < 2_000_000) {
    const batch = batches[Math.floor(random() * batches.length)]!;
    for (let r = 0; r < runRecords; r++, i++) {
      batch.push(i % valueCount);
      if (batch.length === batchRecords) {
        countRepeats(batch);
        batch.length = 0;
      }
    }
  }
  return repeats / records;
}

/** lz4 block compression ratio of the first mebibyte of `values` repeated in order (record i takes value i mod n). */
function lz4Ratio(values: readonly string[]): number {
  const parts: string[] = [];
  for (let i = 0, bytes = 0; bytes < 1 << 20; i++) {
    parts.push(values[i % values.length]!);
    bytes += values[i % values.length]!.length;
  }
  const mebibyte = Buffer.from(parts.join(''), 'latin1').subarray(0, 1 << 20);
  return mebibyte.length / compressSync(mebibyte).length;
}

describe('bench payload values', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ringkafka-payload-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes 4 MiB of distinct values of each size, at least 1,024, read back one per line', () => {
    assert.equal(payloadCount(100_000), PAYLOAD_VALUES);
    for (const [valueBytes, expected] of [[100, 41_944], [1024, 4096]] as const) {
      assert.equal(payloadCount(valueBytes), expected);
      const values = readPayloads(writePayloadFile(dir, valueBytes));
      assert.equal(values.length, expected, `${valueBytes} B`);
      // printable ASCII only: no tab or newline, which the payload file and ProducerPerformance split on
      assert.ok(values.every((value) => value.length === valueBytes && /^[\x20-\x7e]+$/.test(value.toString('latin1'))), `${valueBytes} B`);
      assert.equal(new Set(values.map((value) => value.toString('latin1'))).size, expected, 'all distinct');
    }
  });

  it('makes JSON-like values of the exact size at any size, the same for a size and seed', () => {
    for (const valueBytes of [1, 39, 40, 41, 64, 100, 256, 1000, 1024, 4096]) {
      const values = payloadValues(valueBytes, 200);
      assert.ok(values.every((value) => value.length === valueBytes && /^[\x20-\x7e]+$/.test(value)), `${valueBytes} B`);
      assert.deepEqual(payloadValues(valueBytes, 200), values, `${valueBytes} B again`);
      assert.notDeepEqual(payloadValues(valueBytes, 200, 1), values, `${valueBytes} B, another seed`);
    }
    const [first] = payloadValues(100, 1);
    assert.match(first!, /^\{"id":\d+,"ts":\d+,.*,"note":"[A-Z]+"\}$/);
  });

  it('compresses with lz4 about as real traffic does: a mebibyte of consecutive values 1.3x to 4x', () => {
    for (const valueBytes of [100, 1024]) {
      const ratio = lz4Ratio(payloadValues(valueBytes, payloadCount(valueBytes)));
      assert.ok(ratio > 1.3 && ratio < 4, `${valueBytes} B: ${ratio.toFixed(2)}x`);
    }
    // what it replaced: random letters, which lz4 cannot shrink at all
    assert.ok(lz4Ratio(letterValues(100)) < 1.01);
  });

  it('leaves lz4 under 0.5 % of repeats in a batch, whether a client moves partition every 64 KiB or 1 MiB', () => {
    for (const valueBytes of [100, 1024]) {
      const count = payloadCount(valueBytes);
      assert.ok(repeatsInWindow(count, valueBytes, 64 * 1024) < 0.005, `${valueBytes} B, moving every 64 KiB`);
      assert.equal(repeatsInWindow(count, valueBytes, 1 << 20), 0, `${valueBytes} B, moving every 1 MiB`);
    }
    // What the count prevents: with 1,024 values of 100 B, runs from different points of the cycle met in a batch.
    assert.ok(repeatsInWindow(PAYLOAD_VALUES, 100, 64 * 1024) > 0.1);
  });
});
