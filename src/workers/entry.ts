/**
 * The worker thread's entry, run by piscina: one task per thread, which starts the producer loop and returns.
 * The loop then runs on in the thread's event loop, outside any task, so piscina counts the thread idle and an
 * idle producer keeps no process alive (only pending work does, through the main thread's sweep timer).
 *
 * The loop reports its end with a 'closed' message on its port. A failure of the loop is thrown out of the
 * thread on purpose: the thread dies, its port closes, and the main thread fails its records and replaces it.
 */
import { threadId } from 'node:worker_threads';
import { ProducerWorker } from './producer-worker.js';
import type { ClosedMessage, WorkerInit } from '../shared/worker-protocol.js';

/** Returns this thread's id: the main thread learns from that thread's exit why it died (main/worker-pool.ts). */
export default function startProducerWorker(init: WorkerInit): number {
  new ProducerWorker(init).run().then(
    () => {
      init.port.postMessage({ type: 'closed' } satisfies ClosedMessage);
      init.port.close();
    },
    (error: unknown) => {
      process.nextTick(() => {
        throw error;
      });
    },
  );
  return threadId;
}
