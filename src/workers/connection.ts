/**
 * One Kafka connection: a TCP (or TLS) socket, the ApiVersions handshake, and pipelined request/response
 * exchanges matched by correlation id.
 *
 * Life of a request: encoded at once into one frame (so a bad request fails its caller, not the connection) →
 * queued FIFO while `maxInFlight` requests await answers → written → answered in order. Rules kept here:
 * - Nothing waits forever: a socket error, a close, a timeout or a corrupt stream settles every queued, written
 *   and unflushed exchange, clears the timer and destroys the socket; `closed` resolves once the socket is gone.
 * - A request timeout closes the connection: the broker may still answer later, so the position of the next
 *   answer in the stream is no longer known.
 * - An answer whose correlation id is not the oldest one in flight means the stream cannot be trusted: every
 *   pending exchange fails with ProtocolError and the connection closes.
 * - Abort releases the caller at once. A queued request is removed (it was never sent); a written one cannot be
 *   unwritten, so it keeps its in-flight slot until its answer arrives, which is then dropped (DESIGN.md inv. 5).
 */
import type net from 'node:net';
import type { ApiDefinition } from '../protocol/api.js';
import { negotiateVersion, type VersionRange } from '../protocol/apis/api-versions.js';
import { readResponseHeaderRest, writeRequestHeader } from '../protocol/headers.js';
import { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';
import {
  ConnectionError,
  KafkaProducerError,
  ProtocolError,
  RequestTimeoutError,
  UnsupportedVersionError,
} from '../shared/errors.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  checkConnectionOptions,
  type ConnectionOptions,
  type RequestOptions,
  type SendOptions,
} from './connection-options.js';
import { Exchange, abortError } from './exchange.js';
import { FrameDecoder } from './frame-decoder.js';
import { apiVersionsHandshake } from './handshake.js';
import { openSocket, whenOpen } from './socket.js';

export type { ConnectionOptions, RequestOptions, SendOptions } from './connection-options.js';

const DEFAULT_BODY_CAPACITY = 256;

export class Connection {
  readonly host: string;
  readonly port: number;
  /** Resolves (never rejects) with the reason once the connection is closed and its socket is gone. */
  readonly closed: Promise<KafkaProducerError>;

  readonly #socket: net.Socket;
  readonly #address: string;
  readonly #clientId: string | null;
  readonly #requestTimeoutMs: number;
  readonly #maxInFlight: number;
  /** Bytes of size prefix and request header, so a frame buffer is sized once. */
  readonly #headerBytes: number;
  readonly #decoder: FrameDecoder;
  /** Written requests awaiting answers, in write order (= the order the broker answers in). */
  readonly #inFlight: Exchange[] = [];
  /** Not yet written, FIFO; acks=0 sends wait here too, so frames leave in call order. */
  readonly #queue: Exchange[] = [];
  /** acks=0 sends handed to the socket whose write has not completed. */
  readonly #unflushed = new Set<Exchange>();
  #nextCorrelationId = 0;
  /** Armed exactly while requests are in flight; fires at (or after) the oldest one's deadline. */
  #timer: NodeJS.Timeout | undefined;
  #failure: KafkaProducerError | undefined;
  #ranges: ReadonlyMap<number, VersionRange> = new Map();
  readonly #versions = new Map<number, number>();
  #handshakeVersion = -1;
  /** Answers decoded without error; `#answersAtHandshake` of them were the handshake's. */
  #answers = 0;
  #answersAtHandshake = Infinity;

