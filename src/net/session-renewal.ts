/**
 * Re-authentication of one connection (KIP-368). When SASL authentication gave the session a lifetime, the
 * connection authenticates again on the same socket at a random point between 85 % and 95 % of it, as Java's client
 * does: for OAUTHBEARER the current token is fetched first, while requests still flow; then new requests wait in the
 * connection's queue, the answers in flight are awaited, SaslHandshake + SaslAuthenticate run with the same
 * mechanism, the new lifetime is recorded, and the queue resumes. A failed re-authentication fails the connection
 * like any other error (AuthenticationError when the broker refused). The timer is unref'd: it never keeps a process
 * alive. Every connection re-authenticates, an idle one too (one exchange per session); if it cannot, the broker
 * closes it and its owner opens a new one on next use, as after any failure.
 */
import { ConnectionError, KafkaProducerError } from '../shared/errors.js';
import { MAX_TIMER_MS } from '../shared/timers.js';
import type { Requester } from './handshake.js';
import { saslAuthenticate, withCurrentToken, type SaslCredentials } from './sasl.js';

const REAUTH_AT_MIN = 0.85;
const REAUTH_AT_MAX = 0.95;

/** What a renewal needs of its connection. */
export interface RenewalHost {
  readonly address: string;
  /** True once the connection failed or closed: a renewal under way stops at its next step. */
  isClosed(): boolean;
  /**
   * Resolves once no request is in flight and no throttle holds the connection (KIP-219), or once the connection
   * fails. Called with the queue paused.
   */
  whenIdle(): Promise<void>;
  /** Writes a request at once, ahead of the paused queue. */
  readonly requestNow: Requester;
  /** The SaslAuthenticate version both sides speak. */
  saslAuthenticateVersion(): number;
  /** Ends the pause: the queued requests are written. */
  resume(): void;
  fail(reason: KafkaProducerError): void;
}

export class SessionRenewal {
  readonly #host: RenewalHost;
  readonly #sasl: SaslCredentials;
  /** Armed while a session with a lifetime is open and no renewal runs; unref'd. */
  #timer: NodeJS.Timeout | undefined;
  /** True from when a renewal stops writing requests until it ends: new requests wait in the queue. */
  #pausing = false;
  /** ms the session lasts from the last authentication, 0 for no limit. */
  lifetimeMs = 0;
  /** Renewals completed. */
  count = 0;

  constructor(host: RenewalHost, sasl: SaslCredentials) {
    this.#host = host;
    this.#sasl = sasl;
  }

  /** True while a renewal holds new requests in the queue (waiting for answers, or authenticating). */
  get pausing(): boolean {
    return this.#pausing;
  }

  /** Records a new session's lifetime and, when it has one, arms the timer. */
  start(lifetimeMs: number): void {
    this.lifetimeMs = lifetimeMs > 0 ? lifetimeMs : 0;
    if (this.lifetimeMs === 0 || this.#host.isClosed()) return;
    const at = REAUTH_AT_MIN + Math.random() * (REAUTH_AT_MAX - REAUTH_AT_MIN);
    // A session longer than Node's timer limit (about 24.8 days) is renewed that early.
    const delay = Math.min(MAX_TIMER_MS, Math.max(1, Math.floor(lifetimeMs * at)));
    this.#timer = setTimeout(this.#onTimer, delay);
    this.#timer.unref();
  }

  /** The connection is down: no renewal is started any more. */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    if (this.#host.isClosed()) return;
    this.#renew().catch((error: unknown) => {
      this.#host.fail(
        error instanceof KafkaProducerError
          ? error
          : new ConnectionError(`re-authentication with ${this.#host.address} failed`, { cause: error }),
      );
    });
  };

  /**
   * One renewal. Every await is followed by a check of the connection: a close or an error meanwhile has already
   * settled every caller, and the exchange simply stops. The SASL requests bypass the queue (it holds the callers'
   * requests until the session is renewed); nothing else is in flight then, so they have the free slots.
   */
  async #renew(): Promise<void> {
    const host = this.#host;
    const credentials = await withCurrentToken(this.#sasl);
    if (host.isClosed()) return;
    this.#pausing = true;
    await host.whenIdle();
    if (host.isClosed()) return;
    const session = await saslAuthenticate(host.requestNow, credentials, host.saslAuthenticateVersion(), host.address);
    if (host.isClosed()) return;
    this.count++;
    this.#pausing = false;
    this.start(session.sessionLifetimeMs);
    host.resume();
  }
}
