import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConfigError } from '../../src/shared/errors.js';
import { AbortError, RecordTooLargeError } from '../../src/shared/producer-errors.js';
import { RING_HEADER_BYTES, RingReader, RingSlot, RingWriter, createRing } from '../../src/shared/ring.js';
import { checkEntry, entryLength, fillEntry } from './fixtures/ring-pattern.js';
import { startRingWorker } from './fixtures/start-ring-worker.js';
import { Gate, startInterleavingWorker } from './fixtures/start-interleaving-worker.js';
import { createControlBlock } from '../../src/shared/control-block.js';
import { alive } from './fixtures/alive.js';
import { mulberry32 } from '../helpers/prng.js';

/** Positions just below both places a 32-bit counter wraps: int32 sign flip (2^31) and uint32 overflow (2^32). */
const NEAR_WRAPS = [0, 2 ** 31 - 256, 2 ** 32 - 256];

function header(buffer: SharedArrayBuffer): Int32Array {
  return new Int32Array(buffer, 0, RING_HEADER_BYTES / 4);
}

type Op = { kind: 'write'; size: number } | { kind: 'commit' } | { kind: 'read' } | { kind: 'release' };

/**
 * Runs `ops` against a ring and a model of it (two positions and two queues), checking that reserve succeeds
 * exactly when the documented layout says the entry fits, and that every entry comes back intact and in order.
 * `size` is a fraction of the largest entry. Returns the bytes the write position advanced.
 */
function runModel(capacity: number, initialPosition: number, ops: Iterable<Op>, seed: number): number {
  const buffer = createRing({ capacity, initialPosition });
  const writer = new RingWriter(buffer);
  const reader = new RingReader(buffer);
  const rand = mulberry32(seed);
  const reserved: Uint8Array[] = [];
  const committed: Uint8Array[] = [];
  let writePos = initialPosition | 0;
  let releasedPos = initialPosition | 0;
  let readPos = initialPosition | 0;
  let advanced = 0;
  const framedAt = (pos: number, length: number): number => {
    const framed = 4 + ((length + 3) & ~3);
    const toEnd = capacity - (pos & (capacity - 1));
    return framed <= toEnd ? framed : toEnd + framed;
  };

  for (const op of ops) {
    if (op.kind === 'write') {
      const length = Math.floor(op.size * (writer.maxEntryBytes + 1));
      const needed = framedAt(writePos, length);
      const at = writer.reserve(length);
      const fits = ((writePos - releasedPos) | 0) + needed <= capacity;
      assert.equal(at >= 0, fits, `reserve(${length}) at used ${(writePos - releasedPos) | 0}`);
      if (at < 0) continue;
      const payload = new Uint8Array(length);
      for (let j = 0; j < length; j++) payload[j] = (rand() * 256) | 0;
      writer.data.set(payload, at);
      reserved.push(payload);
      writePos = (writePos + needed) | 0;
      advanced += needed;
    } else if (op.kind === 'commit') {
      writer.commit();
      committed.push(...reserved.splice(0));
    } else if (op.kind === 'read') {
      const length = reader.read();
      const expected = committed.shift();
      if (expected === undefined) {
        assert.equal(length, -1, 'nothing committed, nothing to read');
        continue;
      }
      assert.deepEqual(reader.data.subarray(reader.offset, reader.offset + length), expected);
      readPos = (readPos + framedAt(readPos, length)) | 0;
    } else {
      reader.release();
      releasedPos = readPos;
      assert.equal(Atomics.load(header(buffer), RingSlot.READ_POS), releasedPos);
    }
  }
  return advanced;
}

