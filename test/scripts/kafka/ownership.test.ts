import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import {
  commandLineOf, firstAcceptingPort, isBrokerCommandLine, isBrokerProcess, parseCommandLine, portHeldMessage,
} from '../../../scripts/kafka/ownership.js';

describe('the command line of a PID file\'s process', () => {
  it('splits /proc/<pid>/cmdline at its NULs; a zombie\'s is empty', () => {
    assert.deepEqual(parseCommandLine('java\0-Xmx1g\0-cp\0/k/libs/*\0kafka.Kafka\0/k/node-1/server.properties\0'), [
      'java', '-Xmx1g', '-cp', '/k/libs/*', 'kafka.Kafka', '/k/node-1/server.properties',
    ]);
    assert.deepEqual(parseCommandLine(''), []);
  });

  it('is a broker only with Kafka\'s broker class as an argument of its own', () => {
    assert.equal(isBrokerCommandLine(['java', '-cp', '/k/libs/*', 'kafka.Kafka', '/k/node-1/server.properties']), true);
    assert.equal(isBrokerCommandLine(['sleep', '100']), false);
    assert.equal(isBrokerCommandLine([]), false);
    assert.equal(isBrokerCommandLine(['java', '-cp', '/k/libs/*', 'kafka.tools.StorageTool', 'format']), false);
    assert.equal(isBrokerCommandLine(['grep', 'kafka.Kafka.x']), false);
  });

  it('takes an unrelated live process for no broker, so a stale PID that names one is neither used nor signalled', () => {
    assert.ok(commandLineOf(process.pid)!.length > 0, 'the test process has a command line');
    assert.equal(isBrokerProcess(process.pid), false);
  });

  it('takes a live process started with the broker class for one, and no longer once it has exited', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'kafka.Kafka', 'server.properties'], { stdio: 'ignore' });
    try {
      await once(child, 'spawn');
      assert.equal(isBrokerProcess(child.pid!), true);
    } finally {
      child.kill('SIGKILL');
    }
    await once(child, 'exit');
    assert.equal(isBrokerProcess(child.pid!), false);
  });
});

describe('a port held before the node starts', () => {
  it('is found when something accepts connections on it, and not once that closed', async () => {
    const server = createServer((socket) => socket.destroy());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    try {
      assert.equal(await firstAcceptingPort('127.0.0.1', [port]), port);
    } finally {
      server.close();
      await once(server, 'close');
    }
    assert.equal(await firstAcceptingPort('127.0.0.1', [port]), undefined);
    assert.equal(await firstAcceptingPort('127.0.0.1', []), undefined);
  });

  it('is named in the refusal, with the node, and with the ways to stop the broker that holds it', () => {
    const message = portHeldMessage(2, '127.0.0.1', 9094);
    assert.match(message, /^node 2 not started: 127\.0\.0\.1:9094 already accepts connections/);
    assert.match(message, /a broker from elsewhere holds the port/);
    assert.match(message, /npm run kafka -- stop/);
    assert.match(message, /ss -ltnp 'sport = :9094'/);
  });
});
