/**
 * Opening the TCP or TLS socket of a connection, before any Kafka byte is exchanged. Kept apart from
 * Connection so that the connection only ever sees an open socket, and every early failure (refused, timed out,
 * aborted, TLS handshake error) has one place that cleans up: listeners off, timer cleared, socket destroyed.
 */
import net from 'node:net';
import tls from 'node:tls';
import { ConnectionError, type KafkaProducerError } from '../shared/errors.js';
import { abortError } from './exchange.js';
import { tlsFailure } from './tls-errors.js';

export interface SocketOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: tls.ConnectionOptions | undefined;
}

/** Starts connecting; `whenOpen` says when it is done. */
export function openSocket({ host, port, tls: tlsOptions }: SocketOptions): net.Socket {
  if (tlsOptions === undefined) return net.connect({ host, port });
  return tls.connect({
    ...tlsOptions,
    host,
    port,
    // SNI carries host names only (RFC 6066); Node warns on an IP address there.
    ...(tlsOptions.servername === undefined && net.isIP(host) === 0 && { servername: host }),
  });
}

/**
 * Resolves once the socket is connected (TLS: once the TLS handshake is done). Rejects with ConnectionError
 * (refused, closed, timed out) or AbortError, having destroyed the socket.
 */
export function whenOpen(
  socket: net.Socket,
  address: string,
  secure: boolean,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const event = secure ? 'secureConnect' : 'connect';
    const settle = (error?: KafkaProducerError): void => {
      clearTimeout(timer);
      socket.off(event, onOpen);
      socket.off('error', onError);
      socket.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
      if (error === undefined) {
        resolve();
      } else {
        socket.on('error', () => {}); // a late error of a socket we gave up on must not crash the process
        socket.destroy();
        reject(error);
      }
    };
    const onOpen = (): void => settle();
    // A plaintext listener reads a TLS ClientHello as a request of a few hundred megabytes and hangs up: said so,
    // rather than only that the connection closed.
    const hint = secure ? `; if ${address} is a PLAINTEXT or SASL_PLAINTEXT listener, leave out the tls option` : '';
    const onError = (error: Error): void => {
      const hangUp = (error as NodeJS.ErrnoException).code === 'ECONNRESET' ? hint : '';
      // Set by Node when it refused the broker's certificate (any X509 verification error, the host name check too).
      const verifyFailed = secure && Boolean((socket as tls.TLSSocket).authorizationError);
      settle(tlsFailure(error, address, verifyFailed) ?? new ConnectionError(`connecting to ${address} failed: ${error.message}${hangUp}`, { cause: error }));
    };
    const onClose = (): void => settle(new ConnectionError(`connection to ${address} closed while connecting${hint}`));
    const onAbort = (): void => settle(abortError(`connecting to ${address}`, 'not-sent', signal?.reason));
    const timer = setTimeout(() => {
      settle(new ConnectionError(`connecting to ${address} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once(event, onOpen);
    socket.on('error', onError);
    socket.once('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
