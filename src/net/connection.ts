/**
 * One Kafka connection: a TCP (or TLS) socket, the ApiVersions handshake, and pipelined request/response
 * exchanges matched by correlation id.
 *
 * Life of a request: encoded at once into one frame (request-codec.ts, so a bad request fails its caller, not the
 * connection) → queued FIFO while `maxInFlight` requests await answers (write-queue.ts) → written → answered in
 * order (in-flight.ts, response-reader.ts). Setting the connection up is connection-setup.ts. Rules kept together:
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
import type { FinalizedFeature, VersionRange } from '../protocol/apis/api-versions.js';
import { ConnectionError, RequestNotSentError, UnsupportedVersionError, type KafkaProducerError } from '../shared/errors.js';
import { BrokerVersions } from './broker-versions.js';
import { checkConnectionOptions, type ConnectionOptions, type RequestOptions, type SendOptions } from './connection-options.js';
import { openConnectionSocket, setUp, setupDeadline } from './connection-setup.js';
import { Exchange, abortError } from './exchange.js';
import { InFlight } from './in-flight.js';
import { SaslAuthenticate } from '../protocol/apis/sasl-authenticate.js';
import { RequestEncoder } from './request-codec.js';
import { ResponseReader } from './response-reader.js';
import { SessionRenewal } from './session-renewal.js';
import { tlsFailure } from './tls-errors.js';
import { WriteQueue } from './write-queue.js';

export type { ConnectionOptions, RequestOptions, SendOptions } from './connection-options.js';

export class Connection {
  readonly host: string;
  readonly port: number;
  /** Resolves (never rejects) with the reason once the connection is closed and its socket is gone. */
  readonly closed: Promise<KafkaProducerError>;

  readonly #socket: net.Socket;
  readonly #address: string;
  readonly #encoder: RequestEncoder;
  /** Written requests awaiting answers, and their timeout. */
  readonly #inFlight: InFlight;
  /** Requests not written yet, and the writing. */
  readonly #writes: WriteQueue;
  readonly #reader: ResponseReader;
  #nextCorrelationId = 0;
  #failure: KafkaProducerError | undefined;
  /** From the handshake: the broker's version ranges and features, and the versions negotiated from them. */
  #versions = new BrokerVersions();
  /** With SASL: re-authentication before the session's lifetime ends (KIP-368). */
  readonly #renewal: SessionRenewal | undefined;
  /** How many of the answers read were the handshake's. */
  #answersAtHandshake = Infinity;

  private constructor(socket: net.Socket, options: ConnectionOptions) {
    this.host = options.host;
    this.port = options.port;
    this.#socket = socket;
    this.#address = `${options.host}:${options.port}`;
    this.#encoder = new RequestEncoder(options.clientId);
    this.#inFlight = new InFlight(this.#address, options.requestTimeoutMs, (reason) => this.#fail(reason));
    this.#renewal = options.sasl === undefined ? undefined : new SessionRenewal({
      address: this.#address,
      isClosed: () => this.isClosed,
      // The answers are in, and then no throttle holds the connection (one may come with the last answer).
      whenIdle: () => this.#inFlight.whenEmpty().then(() => this.#writes.whenUnthrottled()),
      requestNow: (api, request, version) => this.#requestNow(api, request, version),
      saslAuthenticateVersion: () => this.versionFor(SaslAuthenticate),
      resume: () => this.#writes.pump(),
      fail: (reason) => this.#fail(reason),
    }, options.sasl);
    this.#writes = new WriteQueue(
      socket, this.#address, this.#inFlight, options.maxInFlight, this.#renewal, options.requestTimeoutMs, (reason) => this.#fail(reason),
    );
    this.#reader = new ResponseReader(this.#address, this.#inFlight, this.#writes, (reason) => this.#fail(reason));
    let resolveClosed!: (reason: KafkaProducerError) => void;
    this.closed = new Promise((resolve) => (resolveClosed = resolve));

    socket.setNoDelay(true);
    socket.on('data', this.#reader.onData);
    socket.on('error', (error) => {
      // TLS 1.3 reports a refused client certificate after the handshake, at the first read.
      this.#fail(
        tlsFailure(error, this.#address) ??
          new ConnectionError(`connection to ${this.#address} failed: ${error.message}`, { cause: error }),
      );
    });
    // allowHalfOpen is off, so Node ends our side too; fail now rather than wait for 'close'.
    socket.on('end', () => this.#fail(new ConnectionError(`connection to ${this.#address} closed by the broker${this.#saslHint(options)}`)));
    socket.on('close', () => {
      this.#fail(new ConnectionError(`connection to ${this.#address} closed`));
      resolveClosed(this.#failure!);
    });
  }

  /**
   * Opens the socket and performs the ApiVersions handshake: ApiVersions v4 first; on UNSUPPORTED_VERSION (in
   * v0 format, KIP-511) once more at the broker's own maximum; then, with `sasl`, authenticates. Rejects with
   * ConnectionError, RequestTimeoutError, UnsupportedVersionError, BrokerError, AuthenticationError (SASL refused,
   * TLS verification failed) or AbortError (ERR_ABORTED); nothing is left open then (connection-setup.ts).
   */
  static async connect(options: ConnectionOptions): Promise<Connection> {
    checkConnectionOptions(options);
    const deadline = setupDeadline(options);
    const connection = new Connection(await openConnectionSocket(options, deadline), options);
    await setUp({
      request: (api, request, version) => connection.request(api, request, { version }),
      learnt: (versions) => (connection.#versions = versions),
      authenticated: (lifetimeMs) => connection.#renewal!.start(lifetimeMs),
      ready: () => (connection.#answersAtHandshake = connection.#reader.answers),
      answered: () => connection.#reader.answers > 0,
      fail: (reason) => connection.#fail(reason),
    }, options, deadline);
    return connection;
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

  /** Why the connection ended, once it has (what `closed` resolves with). */
  get failure(): KafkaProducerError | undefined {
    return this.#failure;
  }

  /** Written requests awaiting their answers (aborted ones included: they hold their slot until answered). */
  get inFlight(): number {
    return this.#inFlight.length;
  }

  /**
   * A SASL listener answers ApiVersions before authentication and hangs up at the first other request: without the
   * sasl option, that was a bare "closed by the broker" after bufferTimeoutMs, with nothing pointing at the option.
   */
  #saslHint(options: ConnectionOptions): string {
    const handshakeDone = this.#answersAtHandshake !== Infinity;
    if (options.sasl !== undefined || !handshakeDone || this.proven) return '';
    return ' before answering its first request after the handshake; if it is a SASL_PLAINTEXT or SASL_SSL listener, set the sasl option';
  }

  /** Requests and sends waiting for a free slot. */
  get queued(): number {
    return this.#writes.length;
  }

  /**
   * True once a request after the handshake got a well-formed answer. A broker that completes the handshake and
   * then sends garbage is not healthy: whoever reconnects to it should back off rather than retry at once.
   */
  get proven(): boolean {
    return this.#reader.answers > this.#answersAtHandshake;
  }

  /** The broker's supported versions by API key, from the handshake. */
  get brokerVersions(): ReadonlyMap<number, VersionRange> {
    return this.#versions.ranges;
  }

  /** The ApiVersions version the handshake succeeded with. */
  get apiVersionsVersion(): number {
    return this.#versions.handshakeVersion;
  }

  /** The cluster's finalized features (KIP-584) as this broker reported them in the handshake. */
  get finalizedFeatures(): ReadonlyMap<string, FinalizedFeature> {
    return this.#versions.features;
  }

  /** The epoch of `finalizedFeatures`; -1 when the broker sent none. The highest epoch seen is the freshest. */
  get finalizedFeaturesEpoch(): bigint {
    return this.#versions.featuresEpoch;
  }

  /**
   * The finalized max level of one feature, 0 when the broker did not list it: Kafka treats an absent feature as
   * level 0. E.g. `transaction.version` >= 2 is what makes the Java client use transaction protocol v2
   * (`TransactionManager.maybeUpdateTransactionV2Enabled`).
   */
  finalizedFeature(name: string): number {
    return this.#versions.finalizedFeature(name);
  }

  /**
   * The version to send `api` at: the highest both sides speak, and at most `maxVersion` when given. Throws
   * UnsupportedVersionError when no version is left.
   */
  versionFor(api: ApiDefinition<unknown, unknown>, maxVersion?: number): number {
    return this.#versions.versionFor(api, maxVersion);
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
    const promise = exchange.settlement<Res>();
    if (signal !== undefined) exchange.listen(signal);
    this.#writes.enqueue(exchange);
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
    const promise = exchange.settlement<void>();
    this.#writes.enqueue(exchange);
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
    const version = requestedVersion ?? this.#versions.versionFor(api, maxVersion);
    if (!Number.isInteger(version) || version < api.minVersion || version > api.maxVersion) {
      throw new UnsupportedVersionError(
        `${api.name} v${version} is outside the versions ringkafka speaks (${api.minVersion}–${api.maxVersion})`,
      );
    }
    const correlationId = this.#nextCorrelationId;
    this.#nextCorrelationId = (correlationId + 1) & 0x7fffffff;
    const frame = this.#encoder.encode(api, version, correlationId, request, sizeHint);
    return new Exchange(api, version, correlationId, frame, expectsResponse, this.#onAbort);
  }

  readonly #onAbort = (exchange: Exchange, reason: unknown): void => {
    if (exchange.released) return;
    // Removed from the queue, it was never sent; written, it keeps its in-flight slot until its answer arrives.
    exchange.fail(abortError(`${exchange.api.name} request`, this.#writes.remove(exchange) ? 'not-sent' : 'unknown', reason));
  };

  /** Writes a request at once, ahead of the queue (re-authentication only). */
  #requestNow<Req, Res>(api: ApiDefinition<Req, Res>, request: Req, version: number): Promise<Res> {
    let exchange: Exchange;
    try {
      exchange = this.#prepare(api, request, { version }, true);
    } catch (error) {
      return Promise.reject(error);
    }
    const promise = exchange.settlement<Res>();
    this.#writes.write(exchange);
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
    this.#inFlight.stopTimer();
    this.#renewal?.stop();
    this.#reader.stop();
    this.#socket.destroy();
    const notSent = new RequestNotSentError(
      reason instanceof ConnectionError ? reason.message : `connection to ${this.#address} closed before the request was sent`,
      { cause: reason },
    );
    this.#inFlight.failAll(reason);
    this.#writes.failAll(reason, notSent);
  }
}
