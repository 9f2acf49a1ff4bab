/**
 * The main thread's view of topics: an index for each topic (what records carry through the rings), its partition
 * count (for the partitioner) and the partitions that have a leader (for the sticky choice). Fetched on first use
 * with the main thread's own bootstrap connection; a `send` waits for it at most `bufferTimeoutMs`. Every known
 * topic is fetched again once its view is `metadataMaxAgeMs` old (Java's metadata.max.age.ms), so partitions added
 * later are used and a partition that lost its leader stops being picked for keyless records. A topic no record was
 * placed on for `metadataMaxIdleMs` (Java's metadata.max.idle.ms) is forgotten by a refresh: refreshes stop asking
 * for it, and its next record fetches it again, as the first did. It keeps its index, which the workers know it by.
 * Use is read at refreshes, not per record: a topic goes between metadataMaxIdleMs and that plus two
 * metadataMaxAgeMs after its last record. A topic every refresh for DELETED_TOPIC_AFTER_MS has said does not exist
 * is forgotten too.
 */
import { setMaxListeners } from 'node:events';
import type tls from 'node:tls';
import type { AddressOrder } from '../net/address-order.js';
import { AuthGate } from '../net/auth-gate.js';
import { connectToAny, openConnection } from '../net/bootstrap.js';
import type { Connection } from '../net/connection.js';
import { ReconnectPacing } from '../net/reconnect-pacing.js';
import type { SaslCredentials } from '../net/sasl.js';
import { Metadata, checkAnswer, isRebootstrap, reachableLeaders, sameTopic, withLeader, type MetadataResponse } from '../protocol/apis/metadata.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { ReconnectSettings } from '../shared/backoff.js';
import { DELETED_TOPIC_AFTER_MS } from '../shared/deleted-topic.js';
import { ConnectionError, KafkaProducerError, ProtocolError } from '../shared/errors.js';
import { pause } from '../shared/pause.js';
import { untilAborted } from '../shared/until-aborted.js';
import { AbortError } from '../shared/producer-errors.js';
import type { BrokerAddress } from './options.js';
import { TopicFetches } from './topic-fetches.js';

export interface TopicInfo {
  readonly index: number;
  readonly name: string;
  readonly partitionCount: number;
  /** Partitions with a leader right now. */
  readonly available: readonly number[];
}

export interface RegistrySettings extends ReconnectSettings {
  readonly brokers: readonly BrokerAddress[];
  readonly clientId: string;
  readonly requestTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly retryBackoffMs: number;
  readonly retryBackoffMaxMs: number;
  /** Age at which every known topic is fetched again. */
  readonly metadataMaxAgeMs: number;
  /** Time without a record after which a topic is forgotten (at the next refresh). */
  readonly metadataMaxIdleMs: number;
  /** Distinct topics at most, MAX_TOPICS unless given (a test reaches the limit with a few). */
  readonly maxTopics?: number | undefined;
  readonly tls: tls.ConnectionOptions | null;
  /** OAUTHBEARER's `token` here returns the main thread's cached token (oauth-tokens.ts). */
  readonly sasl: SaslCredentials | null;
  /** Which bootstrap addresses failed, shared with the workers as they start (address-order.ts). */
  readonly bootstrapOrder?: AddressOrder | undefined;
}

/** Topic indexes travel as u16 in ring entries. */
const MAX_TOPICS = 65_535;

/** The reconnect backoff's key for the connection to any bootstrap broker (a coordinator's is its host:port). */
const ANY_BOOTSTRAP = 'bootstrap';

/** A failed refresh is tried again this soon at the earliest, whatever retryBackoffMaxMs says. */
const MIN_REFRESH_RETRY_MS = 100;

