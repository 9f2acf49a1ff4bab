/**
 * Connection attempts after an authentication failure. Wrong credentials fail the same way every time, so after
 * an AuthenticationError new attempts fail at once with that same error until a backoff has passed (doubling per
 * failure, as Java's reconnect.backoff.ms → reconnect.backoff.max.ms), rather than open a socket per waiting send.
 * A success clears it. One gate per thread's set of connections: the main thread's registry, each worker's view.
 */
import { backoffMs } from '../shared/backoff.js';
import { AuthenticationError } from '../shared/producer-errors.js';
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
   * a SASL refusal for any broker; with `address`, that broker's own TLS failure too.
   */
  refusing(address?: string): AuthenticationError | undefined {
    const now = Date.now();
    if (this.#failure !== undefined && now < this.#retryAt) return this.#failure;
    const broker = address === undefined ? undefined : this.#brokers.get(address);
    return broker !== undefined && now < broker.retryAt ? broker.failure : undefined;
  }

  /** Throws the last AuthenticationError (for `address`) while its backoff lasts. */
  check(address?: string): void {
    const refusal = this.refusing(address);
    if (refusal !== undefined) throw refusal;
  }

  /** Records the outcome of an attempt at `address`; only authentication failures close the gate. */
  failed(error: unknown, address?: string): void {
    if (!(error instanceof AuthenticationError)) return;
    const delay = (failures: number): number => backoffMs(failures, { retryBackoffMs: this.#baseMs, retryBackoffMaxMs: this.#maxMs });
    if (isBrokerTlsFailure(error) && address !== undefined) {
      const known = this.#brokers.get(address);
      const failures = known?.failures ?? 0;
      this.#brokers.set(address, { failure: error, failures: failures + 1, retryAt: Date.now() + delay(failures) });
      return;
    }
    this.#failure = error;
    this.#retryAt = Date.now() + delay(this.#failures);
    this.#failures++;
  }

  succeeded(address?: string): void {
    this.#failure = undefined;
    this.#failures = 0;
    if (address !== undefined) this.#brokers.delete(address);
  }
}
