/**
 * The main thread's view of topics: an index for each topic (what records carry through the rings), its partition
 * count (for the partitioner) and the partitions that have a leader (for the sticky choice). Fetched on first use
 * with the main thread's own bootstrap connection; a `send` waits for it at most `bufferTimeoutMs`.
 */
import type tls from 'node:tls';
import { AuthGate } from '../net/auth-gate.js';
import { Connection } from '../net/connection.js';
import type { SaslCredentials } from '../net/sasl.js';
import { Metadata, checkBrokers, partitionLeaders } from '../protocol/apis/metadata.js';
import { ErrorCode, errorInfo } from '../protocol/error-codes.js';
import { ConnectionError, KafkaProducerError, ProtocolError } from '../shared/errors.js';
import { AbortError, AuthenticationError, UnknownTopicError } from '../shared/producer-errors.js';
import type { BrokerAddress } from './options.js';

export interface TopicInfo {
  readonly index: number;
  readonly name: string;
  readonly partitionCount: number;
  /** Partitions with a leader right now. */
  readonly available: readonly number[];
}

export interface RegistrySettings {
  readonly brokers: readonly BrokerAddress[];
  readonly clientId: string;
  readonly requestTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly retryBackoffMs: number;
  readonly retryBackoffMaxMs: number;
  readonly tls: tls.ConnectionOptions | null;
  /** OAUTHBEARER's `token` here returns the main thread's cached token (oauth-tokens.ts). */
  readonly sasl: SaslCredentials | null;
}

/** A fetch of one topic's metadata, shared by every caller waiting for it. */
interface Loading {
  promise: Promise<TopicInfo>;
  /** The latest deadline among its callers (epoch ms): no new attempt starts after it. */
  deadline: number;
  /** Why the last attempt did not give the topic, for the callers that time out. */
  reason: string;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Topic indexes travel as u16 in ring entries. */
const MAX_TOPICS = 65_535;

export class TopicRegistry {
  readonly #settings: RegistrySettings;
  readonly #topics = new Map<string, TopicInfo>();
  readonly #byIndex: TopicInfo[] = [];
  readonly #loading = new Map<string, Loading>();
  #connection: Promise<Connection> | undefined;
  #closed = false;
  readonly #auth: AuthGate;

  constructor(settings: RegistrySettings) {
    this.#settings = settings;
    this.#auth = new AuthGate(settings.retryBackoffMs, settings.retryBackoffMaxMs);
  }

  get(name: string): TopicInfo | undefined {
    return this.#topics.get(name);
  }

  byIndex(index: number): TopicInfo | undefined {
    return this.#byIndex[index];
  }

  /** A connection to any bootstrap broker, kept for metadata and InitProducerId. */
  async connection(signal?: AbortSignal): Promise<Connection> {
    const current = await this.#connection?.catch(() => undefined);
    if (current !== undefined && !current.isClosed) return current;
    this.#connection = this.#connect(signal);
    return this.#connection;
  }

  async #connect(signal?: AbortSignal): Promise<Connection> {
    let lastError: unknown;
    this.#auth.check();
    const { tls, sasl } = this.#settings;
    for (const { host, port } of this.#settings.brokers) {
      if (this.#closed) break;
      try {
        const connection = await Connection.connect({
          host,
          port,
          clientId: this.#settings.clientId,
          requestTimeoutMs: this.#settings.requestTimeoutMs,
          connectTimeoutMs: this.#settings.connectTimeoutMs,
          maxInFlight: 5,
          signal,
          ...(tls !== null && { tls }),
          ...(sasl !== null && { sasl }),
        });
        this.#auth.succeeded();
        return connection.unref();
      } catch (error) {
        lastError = error;
        this.#auth.failed(error);
        // The same credentials fail on every broker: no point trying the others now.
        if (signal?.aborted || error instanceof AuthenticationError) break;
      }
    }
    throw lastError instanceof KafkaProducerError
      ? lastError
      : new ConnectionError('no bootstrap broker could be reached', { cause: lastError });
  }

