/**
 * The worker thread's entry, run by piscina: one long task per worker for the producer's whole life (the pool
 * is fixed-size, so each worker thread runs exactly one of these). It resolves when the producer closes.
 */
import { ProducerWorker } from './producer-worker.js';
import type { WorkerInit } from '../shared/worker-protocol.js';

export default async function runProducerWorker(init: WorkerInit): Promise<void> {
  await new ProducerWorker(init).run();
}
