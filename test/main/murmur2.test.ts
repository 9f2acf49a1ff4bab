import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { murmur2 } from '../../src/main/murmur2.js';
import { partitionForKey } from '../../src/main/partitioner.js';

const utf8 = (text: string): Uint8Array => Buffer.from(text, 'utf8');

// Printed by test/main/fixtures/Murmur2Reference.java (kafka-clients 4.3.1 Utils.murmur2), so every tail length and
// bytes >= 0x80 in every position are pinned even where java is not installed.
const EXPECTED = { a: -1563381124, ab: 316155434, abcd: -1323649548, abcde: 461995741, high: -1129327986 };

describe('murmur2', () => {
  it('matches the Java client on the vectors of its own tests (docs/kafka-protocol.md)', () => {
    assert.equal(murmur2(utf8('21')), -973932308);
    assert.equal(murmur2(utf8('foobar')), -790332482);
    assert.equal(murmur2(utf8('abc')), 479470107);
    assert.equal(murmur2(utf8('a-little-bit-long-string')), -985981536);
    assert.equal(murmur2(utf8('a-little-bit-longer-string')), -1486304829);
  });

  it('covers the empty key and every tail length, and bytes >= 0x80', () => {
    assert.equal(murmur2(new Uint8Array(0)), 275646681);
    assert.equal(murmur2(utf8('a')), EXPECTED.a);
    assert.equal(murmur2(utf8('ab')), EXPECTED.ab);
    assert.equal(murmur2(utf8('abc')), 479470107);
    assert.equal(murmur2(utf8('abcd')), EXPECTED.abcd);
    assert.equal(murmur2(utf8('abcde')), EXPECTED.abcde);
    assert.equal(murmur2(Uint8Array.of(0xff, 0xfe, 0x80, 0x81, 0xc3, 0xa9, 0x90)), EXPECTED.high);
  });

  it('returns a signed 32-bit integer and reads only its view of the buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(8), (bytes, pad) => {
        const h = murmur2(bytes);
        assert.ok(Number.isInteger(h) && h >= -(2 ** 31) && h < 2 ** 31);
        const backing = new Uint8Array(bytes.length + 2 * pad).fill(0xaa);
        backing.set(bytes, pad);
        assert.equal(murmur2(backing.subarray(pad, pad + bytes.length)), h);
      }),
    );
  });
});

describe('partitionForKey', () => {
  it('masks with 0x7fffffff like Java, not Math.abs or >>> 0', () => {
    // "21" hashes to -973932308 (negative): mask → 1173551340.
    const key = utf8('21');
    assert.ok(murmur2(key) < 0);
    assert.equal(partitionForKey(key, 1_000_003), 1173551340 % 1_000_003);
    assert.notEqual(partitionForKey(key, 1_000_003), Math.abs(murmur2(key)) % 1_000_003);
    assert.notEqual(partitionForKey(key, 1_000_003), (murmur2(key) >>> 0) % 1_000_003);
    assert.equal(partitionForKey(key, 3), 0); // from Java's BuiltInPartitioner.partitionForKey, see the fixture
  });

  it('finds many negative hashes and keeps each in range', () => {
    let negatives = 0;
    for (let i = 0; i < 1000; i++) {
      const key = utf8(`key-${i}`);
      const h = murmur2(key);
      if (h < 0) negatives++;
      const p = partitionForKey(key, 7);
      assert.equal(p, (h & 0x7fffffff) % 7);
      assert.ok(p >= 0 && p < 7);
    }
    assert.ok(negatives > 300, `about half the hashes are negative, got ${negatives}`);
  });
});

describe('cross-check against the Java client (kafka-clients jar)', () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const libs = `${root}.kafka/libs`;
  const haveJars = existsSync(libs) && readdirSync(libs).some((f) => /^kafka-clients-.*\.jar$/.test(f));
  const haveJava = spawnSync('java', ['-version'], { stdio: 'ignore' }).status === 0;
  const skip = !haveJava ? 'java is not installed' : !haveJars ? `no kafka-clients jar in ${libs}` : false;

  it('agrees on murmur2 and the partition for 1000 random keys', { skip, timeout: 120_000 }, () => {
    const cases = fc.sample(
      fc.tuple(
        fc.oneof(fc.uint8Array({ maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 40 }).map(utf8)),
        fc.integer({ min: 1, max: 10_000 }),
      ),
      { numRuns: 1000, seed: 20240607 },
    );
    const input = cases.map(([key, count]) => `${Buffer.from(key).toString('hex')} ${count}\n`).join('');
    const run = spawnSync('java', ['-cp', `${libs}/*`, `${root}test/main/fixtures/Murmur2Reference.java`], {
      input,
      encoding: 'utf8',
      timeout: 110_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    assert.equal(run.status, 0, `java failed: ${run.error?.message ?? run.stderr}`);
    const lines = run.stdout.trimEnd().split('\n');
    assert.equal(lines.length, cases.length);
    cases.forEach(([key, count], i) => {
      const [hash, partition] = lines[i]!.split(' ').map(Number);
      const hex = Buffer.from(key).toString('hex');
      assert.equal(murmur2(key), hash, `murmur2 of ${hex}`);
      assert.equal(partitionForKey(key, count), partition, `partition of ${hex} among ${count}`);
    });
  });
});
