import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/shared/errors.js';
import { choosePartition, partitionForKey, StickyPartitioner } from '../../src/main/partitioner.js';
import { InvalidRecordError, prepareRecord, type ProducerRecord } from '../../src/main/serialize.js';
import type { PartitionerRecord } from '../../src/main/options.js';

/** A seeded generator (mulberry32) so the random picks are reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const prepared = (record: ProducerRecord) => prepareRecord(record, null, 1_700_000_000_000);

describe('StickyPartitioner (KIP-794)', () => {
  it('stays on one partition until batchMaxBytes went there, then moves to another', () => {
    const sticky = new StickyPartitioner({ batchMaxBytes: 1000, random: seeded(1) });
    const first = sticky.partition('t', 8, 100);
    for (let i = 1; i < 10; i++) assert.equal(sticky.partition('t', 8, 100), first, `record ${i} stays`);
    // 10 × 100 bytes = one batch: the 11th record goes elsewhere, and stays there in turn.
    const second = sticky.partition('t', 8, 100);
    assert.notEqual(second, first);
    for (let i = 1; i < 10; i++) assert.equal(sticky.partition('t', 8, 100), second);
    assert.notEqual(sticky.partition('t', 8, 100), second);
  });

  it('switches after a single record larger than a batch', () => {
    const sticky = new StickyPartitioner({ batchMaxBytes: 1000, random: seeded(2) });
    const a = sticky.partition('t', 4, 5000);
    const b = sticky.partition('t', 4, 10);
    assert.notEqual(a, b);
  });

  it('never picks the same partition twice in a row, and spreads bytes evenly over many switches', () => {
    const sticky = new StickyPartitioner({ batchMaxBytes: 100, random: seeded(3) });
    const counts = new Array<number>(10).fill(0);
    let previous = -1;
    for (let i = 0; i < 10_000; i++) {
      const p = sticky.partition('t', 10, 100);
      assert.notEqual(p, previous);
      counts[p]!++;
      previous = p;
    }
    for (const count of counts) assert.ok(count > 800 && count < 1200, `uneven: ${counts.join(',')}`);
  });

  it('picks only among the partitions with a leader', () => {
    const sticky = new StickyPartitioner({ batchMaxBytes: 10, random: seeded(4) });
    const available = [1, 4, 6];
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++) seen.add(sticky.partition('t', 8, 10, available));
    assert.deepEqual([...seen].sort(), [1, 4, 6]);
  });

  it('leaves a partition at once when it loses its leader', () => {
    const sticky = new StickyPartitioner({ batchMaxBytes: 1_000_000, random: seeded(5) });
    const current = sticky.partition('t', 6, 10, [0, 1, 2, 3, 4, 5]);
    const remaining = [0, 1, 2, 3, 4, 5].filter((p) => p !== current);
    const next = sticky.partition('t', 6, 10, remaining);
    assert.ok(remaining.includes(next));
    assert.equal(sticky.partition('t', 6, 10, remaining), next, 'sticks to the new one');
  });

  it('treats an empty available list as all partitions, as Java does', () => {
    const sticky = new StickyPartitioner({ batchMaxBytes: 1, random: seeded(6) });
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(sticky.partition('t', 3, 1, []));
    assert.deepEqual([...seen].sort(), [0, 1, 2]);
  });

  it('ignores available entries beyond the partition count', () => {
    const sticky = new StickyPartitioner({ batchMaxBytes: 1, random: seeded(7) });
    for (let i = 0; i < 100; i++) assert.equal(sticky.partition('t', 3, 1, [2, 5, 9]), 2);
  });

  it('stays on partition 0 of a single-partition topic', () => {
    const sticky = new StickyPartitioner({ batchMaxBytes: 1, random: seeded(8) });
    for (let i = 0; i < 50; i++) assert.equal(sticky.partition('t', 1, 10), 0);
  });

  it('picks again when the topic has fewer partitions than the current one', () => {
    const sticky = new StickyPartitioner({ batchMaxBytes: 1_000_000, random: () => 0.99 });
    assert.equal(sticky.partition('t', 10, 1), 9);
    assert.ok(sticky.partition('t', 4, 1) < 4);
  });

  it('keeps separate state per topic', () => {
    const sticky = new StickyPartitioner({ batchMaxBytes: 1000, random: seeded(9) });
    const a = sticky.partition('a', 50, 900);
    const b = sticky.partition('b', 50, 900);
    assert.equal(sticky.partition('a', 50, 50), a, 'b\'s bytes do not count against a');
    assert.equal(sticky.partition('b', 50, 50), b);
  });
});

describe('choosePartition', () => {
  const sticky = () => new StickyPartitioner({ batchMaxBytes: 16_384, random: seeded(10) });

  it('uses an explicit partition first, even over a key and a custom partitioner', () => {
    const record = prepared({ topic: 't', key: 'k', value: 'v', partition: 2 });
    assert.equal(choosePartition(record, 3, () => 0, sticky()), 2);
  });

  it('rejects an explicit partition the topic does not have, naming record.partition', () => {
    const record = prepared({ topic: 'orders', value: 'v', partition: 3 });
    assert.throws(
      () => choosePartition(record, 3, 'default', sticky()),
      (error: unknown) =>
        error instanceof InvalidRecordError &&
        error.code === 'ERR_INVALID_RECORD' &&
        /record\.partition must be an integer from 0 to 2 .*"orders" has 3 partitions.*got 3/.test(error.message),
    );
  });

  it('a custom partitioner cannot change the record it is shown: what was checked and counted is what is sent', () => {
    // Shown the record itself, a partitioner that set `key` (or grew `headers`) sent what it set, past the size checks
    // and the byte budget: a 3 MiB key went out under maxRequestBytes of 1 MiB, counted as one byte.
    const record = prepared({ topic: 't', key: 'k', value: Buffer.from('v'), headers: { h: 'x' } });
    const refused: string[] = [];
    const attempt = (what: string, change: () => void): void => {
      try {
        change();
      } catch (error) {
        if (error instanceof TypeError) refused.push(what);
      }
    };
    choosePartition(record, 3, (shown) => {
      const writable = shown as { -readonly [K in keyof PartitionerRecord]: unknown };
      attempt('key', () => (writable.key = Buffer.alloc(3 * 1024 * 1024)));
      attempt('headers', () => (shown.headers as unknown[]).push([Buffer.from('y'), null]));
      attempt('header value', () => ((shown.headers[0] as unknown as unknown[])[1] = Buffer.alloc(1024)));
      return 0;
    }, sticky());
    assert.deepEqual(refused, ['key', 'headers', 'header value']);
    assert.deepEqual([Buffer.from(record.key!).toString(), record.headers.length, Buffer.from(record.headers[0]![1]!).toString()], ['k', 1, 'x']);
  });

  it('calls a custom partitioner with the serialised record and the partition count', () => {
    const calls: Array<[PartitionerRecord, number]> = [];
    const record = prepared({ topic: 't', key: 'k', value: 'v' });
    const chosen = choosePartition(record, 5, (r, count) => (calls.push([r, count]), 4), sticky());
    assert.equal(chosen, 4);
    assert.equal(calls.length, 1);
    const [shown, count] = calls[0]!;
    assert.deepEqual(shown, { topic: 't', key: record.key, value: new Uint8Array(Buffer.from('v')), headers: [], timestamp: record.timestamp });
    assert.equal(shown.key, record.key, 'the key\'s bytes, not a copy of them');
    assert.equal(count, 5);
  });

  it('gives a custom partitioner a long string value as its UTF-8 bytes, as PartitionerRecord promises', () => {
    const calls: PartitionerRecord[] = [];
    const value = 'ü'.repeat(70);
    const record = prepared({ topic: 't', key: 'k', value, headers: { h: 'x' }, timestamp: 5 });
    assert.equal(typeof record.value, 'string', 'kept as a string until its entry is written');
    choosePartition(record, 5, (r) => (calls.push(r), 1), sticky());
    const seen = calls[0]!;
    assert.ok(seen.value instanceof Uint8Array);
    assert.deepEqual(Buffer.from(seen.value), Buffer.from(value, 'utf8'));
    assert.equal(seen.key, record.key);
    assert.deepEqual(seen.headers, record.headers);
    assert.equal(seen.timestamp, 5);
    assert.equal(seen.topic, 't');
  });

  it('rejects what a custom partitioner returns outside the topic, naming options.partitioner', () => {
    const record = prepared({ topic: 't', value: 'v' });
    for (const bad of [5, -1, 1.5, Number.NaN]) {
      assert.throws(
        () => choosePartition(record, 5, () => bad, sticky()),
        (error: unknown) =>
          error instanceof ConfigError && /options\.partitioner must return an integer from 0 to 4/.test(error.message),
      );
    }
  });

  it('places a keyed record by murmur2 over all partitions, whatever is available', () => {
    const record = prepared({ topic: 't', key: 'foobar', value: 'v' });
    // murmur2("foobar") = -790332482 → & 0x7fffffff = 1357151166 → % 10 = 6 (Java gives 6 too, see the fixture).
    assert.equal(choosePartition(record, 10, 'default', sticky(), [0, 1]), 6);
    assert.equal(choosePartition(record, 10, 'default', sticky()), partitionForKey(Buffer.from('foobar'), 10));
  });

  it('treats an empty key as a key (only null keys go sticky), as Java does', () => {
    const record = prepared({ topic: 't', key: '', value: 'v' });
    assert.equal(choosePartition(record, 7, 'default', sticky()), (275646681 & 0x7fffffff) % 7);
  });

  it('sends keyless records through the sticky partitioner, counting their accounted size', () => {
    const s = new StickyPartitioner({ batchMaxBytes: 1000, random: seeded(11) });
    const record = prepared({ topic: 't', value: Buffer.alloc(500) });
    const first = choosePartition(record, 4, 'default', s, [0, 1, 2, 3]);
    assert.equal(choosePartition(record, 4, 'default', s, [0, 1, 2, 3]), first);
    assert.notEqual(choosePartition(record, 4, 'default', s, [0, 1, 2, 3]), first, 'two 500-byte records fill 1000');
  });
});
