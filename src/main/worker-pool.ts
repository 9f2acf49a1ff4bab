/**
 * Starts and supervises the producer's worker threads through piscina: a fixed-size pool (no idle timeout), each
 * thread running exactly one long task — the worker loop — for the producer's life. The task carries its worker
 * index, so the partitions a record belongs to always reach the one task that owns them, whichever thread piscina
 * chose; the load balancer only makes sure no thread ever gets a second task.
 *
 * A task that ends with an error before close means its thread crashed: `onCrash` is told, and the caller decides
 * how to restart it (new rings, a new producer id) with `start` again.
 */
import { MessageChannel } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { WorkerInit } from '../shared/worker-protocol.js';

/** From source (tests, tsx) the entry is a .ts file next to this one's folder; from dist/ it is .js. */
function workerEntry(): string {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return fileURLToPath(new URL(`../workers/entry${ext}`, import.meta.url));
}

export interface RunningWorker {
  readonly index: number;
  readonly port: import('node:worker_threads').MessagePort;
  /** Settles when the worker loop ends: fulfilled after close, rejected if the thread crashed. */
  readonly done: Promise<void>;
}

export class WorkerPool {
  readonly #pool: Piscina;

  constructor(size: number) {
    this.#pool = new Piscina({
      filename: workerEntry(),
      minThreads: size,
      maxThreads: size,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 1,
      // The worker loop awaits sockets and Atomics.waitAsync; piscina's blocking Atomics.wait between tasks must
      // never freeze a thread that owns sockets (STYLE.md).
      atomics: 'disabled',
      // One task per thread, ever: pick a thread with nothing running.
      loadBalancer: (_task, workers) => workers.find((w) => w.currentUsage === 0 && !w.terminating && !w.destroyed) ?? null,
    });
  }

  /** Starts the worker loop for `init` (without its port: one is created here and handed over). */
  start(init: Omit<WorkerInit, 'port'>): RunningWorker {
    const { port1, port2 } = new MessageChannel();
    const done = this.#pool.run({ ...init, port: port2 }, { transferList: [port2] }) as Promise<void>;
    // Our side of the port must not keep the process alive on its own; pending work holds a handle elsewhere.
    port1.unref();
    return { index: init.workerIndex, port: port1, done };
  }

  async destroy(): Promise<void> {
    await this.#pool.destroy();
  }
}
