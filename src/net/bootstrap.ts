/**
 * Opening connections the same way on both threads: one broker, through the thread's AuthGate, or the first broker
 * of a list that accepts (the "any broker will do" connection the main thread's topic registry keeps for Metadata
 * and InitProducerId, and each worker's cluster view keeps for Metadata).
 */
import type tls from 'node:tls';
import { ConnectionError, KafkaProducerError } from '../shared/errors.js';
import { AuthenticationError } from '../shared/producer-errors.js';
import type { AuthGate } from './auth-gate.js';
import { Connection, type ConnectionOptions } from './connection.js';
import type { AddressOrder } from './address-order.js';
import type { SaslCredentials } from './sasl.js';
import { isBrokerTlsFailure } from './tls-errors.js';

type BrokerAddress = Pick<ConnectionOptions, 'host' | 'port'>;

/** A broker by node id and address; bootstrap addresses have ids -1, -2, … (no broker's id is negative). */
export interface Broker extends BrokerAddress {
  readonly nodeId: number;
}

/** The bootstrap addresses ('host:port', checked by the producer's options) as brokers. */
export function bootstrapBrokers(addresses: readonly string[]): Broker[] {
  return addresses.map((address, i) => {
    const colon = address.lastIndexOf(':');
    return { nodeId: -1 - i, host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
  });
}

/** What every connection of a producer is opened with. */
export interface ClientSettings {
  readonly clientId: string;
  readonly requestTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly maxInFlight: number;
  readonly tls: tls.ConnectionOptions | null;
  readonly sasl: SaslCredentials | null;
}

/**
 * Opens a connection to one broker. While `auth` holds a recent authentication failure that concerns it (refused
 * credentials, or a TLS failure at this address) this throws that failure without opening a socket; otherwise the
 * outcome is booked in `auth`.
 */
export async function openConnection(
  broker: BrokerAddress, settings: ClientSettings, auth: AuthGate, signal?: AbortSignal,
): Promise<Connection> {
  auth.check(broker);
  const { tls, sasl } = settings;
  try {
    const connection = await Connection.connect({
      host: broker.host,
      port: broker.port,
      clientId: settings.clientId,
      requestTimeoutMs: settings.requestTimeoutMs,
      connectTimeoutMs: settings.connectTimeoutMs,
      maxInFlight: settings.maxInFlight,
      signal,
      ...(tls !== null && { tls }),
      ...(sasl !== null && { sasl }),
    });
    auth.succeeded(broker);
    return connection;
  } catch (error) {
    auth.failed(error, broker);
    throw error;
  }
}

/**
 * A connection to the first of `brokers` that accepts one, tried in order, except that addresses whose last attempt
 * failed come after the others (`order`). Stops early at an authentication failure other than one broker's TLS
 * failure (the same credentials fail on every broker), when `signal` aborts, or once `stopped()` says the owner is
 * closing. Rejects with the last KafkaProducerError seen, else a ConnectionError carrying the cause.
 */
export async function connectToAny(
  brokers: readonly BrokerAddress[],
  settings: ClientSettings,
  auth: AuthGate,
  options: { readonly signal?: AbortSignal | undefined; readonly stopped: () => boolean; readonly order?: AddressOrder | undefined },
): Promise<Connection> {
  let lastError: unknown;
  for (const broker of options.order?.sorted(brokers) ?? brokers) {
    if (options.stopped()) break;
    try {
      // Past one broker's TLS failure the next broker is tried: the gate keeps that failure for its address alone (its
      // certificate is not the next one's). A certificate one broker got wrong kept the producer from every other.
      const connection = await openConnection(broker, settings, auth, options.signal);
      options.order?.succeeded(broker);
      return connection;
    } catch (error) {
      lastError = error;
      options.order?.failed(broker);
      if (options.signal?.aborted === true || (error instanceof AuthenticationError && !isBrokerTlsFailure(error))) break;
    }
  }
  if (lastError instanceof KafkaProducerError) throw lastError;
  throw new ConnectionError(lastError === undefined ? 'the producer is closing' : 'no broker could be reached', { cause: lastError });
}
