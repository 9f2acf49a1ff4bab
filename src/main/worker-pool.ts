/**
 * Starts and supervises worker threads through piscina: a fixed-size pool (no idle timeout). The producer makes one
 * pool of one thread per worker index (worker-group.ts), and a fresh one for each replacement. Each thread gets
 * exactly one task, which starts the worker loop for one worker index and returns; the loop lives on in that thread.
 * The load balancer hands each start task to a thread that has none yet, so in a larger pool too every index has
 * its own thread, and the records of a partition always reach the one loop that owns them.
 *
 * A worker's end is seen on its MessagePort: a 'closed' message after close, or the port closing without one
 * when the thread died (crash, uncaught error) — then `done` rejects and the caller replaces the worker. It rejects
 * once the thread has exited, not when the port closed: Node tells why a thread died (ERR_WORKER_OUT_OF_MEMORY, an
 * uncaught error) with its exit, after its port has closed, and the crash's error carries that cause.
 *
 * A worker that fails to start is reported by `started`. Node refuses bad flags synchronously, so the constructor
 * throws; anything that fails inside the new thread before our entry ran (a preload hook that throws, a module
 * that does not load, a thread Node cannot create) makes piscina reject the start task, and `started` rejects.
 * Either way the error is a WorkerStartError carrying piscina's or Node's as `cause`. The producer gives each worker
 * its own pool of one thread, so such an error is that worker's, and a replacement starts in a fresh pool.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { WorkerCrashedError, WorkerStartError } from '../shared/producer-errors.js';
import { workerExecArgv } from './worker-exec-argv.js';
import type { WorkerInit } from '../shared/worker-protocol.js';
import { BUNDLING_HINT, requireOwn } from '../shared/own-files.js';

type Piscina = import('piscina').Piscina;
/**
 * Required, not imported: an ES module's `import` of a CommonJS package (piscina is one, behind an ES wrapper) makes
 * Node parse it for its export names with cjs-module-lexer; required, the process kept 1.5–2 MB less resident
 * (`node`, loading only piscina, two runs each). src/protocol/crc32c.ts does the same in the workers.
 */
const { Piscina } = requireOwn<typeof import('piscina')>(import.meta.url, 'piscina');

/** From source (tests, tsx) the entry is a .ts file next to this one's folder; from dist/ it is .js. */
const FROM_SOURCE = import.meta.url.endsWith('.ts');

function workerEntry(): string {
  return fileURLToPath(new URL(`../workers/entry${FROM_SOURCE ? '.ts' : '.js'}`, import.meta.url));
}

export interface WorkerPoolOptions {
  /** The workers' Node flags. Default: the parent's, less those Node refuses in a worker (worker-exec-argv.ts). */
  readonly execArgv?: readonly string[] | undefined;
}

export interface RunningWorker {
  readonly index: number;
  readonly port: MessagePort;
  /** Fulfilled when the worker loop runs; rejected with WorkerStartError when the thread did not get that far. */
  readonly started: Promise<void>;
  /** Fulfilled when the loop finished after close; rejected when the thread died (also when it never started). */
  readonly done: Promise<void>;
}

interface WatchedThread {
  readonly exited: Promise<void>;
  error: unknown;
}

/** A thread that has exited, or never ran the worker loop: nothing more to wait for. */
const GONE: WatchedThread = Object.freeze({ exited: Promise.resolve(), error: undefined });

export class WorkerPool {
  readonly #pool: Piscina;
  /** Piscina thread ids that already run a worker loop. */
  readonly #taken = new Set<number>();
  #lastError: unknown;
  /** Fails the starts not yet running when a thread dies before it was ready (see the 'error' listener). */
  readonly #bootFailures = new Set<(cause: unknown) => void>();
  #destroyed: Promise<void> | undefined;

  /** Throws WorkerStartError when Node refuses to create the threads, or their entry file is not there. */
  constructor(size: number, options: WorkerPoolOptions = {}) {
    const execArgv = [...(options.execArgv ?? workerExecArgv(process.execArgv, { fromSource: FROM_SOURCE }))];
    const filename = workerEntry();
    // Missing when ringkafka was bundled into the application's file: each thread failed with "Cannot find module"
    // and a path beside the bundle, which said nothing of why.
    if (!existsSync(filename)) throw new WorkerStartError(`the worker threads' entry ${filename} is not there: ${BUNDLING_HINT}`);
    try {
      // piscina creates the `size` threads in its constructor, so Node's refusal of a flag is thrown from here.
      this.#pool = new Piscina({
        filename,
        execArgv,
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
    } catch (error) {
      throw new WorkerStartError(`the worker threads could not be created: ${describe(error)}`, { cause: error });
    }
    // A thread that dies outside a task is reported here; without a listener it would crash the process. One that
    // died before it was ready (a preload that throws, a module missing) is reported here too, with no task failed:
    // piscina then starts no thread again, and a start still queued would wait for ever. It fails instead.
    this.#pool.on('error', (error: unknown) => {
      this.#lastError = error;
      const failures = [...this.#bootFailures];
      this.#bootFailures.clear();
      for (const fail of failures) fail(error);
    });
  }

  /** Starts the worker loop for `init` (its port is created here and handed over). */
  start(init: Omit<WorkerInit, 'port'>): RunningWorker {
    const { port1, port2 } = new MessageChannel();
    let finished = false;
    // The start task returns the thread's id as soon as the worker loop runs (workers/entry.ts).
    const task = this.#pool.run({ ...init, port: port2 }, { transferList: [port2] }) as Promise<number>;
    const thread = task.then((threadId) => this.#watch(threadId), () => GONE);
    let bootFailed!: (cause: unknown) => void;
    const failedBoot = new Promise<never>((_, reject) => (bootFailed = reject));
    this.#bootFailures.add(bootFailed);
    const started = Promise.race([task, failedBoot]).then(
      () => void this.#bootFailures.delete(bootFailed),
      (cause: unknown) => {
        this.#bootFailures.delete(bootFailed);
        throw new WorkerStartError(`worker ${init.workerIndex} did not start: ${describe(cause)}`, { cause });
      },
    );
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
      port1.once('close', () => void thread.then(async (watched) => {
        await watched.exited;
        died(watched.error ?? this.#lastError);
      }));
      task.catch(died);
      failedBoot.catch(died);
    });
    // Our end of the port must not keep the process alive; pending work holds the sweep timer instead.
    port1.unref();
    return { index: init.workerIndex, port: port1, started, done };
  }

  /** The thread's exit, and the error Node reports for it (an OOM is only reported there), once it has exited. */
  #watch(threadId: number): WatchedThread {
    const worker = this.#pool.threads.find((thread) => thread.threadId === threadId);
    if (worker === undefined) return GONE; // exited already (its id is -1 from then on)
    const watched: WatchedThread = { exited: new Promise((resolve) => worker.once('exit', () => resolve())), error: undefined };
    worker.on('error', (error: unknown) => (watched.error = error));
    return watched;
  }

  /**
   * Ends every thread; once, however often called (close and a start that failed both end a start's pools). A second
   * piscina destroy() found no threads and cleared piscina's "destroying" flag while the first still waited for its
   * threads to exit: piscina then took those exits for crashes and started replacements in the destroyed pool, which
   * nobody ended (two threads left for good by each producer closed while its workers started).
   */
  destroy(): Promise<void> {
    return (this.#destroyed ??= this.#pool.destroy());
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
