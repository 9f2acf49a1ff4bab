/**
 * The inspector's view of this process's worker threads (NodeWorker domain, in-process, no --inspect flag), so a
 * test can crash or freeze one of the producer's threads the way a real bug would, with no hook in the production
 * code.
 */
import { Session } from 'node:inspector';
import { until } from './readback.js';

export interface AttachedWorker {
  readonly sessionId: string;
  readonly workerInfo: { readonly workerId: string; readonly url: string };
}

/** The inspector's view of this process's worker threads: piscina's threads run node_modules/piscina/…/worker.js. */
export class WorkerThreads {
  readonly #session = new Session();
  readonly #attached = new Map<string, AttachedWorker>();
  readonly #gone = new Set<string>();

  async start(): Promise<void> {
    this.#session.connect();
    this.#session.on('NodeWorker.attachedToWorker', ({ params }: { params: AttachedWorker }) => {
      this.#attached.set(params.sessionId, params);
    });
    this.#session.on('NodeWorker.detachedFromWorker', ({ params }: { params: { sessionId: string } }) => {
      this.#gone.add(params.sessionId);
    });
    await new Promise<void>((resolve, reject) =>
      this.#session.post('NodeWorker.enable', { waitForDebuggerOnStart: false }, (error) => (error ? reject(error) : resolve())));
  }

  /** Producer worker threads alive now (the ESM loader's thread is not one of them). */
  producerThreads(): AttachedWorker[] {
    return [...this.#attached.values()].filter((w) => w.workerInfo.url.includes('piscina') && !this.#gone.has(w.sessionId));
  }

  /**
   * The producer threads alive now, by session, for `startedSince`. A test that picks "its" thread out of
   * `producerThreads()` may otherwise pick an earlier test's: the inspector reports a thread's end some time after
   * the thread is gone, so a closed producer's threads are still listed for a while, and first.
   */
  known(): Set<string> {
    return new Set(this.producerThreads().map((w) => w.sessionId));
  }

  /** Producer threads alive now that `earlier` (from `known()`) did not list: those of producers made since. */
  startedSince(earlier: Set<string>): AttachedWorker[] {
    return this.producerThreads().filter((w) => !earlier.has(w.sessionId));
  }

  /** Makes the thread throw an uncaught exception, as a bug in the worker would, and waits until it is gone. */
  async crash(worker: AttachedWorker): Promise<void> {
    const expression = 'setImmediate(() => { throw new Error("worker crashed on purpose by the test") }); 0';
    this.#session.post('NodeWorker.sendMessageToWorker', {
      sessionId: worker.sessionId,
      message: JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression } }),
    });
    await until(() => this.#gone.has(worker.sessionId), 'the crashed thread to go away');
  }

  /**
   * Blocks the thread for good, as a worker stuck in a native call or a busy loop would be: it stops reading its
   * rings, answering its port and reporting completions, but does not die. Resolves once the thread is blocked:
   * it says so on a BroadcastChannel right before it blocks, so the test never races the freeze.
   */
  async freeze(worker: AttachedWorker): Promise<void> {
    const name = `freeze-${worker.sessionId}`;
    const channel = new BroadcastChannel(name);
    const frozen = new Promise<void>((resolve) => channel.addEventListener('message', () => resolve(), { once: true }));
    const expression =
      `setImmediate(() => { new BroadcastChannel(${JSON.stringify(name)}).postMessage('frozen'); ` +
      'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); }); 0';
    this.#session.post('NodeWorker.sendMessageToWorker', {
      sessionId: worker.sessionId,
      message: JSON.stringify({ id: 2, method: 'Runtime.evaluate', params: { expression } }),
    });
    try {
      await frozen;
    } finally {
      channel.close();
    }
  }

  /** True once the thread has gone (exited or was terminated). */
  gone(worker: AttachedWorker): boolean {
    return this.#gone.has(worker.sessionId);
  }

  stop(): void {
    this.#session.disconnect();
  }
}
