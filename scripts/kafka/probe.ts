/**
 * "Does the broker answer requests?" — one ApiVersions v0 request over raw TCP. Written here without the
 * project's protocol code so the broker runner never depends on what it is used to test.
 */
import { connect } from 'node:net';

/** Resolves true when host:port answers an ApiVersions v0 request with error code 0 within `timeoutMs`. */
export function brokerAnswers(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let received = Buffer.alloc(0);
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once('error', () => finish(false));
    socket.once('close', () => finish(false));
    socket.once('connect', () => {
      const clientId = Buffer.from('ringkafka-probe');
      // size, api_key 18 (ApiVersions), api_version 0, correlation_id 1, client_id
      const frame = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length);
      frame.writeInt32BE(frame.length - 4, 0);
      frame.writeInt16BE(18, 4);
      frame.writeInt16BE(0, 6);
      frame.writeInt32BE(1, 8);
      frame.writeInt16BE(clientId.length, 12);
      clientId.copy(frame, 14);
      socket.write(frame);
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      // size(4) correlation_id(4) error_code(2)
      if (received.length >= 10) finish(received.readInt32BE(4) === 1 && received.readInt16BE(8) === 0);
    });
  });
}
