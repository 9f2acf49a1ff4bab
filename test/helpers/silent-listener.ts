/** A listener for the tests of connection setup: it accepts connections and never writes a byte. */
import net from 'node:net';
import type { TestContext } from 'node:test';

/** A listener that accepts connections and never writes a byte; counts them. */
export async function silentListener(t: TestContext): Promise<{ address: { host: string; port: number }; accepted: () => number }> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  return { address: { host: '127.0.0.1', port: (server.address() as net.AddressInfo).port }, accepted: () => accepted };
}
