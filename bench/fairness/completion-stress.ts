/**
 * Completion-signal stress: `completionWorkers` worker threads publish `completions` in all, with a random pause
 * between each publish and its wake-up (completion-stress-worker.ts), while the main thread runs the producer's
 * completion loop (snapshot the sequence, drain every ring, sleep) with the real ControlBlock and rings. A wait
 * that lasts `completionStallMs` while workers are still publishing is a stall: the main thread slept through a
 * completion. Each entry carries its index, so a lost or reordered completion is seen too.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { createControlBlock } from '../../src/shared/control-block.js';
import { createRing, RingReader } from '../../src/shared/ring.js';
import { Observations, type FairnessRow } from './measure.js';
import type { Plan } from './plan.js';
import type { CompletionStressData } from './completion-stress-worker.js';

function startWorker(data: CompletionStressData): Worker {
  // The bench runs from source under tsx; a worker thread registers tsx itself before importing its entry.
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const entry = JSON.stringify(new URL('./completion-stress-worker.ts', import.meta.url).href);
  return new Worker(`import(${tsx}).then((tsx) => { tsx.register(); return import(${entry}); });`, { eval: true, workerData: data });
}

export async function completionSignalStress(plan: Plan): Promise<FairnessRow> {
  const control = createControlBlock();
  const perWorker = Math.ceil(plan.completions / plan.completionWorkers);
  const rings = Array.from({ length: plan.completionWorkers }, () => createRing({ capacity: 4096 }));
  const readers = rings.map((ring) => new RingReader(ring));
  const next = new Array<number>(plan.completionWorkers).fill(0);
  const observations = new Observations();
  let running = plan.completionWorkers;
  let notifies = 0;
  let outOfOrder = 0;
  let sleeps = 0;
  const start = new Int32Array(new SharedArrayBuffer(4));
  const ready: Promise<unknown>[] = [];
  const finished = rings.map((ring, w) => {
    const worker = startWorker({
      control: control.buffer, ring, count: perWorker, pauseMaxUs: plan.completionPauseMaxUs, seed: 97 + w, start: start.buffer,
    });
    ready.push(once(worker, 'message'));
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (m: { notifies?: number }) => (notifies += m.notifies ?? 0));
      worker.once('error', reject);
      worker.once('exit', () => {
        running--;
        resolve();
      });
    });
  });
  const keepAlive = setInterval(() => {}, 1 << 30);
  await Promise.all(ready); // loading a worker takes far longer than a stall: start them all together
  Atomics.store(start, 0, 1);
  Atomics.notify(start, 0);
  const started = performance.now();
  const expected = perWorker * plan.completionWorkers;
  try {
    while (observations.completed < expected) {
      const seen = control.completionSeq;
      let drained = 0;
      readers.forEach((reader, w) => {
        for (let n; (n = reader.read()) >= 0; drained++) {
          if (new DataView(reader.data.buffer, reader.data.byteOffset + reader.offset, 4).getUint32(0, true) !== next[w]) outOfOrder++;
          next[w]!++;
        }
        reader.release();
      });
      observations.completed += drained;
      if (drained > 0 || observations.completed >= expected) continue;
      if (running === 0) break; // every worker has exited and nothing is left: entries were lost
      const asleep = performance.now();
      sleeps++;
      const outcome = await control.waitForCompletion(seen, { timeoutMs: plan.completionStallMs });
      const sleptMs = performance.now() - asleep;
      observations.waitsMs.push(sleptMs);
      if (outcome === 'timed-out' && running > 0) observations.lostWakeups++;
    }
    await Promise.all(finished);
  } finally {
    clearInterval(keepAlive);
  }
  return observations.summarise(
    'completion-signal-stress/synthetic',
    expected,
    performance.now() - started,
    `${plan.completionWorkers} workers × ${perWorker} completions, random 0–${plan.completionPauseMaxUs} µs pause between each ` +
      `count and wake; ${sleeps} sleeps, ${notifies} notifies, ${outOfOrder} out of order; wait = one sleep of the main thread; ` +
      `lost wake-ups = sleeps that lasted ${plan.completionStallMs} ms while workers were publishing`,
    false,
    false,
  );
}
