/**
 * The requests of a connection not written yet, and the writing. Frames leave in call order: a request waits in the
 * queue while `maxInFlight` requests await answers, while a re-authentication holds writing (session-renewal.ts) or
 * while the broker throttles the connection (KIP-219: after an answer with throttle_time_ms, of a version from which
 * the client waits, the broker reads nothing from it until then; Java's NetworkClient does not send to a throttled
 * node either), and acks=0 sends, which get no answer and take no slot, wait behind it rather than overtake it.
 * Those sends are settled once the socket has flushed them, and are due within the request timeout like a request's
 * answer: a broker that stops reading (its TCP window shut) left them pending, and the sink, which counts them in
 * flight, sent nothing more to it until close (Java's NetworkClient times out a send that has not finished too). On
 * the produce path: methods only, nothing allocated per request beyond an acks=0 send's flush callback.
 */
import type net from 'node:net';
import { ConnectionError, RequestTimeoutError, type KafkaProducerError } from '../shared/errors.js';
import type { Exchange } from './exchange.js';
import type { InFlight } from './in-flight.js';
import type { SessionRenewal } from './session-renewal.js';

export class WriteQueue {
  readonly #socket: net.Socket;
  readonly #address: string;
  readonly #inFlight: InFlight;
  readonly #maxInFlight: number;
  /** With SASL: holds new requests in the queue while a re-authentication runs. */
  readonly #renewal: SessionRenewal | undefined;
  /** Not yet written, FIFO; acks=0 sends wait here too, so frames leave in call order. */
  readonly #queue: Exchange[] = [];
  /** acks=0 sends handed to the socket whose write has not completed, in write order (= the order they flush in). */
  readonly #unflushed = new Set<Exchange>();
  /** Set once the connection failed: nothing is written any more. */
  #closed = false;
  readonly #timeoutMs: number;
  /** Fails the connection (an acks=0 send was not flushed in time). */
  readonly #fail: (reason: KafkaProducerError) => void;
  /** Armed while acks=0 sends wait to be flushed; fires at (or after) the oldest one's deadline. */
  #flushTimer: NodeJS.Timeout | undefined;
  /**
   * performance.now() until which the broker throttles this connection (KIP-219): nothing is written before it; 0
   * once seen over. Monotonic: a wall clock stepped back must not lengthen the hold past its cap.
   */
  #heldUntil = 0;
  /**
   * Armed while something waits for the throttle to end (a queued request, a re-authentication), never while
   * nothing does. Not unref'd: a held request keeps the process alive as one awaiting its answer does (the in-flight
   * timer), also on an unref'd connection, or the process could exit with its caller's promise never settled.
   */
  #holdTimer: NodeJS.Timeout | undefined;
  /** Re-authentications waiting for the throttle to end before they write (`whenUnthrottled`). */
  #unthrottled: (() => void)[] = [];

  constructor(
    socket: net.Socket, address: string, inFlight: InFlight, maxInFlight: number, renewal: SessionRenewal | undefined,
    timeoutMs: number, fail: (reason: KafkaProducerError) => void,
  ) {
    this.#socket = socket;
    this.#address = address;
    this.#inFlight = inFlight;
    this.#maxInFlight = maxInFlight;
    this.#renewal = renewal;
    this.#timeoutMs = timeoutMs;
    this.#fail = fail;
  }

  /** Requests and sends waiting for a free slot. */
  get length(): number {
    return this.#queue.length;
  }

