/**
 * When a thread may connect again where its last attempts failed: the main thread to any bootstrap broker or to a
 * transaction coordinator by address, a worker for its metadata and to each partition leader (ClusterView). Java's
 * reconnect.backoff.ms and reconnect.backoff.max.ms: the first pause after a failure is `reconnectBackoffMs`,
 * doubling per failure in a row up to `reconnectBackoffMaxMs`, ±20 % jitter, drawn once per failure so that every
 * caller sees the same time. A failed attempt counts, and so does a connection that ends before it proved itself
 * (Connection.proven: a broker that completes the handshake and drops every connection after it); one that served
 * answers clears the count.
 *
 * Why apart from the retry backoff of the loops that ask for connections (metadata, InitProducerId, the coordinators):
 * a user may set that to 0 for quick retries of a failed batch, and a cluster out of reach then had the main thread
 * open a connection as fast as each one failed (about 650 a second against a port that reset every connection, 39 %
 * of a core) for the whole bufferTimeoutMs. Every new attempt at a target waits out its pause (attempt), so the
 * loops sharing an attempt (the bootstrap connection's callers) make one per pause; a loop with a deadline reads the
 * pause first, and waits for it only up to that deadline.
 */
import { reconnectDelayMs, type ReconnectSettings } from '../shared/backoff.js';
import { pause } from '../shared/pause.js';
import type { Connection } from './connection.js';

interface Failures {
  /** Failed attempts in a row. */
  count: number;
  /** Why the last one failed, and when it was booked. */
  reason: string;
  at: number;
  /** When the next attempt may start (Date.now() scale). */
  retryAt: number;
}

export class ReconnectPacing {
  readonly #settings: ReconnectSettings;
  readonly #random: () => number;
  readonly #failures = new Map<string, Failures>();
  /** Connections `attempt` opened whose end is not booked yet, with their target. */
  readonly #open = new Map<Connection, string>();

  constructor(settings: ReconnectSettings, random: () => number = Math.random) {
    this.#settings = settings;
    this.#random = random;
  }

  /** The pause left, in ms, before a new attempt at `key` may start: 0 when its last did not fail, or it is over. */
  delay(key: string, now = Date.now()): number {
    this.#bookEnded();
    return Math.max(0, (this.#failures.get(key)?.retryAt ?? 0) - now);
  }

  /**
   * Waits out the pause before a new attempt at `key`, if any. Rejects with `closed()` once any of `signals` aborts:
   * the owner's close, or a caller's own signal, ends the pause, so no timer outlives them.
   */
  async #before(key: string, signals: readonly (AbortSignal | undefined)[], closed: () => Error): Promise<void> {
    const delay = this.delay(key);
    if (delay <= 0) return;
    const given = signals.filter((signal) => signal !== undefined);
    await pause(delay, given.length === 1 ? given[0]! : AbortSignal.any(given), closed);
  }

  /**
   * Opens a connection to `key` by `connect` once its pause is over (#before), and books how the attempt, and later
   * the connection, ended.
   */
  async attempt(
    key: string, signals: readonly (AbortSignal | undefined)[], closed: () => Error, connect: () => Promise<Connection>,
  ): Promise<Connection> {
    await this.#before(key, signals, closed);
    const startedAt = Date.now();
    let connection: Connection;
    try {
      connection = await connect();
    } catch (error) {
      this.failed(key, error instanceof Error ? error.message : String(error), startedAt);
      throw error;
    }
    this.#open.set(connection, key);
    void connection.closed.then(() => this.#bookEnded());
    return connection;
  }

  /**
   * Its owner closes `connection` on purpose (its broker moved to another address, or left the cluster): how it ends
   * says nothing of the target, and is not booked. Booked, the close of a connection that had served no answer yet
   * counted as a failure, and the first connection to the broker's new address waited out a pause.
   */
  release(connection: Connection): void {
    this.#open.delete(connection);
  }

  /**
   * Books the end of every connection that has closed since. Also called before a delay is read: a request fails
   * as its connection fails, before the socket's 'close' that resolves `closed`, and a loop reads the delay at once.
   */
  #bookEnded(): void {
    for (const [connection, key] of this.#open) {
      if (!connection.isClosed) continue;
      this.#open.delete(connection);
      if (connection.proven) this.succeeded(key);
      else this.failed(key, connection.failure?.message ?? 'the connection ended before it served an answer');
    }
  }

  /**
   * An attempt at `key` failed, or its connection ended before it proved itself: the next attempt waits longer. An
   * attempt that started (`startedAt`, when given) no later than the last failure was booked ran beside it (two
   * coordinators on one broker): its failure is the same outage, and does not double the pause again.
   */
  failed(key: string, reason = 'the attempt failed', startedAt = Infinity): void {
    const failures = this.#failures.get(key) ?? { count: 0, reason, at: -Infinity, retryAt: 0 };
    failures.reason = reason;
    if (startedAt <= failures.at) return;
    failures.at = Date.now();
    failures.count++;
    failures.retryAt = Date.now() + reconnectDelayMs(failures.count, this.#settings, this.#random);
    this.#failures.set(key, failures);
  }

  /** Why the last attempt at `key` failed, while a failure is counted. */
  lastFailure(key: string): string | undefined {
    return this.#failures.get(key)?.reason;
  }

  /** A connection to `key` served answers: the next failure starts from the first pause again. */
  succeeded(key: string): void {
    this.#failures.delete(key);
  }
}
