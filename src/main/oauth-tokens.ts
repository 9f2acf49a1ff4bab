/**
 * The main thread's OAUTHBEARER tokens: the user's provider is called when there is no live token, and again
 * before the current one expires (at 80 % of its lifetime, as Java's login refresh defaults to), so the workers
 * are handed a fresh token before they need it. A refresh runs behind the current token: `get` waits for the
 * provider only when there is no live token. Concurrent callers share one provider call, which is bounded by
 * `timeoutMs`. Both timers are unref'd and cleared on close, which also rejects a `get` still waiting.
 */
import type { OAuthBearerToken } from '../net/sasl.js';
import { AuthenticationError, ProducerClosedError } from '../shared/producer-errors.js';
import { MAX_TIMER_MS } from '../shared/timers.js';

export interface LiveToken {
  readonly value: string;
  /** Epoch ms. */
  readonly expiresAt: number;
}

const REFRESH_AT = 0.8;
/** How soon a refresh that failed is tried again (Java's login refresh backs off up to 10 s). */
const REFRESH_RETRY_MS = 10_000;
const TIMED_OUT = Symbol('timed out');
const DEFAULT_LIFETIME_MS = 60 * 60 * 1000;
/** What a compact JWS (or any bearer token, RFC 6750 b64token) may contain. */
const TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** The `exp` claim of a JWS payload, in epoch ms, if the token is one that has it. */
export function expiryOf(value: string): number | undefined {
  const payload = value.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

export class OAuthTokens {
  readonly #provider: () => Promise<OAuthBearerToken> | OAuthBearerToken;
  readonly #timeoutMs: number;
  readonly #listeners = new Set<(token: LiveToken) => void>();
  #current: LiveToken | undefined;
  /** When the next refresh is due: 80 % of the token's life, or after a failed refresh, its backoff. */
  #refreshAt = 0;
  #pending: Promise<LiveToken> | undefined;
  /** The refresh timer. */
  #timer: NodeJS.Timeout | undefined;
  /** The pending provider call's timeout, and what ends the call early at close. */
  #deadline: NodeJS.Timeout | undefined;
  #stop: ((error: Error) => void) | undefined;
  #closed = false;

  constructor(provider: () => Promise<OAuthBearerToken> | OAuthBearerToken, timeoutMs: number) {
    this.#provider = provider;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Called with every token a refresh obtains while a token was live (a worker without a live token asks for one
   * itself, so the first token and any fetched after an expiry are not handed on here).
   */
  onRefresh(listener: (token: LiveToken) => void): void {
    this.#listeners.add(listener);
  }

  /**
   * The current token while it has not expired (as Java keeps its login's token while a refresh fails), starting
   * the refresh behind it when one is due; else a fresh one, or AuthenticationError when the provider gives none.
   */
  get(): Promise<LiveToken> {
    if (this.#closed) return Promise.reject(closedError());
    const current = this.#current;
    if (current === undefined || Date.now() >= current.expiresAt) return this.#fetch();
    // Waiting on the refresh here held every handshake for up to `timeoutMs` while the provider was slow, though
    // the token it would have sent was good, and failed it if that token expired meanwhile.
    if (Date.now() >= this.#refreshAt) this.#refresh();
    return Promise.resolve(current);
  }

  #fetch(): Promise<LiveToken> {
    this.#pending ??= this.#call().finally(() => (this.#pending = undefined));
    return this.#pending;
  }

  /** Refreshes behind the current token, one provider call at a time; the workers are handed what it brings. */
  #refresh(): void {
    if (this.#pending !== undefined) return;
    this.#fetch().then(
      (token) => {
        for (const listener of this.#listeners) listener(token);
      },
      // A failed refresh leaves the current token in use until it expires, and is tried again after a backoff (by
      // the timer, or a get): the workers are handed only what a refresh brings, so without another try they would
      // keep the old token to its end.
      () => {
        const left = (this.#current?.expiresAt ?? 0) - Date.now();
        if (this.#closed || !(left > 0)) return;
        const retryMs = Math.max(100, Math.min(REFRESH_RETRY_MS, left / 2));
        this.#refreshAt = Date.now() + retryMs;
        this.#schedule(retryMs);
      },
    );
  }

  async #call(): Promise<LiveToken> {
    let token: OAuthBearerToken;
    try {
      token = await Promise.race([
        Promise.resolve().then(() => this.#provider()),
        new Promise<never>((_, reject) => {
          this.#stop = reject;
          // Unref'd: a hung provider must not keep the process alive (whoever waits on a send holds it instead).
          this.#deadline = setTimeout(() => reject(TIMED_OUT), this.#timeoutMs).unref();
        }),
      ]);
    } catch (error) {
      if (error instanceof ProducerClosedError) throw error;
      // The provider's message may quote anything (a token, a secret): only its type is reported.
      const what = error === TIMED_OUT
        ? `gave no token within ${this.#timeoutMs} ms`
        : `threw ${error instanceof Error ? error.name : typeof error}`;
      throw new AuthenticationError(`the OAUTHBEARER token provider ${what}`);
    } finally {
      clearTimeout(this.#deadline);
      this.#deadline = undefined;
      this.#stop = undefined;
    }
    // A token that comes after close is not kept (and schedules no refresh).
    if (this.#closed) throw closedError();
    if (typeof token !== 'object' || token === null || typeof token.value !== 'string' || !TOKEN.test(token.value)) {
      throw new AuthenticationError('the OAUTHBEARER token provider returned no { value } with a bearer token in it');
    }
    const now = Date.now();
    const lifetime =
      typeof token.lifetimeMs === 'number' && token.lifetimeMs > 0 ? token.lifetimeMs : (expiryOf(token.value) ?? now + DEFAULT_LIFETIME_MS) - now;
    const live: LiveToken = { value: token.value, expiresAt: now + lifetime };
    this.#current = live;
    this.#refreshAt = now + lifetime * REFRESH_AT;
    this.#schedule(lifetime * REFRESH_AT);
    return live;
  }

  #schedule(delayMs: number): void {
    clearTimeout(this.#timer);
    if (this.#closed || !(delayMs > 0) || delayMs > MAX_TIMER_MS) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#refresh();
    }, delayMs);
    this.#timer.unref();
  }

  /** Clears both timers and rejects a `get` still waiting on the provider, so that no promise is left pending. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    clearTimeout(this.#deadline);
    this.#deadline = undefined;
    this.#stop?.(closedError());
    this.#stop = undefined;
  }
}

function closedError(): ProducerClosedError {
  return new ProducerClosedError('not-sent', 'the producer is closed');
}
