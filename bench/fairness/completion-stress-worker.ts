/**
 * One worker of the completion-signal stress (completion-stress.ts): publishes `count` one-word completions to its
 * ring, each followed by ControlBlock.signalCompletion, with a random busy pause of 0 … `pauseMaxUs` µs injected
 * between the count and the look at the main thread's sleeping word (the 'completion:counted' step) — standing in
 * for the worker being preempted at the worst moment of the protocol.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ControlBlock } from '../../src/shared/control-block.js';
import { RingWriter } from '../../src/shared/ring.js';
import { seededRandom } from '../lib/stats.js';

export interface CompletionStressData {
  readonly control: SharedArrayBuffer;
  readonly ring: SharedArrayBuffer;
  readonly count: number;
  readonly pauseMaxUs: number;
  readonly seed: number;
  /** Int32 word: the worker starts publishing once the main thread stores 1 (all workers start together). */
  readonly start: SharedArrayBuffer;
}

const data = workerData as CompletionStressData;
const random = seededRandom(data.seed);
const control = new ControlBlock(data.control, (step) => {
  if (step !== 'completion:counted') return;
  const until = performance.now() + (random() * data.pauseMaxUs) / 1000;
  while (performance.now() < until);
});
const writer = new RingWriter(data.ring);
const entry = new Uint8Array(4);
const keepAlive = setInterval(() => {}, 1 << 30);
let notifies = 0;
parentPort?.postMessage({ ready: true });
Atomics.wait(new Int32Array(data.start), 0, 0);
for (let i = 0; i < data.count; i++) {
  new DataView(entry.buffer).setUint32(0, i, true);
  while (!writer.tryWrite(entry)) await writer.waitForSpace(entry.length);
  if (control.signalCompletion()) notifies++;
}
clearInterval(keepAlive);
parentPort?.postMessage({ notifies });
