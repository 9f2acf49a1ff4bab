/**
 * Ctrl-C (SIGINT) reaches the `ringkafka` commands wherever they wait. The cluster here is a TCP listener that
 * accepts connections and never answers (a stalled broker), so a command is stuck connecting: before, SIGINT did
 * nothing there until the buffer timeout (60 s) had passed. No Kafka is needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { MAIN, ROOT } from './fixtures/command.js';

async function silentBroker(): Promise<{ address: string; connected: Promise<unknown>; close: () => void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  const connected = once(server, 'connection');
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    connected,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

for (const command of [['perf', '--records', '1000'], ['produce']]) {
  test(`${command[0]}: SIGINT while connecting to a broker that never answers ends the command, exit 1`, { timeout: 60_000 }, async () => {
    const broker = await silentBroker();
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...command, '--brokers', broker.address, '--topic', 't'], { cwd: ROOT });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      await broker.connected; // the command is connecting, its signal handlers in place
      child.kill('SIGINT');
      const [code] = (await once(child, 'close')) as [number | null];
      assert.equal(code, 1, stderr);
      assert.match(stderr, /AbortError: interrupted while connecting/);
    } finally {
      child.kill('SIGKILL');
      broker.close();
    }
  });
}
