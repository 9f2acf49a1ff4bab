/**
 * A worker's OAUTHBEARER tokens. The provider is a function on the main thread and cannot come here, so the
 * worker asks over its port when it has no live token, and the main thread also pushes each refreshed token. Every
 * waiter is settled: by the next token, by the main thread's error, or by close.
 */
import type { MessagePort } from 'node:worker_threads';
import { AuthenticationError } from '../shared/producer-errors.js';
import { ConnectionError } from '../shared/errors.js';
import type { TokenMessage, TokenRequest } from '../shared/worker-protocol.js';
import type { OAuthBearerToken } from '../net/sasl.js';

interface Waiter {
  resolve(token: OAuthBearerToken): void;
  reject(error: Error): void;
}

export class WorkerTokens {
  readonly #port: MessagePort;
  #token: { value: string; expiresAt: number } | undefined;
  #waiters: Waiter[] = [];
  #closed = false;

  constructor(port: MessagePort) {
    this.#port = port;
  }

  /** A token that is still valid, asking the main thread for one when needed. */
  get(): Promise<OAuthBearerToken> {
    if (this.#closed) return Promise.reject(new ConnectionError('the producer is closing'));
    const token = this.#token;
    if (token !== undefined && Date.now() < token.expiresAt) {
      return Promise.resolve({ value: token.value, lifetimeMs: token.expiresAt - Date.now() });
    }
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      if (this.#waiters.length === 1) this.#port.postMessage({ type: 'token-request' } satisfies TokenRequest);
    });
  }

  onMessage(message: TokenMessage): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    if (message.type === 'token') {
      this.#token = { value: message.value, expiresAt: message.expiresAt };
      for (const waiter of waiters) waiter.resolve({ value: message.value, lifetimeMs: message.expiresAt - Date.now() });
    } else {
      for (const waiter of waiters) waiter.reject(new AuthenticationError(message.message));
    }
  }

  close(): void {
    this.#closed = true;
    const error = new ConnectionError('the producer is closing');
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
  }
}
