/**
 * Setting a connection up, before it is handed out: its socket opened (socket.ts), then the ApiVersions handshake
 * (handshake.ts) and, when configured, SASL authentication (sasl.ts), all under the caller's signal and within
 * connectTimeoutMs from the first byte of the attempt. Kept apart from
 * Connection, which is about requests once it is up, because the rules here are about failing well: an abort fails
 * the whole connection at once, so the handshake's requests reject with that same error and a wait with no request
 * out (the OAUTHBEARER token provider, SCRAM's key derivation) ends too; any failure leaves nothing open; and a plain
 * connection that reached a TLS listener says so rather than look like a broker that hung up.
 */
import type net from 'node:net';
import { SaslAuthenticate } from '../protocol/apis/sasl-authenticate.js';
import { ConnectionError, KafkaProducerError } from '../shared/errors.js';
import { untilAborted } from '../shared/until-aborted.js';
import { BrokerVersions } from './broker-versions.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, type ConnectionOptions } from './connection-options.js';
import { abortError } from './exchange.js';
import { apiVersionsHandshake, type Requester } from './handshake.js';
import { saslAuthenticate } from './sasl.js';
import { openSocket, whenOpen } from './socket.js';
import { tlsListenerHint } from './tls-errors.js';

/** What setting up needs of the connection being set up. */
export interface SetupHost {
  /** Sends a request at an explicit version, through the connection's queue. */
  readonly request: Requester;
  /** What ApiVersions learnt: later requests are sent at versions negotiated from it. */
  learnt(versions: BrokerVersions): void;
  /** SASL authenticated the session, which lasts `lifetimeMs` (0: no limit) before it must be renewed. */
  authenticated(lifetimeMs: number): void;
  /** The handshake is over: answers from now on are the broker's to requests of the connection's owner. */
  ready(): void;
  /** Whether any well-formed answer came: then the other end is a Kafka listener, whatever went wrong after. */
  answered(): boolean;
  /** Fails the connection: everything pending is settled and the socket destroyed. */
  fail(reason: KafkaProducerError): void;
}

/** Opens the socket (TLS: completes the TLS handshake) by `deadline` (a Date.now() time); rejects having destroyed it. */
export async function openConnectionSocket(options: ConnectionOptions, deadline: number): Promise<net.Socket> {
  const { host, port, signal } = options;
  const address = `${host}:${port}`;
  if (signal?.aborted) throw abortError(`connecting to ${address}`, 'not-sent', signal.reason);
  const socket = openSocket(options);
  await whenOpen(socket, address, options.tls !== undefined, Math.max(1, deadline - Date.now()), signal);
  return socket;
}

/** When an attempt begun now must be set up by: connectTimeoutMs covers the socket, TLS, ApiVersions and SASL. */
export function setupDeadline(options: ConnectionOptions): number {
  return Date.now() + (options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
}

/**
 * The handshake on the open socket; on failure the connection is failed with the error it rejects with. `deadline`
 * (a Date.now() time) ends the attempt where it is: the handshake's requests were bounded by requestTimeoutMs each,
 * so an address that accepted TCP and never answered (a stopped broker behind a load balancer, a port kept by another
 * service) held a producer's bootstrap for 30 s before the next address was tried, once per thread.
 * connectTimeoutMs bounds the whole setup, as librdkafka's socket.connection.setup.timeout.ms does.
 */
export async function setUp(connection: SetupHost, options: ConnectionOptions, deadline: number): Promise<void> {
  const { host, port, signal } = options;
  const address = `${host}:${port}`;
  let stopped: KafkaProducerError | undefined;
  const onAbort = (): void => {
    stopped = abortError(`connecting to ${address}`, 'not-sent', signal?.reason);
    connection.fail(stopped);
  };
  const step = { name: 'the ApiVersions handshake' };
  const onDeadline = (): void => {
    const limit = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    stopped = new ConnectionError(`${address} accepted the connection but did not complete ${step.name} within connectTimeoutMs (${limit} ms)`);
    connection.fail(stopped);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(onDeadline, Math.max(0, deadline - Date.now()));
  // Aborted while the socket opened, after whenOpen looked.
  if (signal?.aborted) onAbort();
  try {
    await untilAborted(handshake(connection, options, address, step), signal, `connecting to ${address}`);
  } catch (error) {
    if (stopped !== undefined) throw stopped;
    let failure = error instanceof KafkaProducerError ? error : new ConnectionError(`handshake with ${address} failed`, { cause: error });
    const hinted = options.tls === undefined && !connection.answered() ? tlsListenerHint(failure, address) : failure;
    failure = hinted === failure ? during(failure, step.name) : hinted;
    connection.fail(failure);
    throw failure;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * A lost connection with the setup step it ended: "closed by the broker" alone did not say that the broker hung up
 * during SASL authentication (what a broker that refuses the mechanism or the listener's security may do) rather than
 * at the handshake. Other failures name their request already (a RequestTimeoutError) or are not the network's.
 */
function during(failure: KafkaProducerError, step: string): KafkaProducerError {
  if (!(failure instanceof ConnectionError)) return failure;
  return new ConnectionError(`${failure.message} during ${step}`, { cause: failure });
}

/** ApiVersions, then SASL when configured; `step` names the one under way. */
async function handshake(connection: SetupHost, { sasl }: ConnectionOptions, address: string, step: { name: string }): Promise<void> {
  const versions = new BrokerVersions(await apiVersionsHandshake(connection.request, address));
  connection.learnt(versions);
  if (sasl !== undefined) {
    step.name = `SASL ${sasl.mechanism.toUpperCase()} authentication`;
    const session = await saslAuthenticate(connection.request, sasl, versions.versionFor(SaslAuthenticate), address);
    connection.authenticated(session.sessionLifetimeMs);
  }
  connection.ready();
}
