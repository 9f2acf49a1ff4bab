/**
 * The requests of a connection that were written and await their answers, in write order, which is the order the
 * broker answers in: an answer belongs to the oldest, and one whose correlation id is not the oldest's means the
 * stream cannot be trusted. With them, the request timeout: all requests share it and are written in order, so the
 * oldest has the earliest deadline and one timer suffices. It is armed exactly while requests are in flight, and not
 * moved on every answer: when it fires for an answered request, it is re-armed for the current oldest. A timeout
 * closes the connection, since the broker may still answer later and where the next answer starts in the stream is
 * no longer known. On the produce path: methods only, nothing allocated per request.
 */
import { ConnectionError, ProtocolError, RequestTimeoutError, type KafkaProducerError } from '../shared/errors.js';
import type { Exchange } from './exchange.js';

export class InFlight {
  readonly #address: string;
  readonly #timeoutMs: number;
  /** Fails the connection (a request timed out). */
  readonly #fail: (reason: KafkaProducerError) => void;
  /** Written requests awaiting answers, in write order (= the order the broker answers in). */
  readonly #exchanges: Exchange[] = [];
  /** Armed exactly while requests are in flight; fires at (or after) the oldest one's deadline. */
  #timer: NodeJS.Timeout | undefined;
  /** Set while a re-authentication waits for the answers in flight; called when none is left or the connection fails. */
  #emptied: (() => void) | undefined;

  constructor(address: string, timeoutMs: number, fail: (reason: KafkaProducerError) => void) {
    this.#address = address;
    this.#timeoutMs = timeoutMs;
    this.#fail = fail;
  }

  /** Written requests awaiting their answers (aborted ones included: they hold their slot until answered). */
  get length(): number {
    return this.#exchanges.length;
  }

  /** A request is being written: its answer is due within the timeout. */
  add(exchange: Exchange): void {
    exchange.deadline = performance.now() + this.#timeoutMs;
    this.#exchanges.push(exchange);
    if (this.#timer === undefined) this.#arm(this.#timeoutMs);
  }

  /** The oldest request, now answered, if `correlationId` is its own; undefined otherwise (see `mismatch`). */
  take(correlationId: number): Exchange | undefined {
    const exchange = this.#exchanges[0];
    if (exchange === undefined || exchange.correlationId !== correlationId) return undefined;
    this.#exchanges.shift();
    if (this.#exchanges.length === 0) {
      this.stopTimer();
      this.#emptied?.();
    }
    return exchange;
  }

  /** Resolves once no request is in flight, or once the connection fails (failAll). */
  whenEmpty(): Promise<void> {
    return this.#exchanges.length === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.#emptied = () => {
      this.#emptied = undefined;
      resolve();
    }));
  }

  /** Why an answer with `correlationId` that `take` refused cannot be trusted. */
  mismatch(correlationId: number): ProtocolError {
    const exchange = this.#exchanges[0];
    return new ProtocolError(
      exchange === undefined
        ? `response with correlation id ${correlationId} from ${this.#address}, but nothing is in flight`
        : `response with correlation id ${correlationId} from ${this.#address}, expected ` +
            `${exchange.correlationId} (${exchange.api.name}): the stream cannot be trusted`,
    );
  }

  stopTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The connection is down: whoever waits for none to be in flight is released, and every one fails with `reason`. */
  failAll(reason: KafkaProducerError): void {
    this.#emptied?.();
    for (const exchange of this.#exchanges.splice(0)) exchange.fail(reason);
  }

  #arm(delayMs: number): void {
    this.#timer = setTimeout(this.#onTimer, Math.max(1, Math.ceil(delayMs)));
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    // Nothing is in flight once the connection failed (failAll).
    const oldest = this.#exchanges[0];
    if (oldest === undefined) return;
    const left = oldest.deadline - performance.now();
    if (left > 0) {
      this.#arm(left);
      return;
    }
    const timeout = new RequestTimeoutError(
      `${oldest.api.name} request (correlation id ${oldest.correlationId}) got no answer from ${this.#address} ` +
        `within ${this.#timeoutMs} ms`,
    );
    oldest.fail(timeout);
    this.#fail(new ConnectionError(`connection to ${this.#address} closed after a request timed out`, { cause: timeout }));
  };
}
