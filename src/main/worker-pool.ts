/**
 * Starts and supervises the producer's worker threads through piscina: a fixed-size pool (no idle timeout). Each
 * thread gets exactly one task, which starts the worker loop for one worker index and returns; the loop lives on
 * in that thread. The load balancer hands each start task to a thread that has none yet, so every index has its
 * own thread, and the records of a partition always reach the one loop that owns them.
 *
 * A worker's end is seen on its MessagePort: a 'closed' message after close, or the port closing without one
 * when the thread died (crash, uncaught error) — then `done` rejects and the caller replaces the worker.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { WorkerCrashedError } from '../shared/producer-errors.js';
import type { WorkerInit } from '../shared/worker-protocol.js';

/** From source (tests, tsx) the entry is a .ts file next to this one's folder; from dist/ it is .js. */
const FROM_SOURCE = import.meta.url.endsWith('.ts');

function workerEntry(): string {
  return fileURLToPath(new URL(`../workers/entry${FROM_SOURCE ? '.ts' : '.js'}`, import.meta.url));
}

/** `tsx`, `tsx/esm`, or a path into tsx's package (what the tsx command line passes). */
const TSX = /^tsx(\/|$)|[\\/]node_modules[\\/]tsx[\\/]/;

/**
 * Worker threads inherit the parent's Node flags. From dist/ they need no TypeScript loader, and one inherited
 * from a parent run under tsx (a bench, a test, an app) would re-transform every worker module on the hot path,
 * so it is left out; every other flag is kept.
 */
function workerExecArgv(): string[] {
  if (FROM_SOURCE) return process.execArgv;
  const args: string[] = [];
  for (let i = 0; i < process.execArgv.length; i++) {
    const arg = process.execArgv[i]!;
    if ((arg === '--import' || arg === '--require' || arg === '--loader') && TSX.test(process.execArgv[i + 1] ?? '')) {
      i++;
      continue;
    }
    if (/^--(import|require|loader)=/.test(arg) && TSX.test(arg.slice(arg.indexOf('=') + 1))) continue;
    args.push(arg);
  }
  return args;
}

export interface RunningWorker {
  readonly index: number;
  readonly port: MessagePort;
  /** Fulfilled when the loop finished after close; rejected when the thread died. */
  readonly done: Promise<void>;
}

export class WorkerPool {
  readonly #pool: Piscina;
  /** Piscina thread ids that already run a worker loop. */
  readonly #taken = new Set<number>();
  #lastError: unknown;

  constructor(size: number) {
    this.#pool = new Piscina({
      filename: workerEntry(),
      execArgv: workerExecArgv(),
      minThreads: size,
      maxThreads: size,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 1,
      // The loop awaits sockets and Atomics.waitAsync; piscina's blocking Atomics.wait between tasks must never
      // freeze a thread that owns sockets (docs/style.md).
      atomics: 'disabled',
      loadBalancer: (_task, workers) => {
        const free = workers.find((w) => !this.#taken.has(w.id) && !w.terminating && !w.destroyed && w.currentUsage === 0);
        if (free === undefined) return null;
        this.#taken.add(free.id);
        return free;
      },
    });
    // A thread that dies outside a task is reported here; without a listener it would crash the process.
    this.#pool.on('error', (error: unknown) => (this.#lastError = error));
  }

  /** Starts the worker loop for `init` (its port is created here and handed over). */
  start(init: Omit<WorkerInit, 'port'>): RunningWorker {
    const { port1, port2 } = new MessageChannel();
    let finished = false;
    const done = new Promise<void>((resolve, reject) => {
      const died = (cause: unknown): void => {
        if (finished) return;
        finished = true;
        reject(new WorkerCrashedError('unknown', `worker ${init.workerIndex} died: ${String(cause ?? this.#lastError ?? 'its thread exited')}`, { cause }));
      };
      port1.on('message', (message: { type?: string }) => {
        if (message.type !== 'closed' || finished) return;
        finished = true;
        resolve();
      });
      port1.once('close', () => died(this.#lastError));
      this.#pool.run({ ...init, port: port2 }, { transferList: [port2] }).catch(died);
    });
    // Our end of the port must not keep the process alive; pending work holds the sweep timer instead.
    port1.unref();
    return { index: init.workerIndex, port: port1, done };
  }

  async destroy(): Promise<void> {
    await this.#pool.destroy();
  }
}
