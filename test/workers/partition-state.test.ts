/**
 * PartitionState.append copies ring entries into the partition's arena in runs: entries next to each other in the
 * ring become one copy at `copyPending`. Whatever the interleaving of partitions, wraps and arena growth, every
 * entry must end up byte for byte at the offset recorded for it, at the ring's address modulo 8.
 * Two of its fields start the way the worker's optimised code needs them (partition-state.ts says why).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import fc from 'fast-check';
import { ARENA_HEAD, PartitionState, type TopicState } from '../../src/workers/partition-state.js';
import type { BatchBufferSource } from '../../src/protocol/record-batch.js';

const topic: TopicState = { index: 0, name: 't', partitions: new Map() };

interface Entry {
  readonly partition: number;
  readonly at: number;
  readonly length: number;
}

/**
 * Lays entries out as the ring does (a 4-byte length prefix, the payload padded to 4 bytes), in a buffer over shared
 * memory like the ring's data area, wrapping to offset 0 where `wrapAfter` says.
 */
function layOut(lengths: number[], partitions: number[], wrapAfter: number): { data: Buffer; entries: Entry[] } {
  const total = lengths.reduce((sum, n) => sum + 4 + ((n + 3) & ~3), 0);
  const data = Buffer.from(new SharedArrayBuffer(2 * total + 64), 12);
  const entries: Entry[] = [];
  let at = total; // the first entries sit late in the ring, the ones after the wrap at its start
  lengths.forEach((length, i) => {
    if (i === wrapAfter) at = 0;
    at += 4;
    for (let b = 0; b < length; b++) data[at + b] = (i * 31 + b * 7) & 0xff;
    entries.push({ partition: partitions[i]!, at, length });
    at += (length + 3) & ~3;
  });
  return { data, entries };
}

function appendAll(data: Buffer, entries: Entry[], states: PartitionState[]): void {
  entries.forEach((e, id) => states[e.partition]!.append(data, e.at, e.length, id));
}

function assertCopied(data: Buffer, entries: Entry[], states: PartitionState[]): void {
  const seen = states.map(() => 0);
  entries.forEach((e, id) => {
    const p = states[e.partition]!;
    const i = seen[e.partition]!++;
    assert.equal(p.recordIds[i], id);
    const offset = p.offsets[i]!;
    assert.ok(p.arena.subarray(offset, offset + e.length).equals(data.subarray(e.at, e.at + e.length)), `entry ${id} byte for byte`);
    assert.equal((p.arena.byteOffset + offset) % 8, (data.byteOffset + e.at) % 8, `entry ${id} keeps its alignment`);
  });
  states.forEach((p, n) => assert.equal(p.count, seen[n]));
}

describe('PartitionState.append', () => {
  it('puts every entry at its offset, byte for byte, however partitions interleave and the ring wraps', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 0, max: 2 })), { minLength: 1, maxLength: 120 }),
        fc.nat(),
        (spec, wrap) => {
          const { data, entries } = layOut(spec.map(([n]) => n), spec.map(([, p]) => p), wrap % (spec.length + 1));
          const states = [0, 1, 2].map((n) => new PartitionState(topic, n, 0));
          appendAll(data, entries, states);
          for (const p of states) p.copyPending();
          assertCopied(data, entries, states);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('copies a run of neighbouring entries at copyPending, not before: the bytes stay in the ring until then', () => {
    const { data, entries } = layOut([100, 100, 100], [0, 0, 0], 3);
    // An arena of a known filler: a pooled one is not zero-filled, and may still hold the very bytes an earlier
    // test copied there, which would pass for a copy made too early.
    const filled: BatchBufferSource = { take: (size) => Buffer.alloc(size, 0xee), give: () => {} };
    const p = new PartitionState(topic, 0, 0, filled);
    appendAll(data, entries, [p]);
    const untouched = Buffer.alloc(100, 0xee);
    assert.ok(p.arena.subarray(p.offsets[0]!, p.offsets[0]! + 100).equals(untouched), 'not copied yet');
    p.copyPending();
    assertCopied(data, entries, [p]);
  });

  it('keeps what was copied and places the run when the arena grows in the middle of a run', () => {
    // 64 KiB to start with: the second batch of large entries outgrows it while its run is pending
    const lengths = [...Array<number>(10).fill(5000), ...Array<number>(20).fill(6000)];
    const partitions = [...Array<number>(10).fill(0), ...Array<number>(20).fill(0)];
    const { data, entries } = layOut(lengths, partitions, 10);
    const p = new PartitionState(topic, 0, 0);
    appendAll(data, entries, [p]);
    p.copyPending();
    assert.ok(p.arena.length > 64 * 1024);
    assertCopied(data, entries, [p]);
  });

  it('reset forgets a pending run: the next batch starts on its own', () => {
    const { data, entries } = layOut([50, 50, 50], [0, 0, 0], 3);
    const p = new PartitionState(topic, 0, 0);
    p.append(data, entries[0]!.at, 50, 0);
    p.reset();
    p.append(data, entries[1]!.at, 50, 1);
    p.append(data, entries[2]!.at, 50, 2);
    p.copyPending();
    assert.equal(p.count, 2);
    assert.deepEqual([...p.recordIds.subarray(0, 2)], [1, 2]);
    for (let i = 0; i < 2; i++) {
      const { at } = entries[i + 1]!;
      assert.ok(p.arena.subarray(p.offsets[i]!, p.offsets[i]! + 50).equals(data.subarray(at, at + 50)));
    }
  });
});

