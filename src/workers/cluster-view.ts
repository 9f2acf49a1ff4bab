/**
 * A worker's view of the cluster: which broker leads each partition it owns, and one connection per broker.
 * Each worker keeps its own (docs/architecture.md: a worker opens its own connection to each broker that leads one of its
 * partitions), so leadership changes are learnt by the worker that hit them, with no cross-thread state.
 */
import type tls from 'node:tls';
import { AuthGate } from './auth-gate.js';
import { Connection } from './connection.js';
import type { SaslCredentials } from './sasl.js';
import { Metadata, type MetadataResponse } from '../protocol/apis/metadata.js';
import { ConnectionError, KafkaProducerError } from '../shared/errors.js';
import { ErrorCode, errorInfo } from '../protocol/error-codes.js';

export interface Broker {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
}

export interface TopicLayout {
  readonly name: string;
  /** 16 bytes; all zeros when the broker has none (before Metadata v10). */
  readonly topicId: Uint8Array;
  /** Leader node id per partition index; -1 when a partition has no leader right now. */
  readonly leaders: readonly number[];
  /** Kafka error code of the topic in the last answer (0 when it is known). */
  readonly errorCode: number;
}

export interface ConnectionSettings {
  readonly clientId: string;
  readonly requestTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly maxInFlight: number;
  readonly tls: tls.ConnectionOptions | null;
  readonly sasl: SaslCredentials | null;
  readonly retryBackoffMs: number;
  readonly retryBackoffMaxMs: number;
}

/** Metadata is refreshed at most this often, whatever asks for it (Java: metadata.max.age backoff ~100 ms). */
const MIN_REFRESH_INTERVAL_MS = 100;

export class ClusterView {
  readonly #bootstrap: readonly Broker[];
  readonly #settings: ConnectionSettings;
  readonly #brokers = new Map<number, Broker>();
  readonly #connections = new Map<number, Promise<Connection>>();
  readonly #topics = new Map<string, TopicLayout>();
  readonly #wanted = new Set<string>();
  #refreshing: Promise<void> | undefined;
  #lastRefresh = 0;
  #closed = false;
  /** Connection used for metadata; any broker will do. */
  #metadataConnection: Connection | undefined;
  readonly #auth: AuthGate;

