/**
 * The real broker for integration tests, and Kafka's own tools as the independent reader of what we wrote.
 *
 * `npm test` starts the local broker once and passes KAFKA_BROKERS; a test file run on its own starts it here
 * (a no-op when it already runs) and stops it when the process exits, if it was this process that started it.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { CLASSPATH, SASL_USER, TOOLS, saslSslPort, sslPort } from '../../scripts/kafka/config.js';
import { partitionLogDir, runningPid, start } from '../../scripts/kafka/cluster.js';
import { TLS_FILES } from '../../scripts/kafka/tls.js';

export { SASL_USER, TOOLS };

let brokers: Promise<string[]> | undefined;

/** Bootstrap addresses: KAFKA_BROKERS when set, else the local single node, started if needed. */
export function useBroker(): Promise<string[]> {
  brokers ??= (async () => {
    const fromEnv = process.env.KAFKA_BROKERS;
    if (fromEnv) return fromEnv.split(',').map((address) => address.trim()).filter(Boolean);
    const wasRunning = runningPid(1) !== null;
    const addresses = await start({ nodes: 1, secure: true, log: () => {} });
    if (!wasRunning) {
      // process.kill is synchronous, so it still works inside an 'exit' handler.
      process.once('exit', () => {
        const pid = runningPid(1);
        if (pid !== null) process.kill(pid, 'SIGTERM');
      });
    }
    return addresses;
  })();
  return brokers;
}

/** The secured listeners of the local broker and the PEM material to reach them. */
export interface SecureBroker {
  /** TLS with client certificates required. */
  readonly ssl: readonly string[];
  /** SASL (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER) over TLS. */
  readonly saslSsl: readonly string[];
  readonly ca: string;
  /** The broker's certificate and key (127.0.0.1, localhost), for a test's own TLS listener. */
  readonly brokerCert: string;
  readonly brokerKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  readonly wrongHostCert: string;
  readonly wrongHostKey: string;
}

/** Whether something accepts TCP connections at `host:port` (given up after 5 s). */
export function listening(address: string): Promise<boolean> {
  const colon = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const socket = connect({ host: address.slice(0, colon), port: Number(address.slice(colon + 1)) });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(5_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const fromEnv = (name: string): string[] | undefined =>
  process.env[name]?.split(',').map((address) => address.trim()).filter(Boolean);

/**
 * The secured listeners: KAFKA_SSL_BROKERS and KAFKA_SASL_SSL_BROKERS when set (CI and `npm test` set them), else
 * the local node's fixed ports. Resolves with a reason to skip only when neither variable is set and nothing
 * listens on those ports (a plain broker started without `--secure`); a set variable must work.
 */
export async function useSecureBroker(): Promise<SecureBroker | { skip: string }> {
  await useBroker();
  const ssl = fromEnv('KAFKA_SSL_BROKERS');
  const saslSsl = fromEnv('KAFKA_SASL_SSL_BROKERS');
  const chosen = { ssl: ssl ?? [`127.0.0.1:${sslPort(1)}`], saslSsl: saslSsl ?? [`127.0.0.1:${saslSslPort(1)}`] };
  if ((ssl === undefined || saslSsl === undefined) && !(await listening(chosen.saslSsl[0]!))) {
    return { skip: 'the broker has no secured listeners (start it with `npm run kafka -- start --secure`)' };
  }
  const read = (path: string): string => readFileSync(path, 'utf8');
  return {
    ...chosen,
    ca: read(TLS_FILES.ca),
    brokerCert: read(TLS_FILES.brokerCert),
    brokerKey: read(TLS_FILES.brokerKey),
    clientCert: read(TLS_FILES.clientCert),
    clientKey: read(TLS_FILES.clientKey),
    wrongHostCert: read(TLS_FILES.wrongHostCert),
    wrongHostKey: read(TLS_FILES.wrongHostKey),
  };
}

export interface ToolResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs one of Kafka's Java tools from .kafka/libs and resolves with its output; rejects on a non-zero exit. */
export function runKafkaTool(mainClass: string, args: readonly string[], timeoutMs = 120_000): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'java',
      // The tools print records as UTF-8 text; Java 17 would otherwise print in the locale's charset (ASCII in CI).
      ['-Xmx512m', '-Dfile.encoding=UTF-8', '-Dsun.stdout.encoding=UTF-8', '-Dstdout.encoding=UTF-8', '-cp', CLASSPATH, mainClass, ...args],
      { timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${mainClass} failed: ${error.message}\n${stderr}`, { cause: error }));
        else resolve({ stdout, stderr });
      },
    );
  });
}

/** A topic name no other test or run uses. */
export function uniqueTopic(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Creates a topic through our own CreateTopics (no JVM start per topic) and waits until its metadata lists a
 * leader for every partition. Replication factor -1 takes the broker's default.
 */
export async function createTopic(name: string, partitions: number, configs: Record<string, string> = {}): Promise<void> {
  const { CreateTopics } = await import('../../src/protocol/apis/create-topics.js');
  const { Metadata } = await import('../../src/protocol/apis/metadata.js');
  await withConnection(async (connection) => {
    const response = await connection.request(CreateTopics, {
      topics: [{ name, numPartitions: partitions, replicationFactor: -1, configs: Object.entries(configs).map(([key, value]) => ({ name: key, value })) }],
      timeoutMs: 30_000,
      validateOnly: false,
    });
    const result = response.topics[0];
    if (result === undefined || (result.errorCode !== 0 && result.errorCode !== 36)) {
      throw new Error(`CreateTopics ${name}: error ${result?.errorCode} ${result?.errorMessage ?? ''}`);
    }
    for (let attempt = 0; attempt < 100; attempt++) {
      const metadata = await connection.request(Metadata, { topics: [name], allowAutoTopicCreation: false });
      const topic = metadata.topics.find((t) => t.name === name);
      if (topic?.errorCode === 0 && topic.partitions.length === partitions && topic.partitions.every((p) => p.leaderId >= 0)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`topic ${name} has no leader for every partition`);
  });
}

/** The broker's Metadata answer for `topics` (none: only the brokers), through our own client. */
export async function metadata(topics: readonly string[]): Promise<import('../../src/protocol/apis/metadata.js').MetadataResponse> {
  const { Metadata } = await import('../../src/protocol/apis/metadata.js');
  return withConnection((connection) => connection.request(Metadata, { topics, allowAutoTopicCreation: false }));
}

/** Runs `use` with a connection to the first broker, closed afterwards whatever happens. */
async function withConnection<T>(use: (connection: import('../../src/net/connection.js').Connection) => Promise<T>): Promise<T> {
  const [address] = await useBroker();
  const [host, port] = address!.split(':');
  const { Connection } = await import('../../src/net/connection.js');
  const connection = await Connection.connect({ host: host!, port: Number(port), clientId: 'ringkafka-test', requestTimeoutMs: 30_000, maxInFlight: 1 });
  try {
    return await use(connection);
  } finally {
    await connection.close();
  }
}

/**
 * Path of a partition's first log segment on the local broker (for DumpLogSegments), or null when the broker's
 * files are not here (KAFKA_BROKERS pointing at another cluster): callers then skip that check and say so.
 */
export function localSegment(topic: string, partition: number): string | null {
  const path = join(partitionLogDir(1), `${topic}-${partition}`, '00000000000000000000.log');
  return existsSync(path) ? path : null;
}
