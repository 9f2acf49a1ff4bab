import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONTROL_BLOCK_BYTES, ControlBlock, ControlSlot, createControlBlock, type ProtocolStep } from '../../src/shared/control-block.js';
import { RingReader, createRing } from '../../src/shared/ring.js';
import { checkEntry } from './fixtures/ring-pattern.js';
import { startRingWorker } from './fixtures/start-ring-worker.js';
import { Gate, startInterleavingWorker } from './fixtures/start-interleaving-worker.js';
import { alive } from './fixtures/alive.js';

describe('control block layout', () => {
  it('gives every slot its own index, main-written and worker-written slots on different cache lines', () => {
    const indices = Object.values(ControlSlot);
    assert.equal(new Set(indices).size, indices.length);
    for (const index of indices) assert.ok(index >= 0 && index * 4 < CONTROL_BLOCK_BYTES);
    const line = (index: number): number => Math.floor((index * 4) / 64);
    const mainWritten = [ControlSlot.WAITERS, ControlSlot.FLUSHES, ControlSlot.CLOSING];
    const workerWritten = [ControlSlot.COMPLETION_SEQ, ControlSlot.MAIN_SLEEPING];
    for (const m of mainWritten) for (const w of workerWritten) assert.notEqual(line(m), line(w));
  });

  it('is one block seen through any number of views', () => {
    const main = createControlBlock();
    const worker = new ControlBlock(main.buffer);
    main.setWaiters(3);
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

describe('completion signal, forced interleaving (test/shared/models/completion-signal.pml)', () => {
  // The lost wake-up of the earlier protocol, which slept on COMPLETION_SEQ: a worker whose add was already in
  // `seen` swaps MAIN_SLEEPING 1 → 0 and notifies between the main thread's store of 1 and its wait. The main
  // thread then slept with MAIN_SLEEPING = 0, so the worker's next signal notified nobody, for good. Here the
  // worker is parked after its add (W2) and released from inside the main thread's step M3–M4, so this
  // interleaving happens on every run.
  it('wakes the main thread for the next completion after a worker spent the token before it slept', { timeout: 60_000 }, async (t) => {
    const buffer = new SharedArrayBuffer(CONTROL_BLOCK_BYTES);
    const ring = createRing({ capacity: 256 });
    const run = startInterleavingWorker({ mode: 'completion-signal', control: buffer, ring }, t.signal);
    await run.parked(); // worker: entry 1 published and counted (W1, W2), parked before W3

    let spent = false;
    const main = new ControlBlock(buffer, (step: ProtocolStep) => {
      if (step !== 'completion:sleeping' || spent) return;
      spent = true;
      // Between M3 and M4: let the worker look, swap 1 → 0 and notify (W3–W5), and wait until it has.
      run.set(Gate.RELEASED);
      Atomics.wait(run.gate, Gate.STEP_DONE, 0, 30_000); // 'not-equal' when the worker was done already
      assert.equal(Atomics.load(run.gate, Gate.STEP_DONE), 1, 'the worker finished its signal');
    });
    const reader = new RingReader(ring);
    const drain = (): number => {
      let count = 0;
      while (reader.read() >= 0) count++;
      reader.release();
      return count;
    };

    const seen = main.completionSeq; // M1: the worker's add is already counted
    assert.equal(seen, 1);
    let entries = drain(); // M2
    assert.equal(entries, 1);
    const first = main.waitForCompletion(seen, { timeoutMs: 20_000 }); // M3 … M5 (registered when this returns)
    assert.ok(spent, 'the worker spent the wake token inside the window');
    run.set(Gate.GO); // the worker publishes entry 2 and signals, while the main thread waits or is about to
    let outcome = await alive(first);
    assert.notEqual(outcome, 'timed-out', 'lost wake-up: the main thread slept through entry 2');
    while (entries < 2) {
      const again = main.completionSeq;
      entries += drain();
      if (entries >= 2) break;
      outcome = await alive(main.waitForCompletion(again, { timeoutMs: 20_000 }));
      assert.notEqual(outcome, 'timed-out', 'lost wake-up: the main thread slept through entry 2');
    }
    assert.equal((await run.result).error, null);
    assert.equal(Atomics.load(new Int32Array(buffer), ControlSlot.MAIN_SLEEPING), 0);
  });
});