export class TopicRegistry {
  readonly #settings: RegistrySettings;
  readonly #topics = new Map<string, TopicInfo>();
  /**
   * The last topic `get` found, and its name: most records go to the topic of the record before them, and one
   * comparison (the same string, most often) costs less than the map's lookup that every record paid. Cleared
   * whenever `#topics` changes.
   */
  #lastName: string | undefined;
  #lastInfo: TopicInfo | undefined;
  /** Every topic ever known, by index; a forgotten topic keeps its entry (results of its last records name it). */
  readonly #byIndex: TopicInfo[] = [];
  /** Forgotten topics' indexes, for their return: the workers know a topic by its index for the producer's life. */
  readonly #forgotten = new Map<string, number>();
  /** By index: a record was placed on the topic since the last refresh (get), and when that last refresh saw one. */
  readonly #usedSinceRefresh: boolean[] = [];
  readonly #lastUsedAt: number[] = [];
  /** By index: the topic id the last answer used gave (Metadata v10+; null before). */
  readonly #topicIds: (Uint8Array | null)[] = [];
  /** By index: since when every refresh has said the topic does not exist (undefined: the last did not). */
  readonly #unknownSince: (number | undefined)[] = [];
  readonly #maxTopics: number;
  /** Fetches of topics not known yet. */
  readonly #fetches: TopicFetches;
  #connection: Promise<Connection> | undefined;
  #closed = false;
  /** Aborted by close: ends the backoff pauses between metadata attempts. */
  readonly #closing = new AbortController();
  readonly #auth: AuthGate;
  /** Where the last attempts to connect failed, for the reconnect backoff (reconnectDelay). */
  readonly #pacing: ReconnectPacing;
  /** The refresh of every known topic under way; callers share it. */
  #refreshing: Promise<void> | undefined;
  /** When the last refresh began (epoch ms), for refreshedSince; and the last that got an answer applied. */
  #lastRefreshAt = 0;
  #lastAnsweredAt = 0;
  /** The refresh refreshedSince's callers wait to begin (#refreshSoon). */
  #soon: Promise<void> | undefined;
  /** Fires the next refresh; unref'd (it keeps no process alive) and cleared on close. */
  #refreshTimer: NodeJS.Timeout | undefined;

  constructor(settings: RegistrySettings) {
    this.#settings = settings;
    this.#maxTopics = Math.min(MAX_TOPICS, settings.maxTopics ?? MAX_TOPICS);
    this.#auth = new AuthGate(settings.retryBackoffMs, settings.retryBackoffMaxMs);
    this.#pacing = new ReconnectPacing(settings);
    // Each pausing fetch listens on it, and removes its listener when done: past ten at once is no leak to warn of.
    setMaxListeners(0, this.#closing.signal);
    this.#fetches = new TopicFetches({
      backoff: settings,
      closing: this.#closing.signal,
      connection: () => this.connection(),
      reconnectDelay: () => this.#pacing.delay(ANY_BOOTSTRAP),
      reconnectReason: () => this.#pacing.lastFailure(ANY_BOOTSTRAP),
      // A forgotten topic comes back under its own index, which takes no room.
      checkRoom: (name) => {
        if (!this.#forgotten.has(name) && this.#byIndex.length >= this.#maxTopics) throw tooManyTopics(this.#maxTopics);
      },
      register: (name, leaders, topicId) => this.#register(name, leaders, topicId),
    });
  }

  /**
   * The topic's view, undefined while it has none (never fetched, or forgotten). A topic found here is marked used;
   * the topic of the record before is returned without a mark, as its last lookup made one, and every refresh
   * clears that shortcut, so the next record marks it again.
   */
  get(name: string): TopicInfo | undefined {
    if (name === this.#lastName) return this.#lastInfo;
    const info = this.#topics.get(name);
    if (info !== undefined) {
      this.#lastName = name;
      this.#lastInfo = info;
      this.#usedSinceRefresh[info.index] = true;
    }
    return info;
  }

  /** Records a topic's new view; every change to `#topics` goes through here, but forgetting (#forget). */
  #set(info: TopicInfo): void {
    this.#topics.set(info.name, info);
    this.#lastName = undefined;
    this.#lastInfo = undefined;
  }

  byIndex(index: number): TopicInfo | undefined {
    return this.#byIndex[index];
  }