describe('ring layout', () => {
  it('rejects capacities that are not powers of two in range, and misaligned positions', () => {
    for (const capacity of [0, 32, 100, 3.5, 2 ** 31]) {
      assert.throws(() => createRing({ capacity }), ConfigError);
    }
    assert.throws(() => createRing({ capacity: 64, initialPosition: 2 }), ConfigError);
  });

  it('writes a length prefix, pads to 4 bytes, and wraps with a -1 marker', () => {
    const buffer = createRing({ capacity: 64 });
    const writer = new RingWriter(buffer);
    const words = new Int32Array(buffer, RING_HEADER_BYTES);
    assert.equal(writer.reserve(5), 4);
    assert.equal(words[0], 5);
    assert.equal(writer.reserve(24), 16, 'after 4 + 5 padded to 8 = 12 bytes');
    assert.equal(writer.reserve(20), 44, 'entries of 12 + 28 bytes precede it');
    writer.commit();
    assert.equal(Atomics.load(header(buffer), RingSlot.WRITE_POS), 64);
    const reader = new RingReader(buffer);
    for (let i = 0; i < 3; i++) reader.read();
    reader.release();
    // At offset 0 again; use 56 bytes so the next 12-byte entry cannot fit in the 8 bytes before the end.
    assert.equal(writer.reserve(28), 4);
    assert.equal(writer.reserve(20), 36);
    writer.commit();
    reader.read();
    reader.read();
    reader.release();
    assert.equal(writer.reserve(8), 4, 'wrapped to the start');
    assert.equal(words[56 / 4], -1, 'wrap marker where the entry did not fit');
    assert.equal(words[0], 8);
  });

  it('accepts the largest entry at every offset of an empty ring and rejects a larger one', () => {
    for (let start = 0; start < 256; start += 4) {
      const buffer = createRing({ capacity: 256, initialPosition: start });
      const writer = new RingWriter(buffer);
      assert.equal(writer.maxEntryBytes, 124);
      assert.ok(writer.reserve(124) >= 0, `at offset ${start}`);
      assert.throws(() => writer.reserve(125), RecordTooLargeError);
    }
    const writer = new RingWriter(createRing({ capacity: 64 }));
    assert.throws(() => writer.reserve(-1), TypeError);
    assert.throws(() => writer.reserve(1.5), TypeError);
  });

  it('hides reserved entries until commit, and discard drops them', () => {
    const buffer = createRing({ capacity: 64 });
    const writer = new RingWriter(buffer);
    const reader = new RingReader(buffer);
    writer.reserve(4);
    assert.equal(reader.read(), -1);
    writer.discard();
    writer.commit();
    assert.equal(reader.read(), -1);
    assert.ok(writer.tryWrite(Uint8Array.of(1, 2, 3)));
    assert.equal(reader.read(), 3);
    assert.deepEqual([...reader.data.subarray(reader.offset, reader.offset + 3)], [1, 2, 3]);
  });
});

describe('ring round trips', () => {
  it('matches the model for arbitrary operation sequences (fast-check)', () => {
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 4, arbitrary: fc.double({ min: 0, max: 0.999, noNaN: true }).map((size) => ({ kind: 'write', size }) as const) },
      { weight: 2, arbitrary: fc.constant({ kind: 'commit' } as const) },
      { weight: 3, arbitrary: fc.constant({ kind: 'read' } as const) },
      { weight: 1, arbitrary: fc.constant({ kind: 'release' } as const) },
    );
    fc.assert(
      fc.property(fc.constantFrom(64, 128, 1024), fc.constantFrom(...NEAR_WRAPS), fc.array(op, { maxLength: 400 }), fc.integer(),
        (capacity, initial, ops, seed) => {
          runModel(capacity, initial, ops, seed);
        }),
      { numRuns: 300 },
    );
  });

  for (const initial of NEAR_WRAPS) {
    it(`survives thousands of wraps of random-sized entries starting at position ${initial}`, () => {
      const rand = mulberry32(initial ^ 0x5eed);
      function* ops(): Generator<Op> {
        for (let i = 0; i < 60_000; i++) {
          const r = rand();
          // Mostly small entries, sometimes up to the largest, so wraps land at every kind of offset.
          if (r < 0.45) yield { kind: 'write', size: rand() < 0.9 ? rand() * 0.2 : rand() };
          else if (r < 0.6) yield { kind: 'commit' };
          else if (r < 0.92) yield { kind: 'read' };
          else yield { kind: 'release' };
        }
      }
      const advanced = runModel(256, initial, ops(), initial);
      assert.ok(advanced > 256 * 1000, `advanced ${advanced} bytes: past the 32-bit boundary and many wraps`);
    });
  }
});