  private constructor(socket: net.Socket, options: ConnectionOptions) {
    this.host = options.host;
    this.port = options.port;
    this.#socket = socket;
    this.#address = `${options.host}:${options.port}`;
    this.#clientId = options.clientId;
    this.#requestTimeoutMs = options.requestTimeoutMs;
    this.#maxInFlight = options.maxInFlight;
    this.#headerBytes = 4 + 10 + (options.clientId === null ? 0 : Buffer.byteLength(options.clientId)) + 1;
    this.#decoder = new FrameDecoder(this.#onFrame);
    let resolveClosed!: (reason: KafkaProducerError) => void;
    this.closed = new Promise((resolve) => (resolveClosed = resolve));

    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('error', (error) => {
      this.#fail(new ConnectionError(`connection to ${this.#address} failed: ${error.message}`, { cause: error }));
    });
    // allowHalfOpen is off, so Node ends our side too; fail now rather than wait for 'close'.
    socket.on('end', () => this.#fail(new ConnectionError(`connection to ${this.#address} closed by the broker`)));
    socket.on('close', () => {
      this.#fail(new ConnectionError(`connection to ${this.#address} closed`));
      resolveClosed(this.#failure!);
    });
  }

  /**
   * Opens the socket and performs the ApiVersions handshake: ApiVersions v4 first; on UNSUPPORTED_VERSION (in
   * v0 format, KIP-511) once more at the broker's own maximum. Rejects with ConnectionError, RequestTimeoutError,
   * UnsupportedVersionError, BrokerError or AbortError (ERR_ABORTED); nothing is left open then.
   */
  static async connect(options: ConnectionOptions): Promise<Connection> {
    checkConnectionOptions(options);
    const { host, port, signal } = options;
    const address = `${host}:${port}`;
    if (signal?.aborted) throw abortError(`connecting to ${address}`, 'not-sent', signal.reason);
    const socket = openSocket(options);
    const secure = options.tls !== undefined;
    await whenOpen(socket, address, secure, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, signal);
    const connection = new Connection(socket, options);
    // Abort fails the whole connection; the handshake requests then reject with this same error.
    const onAbort = (): void => connection.#fail(abortError(`connecting to ${address}`, 'not-sent', signal?.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const handshake = await apiVersionsHandshake(
        (api, request, version) => connection.request(api, request, { version }),
        address,
      );
      connection.#ranges = handshake.ranges;
      connection.#handshakeVersion = handshake.version;
      connection.#answersAtHandshake = connection.#answers;
      return connection;
    } catch (error) {
      connection.#fail(
        error instanceof KafkaProducerError ? error : new ConnectionError(`handshake with ${address} failed`, { cause: error }),
      );
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Lets the process exit while this connection is open. The main thread's metadata connection is unref'd: an
   * idle producer must not keep a process alive; pending sends keep it alive through the producer's own timer.
   */
  unref(): this {
    this.#socket.unref();
    return this;
  }

  /** True once the connection failed or was closed: every later request rejects at once. */
  get isClosed(): boolean {
    return this.#failure !== undefined;
  }

  /** Written requests awaiting their answers (aborted ones included: they hold their slot until answered). */
  get inFlight(): number {
    return this.#inFlight.length;
  }

  /** Requests and sends waiting for a free slot. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * True once a request after the handshake got a well-formed answer. A broker that completes the handshake and
   * then sends garbage is not healthy: whoever reconnects to it should back off rather than retry at once.
   */
  get proven(): boolean {
    return this.#answers > this.#answersAtHandshake;
  }

  /** The broker's supported versions by API key, from the handshake. */
  get brokerVersions(): ReadonlyMap<number, VersionRange> {
    return this.#ranges;
  }

  /** The ApiVersions version the handshake succeeded with. */
  get apiVersionsVersion(): number {
    return this.#handshakeVersion;
  }

  /** The version to send `api` at: the highest both sides speak. Throws UnsupportedVersionError. */
  versionFor(api: ApiDefinition<unknown, unknown>): number {
    let version = this.#versions.get(api.key);
    if (version === undefined) {
      version = negotiateVersion(api, this.#ranges);
      this.#versions.set(api.key, version);
    }
    return version;
  }

  /** Sends a request and resolves with its decoded answer. */
  request<Req, Res>(api: ApiDefinition<Req, Res>, request: Req, options: RequestOptions = {}): Promise<Res> {
    const { signal } = options;
    let exchange: Exchange;
    try {
      if (signal?.aborted) throw abortError(`${api.name} request`, 'not-sent', signal.reason);
      exchange = this.#prepare(api, request, options.version, options.sizeHint, true);
    } catch (error) {
      return Promise.reject(error);
    }
    const promise = new Promise<Res>((resolve, reject) => {
      exchange.resolve = resolve as (value: unknown) => void;
      exchange.reject = reject;
    });
    if (signal !== undefined) exchange.listen(signal);
    this.#enqueue(exchange);
    return promise;
  }

  /**
   * Writes a request that gets no answer (Produce with acks=0): no correlation id is registered. Resolves when
   * the frame has been handed to the operating system, in call order with the requests around it.
   */
  send<Req>(api: ApiDefinition<Req, unknown>, request: Req, options: SendOptions = {}): Promise<void> {
    let exchange: Exchange;
    try {
      exchange = this.#prepare(api, request, options.version, options.sizeHint, false);
    } catch (error) {
      return Promise.reject(error);
    }
    const promise = new Promise<void>((resolve, reject) => {
      exchange.resolve = resolve as (value: unknown) => void;
      exchange.reject = reject;
    });
    this.#enqueue(exchange);
    return promise;
  }

  /**
   * Closes the connection (idempotent): queued and written requests reject with ConnectionError and the socket
   * is destroyed at once (nothing still unwritten belongs to a caller who is waiting). Resolves once closed.
   */
  async close(): Promise<void> {
    this.#fail(new ConnectionError(`connection to ${this.#address} closed by the client`));
    await this.closed;
  }

  #prepare(
    api: ApiDefinition<unknown, unknown>,
    request: unknown,
    requestedVersion: number | undefined,
    sizeHint: number | undefined,
    expectsResponse: boolean,
  ): Exchange {
    if (this.#failure !== undefined) {
      throw new ConnectionError(`connection to ${this.#address} is closed`, { cause: this.#failure });
    }
    const version = requestedVersion ?? this.versionFor(api);
    if (!Number.isInteger(version) || version < api.minVersion || version > api.maxVersion) {
      throw new UnsupportedVersionError(
        `${api.name} v${version} is outside the versions ringkafka speaks (${api.minVersion}–${api.maxVersion})`,
      );
    }
    const correlationId = this.#nextCorrelationId;
    this.#nextCorrelationId = (correlationId + 1) & 0x7fffffff;
    // One buffer per frame: size placeholder, header and body in one writer, then the size patched in place.
    const writer = new Writer(this.#headerBytes + (sizeHint ?? DEFAULT_BODY_CAPACITY));
    writer.int32(0);
    writeRequestHeader(writer, api, version, correlationId, this.#clientId);
    api.encodeRequest(writer, version, request);
    writer.patchInt32(0, writer.length - 4);
    return new Exchange(api, version, correlationId, writer.finish(), expectsResponse, this.#onAbort);
  }

  #enqueue(exchange: Exchange): void {
    if (this.#queue.length === 0 && (!exchange.expectsResponse || this.#inFlight.length < this.#maxInFlight)) {
      this.#write(exchange);
    } else {
      this.#queue.push(exchange);
    }
  }

  /** Writes queued exchanges, in order, while slots are free. */
  #pump(): void {
    while (this.#failure === undefined) {
      const next = this.#queue[0];
      if (next === undefined || (next.expectsResponse && this.#inFlight.length >= this.#maxInFlight)) return;
      this.#queue.shift();
      this.#write(next);
    }
  }

  #write(exchange: Exchange): void {
    const frame = exchange.takeFrame();
    if (exchange.expectsResponse) {
      exchange.deadline = performance.now() + this.#requestTimeoutMs;
      this.#inFlight.push(exchange);
      this.#socket.write(frame);
      if (this.#timer === undefined) this.#armTimer(this.#requestTimeoutMs);
    } else {
      this.#unflushed.add(exchange);
      this.#socket.write(frame, (error) => this.#flushed(exchange, error));
    }
  }

  #flushed(exchange: Exchange, error: Error | null | undefined): void {
    if (!this.#unflushed.delete(exchange)) return; // already failed with the connection
    if (error) {
      exchange.fail(new ConnectionError(`write to ${this.#address} failed: ${error.message}`, { cause: error }));
    } else {
      exchange.succeed(undefined);
    }
  }

  readonly #onData = (chunk: Buffer): void => {
    try {
      this.#decoder.push(chunk);
    } catch (error) {
      this.#fail(error instanceof KafkaProducerError ? error : new ProtocolError('bad frame', { cause: error }));
    }
  };

  readonly #onFrame = (frame: Buffer): void => {
    if (this.#failure !== undefined) return;
    if (frame.length < 4) {
      this.#fail(new ProtocolError(`response frame of ${frame.length} bytes from ${this.#address} has no correlation id`));
      return;
    }
    const correlationId = frame.readInt32BE(0);
    const exchange = this.#inFlight[0];
    if (exchange === undefined || exchange.correlationId !== correlationId) {
      this.#fail(
        new ProtocolError(
          exchange === undefined
            ? `response with correlation id ${correlationId} from ${this.#address}, but nothing is in flight`
            : `response with correlation id ${correlationId} from ${this.#address}, expected ` +
                `${exchange.correlationId} (${exchange.api.name}): the stream cannot be trusted`,
        ),
      );
      return;
    }
    this.#inFlight.shift();
    if (this.#inFlight.length === 0) this.#clearTimer();
    if (!exchange.released) this.#settle(exchange, frame);
    this.#pump();
  };

  /**
   * Decodes an answer for its caller. A body that does not decode fails its request with ProtocolError and
   * closes the connection: the frame boundaries held, but a broker that sends a malformed body cannot be trusted
   * with the requests behind it, and the caller retries it like a network error, on a fresh connection.
   */
  #settle(exchange: Exchange, frame: Buffer): void {
    let response: unknown;
    try {
      const reader = new Reader(frame, 4);
      readResponseHeaderRest(reader, exchange.api, exchange.version);
      response = exchange.api.decodeResponse(reader, exchange.version);
    } catch (error) {
      const reason =
        error instanceof ProtocolError
          ? error
          : new ProtocolError(`cannot decode ${exchange.api.name} v${exchange.version} response`, { cause: error });
      exchange.fail(reason);
      this.#fail(reason);
      return;
    }
    this.#answers++;
    exchange.succeed(response);
  }

  #armTimer(delayMs: number): void {
    this.#timer = setTimeout(this.#onTimer, Math.max(1, Math.ceil(delayMs)));
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * All requests share one timeout and are written in order, so the oldest in flight has the earliest deadline:
   * one timer suffices. It is not moved on every answer; when it fires for an answered request, it is re-armed
   * for the current oldest.
   */
  readonly #onTimer = (): void => {
    this.#timer = undefined;
    const oldest = this.#inFlight[0];
    if (oldest === undefined || this.#failure !== undefined) return;
    const left = oldest.deadline - performance.now();
    if (left > 0) {
      this.#armTimer(left);
      return;
    }
    const timeout = new RequestTimeoutError(
      `${oldest.api.name} request (correlation id ${oldest.correlationId}) got no answer from ${this.#address} ` +
        `within ${this.#requestTimeoutMs} ms`,
    );
    oldest.fail(timeout);
    this.#fail(new ConnectionError(`connection to ${this.#address} closed after a request timed out`, { cause: timeout }));
  };

  readonly #onAbort = (exchange: Exchange, reason: unknown): void => {
    if (exchange.released) return;
    const index = this.#queue.indexOf(exchange);
    if (index >= 0) {
      this.#queue.splice(index, 1);
      exchange.fail(abortError(`${exchange.api.name} request`, 'not-sent', reason));
    } else {
      exchange.fail(abortError(`${exchange.api.name} request`, 'unknown', reason));
    }
  };

  /**
   * The one way down: records the first reason, clears the timer, destroys the socket and settles everything.
   * Written requests get `reason`; queued ones, never sent, get a ConnectionError (safe to send elsewhere).
   */
  #fail(reason: KafkaProducerError): void {
    if (this.#failure !== undefined) return;
    this.#failure = reason;
    this.#clearTimer();
    this.#decoder.destroy();
    this.#socket.destroy();
    const notSent =
      reason instanceof ConnectionError
        ? reason
        : new ConnectionError(`connection to ${this.#address} closed before the request was sent`, { cause: reason });
    for (const exchange of this.#inFlight.splice(0)) exchange.fail(reason);
    for (const exchange of this.#unflushed) exchange.fail(reason);
    this.#unflushed.clear();
    for (const exchange of this.#queue.splice(0)) exchange.fail(notSent);
  }
}