  /**
   * A connection to any bootstrap broker, kept for metadata and InitProducerId. Concurrent callers share one
   * attempt: each used to wait for the last connection, find it gone, and open one of its own, of which only the
   * last was kept (and closed by close()); the others stayed open for the process's life.
   */
  connection(signal?: AbortSignal): Promise<Connection> {
    return untilAborted(this.#shared(), signal, 'aborted while connecting for metadata');
  }

  /** The shared attempt, started with no caller's signal: one caller's abort must not fail the others' wait. */
  #shared(): Promise<Connection> {
    const seen = this.#connection;
    if (seen === undefined) return this.#newAttempt();
    // Only the first caller to find `seen` closed replaces it; the others share its replacement.
    return seen.then((current) => (!current.isClosed ? current : this.#connection === seen ? this.#newAttempt() : this.#shared()));
  }

  /**
   * An attempt, made once the reconnect backoff is over, shared by every caller until it fails: they hear its
   * failure, each to retry as its loop decides, and the next caller starts another. Callers that shared a failed
   * attempt used to start the next at once; behind the reconnect backoff they would wait there past their deadlines.
   */
  #newAttempt(): Promise<Connection> {
    const attempt = this.#connect();
    this.#connection = attempt;
    attempt.catch(() => {
      if (this.#connection === attempt) this.#connection = undefined;
    });
    return attempt;
  }

  /**
   * A connection to one broker (a transaction or group coordinator), opened with the same settings and
   * authentication gate as the registry's own; the caller owns it and closes it.
   */
  async connectTo(broker: BrokerAddress, signal?: AbortSignal): Promise<Connection> {
    if (this.#closed) throw new ConnectionError('the producer is closing');
    const aborted = (): Error =>
      signal?.aborted === true ? new AbortError('not-sent', 'aborted while waiting to connect', { cause: signal.reason }) : closingError();
    const connection = await this.#pacing.attempt(`${broker.host}:${broker.port}`, [this.#closing.signal, signal], aborted,
      () => openConnection(broker, { ...this.#settings, maxInFlight: 5 }, this.#auth, signal));
    return connection.unref();
  }

  /**
   * The reconnect backoff left before a new connection to `target` (a coordinator), or else to the bootstrap brokers
   * (reconnect-pacing.ts): a loop with a deadline waits it out itself, up to that deadline, before it asks for one.
   */
  reconnectDelay(target?: BrokerAddress): number {
    return this.#pacing.delay(target === undefined ? ANY_BOOTSTRAP : `${target.host}:${target.port}`);
  }

  /** Why the topic's metadata fetch has no answer yet, once one of its attempts failed (topic-fetches.ts). */
  fetchReason(name: string): string | undefined {
    return this.#fetches.reasonFor(name);
  }

  /** Why the last attempt at `target`, or else at the bootstrap brokers, failed, while its backoff counts. */
  reconnectReason(target?: BrokerAddress): string | undefined {
    return this.#pacing.lastFailure(target === undefined ? ANY_BOOTSTRAP : `${target.host}:${target.port}`);
  }

  async #connect(): Promise<Connection> {
    const connection = await this.#pacing.attempt(ANY_BOOTSTRAP, [this.#closing.signal], closingError,
      () => connectToAny(this.#settings.brokers, { ...this.#settings, maxInFlight: 5 }, this.#auth,
        { signal: this.#closing.signal, stopped: () => this.#closed, order: this.#settings.bootstrapOrder }));
    return connection.unref(); // it keeps no process alive
  }

  /**
   * Resolves the topic's metadata, fetching it if needed (topic-fetches.ts): callers share one fetch, and each
   * rejects with UnknownTopicError once its own `timeoutMs` has passed, or with AbortError ('not-sent').
   */
  load(name: string, options: { timeoutMs: number; signal?: AbortSignal | undefined }): Promise<TopicInfo> {
    const known = this.#topics.get(name);
    return known !== undefined ? Promise.resolve(known) : this.#fetches.wait(name, options);
  }

  /**
   * Starts fetching an unknown topic, or keeps its fetch going until `deadline` (epoch ms), for a caller that does
   * not wait on it: trySend, and sends queued behind others of their topic.
   */
  prefetch(name: string, deadline: number): void {
    if (!this.#topics.has(name)) this.#fetches.prefetch(name, deadline);
  }

  #register(name: string, leaders: readonly number[], topicId: Uint8Array | null): TopicInfo {
    const index = this.#forgotten.get(name) ?? this.#byIndex.length;
    if (index >= this.#maxTopics) throw tooManyTopics(this.#maxTopics);
    this.#forgotten.delete(name);
    const info: TopicInfo = { index, name, partitionCount: leaders.length, available: withLeader(leaders) };
    this.#set(info);
    this.#byIndex[index] = info;
    this.#topicIds[index] = topicId;
    this.#usedSinceRefresh[index] = false;
    this.#lastUsedAt[index] = Date.now();
    if (this.#refreshTimer === undefined) this.#scheduleRefresh(this.#settings.metadataMaxAgeMs);
    return info;
  }

  /**
   * Forgets the topics no record was placed on for metadataMaxIdleMs, and returns the names of those kept. The
   * shortcut of `get` is cleared, so every topic used from now on is marked again.
   */
  #keepUsed(now: number): string[] {
    this.#lastName = undefined;
    this.#lastInfo = undefined;
    const kept: string[] = [];
    for (const info of this.#topics.values()) {
      const index = info.index;
      if (this.#usedSinceRefresh[index]) {
        this.#usedSinceRefresh[index] = false;
        this.#lastUsedAt[index] = now;
      }
      if (now - this.#lastUsedAt[index]! < this.#settings.metadataMaxIdleMs) kept.push(info.name);
      else this.#forget(info);
    }
    return kept;
  }

  /**
   * Fetches every known topic again and applies what changed: a new partition count (partitions added; keyed
   * records then hash over the new count, as in Java) and the partitions that have a leader. A topic missing from
   * the answer or answered with an error keeps its last view. Concurrent callers share one request. Never
   * rejects: a failed refresh keeps the whole view and is tried again sooner than the max age.
   */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#refreshKnown().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  /**
   * Resolves once a refresh that began at `at` (epoch ms) or later is over: for a send to a partition the view did
   * not have when the send was made. Refreshes begin at least MIN_REFRESH_RETRY_MS apart, and one serves every send
   * made before it began: a stream of sends to a partition that does not exist costs a Metadata request per 100 ms,
   * not one each. With `until` (epoch ms), only a refresh that got an answer counts, tried again until then: one
   * that failed told nothing of the partitions, and a send refused after it was told its topic had only the
   * partitions the producer knew of. Never rejects; ends at close.
   */
  async refreshedSince(at: number, until?: number): Promise<void> {
    while (!this.#closed) {
      const running = this.#refreshing;
      if (running !== undefined) {
        const began = this.#lastRefreshAt;
        await running;
        // It began after the send, and was answered if it must be; else the next one.
        if (began >= at && (until === undefined || this.#lastAnsweredAt === began)) return;
        continue;
      }
      if ((until === undefined ? this.#lastRefreshAt : this.#lastAnsweredAt) >= at) return;
      if (until !== undefined && Date.now() >= until) return;
      await this.#refreshSoon();
    }
  }

  /**
   * A refresh begun once MIN_REFRESH_RETRY_MS has passed since the last began, shared by every caller that asks
   * meanwhile: one timer however many sends (or trySend calls) wait for it.
   */
  #refreshSoon(): Promise<void> {
    if (this.#soon === undefined) {
      // Let go once over, not from inside: with no pause to wait, the body ran to its first await before `#soon`
      // was assigned, and a `#soon = undefined` there left the settled promise in place, on which refreshedSince's
      // loop then spun without end.
      const soon = this.#refreshAfterFloor();
      this.#soon = soon;
      void soon.finally(() => {
        if (this.#soon === soon) this.#soon = undefined;
      });
    }
    return this.#soon;
  }

  async #refreshAfterFloor(): Promise<void> {
    const last = this.#lastRefreshAt;
    const wait = last + MIN_REFRESH_RETRY_MS - Date.now();
    if (wait > 0) await pause(wait, this.#closing.signal, closingError).catch(() => undefined);
    // One begun meanwhile (the max age, a worker's report) serves the callers; one more now would break the floor.
    if (this.#lastRefreshAt === last) await this.refresh();
  }

  async #refreshKnown(): Promise<void> {
    const began = Date.now();
    this.#lastRefreshAt = began;
    clearTimeout(this.#refreshTimer);
    this.#refreshTimer = undefined;
    const { metadataMaxAgeMs, retryBackoffMaxMs } = this.#settings;
    let next = metadataMaxAgeMs;
    let connection: Connection | undefined;
    try {
      if (this.#closed) return;
      const names = this.#keepUsed(Date.now());
      // Nothing left to refresh: the next topic registered starts the timer again.
      if (names.length === 0) {
        next = -1;
        return;
      }
      connection = await this.connection();
      // Not auto-creating: a refresh only observes, it must not bring back a topic someone deleted.
      const doubtful = this.#apply(await connection.request(Metadata, { topics: names, allowAutoTopicCreation: false }));
      this.#lastAnsweredAt = began;
      // A topic the answer says does not exist is asked about again once it may count as deleted, not at the max
      // age: refreshed only every five minutes, a deleted topic was forgotten five to ten minutes after.
      if (doubtful) next = Math.min(next, DELETED_TOPIC_AFTER_MS);
    } catch (error) {
      // An answer that makes no sense, or a rebootstrap: that connection is not used for the next attempt.
      if (error instanceof ProtocolError || isRebootstrap(error)) await connection?.close();
      next = Math.min(metadataMaxAgeMs, Math.max(MIN_REFRESH_RETRY_MS, retryBackoffMaxMs));
    } finally {
      if (next >= 0) this.#scheduleRefresh(next);
    }
  }

  /** Applies a checked answer (a bad one leaves the view whole); true if it kept a topic said not to exist. */
  #apply(response: MetadataResponse): boolean {
    checkAnswer(response);
    const changed: TopicInfo[] = [];
    const deleted: TopicInfo[] = [];
    let doubtful = false;
    const now = Date.now();
    for (const topic of response.topics) {
      const known = topic.name === null ? undefined : this.#topics.get(topic.name);
      if (known === undefined) continue;
      if (topic.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
        if (now - (this.#unknownSince[known.index] ??= now) >= DELETED_TOPIC_AFTER_MS) deleted.push(known);
        else doubtful = true;
      } else this.#unknownSince[known.index] = undefined;
      if (topic.errorCode !== ErrorCode.NONE) continue;
      const leaders = reachableLeaders(topic, response.brokers);
      if (leaders.length === 0) continue;
      // A topic's partitions are only ever added: fewer under the same id is a broker whose view lags the others'.
      // Taken, keyed records hashed over the lower count (their order broken) and explicit partitions above it were
      // refused, until the next refresh. A topic deleted and created again has a new id, and its count is taken.
      if (leaders.length < known.partitionCount && sameTopic(topic.topicId, this.#topicIds[known.index])) continue;
      this.#topicIds[known.index] = topic.topicId;
      const available = withLeader(leaders);
      if (leaders.length === known.partitionCount && sameNumbers(available, known.available)) continue;
      changed.push({ index: known.index, name: known.name, partitionCount: leaders.length, available });
    }
    // A new object per change: the sticky partitioner rescans `available` once per array it is given.
    for (const info of changed) {
      this.#set(info);
      this.#byIndex[info.index] = info;
    }
    // Deleted: a send to it was accepted while sends kept coming, its bytes held until its delivery timeout (two
    // minutes), filling the buffer the other topics need. Forgotten, its next send waits for its metadata, at most
    // bufferTimeoutMs, as the first send to a topic does (and may create it again where the cluster creates topics).
    for (const info of deleted) this.#forget(info);
    return doubtful;
  }

  /** Drops a topic from the view; it keeps its index, for its return (#register). */
  #forget(info: TopicInfo): void {
    this.#topics.delete(info.name);
    this.#forgotten.set(info.name, info.index);
    this.#unknownSince[info.index] = undefined;
    this.#lastName = undefined;
    this.#lastInfo = undefined;
  }

  #scheduleRefresh(ms: number): void {
    if (this.#closed) return;
    clearTimeout(this.#refreshTimer);
    this.#refreshTimer = setTimeout(() => void this.refresh(), ms).unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#closing.abort();
    clearTimeout(this.#refreshTimer);
    this.#refreshTimer = undefined;
    const connection = await this.#connection?.catch(() => undefined);
    await connection?.close();
    // Its request failed with the connection, so this is quick; after it no timer is armed again (closed).
    await this.#refreshing;
  }
}

function tooManyTopics(max: number): KafkaProducerError {
  return new KafkaProducerError('ERR_TOO_MANY_TOPICS', `a producer writes to at most ${max} topics`);
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

function closingError(): ConnectionError {
  return new ConnectionError('the producer is closing');
}