  /** Writes `exchange` now if nothing is ahead of it and a slot is free; else queues it. */
  enqueue(exchange: Exchange): void {
    if (
      this.#renewal?.pausing !== true &&
      this.#queue.length === 0 &&
      (!exchange.expectsResponse || this.#inFlight.length < this.#maxInFlight) &&
      !this.#isHeld()
    ) {
      this.write(exchange);
    } else {
      this.#queue.push(exchange);
      if (this.#isHeld()) this.#armHoldTimer();
    }
  }

  /** Writes queued exchanges, in order, while slots are free. */
  pump(): void {
    while (!this.#closed && this.#renewal?.pausing !== true) {
      const next = this.#queue[0];
      if (next === undefined || (next.expectsResponse && this.#inFlight.length >= this.#maxInFlight)) return;
      if (this.#isHeld()) {
        this.#armHoldTimer();
        return;
      }
      this.#queue.shift();
      this.write(next);
    }
  }

  /**
   * The broker throttled this connection for `ms` from now (an answer's throttle_time_ms): what is enqueued until
   * then waits in the queue. A shorter throttle than the one running changes nothing. The hold lasts at most the
   * request timeout: a broker bounds a request quota's throttle by its quota window (1 s by default); a longer one
   * comes with a produce quota, which the worker's sink waits out in full on its own, with a controller mutation
   * quota (CreateTopics, DeleteTopics: the producer sends neither), or from a corrupted answer, which must not
   * silence a connection for days (24 days fit in throttle_time_ms). A broker still muted when the hold ends reads
   * the request later, or it times out and the connection is replaced.
   */
  holdFor(ms: number): void {
    const until = performance.now() + Math.min(ms, this.#timeoutMs);
    if (until > this.#heldUntil) this.#heldUntil = until; // never earlier: a shorter throttle does not end a longer one
  }

  /**
   * Resolves once no throttle holds the connection, or once it fails. A re-authentication waits for it before it
   * writes its SASL requests, which bypass the queue: the broker would not read them, and a throttle longer than
   * the request timeout timed them out and failed the connection (Java re-authenticates only when it next sends to
   * the node, which it does not while the node is throttled).
   */
  whenUnthrottled(): Promise<void> {
    if (this.#closed || !this.#isHeld()) return Promise.resolve();
    return new Promise((resolve) => {
      this.#unthrottled.push(resolve);
      this.#armHoldTimer();
    });
  }

  /** Writes `exchange` at once, ahead of the queue (the queue's own writes, and re-authentication's requests). */
  write(exchange: Exchange): void {
    const frame = exchange.takeFrame();
    if (exchange.expectsResponse) {
      this.#inFlight.add(exchange);
      this.#writeChunks(frame, undefined);
    } else {
      exchange.deadline = performance.now() + this.#timeoutMs;
      this.#unflushed.add(exchange);
      this.#flushTimer ??= this.#armFlushTimer(this.#timeoutMs);
      this.#writeChunks(frame, (error) => this.#flushed(exchange, error));
    }
  }

  /** Takes `exchange` out of the queue; false when it is not there (it was written, or settled). */
  remove(exchange: Exchange): boolean {
    const index = this.#queue.indexOf(exchange);
    if (index < 0) return false;
    this.#queue.splice(index, 1);
    // Nothing left to wait for the throttle: its timer would keep the process alive for no one.
    if (this.#queue.length === 0 && this.#unthrottled.length === 0) {
      clearTimeout(this.#holdTimer);
      this.#holdTimer = undefined;
    }
    return true;
  }

  /** The connection is down: sends not flushed yet fail with `reason`, queued requests (never sent) with `notSent`. */
  failAll(reason: KafkaProducerError, notSent: KafkaProducerError): void {
    this.#closed = true;
    clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
    for (const resolve of this.#unthrottled.splice(0)) resolve();
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    for (const exchange of this.#unflushed) exchange.fail(reason);
    this.#unflushed.clear();
    for (const exchange of this.#queue.splice(0)) exchange.fail(notSent);
  }

  /**
   * Writes a frame's pieces back to back; several go out corked, as one writev. `onFlushed` follows the last piece
   * (a stream calls back in order, and every pending callback with the error when it fails).
   */
  #writeChunks(chunks: Uint8Array[], onFlushed: ((error: Error | null | undefined) => void) | undefined): void {
    const socket = this.#socket;
    const last = chunks.length - 1;
    if (last > 0) socket.cork();
    for (let i = 0; i < last; i++) socket.write(chunks[i]!);
    socket.write(chunks[last]!, onFlushed);
    if (last > 0) socket.uncork();
  }

  /** True while the broker throttles the connection; clears the hold once it is over. */
  #isHeld(): boolean {
    if (this.#heldUntil === 0) return false;
    if (performance.now() < this.#heldUntil) return true;
    this.#heldUntil = 0;
    return false;
  }

  #armHoldTimer(): void {
    if (this.#holdTimer !== undefined) return;
    this.#holdTimer = setTimeout(this.#onHoldTimer, Math.max(1, Math.ceil(this.#heldUntil - performance.now())));
  }

  readonly #onHoldTimer = (): void => {
    this.#holdTimer = undefined;
    if (this.#closed) return;
    // Early by performance.now() (timers run on the loop's cached clock), or the hold grew meanwhile: wait the rest.
    if (this.#isHeld()) {
      this.#armHoldTimer();
      return;
    }
    for (const resolve of this.#unthrottled.splice(0)) resolve();
    this.pump();
  };

  #flushed(exchange: Exchange, error: Error | null | undefined): void {
    if (!this.#unflushed.delete(exchange)) return; // already failed with the connection
    if (this.#unflushed.size === 0) {
      clearTimeout(this.#flushTimer);
      this.#flushTimer = undefined;
    }
    if (error) {
      exchange.fail(new ConnectionError(`write to ${this.#address} failed: ${error.message}`, { cause: error }));
    } else {
      exchange.succeed(undefined);
    }
  }

  #armFlushTimer(delayMs: number): NodeJS.Timeout {
    return setTimeout(this.#onFlushTimer, Math.max(1, Math.ceil(delayMs)));
  }

  readonly #onFlushTimer = (): void => {
    this.#flushTimer = undefined;
    const oldest = this.#unflushed.values().next().value;
    if (oldest === undefined) return;
    const left = oldest.deadline - performance.now();
    if (left > 0) {
      this.#flushTimer = this.#armFlushTimer(left);
      return;
    }
    const timeout = new RequestTimeoutError(
      `${oldest.api.name} send (acks=0, correlation id ${oldest.correlationId}) not taken by ${this.#address} within ` +
        `${this.#timeoutMs} ms`,
    );
    this.#fail(new ConnectionError(`connection to ${this.#address} closed after a send was not flushed in time`, { cause: timeout }));
  };
}
