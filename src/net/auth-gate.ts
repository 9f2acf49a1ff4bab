/**
 * Connection attempts after an authentication failure. Wrong credentials fail the same way every time, so after
 * an AuthenticationError new attempts fail at once with that same error until a backoff has passed (doubling per
 * failure, as Java's reconnect.backoff.ms → reconnect.backoff.max.ms), rather than open a socket per waiting send.
 * A success clears it. One gate per thread's set of connections: the main thread's registry, each worker's view.
 */
import { backoffMs } from '../shared/backoff.js';
import { AuthenticationError } from '../shared/producer-errors.js';

const MIN_BACKOFF_MS = 100;
const MIN_MAX_BACKOFF_MS = 1000;

export class AuthGate {
  readonly #baseMs: number;
  readonly #maxMs: number;
  #failure: AuthenticationError | undefined;
  #failures = 0;
  #retryAt = 0;

  constructor(backoffMs: number, backoffMaxMs: number) {
    this.#baseMs = Math.max(MIN_BACKOFF_MS, backoffMs);
    this.#maxMs = Math.max(MIN_MAX_BACKOFF_MS, backoffMaxMs, this.#baseMs);
  }

  /** The last authentication failure, until a connection succeeds. */
  get failure(): AuthenticationError | undefined {
    return this.#failure;
  }

  /** The last AuthenticationError while its backoff lasts (a new attempt would fail with it at once), else undefined. */
  get refusing(): AuthenticationError | undefined {
    return this.#failure !== undefined && Date.now() < this.#retryAt ? this.#failure : undefined;
  }

  /** Throws the last AuthenticationError while its backoff lasts. */
  check(): void {
    const refusal = this.refusing;
    if (refusal !== undefined) throw refusal;
  }

  /** Records the outcome of an attempt; only authentication failures close the gate. */
  failed(error: unknown): void {
    if (!(error instanceof AuthenticationError)) return;
    this.#failure = error;
    this.#retryAt = Date.now() + backoffMs(this.#failures, { retryBackoffMs: this.#baseMs, retryBackoffMaxMs: this.#maxMs });
    this.#failures++;
  }

  succeeded(): void {
    this.#failure = undefined;
    this.#failures = 0;
  }
}
