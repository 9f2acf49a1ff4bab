/**
 * Options of a Connection and of its requests, validated once when connecting (docs/style.md: options are checked at
 * construction, with the default written beside each one).
 */
import type tls from 'node:tls';
import { ConfigError } from '../shared/errors.js';
import { MAX_TIMER_MS } from '../shared/timers.js';
import type { SaslCredentials } from './sasl.js';

export interface ConnectionOptions {
  readonly host: string;
  readonly port: number;
  /** Sent in every request header; null sends a null client id. */
  readonly clientId: string | null;
  /** How long a written request may wait for its answer before the connection is closed. */
  readonly requestTimeoutMs: number;
  /** Requests written and not yet answered, at most (acks=0 sends do not count: they get no answer). */
  readonly maxInFlight: number;
  /** Aborts connecting and the handshake; not kept afterwards. */
  readonly signal?: AbortSignal | undefined;
  /** Setup limit: TCP, TLS, ApiVersions and SASL together. Default 10 000 ms (socket.connection.setup.timeout.ms). */
  readonly connectTimeoutMs?: number | undefined;
  /** Connect with TLS using these options (hostname verification stays on unless they turn it off). */
  readonly tls?: tls.ConnectionOptions | undefined;
  /** Authenticate with SASL after the ApiVersions handshake, before the connection is handed out. */
  readonly sasl?: SaslCredentials | undefined;
}

export interface RequestOptions {
  /** Version to send; default the negotiated one (`versionFor`). */
  readonly version?: number | undefined;
  /**
   * Highest version to negotiate when `version` is not given: the highest both sides speak, at most this. For a
   * version that changes meaning rather than layout, e.g. Produce at most v11 while the producer uses transaction
   * protocol v1 (Produce v12+ tells a Kafka 4 broker the client adds partitions implicitly, KIP-890 part 2).
   */
  readonly maxVersion?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Expected body size in bytes, so the frame is allocated once even for large bodies (Produce). */
  readonly sizeHint?: number | undefined;
}

export interface SendOptions {
  readonly version?: number | undefined;
  /** As in RequestOptions. */
  readonly maxVersion?: number | undefined;
  readonly sizeHint?: number | undefined;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export function checkConnectionOptions(options: ConnectionOptions): void {
  const { host, port, clientId, requestTimeoutMs, maxInFlight, connectTimeoutMs } = options;
  if (typeof host !== 'string' || host.length === 0) throw new ConfigError('host must be a non-empty string');
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError(`port must be an integer from 1 to 65535, got ${String(port)}`);
  }
  if (clientId !== null && typeof clientId !== 'string') throw new ConfigError('clientId must be a string or null');
  if (!(requestTimeoutMs > 0 && requestTimeoutMs <= MAX_TIMER_MS)) {
    throw new ConfigError(`requestTimeoutMs must be from 1 to ${MAX_TIMER_MS} ms, got ${String(requestTimeoutMs)}`);
  }
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
    throw new ConfigError(`maxInFlight must be a positive integer, got ${String(maxInFlight)}`);
  }
  if (connectTimeoutMs !== undefined && !(connectTimeoutMs > 0 && connectTimeoutMs <= MAX_TIMER_MS)) {
    throw new ConfigError(`connectTimeoutMs must be from 1 to ${MAX_TIMER_MS} ms, got ${String(connectTimeoutMs)}`);
  }
}
