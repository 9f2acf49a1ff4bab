/**
 * npm run kafka -- start [--nodes 1|3] [--node N] [--secure] [--transaction-version 0|1|2] [--log-dirs disk|memory]
 *   | stop [--node N] | status | tool <MainClass> [args…]
 *
 * `--transaction-version` formats the cluster with that transaction.version finalized (afresh when it was formatted
 * at another level, so stop it first); without it a formatted cluster keeps its level (scripts/kafka/format-args.ts).
 * `--log-dirs memory` formats it with its partitions' logs on tmpfs, for the bench (scripts/kafka/log-dirs.ts says
 * why); the same rule applies.
 * The local Apache Kafka the tests and the bench run against. See scripts/kafka/ for how it is laid out.
 */
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { CLASSPATH, KAFKA_VERSION } from './kafka/config.js';
import { ensureInstalled } from './kafka/install.js';
import { secureAddresses, start, status, stop } from './kafka/cluster.js';
import { parseTransactionVersion } from './kafka/format-args.js';
import { parseLogDirPlace } from './kafka/log-dirs.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  strict: false,
  options: {
    nodes: { type: 'string' }, node: { type: 'string' }, secure: { type: 'boolean' }, 'transaction-version': { type: 'string' },
    'log-dirs': { type: 'string' },
  },
});
const [command, ...rest] = positionals;
const toInt = (value: string | boolean | undefined): number | undefined =>
  typeof value === 'string' ? Number.parseInt(value, 10) : undefined;

switch (command) {
  case 'start': {
    const nodes = toInt(values.nodes);
    const node = toInt(values.node);
    const level = values['transaction-version'];
    // strict: false reads a bare `--transaction-version` as true: rejected, not taken as the default
    const transactionVersion = level === undefined ? undefined : parseTransactionVersion(typeof level === 'string' ? level : '');
    const place = values['log-dirs'];
    const logDirs = place === undefined ? undefined : parseLogDirPlace(typeof place === 'string' ? place : '');
    const addresses = await start({
      ...(logDirs !== undefined && { logDirs }),
      ...(transactionVersion !== undefined && { transactionVersion }),
      ...(nodes !== undefined && { nodes }),
      ...(node !== undefined && { node }),
      ...(values.secure === true && { secure: true }),
    });
    // The secured listeners first: scripts read the plain address from the end of the last line.
    const { ssl, saslSsl } = await secureAddresses();
    if (ssl.length > 0) {
      console.log(`SSL (client certificate required) at ${ssl.join(',')}`);
      console.log(`SASL_SSL at ${saslSsl.join(',')}`);
    }
    console.log(`Kafka ${KAFKA_VERSION} answers at ${addresses.join(',')}`);
    break;
  }
  case 'stop': {
    const node = toInt(values.node);
    await stop(node !== undefined ? { node } : {});
    break;
  }
  case 'status': {
    const nodes = await status();
    if (nodes.length === 0) console.log('no local cluster has been formatted');
    for (const n of nodes) {
      console.log(
        `node ${n.nodeId} ${n.address} ${n.running ? `running (pid ${n.pid})` : 'stopped'}${n.running ? (n.answering ? ', answering' : ', not answering') : ''}` +
          `, logs in ${n.logDir}`,
      );
    }
    break;
  }
  case 'install':
    await ensureInstalled();
    break;
  case 'tool': {
    // Runs one of Kafka's own tools from the same jars, e.g. `npm run kafka -- tool org.apache.kafka.tools.TopicCommand --list --bootstrap-server 127.0.0.1:9092`.
    await ensureInstalled();
    const [mainClass, ...args] = rest;
    if (mainClass === undefined) throw new Error('usage: kafka tool <MainClass> [args…]');
    const child = spawn('java', ['-cp', CLASSPATH, mainClass, ...args], { stdio: 'inherit' });
    child.on('exit', (code) => process.exit(code ?? 1));
    break;
  }
  default:
    console.error(
      'usage: npm run kafka -- start [--nodes 1|3] [--node N] [--secure] [--transaction-version 0|1|2] [--log-dirs disk|memory]' +
        ' | stop [--node N] | status | install | tool <MainClass> [args…]',
    );
    process.exitCode = 2;
}
