/**
 * Reading a connection's answers: the byte stream cut into frames (frame-decoder.ts), each frame matched by its
 * correlation id to the oldest request in flight (in-flight.ts), then decoded for its caller; an answer to a request
 * whose caller gave up is dropped, once read for the throttle it may carry (KIP-219, write-queue.ts). Whatever does
 * not fit (a bad frame, one too short for a correlation id, an answer that is not the oldest request's, a body that
 * does not decode) means the stream cannot be trusted: the connection fails, and its owner retries on a fresh one.
 * On the produce path: nothing allocated per answer but its response.
 */
import { KafkaProducerError, ProtocolError } from '../shared/errors.js';
import type { Exchange } from './exchange.js';
import { FrameDecoder } from './frame-decoder.js';
import type { InFlight } from './in-flight.js';
import { decodeResponse } from './request-codec.js';
import type { WriteQueue } from './write-queue.js';

export class ResponseReader {
  readonly #address: string;
  readonly #inFlight: InFlight;
  /** Each answer frees a slot: queued requests may be written. */
  readonly #writes: WriteQueue;
  readonly #decoder: FrameDecoder;
  /** Fails the connection. */
  readonly #fail: (reason: KafkaProducerError) => void;
  /** Set once the connection failed: nothing more is read. */
  #stopped = false;
  /** Answers decoded without error. */
  answers = 0;

  constructor(address: string, inFlight: InFlight, writes: WriteQueue, fail: (reason: KafkaProducerError) => void) {
    this.#address = address;
    this.#inFlight = inFlight;
    this.#writes = writes;
    this.#decoder = new FrameDecoder(this.#onFrame);
    this.#fail = fail;
  }

  /** The socket's 'data' listener. */
  readonly onData = (chunk: Buffer): void => {
    try {
      this.#decoder.push(chunk);
    } catch (error) {
      this.#fail(error instanceof KafkaProducerError ? error : new ProtocolError('bad frame', { cause: error }));
    }
  };

  /** The connection failed: no frame is delivered any more, not even from the chunk being read. */
  stop(): void {
    this.#stopped = true;
    this.#decoder.destroy();
  }

  readonly #onFrame = (frame: Buffer): void => {
    if (this.#stopped) return;
    if (frame.length < 4) {
      this.#fail(new ProtocolError(`response frame of ${frame.length} bytes from ${this.#address} has no correlation id`));
      return;
    }
    const correlationId = frame.readInt32BE(0);
    const exchange = this.#inFlight.take(correlationId);
    if (exchange === undefined) {
      this.#fail(this.#inFlight.mismatch(correlationId));
      return;
    }
    // An answer its caller gave up on is dropped undecoded, unless it may carry a throttle: the broker mutes the
    // connection all the same.
    if (!exchange.released || mayThrottle(exchange)) this.#settle(exchange, frame);
    this.#writes.pump();
  };

  /**
   * Decodes an answer for its caller (if it still waits) and holds the connection's writes for the throttle it asks
   * for. A body that does not decode fails its request with ProtocolError and closes the connection: the frame
   * boundaries held, but a broker that sends a malformed body cannot be trusted with the requests behind it, and
   * the caller retries it like a network error, on a fresh connection.
   */
  #settle(exchange: Exchange, frame: Buffer): void {
    let response: unknown;
    try {
      response = decodeResponse(exchange.api, exchange.version, frame);
    } catch (error) {
      exchange.fail(error);
      this.#fail(error as ProtocolError);
      return;
    }
    this.answers++;
    const throttleMs = clientThrottleMs(exchange, response);
    if (throttleMs > 0) this.#writes.holdFor(throttleMs);
    exchange.succeed(response);
  }
}

/**
 * How long the broker asked this client to send nothing more on the connection (KIP-219): the answer's
 * throttle_time_ms, when its version is one from which the broker answers at once and then mutes the connection;
 * 0 before that version, where the broker held the answer back itself and waiting again would double the throttle.
 */
function clientThrottleMs(exchange: Exchange, response: unknown): number {
  if (!mayThrottle(exchange)) return 0;
  const ms = (response as { readonly throttleTimeMs?: unknown }).throttleTimeMs;
  return typeof ms === 'number' && ms > 0 ? ms : 0;
}

function mayThrottle(exchange: Exchange): boolean {
  const from = exchange.api.clientThrottlesFrom;
  return from !== undefined && exchange.version >= from;
}
