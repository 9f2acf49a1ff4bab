/**
 * How long the main thread waits before it connects again where its last attempts failed: to any bootstrap broker,
 * or to a broker by address (a transaction coordinator). Java's reconnect.backoff.ms and reconnect.backoff.max.ms:
 * the first pause after a failure is `reconnectBackoffMs`, doubling per failure in a row up to
 * `reconnectBackoffMaxMs`, ±20 % jitter. What counts as a failure and what clears the count is the owner's to book
 * (src/main/topic-registry.ts).
 *
 * Why apart from the retry backoff that the loops asking for connections (metadata, InitProducerId, the
 * coordinators) pause by: a user may set that to 0 for quick retries of a failed batch, and a cluster out of reach
 * then had the main thread open a connection as fast as each one failed (about 650 a second against a port that
 * reset every connection, 39 % of a core) for the whole bufferTimeoutMs. Each loop waits the longer of the two, and
 * never past its own deadline. The workers' links pace the same way (src/workers/cluster-view.ts).
 */
import { reconnectDelayMs, type ReconnectSettings } from '../shared/backoff.js';

interface Failures {
  /** Failed attempts in a row. */
  count: number;
  /** When the last one ended (Date.now()). */
  endedAt: number;
}

export class ReconnectPacing {
  readonly #settings: ReconnectSettings;
  readonly #random: () => number;
  readonly #failures = new Map<string, Failures>();

  constructor(settings: ReconnectSettings, random: () => number = Math.random) {
    this.#settings = settings;
    this.#random = random;
  }

  /**
   * The pause still to wait, in ms, before connecting again to the target that waits longest: 0 when no target's
   * last attempt failed. A loop that failed for want of a connection waits at least this before its next attempt.
   */
  delay(now = Date.now()): number {
    let longest = 0;
    for (const failures of this.#failures.values()) {
      longest = Math.max(longest, reconnectDelayMs(failures.count, this.#settings, this.#random) - (now - failures.endedAt));
    }
    return longest;
  }

  /** An attempt at `key` failed: the next one waits longer. */
  failed(key: string): void {
    const failures = this.#failures.get(key);
    if (failures === undefined) this.#failures.set(key, { count: 1, endedAt: Date.now() });
    else {
      failures.count++;
      failures.endedAt = Date.now();
    }
  }

  /** A connection to `key` served answers: the next failure starts from the first pause again. */
  succeeded(key: string): void {
    this.#failures.delete(key);
  }
}