describe('a lingering reader (one thread)', () => {
  // An entry of 4 payload bytes takes 8 ring bytes (length prefix + payload).
  const four = Uint8Array.of(1, 2, 3, 4);

  it('sleeps through entries short of lingerBytes and wakes once they reach it', async () => {
    const buffer = createRing({ capacity: 256 });
    const writer = new RingWriter(buffer);
    const reader = new RingReader(buffer);
    const waiting = reader.waitForData({ lingerBytes: 16, timeoutMs: 60_000 });
    assert.equal(Atomics.load(header(buffer), RingSlot.READER_SLEEPING), 2, 'asleep, lingering');
    assert.equal(Atomics.load(header(buffer), RingSlot.WAKE_AT), 16);
    writer.tryWrite(four);
    assert.equal(Atomics.load(header(buffer), RingSlot.READER_SLEEPING), 2, '8 of 16 bytes: not woken');
    writer.tryWrite(four);
    assert.equal(Atomics.load(header(buffer), RingSlot.READER_SLEEPING), 0, '16 of 16 bytes: woken');
    assert.equal(await alive(waiting), 'ok');
    assert.equal(reader.read(), 4);
    assert.equal(reader.read(), 4);
  });

  it('does not sleep when the bytes it lingers for came between its last look and its sleep', async () => {
    // The writer publishes while the reader is between `idle` and `sleepy` (ring.pml: BUGGY_LINGER's interleaving):
    // it finds READER_SLEEPING still 0 and wakes nobody, so the reader's re-check must see WAKE_AT reached.
    const buffer = createRing({ capacity: 256 });
    const writer = new RingWriter(buffer);
    const reader = new RingReader(buffer, (step) => {
      if (step === 'reader:idle') writer.tryWrite(four);
    });
    assert.equal(await alive(reader.waitForData({ lingerBytes: 8, timeoutMs: 10_000 })), 'not-equal');
    assert.equal(Atomics.load(header(buffer), RingSlot.READER_SLEEPING), 0);
    assert.equal(reader.read(), 4);
  });

  it('sleeps on when fewer bytes than it lingers for came between its last look and its sleep', async () => {
    const buffer = createRing({ capacity: 256 });
    const writer = new RingWriter(buffer);
    let published = false;
    const reader = new RingReader(buffer, (step) => {
      if (step === 'reader:idle' && !published) published = writer.tryWrite(four);
    });
    assert.equal(await alive(reader.waitForData({ lingerBytes: 16, timeoutMs: 1 })), 'timed-out', 'it slept out its timeout');
    assert.equal(reader.read(), 4, 'and the entry waited for it');
  });

  it('is woken by wake(), and by a writer that has to wait for room', async () => {
    const buffer = createRing({ capacity: 64 });
    const writer = new RingWriter(buffer);
    const reader = new RingReader(buffer);
    const kicked = reader.waitForData({ lingerBytes: 64, timeoutMs: 60_000 });
    assert.equal(writer.wake(), true);
    assert.equal(await alive(kicked), 'ok');

    // 40 bytes published, short of the 64 it lingers for; an entry of 28 (32 with its prefix) does not fit in the
    // 24 left, so the writer must wait for room, and only its kick can end the reader's sleep before the timeout.
    const lingering = reader.waitForData({ lingerBytes: 64, timeoutMs: 5_000 });
    for (let i = 0; i < 5; i++) assert.ok(writer.reserve(4) >= 0);
    const room = writer.waitForSpace(28);
    assert.equal(await alive(lingering), 'ok', 'the writer needing room woke it');
    while (reader.read() >= 0);
    reader.release();
    await alive(room);
  });

  it('stays awake for a writer that waits for room and kicked it before it stored its sleeping word', async () => {
    // The losing interleaving, forced: between the reader's last look and its sleeping word, the writer publishes
    // 8 bytes (short of the 16 the reader lingers for), finds no room for an entry that needs a drained ring, and
    // kicks a reader not yet asleep. Only the reader's recheck of the writer's word can end its sleep before the
    // timeout.
    const buffer = createRing({ capacity: 64 });
    const writer = new RingWriter(buffer);
    let room: Promise<void> | undefined;
    const reader = new RingReader(buffer, (step) => {
      if (step === 'reader:idle' && room === undefined) room = writer.waitForSpace(28);
    });
    writer.reserve(24);
    writer.commit();
    while (reader.read() >= 0);
    reader.release();
    writer.reserve(4);
    writer.commit(); // unread: the reader last looked before it
    const outcome = await alive(reader.waitForData({ lingerBytes: 16, timeoutMs: 20_000 }));
    assert.notEqual(outcome, 'timed-out', 'the writer waiting for room must end the linger');
    while (reader.read() >= 0);
    reader.release();
    await alive(room!);
  });

  it('refuses a lingerBytes below 1 (its re-check would never let it sleep)', () => {
    const reader = new RingReader(createRing({ capacity: 64 }));
    assert.throws(() => reader.waitForData({ lingerBytes: 0 }), RangeError);
  });
});

