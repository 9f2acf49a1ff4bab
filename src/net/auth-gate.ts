/**
 * Connection attempts after an authentication failure. Wrong credentials fail the same way every time, so after
 * an AuthenticationError new attempts fail at once with that same error until a backoff has passed (doubling per
 * failure, as Java's reconnect.backoff.ms → reconnect.backoff.max.ms), rather than open a socket per waiting send.
 * A success clears it. One gate per thread's set of connections: the main thread's registry, each worker's view.
 */
import { backoffMs } from '../shared/backoff.js';
import { AuthenticationError } from '../shared/producer-errors.js';
import { keyOf, type BrokerAddress } from './address-order.js';
import { isBrokerTlsFailure } from './tls-errors.js';

const MIN_BACKOFF_MS = 100;
const MIN_MAX_BACKOFF_MS = 1000;

interface Refusal {
  failure: AuthenticationError;
  failures: number;
  retryAt: number;
}

/**
 * A refused SASL login holds for every broker (the same credentials), but a TLS failure (tls-errors.ts) is one
 * broker's certificate or settings: it is kept per address, so that it never refuses a connection to another broker.
 */
export class AuthGate {
  readonly #baseMs: number;
  readonly #maxMs: number;
  #failure: AuthenticationError | undefined;
  #failures = 0;
  #retryAt = 0;
  readonly #brokers = new Map<string, Refusal>();

  constructor(backoffMs: number, backoffMaxMs: number) {
    this.#baseMs = Math.max(MIN_BACKOFF_MS, backoffMs);
    this.#maxMs = Math.max(MIN_MAX_BACKOFF_MS, backoffMaxMs, this.#baseMs);
  }

  /** The last authentication failure, until a connection succeeds. */
  get failure(): AuthenticationError | undefined {
    return this.#failure;
  }

  /**
   * The last AuthenticationError while its backoff lasts (a new attempt would fail with it at once), else undefined:
   * a SASL refusal for any broker; with `broker`, that broker's own TLS failure too.
   */
  refusing(broker?: BrokerAddress): AuthenticationError | undefined {
    const now = Date.now();
    if (this.#failure !== undefined && now < this.#retryAt) return this.#failure;
    const refusal = broker === undefined ? undefined : this.#brokers.get(keyOf(broker));
    return refusal !== undefined && now < refusal.retryAt ? refusal.failure : undefined;
  }

  /** Throws the last AuthenticationError (for `broker`) while its backoff lasts. */
  check(broker?: BrokerAddress): void {
    const refusal = this.refusing(broker);
    if (refusal !== undefined) throw refusal;
  }

  /** Records the outcome of an attempt at `broker`; only authentication failures close the gate. */
  failed(error: unknown, broker?: BrokerAddress): void {
    if (!(error instanceof AuthenticationError)) return;
    if (isBrokerTlsFailure(error) && broker !== undefined) {
      const key = keyOf(broker);
      const failures = this.#brokers.get(key)?.failures ?? 0;
      this.#brokers.set(key, { failure: error, failures: failures + 1, retryAt: Date.now() + this.#backoff(failures) });
      return;
    }
    this.#failure = error;
    this.#retryAt = Date.now() + this.#backoff(this.#failures);
    this.#failures++;
  }

  succeeded(broker?: BrokerAddress): void {
    this.#failure = undefined;
    this.#failures = 0;
    if (broker !== undefined) this.#brokers.delete(keyOf(broker));
  }

  #backoff(failures: number): number {
    return backoffMs(failures, { retryBackoffMs: this.#baseMs, retryBackoffMaxMs: this.#maxMs });
  }
}
