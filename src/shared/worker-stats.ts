/**
 * Counters a worker keeps for `producer.metrics()`, in a small SharedArrayBuffer per worker so the main thread can
 * read them at any time without a message round trip. Written by the owning worker only (Atomics.add/store),
 * read by the main thread (Atomics.load); a snapshot is consistent per counter, not across counters.
 *
 * 64-bit slots: in 32 bits the sum of throttle_time_ms went negative after about three hours of steady throttling
 * (200 answers a second asking 1 s each), and the request count after days. A worker that crashed is replaced on
 * fresh memory; its totals are carried into its successor's (`carryFrom`), so that they never fall.
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

type Stat = (typeof WorkerStat)[keyof typeof WorkerStat];

export function createWorkerStats(): SharedArrayBuffer {
  return new SharedArrayBuffer(SLOTS * 8);
}

export class WorkerStats {
  readonly #slots: BigInt64Array;
  /** The totals of the workers this one's thread replaced (main thread only). */
  readonly #carried = new Float64Array(SLOTS);

  constructor(buffer: SharedArrayBuffer) {
    this.#slots = new BigInt64Array(buffer);
  }

  add(stat: Stat, amount = 1): void {
    Atomics.add(this.#slots, stat, BigInt(amount));
  }

  get(stat: Stat): number {
    return this.#carried[stat]! + Number(Atomics.load(this.#slots, stat));
  }

  /** Takes over the totals of `previous` (a dead thread's: final), all but what was in flight when it died. */
  carryFrom(previous: WorkerStats): void {
    for (let stat = 0; stat < SLOTS; stat++) {
      if (stat !== WorkerStat.REQUESTS_IN_FLIGHT) this.#carried[stat] = previous.get(stat as Stat);
    }
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
