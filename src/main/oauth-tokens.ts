/**
 * The main thread's OAUTHBEARER tokens: the user's provider is called when there is no live token, and again
 * before the current one expires (at 80 % of its lifetime, as Java's login refresh defaults to), so the workers
 * are handed a fresh token before they need it. Concurrent callers share one provider call, which is bounded by
 * `timeoutMs`. The refresh timer is unref'd and cleared on close.
 */
import type { OAuthBearerToken } from '../net/sasl.js';
import { AuthenticationError } from '../shared/producer-errors.js';
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
  #refreshAt = 0;
  #pending: Promise<LiveToken> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(provider: () => Promise<OAuthBearerToken> | OAuthBearerToken, timeoutMs: number) {
    this.#provider = provider;
    this.#timeoutMs = timeoutMs;
  }

  /** Called with every token obtained by a refresh (not with the ones `get` callers receive). */
  onRefresh(listener: (token: LiveToken) => void): void {
    this.#listeners.add(listener);
  }

  /**
   * A token that is not due for refresh, or a fresh one. When the provider fails, the current token while it has
   * not expired (as Java keeps its login's token); AuthenticationError when there is none.
   */
  get(): Promise<LiveToken> {
    const current = this.#current;
    if (current === undefined) return this.#fetch();
    if (Date.now() < this.#refreshAt) return Promise.resolve(current);
    // Rejected here, a provider outage in the last fifth of a token's life failed new connections and every
    // re-authentication, while the token they would have sent was still good.
    return this.#fetch().catch((error: unknown) => {
      if (Date.now() < current.expiresAt) return current;
      throw error;
    });
  }

  #fetch(): Promise<LiveToken> {
    this.#pending ??= this.#call().finally(() => (this.#pending = undefined));
    return this.#pending;
  }

  async #call(): Promise<LiveToken> {
    let timer: NodeJS.Timeout | undefined;
    let token: OAuthBearerToken;
    try {
      token = await Promise.race([
        Promise.resolve().then(() => this.#provider()),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(TIMED_OUT), this.#timeoutMs);
        }),
      ]);
    } catch (error) {
      // The provider's message may quote anything (a token, a secret): only its type is reported.
      const what = error === TIMED_OUT
        ? `gave no token within ${this.#timeoutMs} ms`
        : `threw ${error instanceof Error ? error.name : typeof error}`;
      throw new AuthenticationError(`the OAUTHBEARER token provider ${what}`);
    } finally {
      clearTimeout(timer);
    }
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
      this.#fetch().then(
        (token) => {
          for (const listener of this.#listeners) listener(token);
        },
        // A failed refresh leaves the current token in use until it expires, and is tried again: the workers are
        // handed only what a refresh brings, so without another try they would keep the old token to its end.
        () => {
          const left = (this.#current?.expiresAt ?? 0) - Date.now();
          if (left > 0) this.#schedule(Math.max(100, Math.min(REFRESH_RETRY_MS, left / 2)));
        },
      );
    }, delayMs);
    this.#timer.unref();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
