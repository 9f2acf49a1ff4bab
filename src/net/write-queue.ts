/**
 * The requests of a connection not written yet, and the writing. Frames leave in call order: a request waits in the
 * queue while `maxInFlight` requests await answers or while a re-authentication holds writing (session-renewal.ts),
 * and acks=0 sends, which get no answer and take no slot, wait behind it rather than overtake it. Those sends are
 * settled once the socket has flushed them. On the produce path: methods only, nothing allocated per request beyond
 * an acks=0 send's flush callback.
 */
import type net from 'node:net';
import { ConnectionError, type KafkaProducerError } from '../shared/errors.js';
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
  /** acks=0 sends handed to the socket whose write has not completed. */
  readonly #unflushed = new Set<Exchange>();
  /** Set once the connection failed: nothing is written any more. */
  #closed = false;

  constructor(socket: net.Socket, address: string, inFlight: InFlight, maxInFlight: number, renewal: SessionRenewal | undefined) {
    this.#socket = socket;
    this.#address = address;
    this.#inFlight = inFlight;
    this.#maxInFlight = maxInFlight;
    this.#renewal = renewal;
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
      (!exchange.expectsResponse || this.#inFlight.length < this.#maxInFlight)
    ) {
      this.write(exchange);
    } else {
      this.#queue.push(exchange);
    }
  }

  /** Writes queued exchanges, in order, while slots are free. */
  pump(): void {
    while (!this.#closed && this.#renewal?.pausing !== true) {
      const next = this.#queue[0];
      if (next === undefined || (next.expectsResponse && this.#inFlight.length >= this.#maxInFlight)) return;
      this.#queue.shift();
      this.write(next);
    }
  }

  /** Writes `exchange` at once, ahead of the queue (the queue's own writes, and re-authentication's requests). */
  write(exchange: Exchange): void {
    const frame = exchange.takeFrame();
    if (exchange.expectsResponse) {
      this.#inFlight.add(exchange);
      this.#writeChunks(frame, undefined);
    } else {
      this.#unflushed.add(exchange);
      this.#writeChunks(frame, (error) => this.#flushed(exchange, error));
    }
  }

  /** Takes `exchange` out of the queue; false when it is not there (it was written, or settled). */
  remove(exchange: Exchange): boolean {
    const index = this.#queue.indexOf(exchange);
    if (index < 0) return false;
    this.#queue.splice(index, 1);
    return true;
  }

  /** The connection is down: sends not flushed yet fail with `reason`, queued requests (never sent) with `notSent`. */
  failAll(reason: KafkaProducerError, notSent: KafkaProducerError): void {
    this.#closed = true;
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

  #flushed(exchange: Exchange, error: Error | null | undefined): void {
    if (!this.#unflushed.delete(exchange)) return; // already failed with the connection
    if (error) {
      exchange.fail(new ConnectionError(`write to ${this.#address} failed: ${error.message}`, { cause: error }));
    } else {
      exchange.succeed(undefined);
    }
  }
}