describe('ring wake-ups (one thread)', () => {
  it('waitForData returns at once when data is there, and wakes on commit or wake() when it is not', async () => {
    const buffer = createRing({ capacity: 64 });
    const writer = new RingWriter(buffer);
    const reader = new RingReader(buffer);
    writer.tryWrite(Uint8Array.of(7));
    assert.equal(await reader.waitForData(), 'not-equal');
    assert.equal(reader.read(), 1);

    const waiting = reader.waitForData();
    assert.equal(Atomics.load(header(buffer), RingSlot.READER_SLEEPING), 1);
    setImmediate(() => writer.tryWrite(Uint8Array.of(8)));
    assert.equal(await alive(waiting), 'ok');
    assert.equal(Atomics.load(header(buffer), RingSlot.READER_SLEEPING), 0, 'the writer swapped it back');
    assert.equal(reader.read(), 1);

    assert.equal(writer.wake(), false, 'no notify for a reader that is not asleep');
    const woken = reader.waitForData();
    assert.equal(writer.wake(), true);
    assert.equal(await alive(woken), 'ok');
    assert.equal(reader.read(), -1, 'a wake carries no data');
  });

  it('waitForData ends on timeout and on abort, leaving the reader awake', async () => {
    const buffer = createRing({ capacity: 64 });
    const reader = new RingReader(buffer);
    assert.equal(await alive(reader.waitForData({ timeoutMs: 1 })), 'timed-out');
    assert.equal(Atomics.load(header(buffer), RingSlot.READER_SLEEPING), 0);
    const controller = new AbortController();
    const waiting = reader.waitForData({ signal: controller.signal });
    setImmediate(() => controller.abort());
    assert.equal(await alive(waiting), 'aborted');
    assert.equal(Atomics.load(header(buffer), RingSlot.READER_SLEEPING), 0);
    assert.equal(await reader.waitForData({ signal: controller.signal }), 'aborted', 'already aborted');
  });

  it('waitForSpace resolves once the reader releases enough, and rejects not-sent on abort', async () => {
    const buffer = createRing({ capacity: 64 });
    const writer = new RingWriter(buffer);
    const reader = new RingReader(buffer);
    while (writer.reserve(20) >= 0);
    await assert.rejects(writer.waitForSpace(29), RecordTooLargeError);
    const controller = new AbortController();
    const aborted = writer.waitForSpace(20, { signal: controller.signal });
    setImmediate(() => controller.abort());
    await assert.rejects(alive(aborted), (error: unknown) => error instanceof AbortError && error.delivery === 'not-sent');

    const waiting = writer.waitForSpace(20);
    setImmediate(() => {
      assert.equal(reader.read(), 20, 'waitForSpace committed the reserved entries');
      reader.release();
    });
    await alive(waiting);
    assert.ok(writer.reserve(20) >= 0);
  });
});

