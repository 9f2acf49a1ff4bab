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
 *   unwritten, so it keeps its in-flight slot until its answer arrives, which is then dropped (invariant 5, docs/invariants.md).
 * - Re-authentication (KIP-368, session-renewal.ts): when SASL authentication gave the session a lifetime, the
 *   connection authenticates again on the same socket before it ends, holding new requests in the queue meanwhile.
 */
import type net from 'node:net';
import type { ApiDefinition } from '../protocol/api.js';
import { negotiateVersion, type FinalizedFeature, type VersionRange } from '../protocol/apis/api-versions.js';
import { readResponseHeaderRest, writeRequestHeader } from '../protocol/headers.js';
import { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';
import {
  ConnectionError,
  KafkaProducerError,
  ProtocolError,
  RequestTimeoutError,
  RequestNotSentError,
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
import { untilAborted } from '../shared/until-aborted.js';
import { FrameDecoder } from './frame-decoder.js';
import { apiVersionsHandshake } from './handshake.js';
import { SaslAuthenticate } from '../protocol/apis/sasl-authenticate.js';
import { saslAuthenticate } from './sasl.js';
import { SessionRenewal } from './session-renewal.js';
import { openSocket, whenOpen } from './socket.js';
import { tlsFailure } from './tls-errors.js';

export type { ConnectionOptions, RequestOptions, SendOptions } from './connection-options.js';

const DEFAULT_BODY_CAPACITY = 256;
/** Re-authentication starts at a random point of the session lifetime in [MIN, MAX) (Java's 85 %–95 %). */

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
  #features: ReadonlyMap<string, FinalizedFeature> = new Map();
  #featuresEpoch = -1n;
  readonly #versions = new Map<number, number>();
  #handshakeVersion = -1;
  /** With SASL: re-authentication before the session's lifetime ends (KIP-368). */
  readonly #renewal: SessionRenewal | undefined;
  /** Set while a re-authentication waits for the answers in flight; called when none is left or the connection fails. */
  #drained: (() => void) | undefined;
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
    this.#renewal = options.sasl === undefined ? undefined : new SessionRenewal({
      address: this.#address,
      isClosed: () => this.isClosed,
      whenIdle: () => (this.#inFlight.length === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.#drained = () => {
        this.#drained = undefined;
        resolve();
      }))),
      requestNow: (api, request, version) => this.#requestNow(api, request, version),
      saslAuthenticateVersion: () => this.versionFor(SaslAuthenticate),
      resume: () => this.#pump(),
      fail: (reason) => this.#fail(reason),
    }, options.sasl);
    let resolveClosed!: (reason: KafkaProducerError) => void;
    this.closed = new Promise((resolve) => (resolveClosed = resolve));

    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('error', (error) => {
      // TLS 1.3 reports a refused client certificate after the handshake, at the first read.
      this.#fail(
        tlsFailure(error, this.#address) ??
          new ConnectionError(`connection to ${this.#address} failed: ${error.message}`, { cause: error }),
      );
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
   * v0 format, KIP-511) once more at the broker's own maximum; then, with `sasl`, authenticates. Rejects with
   * ConnectionError, RequestTimeoutError, UnsupportedVersionError, BrokerError, AuthenticationError (SASL refused,
   * TLS verification failed) or AbortError (ERR_ABORTED); nothing is left open then.
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
    // Abort fails the whole connection, so the handshake's requests reject with this same error; and the wait ends
    // at once even where no request is out (the OAUTHBEARER token provider, SCRAM's key derivation), which the
    // connection's failure alone would not interrupt.
    let aborted: KafkaProducerError | undefined;
    const onAbort = (): void => {
      aborted = abortError(`connecting to ${address}`, 'not-sent', signal?.reason);
      connection.#fail(aborted);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    // Aborted while the socket opened, after whenOpen looked.
    if (signal?.aborted) onAbort();
    try {
      await untilAborted(connection.#handshake(options.sasl, address), signal, `connecting to ${address}`);
      return connection;
    } catch (error) {
      let failure =
        aborted ?? (error instanceof KafkaProducerError ? error : new ConnectionError(`handshake with ${address} failed`, { cause: error }));
      // A TLS listener reached without TLS answers our ApiVersions with a TLS alert (no Kafka frame) or hangs up;
      // one that answered a request is a Kafka listener, whatever went wrong after.
      if (!secure && connection.#answers === 0 && (failure instanceof ProtocolError || (failure instanceof ConnectionError && /closed/.test(failure.message)))) {
        failure = new ConnectionError(
          `${failure.message} during the ApiVersions handshake; if ${address} is a TLS (SSL or SASL_SSL) listener, set the tls option`,
          { cause: failure },
        );
      }
      connection.#fail(failure);
      throw failure;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** ApiVersions, then SASL when configured: what `connect` does on the open socket. */
  async #handshake(sasl: ConnectionOptions['sasl'], address: string): Promise<void> {
    const handshake = await apiVersionsHandshake((api, request, version) => this.request(api, request, { version }), address);
    this.#ranges = handshake.ranges;
    this.#features = handshake.finalizedFeatures;
    this.#featuresEpoch = handshake.finalizedFeaturesEpoch;
    this.#handshakeVersion = handshake.version;
    if (sasl !== undefined) {
      const session = await saslAuthenticate(
        (api, request, version) => this.request(api, request, { version }),
        sasl,
        this.versionFor(SaslAuthenticate),
        address,
      );
      this.#renewal!.start(session.sessionLifetimeMs);
    }
    this.#answersAtHandshake = this.#answers;
  }

  /**
   * Lets the process exit while this connection is open. The main thread's metadata connection is unref'd: an
   * idle producer must not keep a process alive; pending sends keep it alive through the producer's own timer.
   */
  unref(): this {
    this.#socket.unref();
    return this;
  }

  /** From the last SASL authentication (KIP-368): ms the session lasts from then, 0 for no limit. */
  get sessionLifetimeMs(): number {
    return this.#renewal?.lifetimeMs ?? 0;
  }

  /** Successful re-authentications of this connection (KIP-368). */
  get reauthentications(): number {
    return this.#renewal?.count ?? 0;
  }

  /** True while a re-authentication holds new requests in the queue (waiting for answers, or authenticating). */
  get reauthenticating(): boolean {
    return this.#renewal?.pausing === true;
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

  /** The cluster's finalized features (KIP-584) as this broker reported them in the handshake. */
  get finalizedFeatures(): ReadonlyMap<string, FinalizedFeature> {
    return this.#features;
  }

  /** The epoch of `finalizedFeatures`; -1 when the broker sent none. The highest epoch seen is the freshest. */
  get finalizedFeaturesEpoch(): bigint {
    return this.#featuresEpoch;
  }

  /**
   * The finalized max level of one feature, 0 when the broker did not list it: Kafka treats an absent feature as
   * level 0. E.g. `transaction.version` >= 2 is what makes the Java client use transaction protocol v2
   * (`TransactionManager.maybeUpdateTransactionV2Enabled`).
   */
  finalizedFeature(name: string): number {
    return this.#features.get(name)?.maxVersion ?? 0;
  }

  /**
   * The version to send `api` at: the highest both sides speak, and at most `maxVersion` when given. Throws
   * UnsupportedVersionError when no version is left.
   */
  versionFor(api: ApiDefinition<unknown, unknown>, maxVersion?: number): number {
    let version = this.#versions.get(api.key);
    if (version === undefined) {
      version = negotiateVersion(api, this.#ranges);
      this.#versions.set(api.key, version);
    }
    if (maxVersion === undefined || version <= maxVersion) return version;
    // Not cached: the cap belongs to this call, not to the connection.
    return negotiateVersion({ ...api, maxVersion: Math.min(api.maxVersion, maxVersion) }, this.#ranges);
  }

  /** Sends a request and resolves with its decoded answer. */
  request<Req, Res>(api: ApiDefinition<Req, Res>, request: Req, options: RequestOptions = {}): Promise<Res> {
    const { signal } = options;
    let exchange: Exchange;
    try {
      if (signal?.aborted) throw abortError(`${api.name} request`, 'not-sent', signal.reason);
      exchange = this.#prepare(api, request, options, true);
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
      exchange = this.#prepare(api, request, options, false);
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
    { version: requestedVersion, maxVersion, sizeHint }: SendOptions,
    expectsResponse: boolean,
  ): Exchange {
    if (this.#failure !== undefined) {
      throw new RequestNotSentError(`connection to ${this.#address} is closed`, { cause: this.#failure });
    }
    const version = requestedVersion ?? this.versionFor(api, maxVersion);
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
    return new Exchange(api, version, correlationId, writer.chunks(), expectsResponse, this.#onAbort);
  }

  #enqueue(exchange: Exchange): void {
    if (
      !this.reauthenticating &&
      this.#queue.length === 0 &&
      (!exchange.expectsResponse || this.#inFlight.length < this.#maxInFlight)
    ) {
      this.#write(exchange);
    } else {
      this.#queue.push(exchange);
    }
  }

  /** Writes queued exchanges, in order, while slots are free. */
  #pump(): void {
    while (this.#failure === undefined && !this.reauthenticating) {
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
      this.#writeChunks(frame, undefined);
      if (this.#timer === undefined) this.#armTimer(this.#requestTimeoutMs);
    } else {
      this.#unflushed.add(exchange);
      this.#writeChunks(frame, (error) => this.#flushed(exchange, error));
    }
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
    if (this.#inFlight.length === 0) {
      this.#clearTimer();
      this.#drained?.();
    }
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

  /** Writes a request at once, ahead of the queue (re-authentication only). */
  #requestNow<Req, Res>(api: ApiDefinition<Req, Res>, request: Req, version: number): Promise<Res> {
    let exchange: Exchange;
    try {
      exchange = this.#prepare(api, request, { version }, true);
    } catch (error) {
      return Promise.reject(error);
    }
    const promise = new Promise<Res>((resolve, reject) => {
      exchange.resolve = resolve as (value: unknown) => void;
      exchange.reject = reject;
    });
    this.#write(exchange);
    return promise;
  }

  /**
   * The one way down: records the first reason, clears the timer, destroys the socket and settles everything.
   * Written requests get `reason`; queued ones, never sent, get a RequestNotSentError (safe to send elsewhere, and
   * not ambiguous: reported as written, a Produce that never left was retried past its delivery timeout).
   */
  #fail(reason: KafkaProducerError): void {
    if (this.#failure !== undefined) return;
    this.#failure = reason;
    this.#clearTimer();
    this.#renewal?.stop();
    this.#drained?.();
    this.#decoder.destroy();
    this.#socket.destroy();
    const notSent = new RequestNotSentError(
      reason instanceof ConnectionError ? reason.message : `connection to ${this.#address} closed before the request was sent`,
      { cause: reason },
    );
    for (const exchange of this.#inFlight.splice(0)) exchange.fail(reason);
    for (const exchange of this.#unflushed) exchange.fail(reason);
    this.#unflushed.clear();
    for (const exchange of this.#queue.splice(0)) exchange.fail(notSent);
  }
}
