/**
 * Counters a worker keeps for `producer.metrics()`, in a small SharedArrayBuffer per worker so the main thread can
 * read them at any time without a message round trip. Written by the owning worker only (Atomics.add/store),
 * read by the main thread (Atomics.load); a snapshot is consistent per counter, not across counters.
 */
export const WorkerStat = {
  /** Produce requests written and not yet answered. */
  REQUESTS_IN_FLIGHT: 0,
  /** Produce requests sent. */
  REQUESTS: 1,
  /** Batches sent again after a retriable error or a lost connection. */
  RETRIES: 2,
  /** Batches that failed for good. */
  ERRORS: 3,
  /** Sum of throttle_time_ms the brokers asked for (KIP-219). */
  THROTTLE_MS: 4,
  /** Attempts to connect to a broker that failed (refused, timed out, the handshake or authentication failed). */
  CONNECT_ERRORS: 5,
} as const;

const SLOTS = 8;

export function createWorkerStats(): SharedArrayBuffer {
  return new SharedArrayBuffer(SLOTS * 4);
}

export class WorkerStats {
  readonly #slots: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.#slots = new Int32Array(buffer);
  }

  add(stat: (typeof WorkerStat)[keyof typeof WorkerStat], amount = 1): void {
    Atomics.add(this.#slots, stat, amount);
  }

  get(stat: (typeof WorkerStat)[keyof typeof WorkerStat]): number {
    return Atomics.load(this.#slots, stat);
  }
}

/** The counters of all workers, added up (metrics()). */
export function sumWorkerStats(workers: readonly WorkerStats[]) {
  const sum = { requests: 0, requestsInFlight: 0, retries: 0, batchErrors: 0, throttleTimeMs: 0, connectErrors: 0 };
  for (const stats of workers) {
    sum.requests += stats.get(WorkerStat.REQUESTS);
    sum.requestsInFlight += stats.get(WorkerStat.REQUESTS_IN_FLIGHT);
    sum.retries += stats.get(WorkerStat.RETRIES);
    sum.batchErrors += stats.get(WorkerStat.ERRORS);
    sum.throttleTimeMs += stats.get(WorkerStat.THROTTLE_MS);
    sum.connectErrors += stats.get(WorkerStat.CONNECT_ERRORS);
  }
  return sum;
}