  /**
   * Resolves the topic's metadata, fetching it if needed. Retries while the topic is being created or has no
   * leader yet. Each caller has its own deadline: it rejects with UnknownTopicError once its `timeoutMs` has
   * passed (naming the last reason seen), whoever started the fetch and however long a Metadata request takes;
   * or with AbortError ('not-sent'). Callers share one fetch.
   */
  load(name: string, options: { timeoutMs: number; signal?: AbortSignal | undefined }): Promise<TopicInfo> {
    const known = this.#topics.get(name);
    if (known !== undefined) return Promise.resolve(known);
    const deadline = Date.now() + options.timeoutMs;
    let loading = this.#loading.get(name);
    if (loading === undefined || loading.deadline < deadline) {
      // A fetch runs until the latest deadline of its callers; one that would stop earlier is extended.
      if (loading !== undefined) loading.deadline = deadline;
      else {
        const fetch: Loading = { promise: undefined!, deadline, reason: 'no answer yet' };
        fetch.promise = this.#fetch(name, fetch).finally(() => this.#loading.delete(name));
        fetch.promise.catch(() => undefined); // every caller observes it through its own race below
        this.#loading.set(name, fetch);
        loading = fetch;
      }
    }
    const fetch = loading;
    const signal = options.signal;
    return new Promise<TopicInfo>((resolve, reject) => {
      const onAbort = (): void => {
        done();
        reject(new AbortError('not-sent', `aborted while waiting for metadata of topic ${name}`, { cause: signal?.reason }));
      };
      const timer = setTimeout(() => {
        done();
        reject(new UnknownTopicError(name, `topic ${JSON.stringify(name)} is not available: ${fetch.reason}`));
      }, Math.max(0, Math.min(options.timeoutMs, MAX_TIMER_MS)));
      function done(): void {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      }
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      fetch.promise.then(
        (info) => {
          done();
          resolve(info);
        },
        (error: unknown) => {
          done();
          reject(error);
        },
      );
    });
  }

  async #fetch(name: string, loading: Loading): Promise<TopicInfo> {
    for (let attempt = 0; !this.#closed; attempt++) {
      let connection: Connection | undefined;
      try {
        connection = await this.connection();
        const response = await connection.request(Metadata, { topics: [name], allowAutoTopicCreation: true });
        checkBrokers(response.brokers);
        const topic = response.topics.find((t) => t.name === name);
        const leaders = topic === undefined ? [] : partitionLeaders(topic);
        if (topic !== undefined && topic.errorCode === ErrorCode.NONE && leaders.length > 0) {
          const available: number[] = [];
          for (let p = 0; p < leaders.length; p++) if (leaders[p]! >= 0) available.push(p);
          return this.#register(name, leaders.length, available);
        }
        loading.reason = topic === undefined ? 'not in the answer' : errorInfo(topic.errorCode).name;
        // Fatal for this topic: a bad name or no permission will not change by waiting.
        if (topic?.errorCode === ErrorCode.INVALID_TOPIC_EXCEPTION || topic?.errorCode === ErrorCode.TOPIC_AUTHORIZATION_FAILED) break;
      } catch (error) {
        if (error instanceof AuthenticationError) throw error; // waiting does not fix credentials
        loading.reason = error instanceof Error ? error.message : String(error);
        // An answer that makes no sense: that connection is not trusted for the next attempt.
        if (error instanceof ProtocolError) await connection?.close();
      }
      const wait = Math.min(this.#settings.retryBackoffMs * 2 ** Math.min(attempt, 4), loading.deadline - Date.now());
      if (wait <= 0) break;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    throw new UnknownTopicError(name, `topic ${JSON.stringify(name)} is not available: ${loading.reason}`);
  }

  #register(name: string, partitionCount: number, available: number[]): TopicInfo {
    if (this.#byIndex.length >= MAX_TOPICS) throw new KafkaProducerError('ERR_TOO_MANY_TOPICS', `a producer writes to at most ${MAX_TOPICS} topics`);
    const info: TopicInfo = { index: this.#byIndex.length, name, partitionCount, available };
    this.#topics.set(name, info);
    this.#byIndex.push(info);
    return info;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const connection = await this.#connection?.catch(() => undefined);
    await connection?.close();
  }
}
