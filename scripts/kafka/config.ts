/**
 * Where the local test broker lives and how it is laid out. The Kafka version is pinned here and nowhere else:
 * 4.3.1 is the newest 4.x release whose broker *and* tools jars are all published (4.4.0 ships the broker jars but
 * not kafka-tools, which the tests use as the independent reader).
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const KAFKA_VERSION = '4.3.1';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const KAFKA_DIR = join(ROOT, '.kafka');
export const LIBS_DIR = join(KAFKA_DIR, 'libs');
export const POM = join(ROOT, 'scripts', 'kafka', 'pom.xml');
/** The classpath every Kafka tool runs with: the JVM expands the wildcard. */
export const CLASSPATH = join(LIBS_DIR, '*');

export const HOST = '127.0.0.1';
/** Certificates of the secured broker (tls.ts). */
export const TLS_DIR = join(KAFKA_DIR, 'tls');

/** The SASL user of the secured broker, for PLAIN and both SCRAM mechanisms (test credentials, documented). */
export const SASL_USER = { username: 'alice', password: 'alice-secret' } as const;

/**
 * Session lifetime the secured broker states for SCRAM-SHA-512 and OAUTHBEARER on its SASL_SSL listener (KIP-368,
 * `listener.name.sasl_ssl.<mechanism>.connections.max.reauth.ms`): short, so the re-authentication test sees
 * sessions renewed within seconds. PLAIN and SCRAM-SHA-256 keep sessions without a limit, so the other security
 * tests run as before; and a connection that did not re-authenticate is only closed once it sends a request after
 * its session ended, which tests finishing within seconds never do.
 */
export const REAUTH_MS = 5_000;

/** Node ids run 1..3; node i listens on 9092 + 2(i-1) for clients and on the next port for the controller. */
export function brokerPort(nodeId: number): number {
  return 9092 + 2 * (nodeId - 1);
}

export function controllerPort(nodeId: number): number {
  return brokerPort(nodeId) + 1;
}

/**
 * With `--secure`, node i also listens on 9192 + 2(i-1) with TLS and client certificates required (SSL), and on
 * the next port with SASL over TLS (SASL_SSL).
 */
export function sslPort(nodeId: number): number {
  return 9192 + 2 * (nodeId - 1);
}

export function saslSslPort(nodeId: number): number {
  return sslPort(nodeId) + 1;
}

export function nodeDir(nodeId: number): string {
  return join(KAFKA_DIR, `node-${nodeId}`);
}

/** Main classes of Kafka's own tools, as of 4.3 (DumpLogSegments moved from `kafka.tools` into kafka-tools). */
export const TOOLS = {
  broker: 'kafka.Kafka',
  storage: 'kafka.tools.StorageTool',
  topics: 'org.apache.kafka.tools.TopicCommand',
  consoleConsumer: 'org.apache.kafka.tools.consumer.ConsoleConsumer',
  getOffsetShell: 'org.apache.kafka.tools.GetOffsetShell',
  dumpLogSegments: 'org.apache.kafka.tools.DumpLogSegments',
  producerPerformance: 'org.apache.kafka.tools.ProducerPerformance',
  configCommand: 'kafka.admin.ConfigCommand',
  reassignPartitions: 'org.apache.kafka.tools.reassign.ReassignPartitionsCommand',
  consumerGroups: 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
} as const;
