/**
 * Loads the Node peer clients from bench/peers/node/node_modules (installed by the bench with `npm ci`), never
 * from the library's own dependencies. The specifiers are resolved at run time, so `npm run typecheck` passes on
 * a fresh clone where the peers are not installed; the small interfaces below are the parts of each client's
 * API the bench uses.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/** The install each peer comes from: bench/peers/node, or bench/peers/platformatic-2 for @platformatic/kafka 2.x. */
export type PeerDir = 'node' | 'platformatic-2';

const peerRequire = (dir: PeerDir): NodeJS.Require => createRequire(new URL(`../peers/${dir}/package.json`, import.meta.url));

/** A CommonJS peer package (KafkaJS, lz4-napi). */
export function requirePeer<T>(name: string, dir: PeerDir = 'node'): T {
  return peerRequire(dir)(name) as T;
}

/** An ESM-only peer package (@platformatic/kafka). */
export async function importPeer<T>(name: string, dir: PeerDir = 'node'): Promise<T> {
  return (await import(pathToFileURL(peerRequire(dir).resolve(name)).href)) as T;
}

/** The installed version of a peer package (read from disk: not every package exports its package.json). */
export function peerVersion(name: string, dir: PeerDir = 'node'): string {
  const manifest = new URL(`../peers/${dir}/node_modules/${name}/package.json`, import.meta.url);
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

// ── KafkaJS 2.x ───────────────────────────────────────────────────────────────────────────────────────────────

export interface KafkaJsMessage {
  key?: Buffer;
  value: Buffer;
}

export interface KafkaJsProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(request: { topic: string; messages: KafkaJsMessage[]; acks: number; compression: number }): Promise<unknown>;
}

export interface KafkaJsCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

export interface KafkaJsModule {
  Kafka: new (config: {
    clientId: string;
    brokers: string[];
    logLevel: number;
    ssl?: { ca: Buffer; cert: Buffer; key: Buffer };
  }) => {
    producer(config: { idempotent: boolean; maxInFlightRequests: number; allowAutoTopicCreation?: boolean }): KafkaJsProducer;
  };
  CompressionTypes: { None: number; LZ4: number };
  CompressionCodecs: Record<number, () => KafkaJsCodec>;
  logLevel: { ERROR: number };
}

export interface Lz4NapiModule {
  compressFrame(data: Buffer): Promise<Buffer>;
  decompressFrame(data: Buffer): Promise<Buffer>;
}

/**
 * KafkaJS ships no LZ4 codec: users register one, and the benches do the same with lz4-napi (the LZ4 frame binding
 * ringkafka uses).
 */
export function registerKafkaJsLz4(kafkajs: KafkaJsModule): void {
  const lz4 = requirePeer<Lz4NapiModule>('lz4-napi');
  kafkajs.CompressionCodecs[kafkajs.CompressionTypes.LZ4] = () => ({
    compress: (encoder) => lz4.compressFrame(encoder.buffer),
    decompress: (buffer) => lz4.decompressFrame(buffer),
  });
}

// ── @platformatic/kafka 1.x ───────────────────────────────────────────────────────────────────────────────────

export interface PlatformaticMessage {
  topic: string;
  key?: Buffer;
  value: Buffer;
}

export interface PlatformaticProducer {
  send(options: { messages: PlatformaticMessage[] }): Promise<unknown>;
  close(): Promise<void>;
}

export interface PlatformaticModule {
  Producer: new (options: {
    clientId: string;
    bootstrapBrokers: string[];
    idempotent: boolean;
    acks: number;
    compression: 'none' | 'lz4';
    autocreateTopics: boolean;
    tls?: { ca: Buffer; cert: Buffer; key: Buffer };
  }) => PlatformaticProducer;
}