describe('PartitionState arenas', () => {
  /** A buffer source that records what it lent and what came back. */
  function recordingSource(): BatchBufferSource & { lent: Buffer[]; given: Uint8Array[] } {
    const lent: Buffer[] = [];
    const given: Uint8Array[] = [];
    return {
      lent,
      given,
      take: (size) => {
        const buffer = Buffer.alloc(size);
        lent.push(buffer);
        return buffer;
      },
      give: (buffer) => void given.push(buffer),
    };
  }

  it('keeps ARENA_HEAD bytes before the first entry of every batch: room for the batch header', () => {
    const { data, entries } = layOut([50, 50, 50], [0, 0, 0], 3);
    const p = new PartitionState(topic, 0, 0);
    p.append(data, entries[0]!.at, 50, 0);
    assert.ok(p.offsets[0]! >= ARENA_HEAD);
    assert.ok(p.offsets[0]! < ARENA_HEAD + 8, 'no more than the alignment beyond it');
    p.reset();
    assert.equal(p.arenaUsed, ARENA_HEAD);
    p.append(data, entries[1]!.at, 50, 1);
    assert.ok(p.offsets[0]! >= ARENA_HEAD);
  });

  it('takes its arenas from its buffer source, and gives an outgrown one back once its entries moved over', () => {
    const source = recordingSource();
    const { data, entries } = layOut(Array<number>(30).fill(5000), Array<number>(30).fill(0), 30);
    const p = new PartitionState(topic, 0, 0, source);
    assert.deepEqual(source.lent, [p.arena]);
    appendAll(data, entries, [p]);
    p.copyPending();
    assertCopied(data, entries, [p]);
    assert.equal(source.lent.at(-1), p.arena, 'the grown arena is from the source');
    assert.deepEqual(source.given, source.lent.slice(0, -1), 'every outgrown one went back, the current one did not');
  });

  it('replaceArena takes a new arena of the same size and leaves the old one, now a batch\'s, untouched', () => {
    const source = recordingSource();
    const { data, entries } = layOut([50, 50, 50], [0, 0, 0], 3);
    const p = new PartitionState(topic, 0, 0, source);
    p.append(data, entries[0]!.at, 50, 0);
    p.copyPending();
    const old = p.arena;
    const before = Buffer.from(old);
    p.replaceArena();
    p.reset();
    assert.notEqual(p.arena, old);
    assert.equal(p.arena.length, old.length);
    assert.equal(source.lent.at(-1), p.arena);
    assert.deepEqual(source.given, [], 'the old arena is not the partition\'s to give back');
    p.append(data, entries[1]!.at, 50, 1);
    p.append(data, entries[2]!.at, 50, 2);
    p.copyPending();
    assert.deepEqual(old, before);
  });

  it('releaseArena gives an idle partition\'s arena back, holds none, and its next record takes one again', () => {
    const source = recordingSource();
    const { data, entries } = layOut([50, 50, 50], [0, 0, 0], 3);
    const p = new PartitionState(topic, 0, 0, source);
    p.append(data, entries[0]!.at, 50, 0);
    const open = p.arena;
    p.releaseArena();
    assert.equal(p.arena, open, 'a partition with an open batch keeps its arena');
    assert.deepEqual(source.given, []);
    p.reset();
    p.releaseArena();
    assert.equal(p.holdsArena, false);
    assert.equal(p.arena.length, 0);
    // Its record lists too: kept at their first size, an idle partition held 2 KiB for the producer's life, and a
    // service writing to many short-lived topics grew by that much for every partition it had ever written to.
    assert.deepEqual([p.offsets.length, p.recordIds.length], [0, 0], 'no record lists held while idle');
    assert.deepEqual(source.given, [open], 'the idle arena went back to the source');
    p.releaseArena();
    assert.equal(source.given.length, 1, 'given back once');
    p.append(data, entries[1]!.at, 50, 1);
    p.append(data, entries[2]!.at, 50, 2);
    p.copyPending();
    assert.equal(p.holdsArena, true);
    assert.equal(source.lent.at(-1), p.arena);
    assert.ok(p.arena.length >= 64 * 1024, 'a first arena\'s size, not one entry\'s');
    assert.equal(p.count, 2);
    for (const i of [0, 1]) {
      const e = entries[i + 1]!;
      const offset = p.offsets[i]!;
      assert.equal(p.recordIds[i], i + 1);
      assert.ok(p.arena.subarray(offset, offset + e.length).equals(data.subarray(e.at, e.at + e.length)), `entry ${i + 1} byte for byte`);
      assert.equal((p.arena.byteOffset + offset) % 8, (data.byteOffset + e.at) % 8, `entry ${i + 1} keeps its alignment`);
    }
  });
});

describe('PartitionState fields the optimised worker code depends on', () => {
  /** V8's own test intrinsic, enabled for this process only: whether an array's elements are (any) objects. */
  function hasObjectElements(list: readonly unknown[]): boolean {
    setFlagsFromString('--allow-natives-syntax');
    // A Function, not code in this file: the intrinsic's syntax is accepted only in code parsed after the flag.
    return (new Function('list', 'return %HasObjectElements(list)') as (list: readonly unknown[]) => boolean)(list);
  }

  it('keeps sealed batches in a list whose elements are objects from the start, so the first batch pushed changes no elements kind', () => {
    assert.equal(hasObjectElements([]), false, 'an empty literal starts with small-integer elements');
    assert.equal(hasObjectElements(new PartitionState(topic, 0, 0).sealed), true);
    assert.equal(new PartitionState(topic, 1, 0).sealed.length, 0);
  });

  it('starts openSince as a non-integer, so the field holds doubles before the first epoch time is stored', () => {
    assert.equal(Number.isInteger(new PartitionState(topic, 0, 0).openSince), false);
  });
});
