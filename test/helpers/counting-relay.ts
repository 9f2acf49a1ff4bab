/**
 * A TCP relay in front of a listener that counts the connections made through it (security tests). With `tls` (a
 * certificate and its key) it is a TLS front that relays the plain bytes: a fake broker behind it speaks TLS.
 */
import net from 'node:net';
import tls from 'node:tls';

export async function countingRelay(
  target: string, options: { readonly tls?: { readonly cert: string; readonly key: string } } = {},
): Promise<{ address: string; connections: () => number; close: () => Promise<void> }> {
  const colon = target.lastIndexOf(':');
  const sockets = new Set<net.Socket>();
  let count = 0;
  const relay = (client: net.Socket): void => {
    count++;
    const upstream = net.connect({ host: target.slice(0, colon), port: Number(target.slice(colon + 1)) });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  };
  const server = options.tls === undefined ? net.createServer(relay) : tls.createServer(options.tls, relay);
  // A handshake that fails never reaches `relay`: counted here, as a plain relay counts every connection.
  server.on('tlsClientError', () => void count++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    connections: () => count,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
