/**
 * Starts, stops and reports the local KRaft cluster: one combined broker+controller node, or three. Each node
 * keeps its properties, data, log and PID file under .kafka/node-<id>/; stop only ever signals PIDs we wrote, and
 * only while they still run a Kafka broker (ownership.ts). A node is not started while anything else answers on its
 * ports, so the tests never run against a broker from elsewhere.
 *
 * `secure` adds two listeners per node beside PLAINTEXT, for the TLS and SASL tests (a test set-up, not a
 * production recipe): SSL with client certificates required, and SASL_SSL with PLAIN, SCRAM-SHA-256,
 * SCRAM-SHA-512 and OAUTHBEARER. OAUTHBEARER uses Kafka's default validator for unsecured JWS tokens
 * (`alg: none`, no signature checked); PLAIN's user is listed in the listener's JAAS config; the SCRAM
 * credentials are written into the cluster metadata when storage is formatted (the StorageTool's --add-scram).
 * SCRAM-SHA-512 and OAUTHBEARER sessions on SASL_SSL last REAUTH_MS (5 s), so clients must re-authenticate (KIP-368).
 * The properties are rewritten at every start, so one formatted cluster starts either way.
 *
 * One process at a time starts or stops the cluster, under .kafka/start.lock (start-lock.ts says why). Each start
 * of a node moves its previous log aside to kafka.log.1, so its log holds one JVM's output (log-tail.ts says why).
 */
import { spawn, execFile } from 'node:child_process';
import { openSync, closeSync, readFileSync, existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CLASSPATH, HOST, KAFKA_DIR, REAUTH_MS, ROOT, SASL_USER, TOOLS, brokerPort, controllerPort, nodeDir, saslSslPort, sslPort,
} from './config.js';
import { ensureInstalled } from './install.js';
import { newClusterId, storageFormatArgs, type TransactionVersion } from './format-args.js';
import { memoryPlaceProblem, memoryRoot, nodeLogDir, type LogDirPlace } from './log-dirs.js';
import { accepts, firstAcceptingPort, isBrokerProcess, portHeldMessage } from './ownership.js';
import { brokerAnswers } from './probe.js';
import { rotateLog, tail } from './log-tail.js';
import { withLock, type LockOptions } from './start-lock.js';
import { KEYSTORE_PASSWORD, TLS_FILES, ensureCertificates } from './tls.js';

const run = promisify(execFile);
const LAYOUT = join(KAFKA_DIR, 'cluster.json');
const LOG4J = join(KAFKA_DIR, 'log4j2.properties');
const START_TIMEOUT_MS = 180_000;
const LOCK = join(KAFKA_DIR, 'start.lock');
/**
 * How long a start or stop waits for another process's to end: a start that takes all of START_TIMEOUT_MS, plus
 * room for what comes before it (a first install of the jars, certificates, formatting). A holder still busy after
 * that is taken to hang, and the error names its PID.
 */
const LOCK_WAIT_MS = START_TIMEOUT_MS + 120_000;

function lockOptions(log: (line: string) => void): LockOptions {
  return {
    maxWaitMs: LOCK_WAIT_MS,
    onWait: (holder) => log(`waiting for ${holder === null ? 'another process' : `pid ${holder}`}, which holds ${LOCK}`),
  };
}

interface Layout {
  readonly nodes: number;
  readonly clusterId: string;
  /** The SCRAM user was added at format time; a cluster formatted before that is formatted afresh. */
  readonly scram?: boolean;
  /** transaction.version finalized at format time; absent: the release's default (2). */
  readonly transactionVersion?: TransactionVersion;
  /** Where the partitions' logs are (log-dirs.ts); absent: on disk. */
  readonly logDirs?: LogDirPlace;
}

export interface NodeStatus {
  readonly nodeId: number;
  readonly pid: number | null;
  readonly running: boolean;
  readonly answering: boolean;
  readonly address: string;
  /** Its `log.dirs`, and whether they are on disk or in memory (log-dirs.ts). */
  readonly logDir: string;
  readonly logDirPlace: LogDirPlace;
}

const pidFile = (nodeId: number): string => join(nodeDir(nodeId), 'kafka.pid');
const logFile = (nodeId: number): string => join(nodeDir(nodeId), 'kafka.log');
const MEMORY_ROOT = memoryRoot(ROOT);
const logDirOf = (layout: Layout, nodeId: number): string => nodeLogDir(layout.logDirs ?? 'disk', nodeId, nodeDir(nodeId), MEMORY_ROOT);