  constructor(bootstrap: readonly string[], settings: ConnectionSettings) {
    this.#bootstrap = bootstrap.map((address, i) => {
      const colon = address.lastIndexOf(':');
      return { nodeId: -1 - i, host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
    });
    this.#settings = settings;
    this.#auth = new AuthGate(settings.retryBackoffMs, settings.retryBackoffMaxMs);
  }

  /** The last authentication failure of this worker's connections, until one succeeds. */
  get authFailure(): Error | undefined {
    return this.#auth.failure;
  }

  topic(name: string): TopicLayout | undefined {
    return this.#topics.get(name);
  }

  broker(nodeId: number): Broker | undefined {
    return this.#brokers.get(nodeId);
  }

  /**
   * Fetches metadata for every topic this worker has seen (plus `topic`). Concurrent callers share one request;
   * calls closer together than MIN_REFRESH_INTERVAL_MS wait out the interval, so a burst of NOT_LEADER answers
   * causes one refresh, not one per partition.
   */
  refresh(topic?: string): Promise<void> {
    if (topic !== undefined) this.#wanted.add(topic);
    this.#refreshing ??= this.#doRefresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #doRefresh(): Promise<void> {
    const wait = this.#lastRefresh + MIN_REFRESH_INTERVAL_MS - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    this.#lastRefresh = Date.now();
    const connection = await this.#anyConnection();
    const response = await connection.request(Metadata, { topics: [...this.#wanted], allowAutoTopicCreation: true });
    this.#apply(response);
  }

  #apply(response: MetadataResponse): void {
    for (const broker of response.brokers) {
      const known = this.#brokers.get(broker.nodeId);
      if (known !== undefined && (known.host !== broker.host || known.port !== broker.port)) {
        // The node moved: its old connection must not be reused.
        void this.#dropConnection(broker.nodeId);
      }
      this.#brokers.set(broker.nodeId, { nodeId: broker.nodeId, host: broker.host, port: broker.port });
    }
    for (const topic of response.topics) {
      if (topic.name === null) continue;
      const leaders: number[] = [];
      for (const partition of topic.partitions) leaders[partition.partitionIndex] = partition.leaderId;
      for (let i = 0; i < leaders.length; i++) leaders[i] ??= -1;
      this.#topics.set(topic.name, {
        name: topic.name,
        topicId: topic.topicId ?? new Uint8Array(16),
        leaders,
        errorCode: topic.errorCode,
      });
    }
  }

  /** True when the last answer said the topic does not exist (and will not be created). */
  isUnknownTopic(name: string): boolean {
    const code = this.#topics.get(name)?.errorCode;
    return code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION || code === ErrorCode.INVALID_TOPIC_EXCEPTION;
  }

  describeTopicError(name: string): string {
    const code = this.#topics.get(name)?.errorCode ?? 0;
    return errorInfo(code).name;
  }

  async #anyConnection(): Promise<Connection> {
    if (this.#metadataConnection !== undefined && !this.#metadataConnection.isClosed) return this.#metadataConnection;
    const candidates = [...this.#brokers.values(), ...this.#bootstrap];
    let lastError: unknown;
    for (const broker of candidates) {
      if (this.#closed) break;
      try {
        this.#metadataConnection = await this.#open(broker);
        return this.#metadataConnection;
      } catch (error) {
        lastError = error;
        if (this.#auth.failure === error) break; // the same credentials fail on every broker
      }
    }
    throw lastError instanceof KafkaProducerError
      ? lastError
      : new ConnectionError('no broker could be reached for metadata', { cause: lastError });
  }

  async #open(broker: Broker): Promise<Connection> {
    if (this.#closed) throw new ConnectionError('the producer is closing');
    this.#auth.check();
    const { tls, sasl } = this.#settings;
    try {
      const connection = await Connection.connect({
        host: broker.host,
        port: broker.port,
        clientId: this.#settings.clientId,
        requestTimeoutMs: this.#settings.requestTimeoutMs,
        connectTimeoutMs: this.#settings.connectTimeoutMs,
        maxInFlight: this.#settings.maxInFlight,
        ...(tls !== null && { tls }),
        ...(sasl !== null && { sasl }),
      });
      this.#auth.succeeded();
      return connection;
    } catch (error) {
      this.#auth.failed(error);
      throw error;
    }
  }

  /** The live connection to a broker, opened on first use and reopened after it failed. */
  connection(nodeId: number): Promise<Connection> {
    const existing = this.#connections.get(nodeId);
    if (existing !== undefined) {
      return existing.then(
        (connection) => (connection.isClosed ? this.#reconnect(nodeId) : connection),
        () => this.#reconnect(nodeId),
      );
    }
    return this.#reconnect(nodeId);
  }

  #reconnect(nodeId: number): Promise<Connection> {
    const broker = this.#brokers.get(nodeId);
    if (broker === undefined) return Promise.reject(new ConnectionError(`broker ${nodeId} is not in the metadata`));
    const opening = this.#open(broker);
    // A failed attempt is not cached as a rejection forever: the next call reconnects.
    opening.catch(() => undefined);
    this.#connections.set(nodeId, opening);
    return opening;
  }

  async #dropConnection(nodeId: number): Promise<void> {
    const existing = this.#connections.get(nodeId);
    this.#connections.delete(nodeId);
    const connection = await existing?.catch(() => undefined);
    await connection?.close();
  }

  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#connections.keys()].map((nodeId) => this.#dropConnection(nodeId));
    await Promise.all(all);
    await this.#metadataConnection?.close();
  }
}
