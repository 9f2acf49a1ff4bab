import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONTROL_BLOCK_BYTES, ControlBlock, ControlSlot, createControlBlock } from '../../src/shared/control-block.js';
import { RingReader, createRing } from '../../src/shared/ring.js';
import { checkEntry } from './fixtures/ring-pattern.js';
import { startRingWorker } from './fixtures/start-ring-worker.js';

async function alive<T>(promise: Promise<T>): Promise<T> {
  const timer = setInterval(() => {}, 1 << 30);
  try {
    return await promise;
  } finally {
    clearInterval(timer);
  }
}

describe('control block layout', () => {
  it('gives every slot its own index, main-written and worker-written slots on different cache lines', () => {
    const indices = Object.values(ControlSlot);
    assert.equal(new Set(indices).size, indices.length);
    for (const index of indices) assert.ok(index >= 0 && index * 4 < CONTROL_BLOCK_BYTES);
    const line = (index: number): number => Math.floor((index * 4) / 64);
    const mainWritten = [ControlSlot.BUFFERED_BYTES, ControlSlot.BUFFERED_RECORDS, ControlSlot.WAITERS,
      ControlSlot.FLUSHES, ControlSlot.CLOSING];
    const workerWritten = [ControlSlot.COMPLETION_SEQ, ControlSlot.MAIN_SLEEPING];
    for (const m of mainWritten) for (const w of workerWritten) assert.notEqual(line(m), line(w));
  });

  it('is one block seen through any number of views', () => {
    const main = createControlBlock();
    const worker = new ControlBlock(main.buffer);
    main.setBuffered(100, 2);
    main.setWaiters(3);
    assert.equal(worker.bufferedBytes, 100);
    assert.equal(worker.bufferedRecords, 2);
    assert.equal(worker.waiters, 3);
    assert.throws(() => new ControlBlock(new SharedArrayBuffer(64)), TypeError);
  });

  it('tells workers to stop lingering while anyone waits, flushes or closes', () => {
    const block = createControlBlock();
    assert.equal(block.sendNow, false);
    block.setWaiters(1);
    assert.equal(block.sendNow, true);
    block.setWaiters(0);
    block.beginFlush();
    block.beginFlush();
    block.endFlush();
    assert.equal(block.sendNow, true, 'one flush still running');
    block.endFlush();
    assert.equal(block.sendNow, false);
    block.setClosing();
    assert.equal(block.closing, true);
    assert.equal(block.sendNow, true);
  });
});

describe('completion wake-ups', () => {
  it('notifies only a sleeping main thread, once', async () => {
    const block = createControlBlock();
    const view = new Int32Array(block.buffer);
    assert.equal(block.signalCompletion(), false, 'main is busy: no notify');
    const seen = block.completionSeq;
    const sleeping = block.waitForCompletion(seen);
    assert.equal(view[ControlSlot.MAIN_SLEEPING], 1);
    assert.equal(block.signalCompletion(), true, 'idle → busy: one notify');
    assert.equal(block.signalCompletion(), false, 'already woken: coalesced');
    assert.equal(await alive(sleeping), 'ok');
    assert.equal(view[ControlSlot.MAIN_SLEEPING], 0);
  });

  it('does not sleep on a sequence that moved on, and ends waits on timeout and abort', async () => {
    const block = createControlBlock();
    const seen = block.completionSeq;
    block.signalCompletion();
    assert.equal(await block.waitForCompletion(seen), 'not-equal');
    assert.equal(await alive(block.waitForCompletion(block.completionSeq, { timeoutMs: 1 })), 'timed-out');
    const controller = new AbortController();
    const waiting = block.waitForCompletion(block.completionSeq, { signal: controller.signal });
    setImmediate(() => controller.abort());
    assert.equal(await alive(waiting), 'aborted');
    assert.equal(new Int32Array(block.buffer)[ControlSlot.MAIN_SLEEPING], 0);
  });

  it('loses no completion from a worker publishing while the main thread sleeps and wakes', { timeout: 60_000 }, async (t) => {
    const COUNT = 100_000;
    const MAX = 512 / 2 - 4;
    const control = createControlBlock();
    const ring = createRing({ capacity: 512 });
    const run = startRingWorker({ mode: 'complete', ring, control: control.buffer, count: COUNT, maxLength: MAX }, t.signal);
    const reader = new RingReader(ring);
    let entries = 0;
    let sleeps = 0;
    while (entries < COUNT) {
      // The pattern the main thread uses for all its completion rings: read the sequence, then drain, then wait.
      const seen = control.completionSeq;
      const before = entries;
      for (let length; (length = reader.read()) >= 0; entries++) {
        const error = checkEntry(reader.data, reader.offset, entries, length, MAX);
        if (error !== null) assert.fail(error);
      }
      reader.release();
      if (entries < COUNT) {
        // The worker exits right after its last publish, which may end this wait early; only a drain that finds
        // nothing after the exit means entries were lost.
        if (run.gone.aborted && entries === before) assert.fail(`worker exited after ${entries} entries: ${(await run.result).error}`);
        sleeps++;
        await control.waitForCompletion(seen, { signal: run.gone });
      }
    }
    const result = await run.result;
    assert.equal(result.error, null);
    assert.ok(result.notifies <= sleeps, `${result.notifies} notifies for ${sleeps} sleeps: only idle → busy`);
    assert.ok(result.waits > 0, 'the worker found the ring full at least once');
  });
});