/**
 * Where node `nodeId` keeps its partitions' logs, as the formatted cluster says: in memory when formatted with
 * `--log-dirs memory`, else on disk. For the tests that read a segment with Kafka's own dump tool: they looked on
 * disk only, and against a cluster in memory skipped that check, saying the broker's files were not on this machine.
 */
export function partitionLogDir(nodeId: number): string {
  let place: LogDirPlace = 'disk';
  try {
    place = (JSON.parse(readFileSync(LAYOUT, 'utf8')) as Layout).logDirs ?? 'disk';
  } catch {
    // Not formatted yet: the place a fresh cluster gets.
  }
  return nodeLogDir(place, nodeId, nodeDir(nodeId), MEMORY_ROOT);
}

function readPid(nodeId: number): number | null {
  try {
    const pid = Number.parseInt(readFileSync(pidFile(nodeId), 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * PID of the node's JVM if we started it and it still runs. A PID file left behind (a reboot, a killed broker) may
 * name a process that has nothing to do with Kafka since: only a process running Kafka's broker class counts.
 */
export function runningPid(nodeId: number): number | null {
  const pid = readPid(nodeId);
  return pid !== null && isBrokerProcess(pid) ? pid : null;
}

/** Sends `signal` to `pid`; a process that has exited meanwhile (ESRCH) is what stopping wanted anyway. */
function signalBroker(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

async function readLayout(): Promise<Layout | null> {
  try {
    return JSON.parse(await readFile(LAYOUT, 'utf8')) as Layout;
  } catch {
    return null;
  }
}

/** Listener lines of a secured node: TLS material, client-certificate rule and the SASL mechanisms' JAAS configs. */
function secureProperties(nodeId: number): string[] {
  const { username, password } = SASL_USER;
  return [
    `listeners=PLAINTEXT://${HOST}:${brokerPort(nodeId)},CONTROLLER://${HOST}:${controllerPort(nodeId)},` +
      `SSL://${HOST}:${sslPort(nodeId)},SASL_SSL://${HOST}:${saslSslPort(nodeId)}`,
    `advertised.listeners=PLAINTEXT://${HOST}:${brokerPort(nodeId)},SSL://${HOST}:${sslPort(nodeId)},` +
      `SASL_SSL://${HOST}:${saslSslPort(nodeId)}`,
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL',
    'ssl.keystore.type=PKCS12',
    `ssl.keystore.location=${TLS_FILES.brokerKeystore}`,
    `ssl.keystore.password=${KEYSTORE_PASSWORD}`,
    `ssl.key.password=${KEYSTORE_PASSWORD}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${TLS_FILES.ca}`,
    'listener.name.ssl.ssl.client.auth=required',
    'listener.name.sasl_ssl.ssl.client.auth=none',
    'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER',
    'listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule ' +
      `required user_${username}="${password}";`,
    'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    // No server callback handler configured: Kafka validates OAUTHBEARER tokens with its unsecured JWS validator.
    'listener.name.sasl_ssl.oauthbearer.sasl.jaas.config=' +
      'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="broker";',
    // Short sessions for two mechanisms only (KIP-368 re-authentication test; REAUTH_MS in config.ts says why).
    `listener.name.sasl_ssl.scram-sha-512.connections.max.reauth.ms=${REAUTH_MS}`,
    `listener.name.sasl_ssl.oauthbearer.connections.max.reauth.ms=${REAUTH_MS}`,
  ];
}

function serverProperties(nodeId: number, nodes: number, secure: boolean, logDir: string): string {
  const voters = Array.from({ length: nodes }, (_, i) => `${i + 1}@${HOST}:${controllerPort(i + 1)}`).join(',');
  const replication = nodes === 1 ? 1 : 3;
  const minIsr = nodes === 1 ? 1 : 2;
  return [
    'process.roles=broker,controller',
    `node.id=${nodeId}`,
    // Static voters: the storage format then needs no --standalone / --initial-controllers.
    `controller.quorum.voters=${voters}`,
    ...(secure
      ? secureProperties(nodeId)
      : [
          `listeners=PLAINTEXT://${HOST}:${brokerPort(nodeId)},CONTROLLER://${HOST}:${controllerPort(nodeId)}`,
          `advertised.listeners=PLAINTEXT://${HOST}:${brokerPort(nodeId)}`,
          'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
        ]),
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${logDir}`,
    'num.partitions=1',
    `default.replication.factor=${replication}`,
    `min.insync.replicas=${minIsr}`,
    `offsets.topic.replication.factor=${replication}`,
    `transaction.state.log.replication.factor=${replication}`,
    `transaction.state.log.min.isr=${minIsr}`,
    `share.coordinator.state.topic.replication.factor=${replication}`,
    `share.coordinator.state.topic.min.isr=${minIsr}`,
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=true',
    'delete.topic.enable=true',
    '',
  ].join('\n');
}

const LOG4J_CONFIG = [
  'status = error',
  'appender.out.type = Console',
  'appender.out.name = out',
  'appender.out.layout.type = PatternLayout',
  'appender.out.layout.pattern = [%d] %p %m (%c)%n',
  'rootLogger.level = INFO',
  'rootLogger.appenderRef.out.ref = out',
  'logger.request.name = kafka.request.logger',
  'logger.request.level = WARN',
  '',
].join('\n');

function jvmOptions(nodes: number): string[] {
  // Two cores and 24 GiB: 1 GiB heap for a single node, 768 MiB each for three (docs/kafka-protocol.md).
  const heap = nodes === 1 ? '1g' : '768m';
  return [`-Xms${heap}`, `-Xmx${heap}`, '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', `-Dlog4j2.configurationFile=${LOG4J}`];
}

/** Formats storage for a fresh cluster of `nodes` nodes, wiping any earlier data (only when nothing runs). */
async function format(
  nodes: number, transactionVersion: TransactionVersion | undefined, place: LogDirPlace, log: (line: string) => void,
): Promise<Layout> {
  for (let id = 1; id <= 3; id++) {
    if (runningPid(id) !== null) throw new Error(`node ${id} is running; stop the cluster before formatting it afresh (size, transaction.version or log dirs)`);
  }
  const problem = place === 'memory' ? memoryPlaceProblem() : undefined;
  if (problem !== undefined) throw new Error(problem);
  const layout: Layout = {
    nodes, clusterId: newClusterId(), scram: true, ...(transactionVersion !== undefined && { transactionVersion }),
    ...(place === 'memory' && { logDirs: place }),
  };
  const { username, password } = SASL_USER;
  const scram = ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((mechanism) => [
    '--add-scram', `${mechanism}=[name=${username},password=${password}]`,
  ]);
  log(
    `formatting a ${nodes}-node KRaft cluster ${layout.clusterId}${transactionVersion !== undefined ? ` with transaction.version=${transactionVersion}` : ''}` +
      `${place === 'memory' ? `, its logs in memory under ${MEMORY_ROOT}` : ''}`,
  );
  await writeFile(LOG4J, LOG4J_CONFIG);
  // An earlier in-memory cluster's logs go too, whichever way this one keeps them: they hold the machine's memory.
  await rm(MEMORY_ROOT, { recursive: true, force: true });
  await Promise.all(
    Array.from({ length: nodes }, async (_, i) => {
      const id = i + 1;
      await rm(nodeDir(id), { recursive: true, force: true });
      await mkdir(nodeDir(id), { recursive: true });
      await mkdir(logDirOf(layout, id), { recursive: true });
      const props = join(nodeDir(id), 'server.properties');
      await writeFile(props, serverProperties(id, nodes, false, logDirOf(layout, id)));
      await run('java', [
        '-cp', CLASSPATH, `-Dlog4j2.configurationFile=${LOG4J}`, TOOLS.storage,
        ...storageFormatArgs({ clusterId: layout.clusterId, properties: props, scram, transactionVersion }),
      ]);
    }),
  );
  await writeFile(LAYOUT, JSON.stringify(layout) + '\n');
  return layout;
}

const propertiesFile = (nodeId: number): string => join(nodeDir(nodeId), 'server.properties');

/** Whether a node's current properties have the secure listeners. */
function isSecure(nodeId: number): boolean {
  try {
    return readFileSync(propertiesFile(nodeId), 'utf8').includes('SASL_SSL://');
  } catch {
    return false;
  }
}

/** The ports node `nodeId` listens on when started this way. */
function nodePorts(nodeId: number, secure: boolean): number[] {
  return [brokerPort(nodeId), controllerPort(nodeId), ...(secure ? [sslPort(nodeId), saslSslPort(nodeId)] : [])];
}

/** Starts the node unless it runs; resolves with the PID of its JVM, started now or earlier. */
async function startNode(nodeId: number, layout: Layout, secure: boolean, log: (line: string) => void): Promise<number> {
  const running = runningPid(nodeId);
  if (running !== null) {
    if (secure && !isSecure(nodeId)) {
      throw new Error(`node ${nodeId} runs without the secure listeners; stop it, then start it with --secure`);
    }
    return running;
  }
  // Our JVM could not bind a port held by another broker and would exit, while that one answered in its place.
  const held = await firstAcceptingPort(HOST, nodePorts(nodeId, secure));
  if (held !== undefined) throw new Error(portHeldMessage(nodeId, HOST, held));
  await writeFile(propertiesFile(nodeId), serverProperties(nodeId, layout.nodes, secure, logDirOf(layout, nodeId)));
  // A fresh log for each JVM, the previous one kept beside it: appended to at every start, it grew without end.
  rotateLog(logFile(nodeId));
  const out = openSync(logFile(nodeId), 'a');
  try {
    const child = spawn(
      'java',
      [...jvmOptions(layout.nodes), '-cp', CLASSPATH, TOOLS.broker, propertiesFile(nodeId)],
      { detached: true, stdio: ['ignore', out, out] },
    );
    if (child.pid === undefined) throw new Error(`could not start java for node ${nodeId}`);
    await writeFile(pidFile(nodeId), `${child.pid}\n`);
    child.unref();
    log(`node ${nodeId} started${secure ? ' with TLS and SASL listeners' : ''} (pid ${child.pid}), log ${logFile(nodeId)}`);
    return child.pid;
  } finally {
    closeSync(out);
  }
}

/** Resolves once node `nodeId` answers and `pid`, the JVM started for it, still runs. */
async function waitUntilAnswering(nodeId: number, secure: boolean, pid: number): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    // Every listener opens at once when the broker starts serving; the TCP check on the TLS ports is for certainty.
    const answering = await brokerAnswers(HOST, brokerPort(nodeId)) &&
      (!secure || (await accepts(HOST, sslPort(nodeId)) && await accepts(HOST, saslSslPort(nodeId))));
    // Checked after the answer, not before: an answer from the ports proves nothing unless our JVM is still there
    // (one that took the ports after startNode looked would answer while ours exits, unable to bind them).
    if (runningPid(nodeId) !== pid) {
      throw new Error(
        `node ${nodeId} (pid ${pid}) exited while starting` +
          `${answering ? `, and something else answers at ${HOST}:${brokerPort(nodeId)}: a broker from elsewhere holds its ports` : ''}` +
          `; last lines of its log:\n${tail(logFile(nodeId), 30)}`,
      );
    }
    if (answering) return;
    await sleep(250);
  }
  throw new Error(`node ${nodeId} did not answer within ${START_TIMEOUT_MS} ms; log:\n${tail(logFile(nodeId), 30)}`);
}

export interface StartOptions {
  /** Cluster size: 1 (default) or 3. */
  readonly nodes?: number;
  /** Start only this node of an existing cluster. */
  readonly node?: number;
  /**
   * Add the SSL and SASL_SSL listeners (and make the certificates if missing). Default false, except that a single
   * node (`node`) restarts the way it last ran.
   */
  readonly secure?: boolean;
  /**
   * Format with this transaction.version finalized (format-args.ts). A formatted cluster at another level is
   * formatted afresh (only while nothing runs); unset: a formatted cluster is started at whatever level it has,
   * and a fresh one gets the release's default.
   */
  readonly transactionVersion?: TransactionVersion;
  /**
   * Keep the partitions' logs on disk or in memory (log-dirs.ts). A cluster formatted the other way is formatted
   * afresh (only while nothing runs); unset: a formatted cluster keeps its place, and a fresh one is on disk.
   */
  readonly logDirs?: LogDirPlace;
  readonly log?: (line: string) => void;
}

/**
 * Starts the cluster (or one node) and resolves once every started broker answers. A running node is left be.
 * Under the start lock: a second process starting at the same time waits, then finds the node running.
 */
export async function start(options: StartOptions = {}): Promise<string[]> {
  const log = options.log ?? console.log;
  return withLock(LOCK, lockOptions(log), () => startLocked(options, log));
}

async function startLocked(options: StartOptions, log: (line: string) => void): Promise<string[]> {
  // Restarting one node keeps the listeners it had.
  const secure = options.secure ?? (options.node !== undefined && isSecure(options.node));
  await ensureInstalled(log);
  await mkdir(KAFKA_DIR, { recursive: true });
  if (secure) await ensureCertificates(log);
  let layout = await readLayout();
  if (options.node !== undefined) {
    if (layout === null || options.node < 1 || options.node > layout.nodes) {
      throw new Error(`there is no node ${options.node} in the formatted cluster`);
    }
  } else {
    const nodes = options.nodes ?? 1;
    if (nodes !== 1 && nodes !== 3) throw new Error(`--nodes must be 1 or 3, got ${nodes}`);
    const wanted = options.transactionVersion;
    const otherLevel = wanted !== undefined && (layout?.transactionVersion ?? 2) !== wanted;
    const place = options.logDirs ?? layout?.logDirs ?? 'disk';
    const otherPlace = (layout?.logDirs ?? 'disk') !== place;
    // A tmpfs is empty after a reboot: the in-memory cluster is then formatted again.
    if (layout === null || layout.nodes !== nodes || layout.scram !== true || otherLevel || otherPlace || !existsSync(logDirOf(layout, 1))) {
      layout = await format(nodes, wanted, place, log);
    }
  }
  const ids = options.node !== undefined ? [options.node] : Array.from({ length: layout.nodes }, (_, i) => i + 1);
  const pids: number[] = [];
  for (const id of ids) pids.push(await startNode(id, layout, secure, log));
  await Promise.all(ids.map((id, i) => waitUntilAnswering(id, secure, pids[i]!)));
  return ids.map((id) => `${HOST}:${brokerPort(id)}`);
}

/** The SSL and SASL_SSL addresses of the running secured nodes (empty lists when none runs secured). */
export async function secureAddresses(): Promise<{ ssl: string[]; saslSsl: string[] }> {
  const layout = await readLayout();
  const ids = Array.from({ length: layout?.nodes ?? 0 }, (_, i) => i + 1).filter((id) => runningPid(id) !== null && isSecure(id));
  return { ssl: ids.map((id) => `${HOST}:${sslPort(id)}`), saslSsl: ids.map((id) => `${HOST}:${saslSslPort(id)}`) };
}

/**
 * Stops the nodes we started (or one), by PID: SIGTERM, then SIGKILL after 30 s. A PID that no longer runs a broker
 * (runningPid) is not signalled, only its file removed: after a reboot it may name any process.
 */
export async function stop(options: { node?: number; log?: (line: string) => void } = {}): Promise<void> {
  const log = options.log ?? console.log;
  // Under the start lock too: a start under way in another process would otherwise see its JVM stopped mid-start.
  await withLock(LOCK, lockOptions(log), () => stopLocked(options.node, log));
}

async function stopLocked(node: number | undefined, log: (line: string) => void): Promise<void> {
  const ids = node !== undefined ? [node] : [1, 2, 3];
  await Promise.all(
    ids.map(async (id) => {
      const pid = runningPid(id);
      if (pid !== null) {
        signalBroker(pid, 'SIGTERM');
        const deadline = Date.now() + 30_000;
        while (isBrokerProcess(pid) && Date.now() < deadline) await sleep(100);
        if (isBrokerProcess(pid)) {
          signalBroker(pid, 'SIGKILL');
          // Gone before stop returns, so that a start right after finds its ports free (startNode checks them).
          const killed = Date.now() + 5_000;
          while (isBrokerProcess(pid) && Date.now() < killed) await sleep(100);
        }
        log(`node ${id} stopped (pid ${pid})`);
      }
      await rm(pidFile(id), { force: true });
    }),
  );
}

export async function status(): Promise<NodeStatus[]> {
  const layout = await readLayout();
  const nodes = layout?.nodes ?? 0;
  return Promise.all(
    Array.from({ length: nodes }, async (_, i) => {
      const nodeId = i + 1;
      const pid = runningPid(nodeId);
      const answering = pid !== null && (await brokerAnswers(HOST, brokerPort(nodeId), 1000));
      return { nodeId, pid, running: pid !== null, answering, address: `${HOST}:${brokerPort(nodeId)}`,
        logDir: logDirOf(layout!, nodeId), logDirPlace: layout!.logDirs ?? 'disk',
      };
    }),
  );
}