describe('ring across threads', () => {
  /** A lost wake-up shows up as a hang; the limit turns it into a failure (t.signal then ends the worker). */
  const HANG = { timeout: 60_000 };
  const COUNT = 200_000;
  const CAPACITY = 4096;
  const MAX = CAPACITY / 2 - 4;

  for (const initial of NEAR_WRAPS.slice(1)) {
    it(`main → worker: ${COUNT} entries arrive intact and in order (start ${initial})`, HANG, async (t) => {
      const ring = createRing({ capacity: CAPACITY, initialPosition: initial });
      const run = startRingWorker({ mode: 'consume', ring, count: COUNT, maxLength: MAX }, t.signal);
      const writer = new RingWriter(ring);
      let fullWaits = 0;
      for (let i = 0; i < COUNT; ) {
        const length = entryLength(i, MAX);
        const at = writer.reserve(length);
        if (at < 0) {
          fullWaits++;
          await writer.waitForSpace(length, { signal: run.gone });
          continue;
        }
        fillEntry(writer.data, at, i, length);
        i++;
        if (i % 5 === 0) writer.commit();
      }
      writer.commit();
      const result = await run.result;
      assert.equal(result.error, null);
      assert.equal(result.entries, COUNT);
      assert.ok(fullWaits > 0 && result.waits > 0, 'both sides slept at least once, so wake-ups were exercised');
    });
  }

  it(`worker → main: ${COUNT} entries arrive intact and in order`, HANG, async (t) => {
    const ring = createRing({ capacity: CAPACITY, initialPosition: 2 ** 32 - 1024 });
    const run = startRingWorker({ mode: 'produce', ring, count: COUNT, maxLength: MAX }, t.signal);
    const reader = new RingReader(ring);
    let entries = 0;
    let exitedAt = -1;
    while (entries < COUNT) {
      const length = reader.read();
      if (length < 0) {
        // The worker exits right after its last commit, which may end this wait early ('aborted'); only an
        // empty ring after the exit with entries missing means they were lost.
        if (run.gone.aborted) {
          if (exitedAt === entries) assert.fail(`worker exited after ${entries} entries: ${(await run.result).error}`);
          exitedAt = entries;
        }
        // The Worker handle keeps this thread's loop alive while it waits.
        await reader.waitForData({ signal: run.gone });
        continue;
      }
      const error = checkEntry(reader.data, reader.offset, entries, length, MAX);
      if (error !== null) assert.fail(error);
      entries++;
      if ((entries & 15) === 0) reader.release();
    }
    reader.release();
    const result = await run.result;
    assert.equal(result.error, null);
    assert.equal(result.entries, COUNT);
  });
});

describe('reader wake-up, forced interleaving (test/shared/models/ring.pml)', () => {
  // The lost wake-up of the earlier protocol: a worker looked at sendNow (false), then the main thread set
  // WAITERS and called wake() — which found READER_SLEEPING still 0 and notified nobody — and then the worker
  // stored READER_SLEEPING, saw no new data and slept for its whole linger. The worker is parked between its
  // look and its store here, so the wake() lands in that window on every run.
  it('a wake() between the reader\'s last look and its sleep is not lost', { timeout: 60_000 }, async (t) => {
    const control = createControlBlock();
    const ring = createRing({ capacity: 256 });
    // A linger far longer than the test's limit: a lost wake-up shows as 'timed-out' (or the test timing out).
    const run = startInterleavingWorker({ mode: 'reader-wake', control: control.buffer, ring, lingerMs: 40_000 }, t.signal);
    await run.parked(); // worker: no data, sendNow false, about to announce its sleep
    control.setWaiters(1); // someone waits for buffer space: batches must go out now …
    const writer = new RingWriter(ring);
    assert.equal(writer.wake(), false, '… but the worker has not announced its sleep, so nobody is notified');
    run.set(Gate.RELEASED);
    const result = await run.result;
    assert.equal(result.error, null);
    assert.equal(result.outcome, 'not-equal', `the worker must not sleep out its linger (its wait ended ${result.outcome})`);
  });

  // A worker whose linger timeout began a turn that read records lingers on even with no batch open
  // (src/workers/sleep-plan.ts), and records may then wait unread in the ring. A flush that comes between its last look and its sleep must still
  // wake it: had it asked for sendNow only with a batch open (ring.pml -DBUGGY_IDLE), it would sleep out the
  // whole linger with the flushed record unread.
  it('a flush between the last look and the sleep of a worker lingering with no batch open is not lost', { timeout: 60_000 }, async (t) => {
    const control = createControlBlock();
    const ring = createRing({ capacity: 256 });
    const writer = new RingWriter(ring);
    assert.ok(writer.tryWrite(Uint8Array.of(1)), 'the record its last turn reads');
    const run = startInterleavingWorker({ mode: 'reader-linger-idle', control: control.buffer, ring, lingerMs: 40_000 }, t.signal);
    await run.parked(); // worker: read the record, no batch open, sendNow false, about to announce a lingering sleep
    assert.ok(writer.tryWrite(Uint8Array.of(2)), 'a record to flush, short of the bytes it lingers for');
    control.beginFlush();
    assert.equal(writer.wake(), false, 'the worker has not announced its sleep, so nobody is notified');
    run.set(Gate.RELEASED);
    const result = await run.result;
    assert.equal(result.error, null);
    assert.equal(result.outcome, 'not-equal', `the worker must not sleep out its linger (its wait ended ${result.outcome})`);
  });
});
