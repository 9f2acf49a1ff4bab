/**
 * A worker's view of the cluster: which broker leads each partition it owns, and one connection per broker.
 * Each worker keeps its own (docs/architecture.md: a worker opens its own connection to each broker that leads one of its
 * partitions), so leadership changes are learnt by the worker that hit them, with no cross-thread state. It learns
 * them from Metadata (on demand, and every `metadataMaxAgeMs`) and from the leader a Produce answer names (KIP-951).
 */
import { listenForAbort } from '../shared/abort-listeners.js';
import { pause } from '../shared/pause.js';
import { AuthGate } from '../net/auth-gate.js';
import { bootstrapBrokers, connectToAny, openConnection, type Broker, type ClientSettings } from '../net/bootstrap.js';
import type { Connection } from '../net/connection.js';
import { Metadata, checkAnswer, isRebootstrap, reachableLeaders, type MetadataResponse, type MetadataTopic } from '../protocol/apis/metadata.js';
import type { LeaderIdAndEpoch, NodeEndpoint } from '../protocol/apis/produce.js';
import type { ReconnectSettings } from '../shared/backoff.js';
import { ReconnectPacing } from '../net/reconnect-pacing.js';
import { ConnectionError, ProtocolError } from '../shared/errors.js';
import { AuthenticationError } from '../shared/producer-errors.js';
import { ErrorCode, errorInfo } from '../protocol/error-codes.js';

export interface TopicLayout {
  readonly name: string;
  /** 16 bytes; all zeros when the broker has none (before Metadata v10). */
  readonly topicId: Uint8Array;
  /** Leader node id per partition index; -1 when a partition has no leader right now. */
  readonly leaders: readonly number[];
  /** Leader epoch per partition index; -1 when unknown (Metadata before v7). Orders what we learn about leaders. */
  readonly leaderEpochs: readonly number[];
  /** Kafka error code of the topic in the last answer (0 when it is known). */
  readonly errorCode: number;
  /** Since when (epoch ms) every answer said the topic does not exist; undefined while it is known. */
  readonly unknownSince?: number | undefined;
}

export interface ConnectionSettings extends ClientSettings, ReconnectSettings {
  /** The retry backoff, which paces the authentication gate (AuthGate) here. */
  readonly retryBackoffMs: number;
  readonly retryBackoffMaxMs: number;
  /** Age at which the topics this worker wants are fetched again (the producer's metadataMaxAgeMs). */
  readonly metadataMaxAgeMs: number;
  /**
   * The topics the worker wrote nothing to for metadataMaxIdleMs, asked before each refresh: they leave the view
   * (Java's metadata.max.idle.ms), and a record for one asks for it again (`want`). None when left out.
   */
  readonly idleTopics?: (() => Iterable<string>) | undefined;
  /** The partitions the worker holds sealed batches for: an answer leaving one without a leader is fruitless. */
  readonly heldPartitions?: (() => Iterable<{ readonly topic: { readonly name: string }; readonly partition: number }>) | undefined;
}

/**
 * The one connection to a broker. Every caller shares the current connection or the current attempt, so a broken
 * broker costs one attempt per backoff step, not one per queued batch; the backoff itself is the view's
 * ReconnectPacing, under the broker's key (linkKey).
 */
interface BrokerLink {
  /** The open connection; it may have closed since (checked on every use). */
  connection: Connection | undefined;
  /** The attempt (with its backoff pause) under way, when there is no connection. */
  attempt: Promise<Connection> | undefined;
}

/** A broker's key in the view's reconnect pacing; the metadata connection has its own (METADATA_TARGET). */
function linkKey(nodeId: number): string {
  return `node ${nodeId}`;
}

/**
 * Metadata is refreshed at most this often, whatever asks for it (Java: metadata.max.age backoff ~100 ms). While
 * answers in a row change nothing and still leave a wanted partition without a leader or a topic unknown, the floor
 * doubles up to retryBackoffMaxMs (KIP-580's exponential metadata backoff): each pump that found the partition still
 * leaderless asked again, ten refreshes a second per worker for as long as the partition had no leader.
 */
const MIN_REFRESH_INTERVAL_MS = 100;
/** The metadata connection's key in its reconnect pacing: one target, whichever broker answers. */
const METADATA_TARGET = 'metadata';

export class ClusterView {
  readonly #bootstrap: readonly Broker[];
  /** A broker answered REBOOTSTRAP_REQUIRED: the bootstrap addresses come first until an answer is applied. */
  #rebootstrap = false;
  readonly #settings: ConnectionSettings;
  readonly #brokers = new Map<number, Broker>();
  readonly #links = new Map<number, BrokerLink>();
  /** Cancels backoff pauses on close, so no timer outlives the view. */
  readonly #closing = new AbortController();
  readonly #topics = new Map<string, TopicLayout>();
  readonly #wanted = new Set<string>();
  #refreshing: Promise<void> | undefined;
  #lastRefresh = 0;
  /** Answers in a row that changed no leader and left something wanted without one: the refresh floor doubles. */
  #fruitless = 0;
  /** Fires the next max-age refresh; unref'd (it keeps no thread alive) and cleared on close. */
  #maxAgeTimer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Connection used for metadata; any broker will do. */
  #metadataConnection: Connection | undefined;
  /** The reconnect backoff of the metadata connection and of each broker's link, apart (linkKey, METADATA_TARGET). */
  readonly #pacing: ReconnectPacing;
  #refreshAuthFailure: AuthenticationError | undefined;
  readonly #auth: AuthGate;

  constructor(bootstrap: readonly string[], settings: ConnectionSettings) {
    this.#bootstrap = bootstrapBrokers(bootstrap);
    this.#settings = settings;
    this.#auth = new AuthGate(settings.retryBackoffMs, settings.retryBackoffMaxMs);
    this.#pacing = new ReconnectPacing(settings);
  }

  /**
   * Why the last metadata refresh failed, when it was refused authentication: until a refresh succeeds, or a topic
   * is wanted that no refresh asked for yet. Not any connection's last failure (the gate's): that one stays until
   * some later connection succeeds, and could be older than a topic the view forgot and wants again (a broker that
   * refused once, then a worker idle with no connection opened since), whose batches it failed without a try.
   */
  get metadataAuthFailure(): Error | undefined {
    return this.#refreshAuthFailure;
  }

  topic(name: string): TopicLayout | undefined {
    return this.#topics.get(name);
  }

  /**
   * Fetches metadata for every topic this worker wants (plus `topic`): those it has seen, but the ones idle for
   * metadataMaxIdleMs (`idleTopics`). Concurrent callers share one request;
   * calls closer together than MIN_REFRESH_INTERVAL_MS wait out the interval, so a burst of NOT_LEADER answers
   * causes one refresh, not one per partition.
   */
  refresh(topic?: string): Promise<void> {
    if (topic !== undefined) this.want(topic);
    this.#refreshing ??= this.#doRefresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  /** Asks for `topic` in the next refresh (a record came for a topic the view forgot), without starting one. */
  want(topic: string): void {
    if (this.#wanted.has(topic)) return;
    this.#wanted.add(topic);
    this.#refreshAuthFailure = undefined; // the next refresh, asking for it, decides
  }

  async #doRefresh(): Promise<void> {
    const wait = this.#lastRefresh + this.#refreshFloor() - Date.now();
    if (wait > 0) await this.#pause(wait);
    this.#lastRefresh = Date.now();
    for (const idle of this.#settings.idleTopics?.() ?? []) {
      this.#wanted.delete(idle);
      this.#topics.delete(idle);
    }
    // Every topic idle: nothing to ask, and no max-age timer until a topic is wanted again (refresh(topic), want).
    if (this.#wanted.size === 0) return;
    this.#scheduleMaxAge();
    let connection: Connection;
    try {
      connection = await this.#anyConnection();
    } catch (error) {
      if (error instanceof AuthenticationError) this.#refreshAuthFailure = error;
      throw error;
    }
    try {
      // Never creating a topic: the main thread already did for every topic a record was sent to (its first
      // Metadata request for a topic may create it, as Java's does), and this view refreshes the topics it wants
      // every metadataMaxAgeMs, one it stopped writing to for up to metadataMaxIdleMs: asking to create them
      // brought back, on a cluster that auto-creates topics, one deleted after the producer stopped writing to it.
      const response = await connection.request(Metadata, { topics: [...this.#wanted], allowAutoTopicCreation: false });
      this.#apply(response);
      this.#refreshAuthFailure = undefined;
    } catch (error) {
      if (error instanceof AuthenticationError) this.#refreshAuthFailure = error;
      // A well-framed answer that makes no sense: this broker's connection is not trusted for the next refresh.
      // Asked to rebootstrap (KIP-1102): the next refresh connects to a bootstrap address first. Unlike Java, the
      // known brokers are kept, after those: their connections carry the batches in flight.
      if (isRebootstrap(error)) this.#rebootstrap = true;
      if (error instanceof ProtocolError || isRebootstrap(error)) await connection.close();
      throw error;
    }
  }

  /** The least time between two refreshes now (MIN_REFRESH_INTERVAL_MS, doubled per fruitless answer). */
  #refreshFloor(): number {
    const ceiling = Math.max(MIN_REFRESH_INTERVAL_MS, this.#settings.retryBackoffMaxMs);
    return Math.min(ceiling, MIN_REFRESH_INTERVAL_MS * 2 ** Math.min(this.#fruitless, 20));
  }

  /** Refreshes again `metadataMaxAgeMs` after this one started, unless something asks sooner. */
  #scheduleMaxAge(): void {
    clearTimeout(this.#maxAgeTimer);
    if (this.#closed) return;
    const age = this.#settings.metadataMaxAgeMs;
    // A failed refresh is only waited out here: whoever needs a leader asks again with its own backoff.
    this.#maxAgeTimer = setTimeout(() => void this.refresh().catch(() => undefined), age).unref();
  }

  /** Applies an answer only once all of it checked out: a bad topic leaves the previous view whole. */
  #apply(response: MetadataResponse): void {
    checkAnswer(response);
    this.#rebootstrap = false;
    const layouts: TopicLayout[] = [];
    for (const topic of response.topics) if (topic.name !== null) layouts.push(this.#layout(topic.name, topic, response.brokers));
    for (const broker of response.brokers) this.#learnBroker(broker);
    let changed = false;
    let incomplete = false;
    for (const layout of layouts) {
      const known = this.#topics.get(layout.name);
      changed ||= known === undefined || !sameValues(known.leaders, layout.leaders) || known.errorCode !== layout.errorCode;
      incomplete ||= layout.errorCode !== 0 || layout.leaders.includes(-1);
      this.#topics.set(layout.name, layout);
    }
    // Held batches' partitions too: one beyond its topic's count (re-created smaller) kept the floor at 100 ms.
    for (const p of this.#settings.heldPartitions?.() ?? []) incomplete ||= !((this.#topics.get(p.topic.name)?.leaders[p.partition] ?? -1) >= 0);
    this.#fruitless = incomplete && !changed ? this.#fruitless + 1 : 0;
    // A node the answer no longer lists left the cluster: it is no longer tried first for the metadata connection
    // (a decommissioned host that accepts and never answers held every reconnect for a request timeout). Unless a
    // partition still names it as leader: a lagging answer does not list a leader known at a newer epoch (#layout).
    const kept = new Set(response.brokers.map((broker) => broker.nodeId));
    for (const { leaders } of this.#topics.values()) for (const leader of leaders) kept.add(leader);
    for (const nodeId of this.#brokers.keys()) if (!kept.has(nodeId)) this.#brokers.delete(nodeId);
    this.#closeDeparted();
  }

  /**
   * Closes the connection to each node that left the cluster (no longer in the view) once nothing is in flight or
   * queued on it: it leads nothing here, so nothing would use it again, and it stayed open for the worker's life
   * (one socket per broker that ever left: a broker replaced under a new node id, a leader that moved to a new
   * broker). A request under way is left to its answer or its time-out rather than made ambiguous; a later answer
   * closes the connection once it is idle.
   */
  #closeDeparted(): void {
    for (const [nodeId, link] of this.#links) {
      const connection = link.connection;
      if (this.#brokers.has(nodeId) || link.attempt !== undefined) continue;
      if (connection !== undefined && !connection.isClosed && (connection.inFlight > 0 || connection.queued > 0)) continue;
      this.#links.delete(nodeId);
      link.connection = undefined;
      if (connection !== undefined) this.#pacing.release(connection);
      void connection?.close();
    }
  }

  /**
   * The layout an answer gives, except that a partition whose leader we know at a newer epoch keeps it: a broker
   * whose metadata lags (or an answer overtaken by a KIP-951 hint) must not send batches back to a former leader.
   * An answer without epochs (Metadata before v7) is taken as it is, as Java does. A leader with no address here is
   * none (reachableLeaders): taken, it cost a connect error per reconnect backoff and refreshes never backed off.
   */
  #layout(name: string, topic: MetadataTopic, brokers: MetadataResponse['brokers']): TopicLayout {
    const leaders = reachableLeaders(topic, brokers);
    const leaderEpochs = new Array<number>(leaders.length).fill(-1);
    for (const { partitionIndex, leaderEpoch } of topic.partitions) leaderEpochs[partitionIndex] = leaderEpoch;
    const topicId = topic.topicId ?? new Uint8Array(16);
    const known = this.#topics.get(name);
    // Epochs start again in a topic re-created under the same name (a new topic id).
    if (known !== undefined && sameValues(known.topicId, topicId)) {
      const n = Math.min(leaders.length, known.leaders.length);
      for (let p = 0; p < n; p++) {
        const kept = known.leaders[p]!;
        if (leaderEpochs[p]! >= 0 && known.leaderEpochs[p]! > leaderEpochs[p]! && (kept < 0 || this.#brokers.has(kept))) {
          leaders[p] = kept;
          leaderEpochs[p] = known.leaderEpochs[p]!;
        }
      }
    }
    const unknown = isUnknown(topic.errorCode);
    const unknownSince = unknown ? (known?.unknownSince ?? Date.now()) : undefined;
    return { name, topicId, leaders, leaderEpochs, errorCode: topic.errorCode, unknownSince };
  }

  #learnBroker(broker: Broker): void {
    const known = this.#brokers.get(broker.nodeId);
    if (known !== undefined && (known.host !== broker.host || known.port !== broker.port)) {
      // The node moved: its old connection must not be reused.
      void this.#dropConnection(broker.nodeId);
    }
    this.#brokers.set(broker.nodeId, { nodeId: broker.nodeId, host: broker.host, port: broker.port });
  }

  /**
   * KIP-951: a Produce answer of NOT_LEADER_OR_FOLLOWER (v10+) names the partition's current leader and epoch, and
   * the answer lists that leader's endpoint. Taken when the epoch is newer than the one known and the leader's
   * address is known (from `endpoints` or earlier metadata), so the retry goes to the new leader without waiting
   * for a Metadata round trip. Returns whether the view changed.
   */
  applyLeaderHint(topic: string, partition: number, hint: LeaderIdAndEpoch, endpoints: readonly NodeEndpoint[]): boolean {
    const layout = this.#topics.get(topic);
    const { leaderId, leaderEpoch } = hint;
    // -1 / -1: the broker does not know the leader either.
    if (layout === undefined || leaderId < 0 || leaderEpoch < 0 || !(partition >= 0 && partition < layout.leaders.length)) return false;
    if (leaderEpoch <= layout.leaderEpochs[partition]!) return false;
    const endpoint = endpoints.find((e) => e.nodeId === leaderId);
    if (endpoint !== undefined) {
      if (endpoint.host.length === 0 || !(endpoint.port > 0 && endpoint.port <= 65_535)) return false;
      this.#learnBroker(endpoint);
    } else if (!this.#brokers.has(leaderId)) return false;
    const leaders = [...layout.leaders];
    const leaderEpochs = [...layout.leaderEpochs];
    leaders[partition] = leaderId;
    leaderEpochs[partition] = leaderEpoch;
    this.#topics.set(topic, { ...layout, leaders, leaderEpochs });
    this.#fruitless = 0; // the cluster is moving: the next refresh may tell more
    return true;
  }

  /** True when the last answer said the topic does not exist (and will not be created). */
  isUnknownTopic(name: string): boolean {
    return isUnknown(this.#topics.get(name)?.errorCode);
  }

  /** How long (ms) every answer has said the topic does not exist; 0 while it is known. */
  unknownFor(name: string, now = Date.now()): number {
    const since = this.#topics.get(name)?.unknownSince;
    return since === undefined ? 0 : now - since;
  }

  describeTopicError(name: string): string {
    return errorInfo(this.#topics.get(name)?.errorCode ?? 0).name;
  }

  async #anyConnection(): Promise<Connection> {
    if (this.#metadataConnection !== undefined && !this.#metadataConnection.isClosed) return this.#metadataConnection;
    const known = [...this.#brokers.values()];
    const candidates = this.#rebootstrap ? [...this.#bootstrap, ...known] : [...known, ...this.#bootstrap];
    // After attempts that failed (or connections that ended unproven), the next waits the reconnect backoff: the
    // refreshes' own floor (MIN_REFRESH_INTERVAL_MS) neither doubles nor heeds reconnectBackoffMaxMs.
    const connection = await this.#pacing.attempt(METADATA_TARGET, [this.#closing.signal], () => new ConnectionError('the producer is closing'),
      () => connectToAny(candidates, this.#settings, this.#auth, { signal: this.#closing.signal, stopped: () => this.#closed }));
    if (this.#closed) {
      // Opened as the view closed: close() has already closed the connection it knew of, so this one is closed here.
      await connection.close();
      throw new ConnectionError('the producer is closing');
    }
    this.#metadataConnection = connection;
    return connection;
  }

  #open(broker: Broker): Promise<Connection> {
    if (this.#closed) return Promise.reject(new ConnectionError('the producer is closing'));
    // Close aborts it: close() waits for the attempt, which could otherwise wait out a handshake's request timeout.
    // One listener on the view's signal between all attempts, each with a signal of its own: every attempt adds
    // listeners to the signal it is given, and a worker connecting to six brokers at once went past Node's limit of
    // ten (MaxListenersExceededWarning in the application's log).
    const attempt = new AbortController();
    const stop = listenForAbort(this.#closing.signal, () => attempt.abort(this.#closing.signal.reason));
    return openConnection(broker, this.#settings, this.#auth, attempt.signal).finally(stop);
  }

  /** Whether the connection to a broker is open now: `connection` would hand it out without opening one. */
  isConnected(nodeId: number): boolean {
    const open = this.#links.get(nodeId)?.connection;
    return open !== undefined && !open.isClosed;
  }

  /** Whether the cluster has this node now: the last answer listed it, or a partition still names it as leader. */
  hasBroker(nodeId: number): boolean {
    return this.#brokers.has(nodeId);
  }

  /**
   * The authentication failure a new connection attempt would meet at once (its backoff not over, AuthGate), else
   * undefined. Credentials are the worker's, not a broker's: a SASL refusal holds for every broker; a TLS failure only
   * for the broker whose certificate or settings failed.
   */
  authRefusal(nodeId: number): Error | undefined {
    return this.#auth.refusing(this.#brokers.get(nodeId));
  }

  /**
   * The live connection to a broker, opened on first use and reopened after it failed. Callers share one
   * connection and one attempt at a time. After a connection that failed before any answer proved it (refused,
   * handshake failed, a corrupt or mismatched answer), the next attempt waits reconnectBackoffMs, doubling per such
   * failure up to reconnectBackoffMaxMs, with ±20 % jitter; a connection that served answers resets the count.
   */
  connection(nodeId: number): Promise<Connection> {
    let link = this.#links.get(nodeId);
    if (link === undefined) {
      link = { connection: undefined, attempt: undefined };
      this.#links.set(nodeId, link);
    }
    const open = link.connection;
    if (open !== undefined && !open.isClosed) return Promise.resolve(open);
    link.connection = undefined;
    if (link.attempt !== undefined) return link.attempt;
    const attempt = this.#attempt(link, nodeId);
    link.attempt = attempt;
    // Every caller handles the rejection; this keeps an attempt nobody awaits any more from crashing the worker.
    attempt.catch(() => undefined);
    return attempt;
  }

  async #attempt(link: BrokerLink, nodeId: number): Promise<Connection> {
    try {
      // The pacing books how the attempt, and later its connection, ends. The broker is looked up after the backoff,
      // and a missing one is a failed attempt like any other (so the next one backs off): the sink asks again after
      // every failure and each failure refreshes metadata, so a leader missing from the broker list cost a Metadata
      // request per refresh interval until the delivery timeout.
      const connection = await this.#pacing.attempt(linkKey(nodeId), [this.#closing.signal], () => new ConnectionError('the producer is closing'), () => {
        const broker = this.#brokers.get(nodeId);
        if (broker === undefined) return Promise.reject(new ConnectionError(`broker ${nodeId} is not in the metadata`));
        return this.#open(broker);
      });
      link.connection = connection;
      return connection;
    } finally {
      // After the caller recorded this attempt (link.attempt): the `await` above yields at least once, even for an
      // attempt that fails at once.
      link.attempt = undefined;
    }
  }

  /** Sleeps `ms`, or rejects with ConnectionError when the view closes first; the timer never outlives close. */
  #pause(ms: number): Promise<void> {
    return pause(ms, this.#closing.signal, () => new ConnectionError('the producer is closing'));
  }

  async #dropConnection(nodeId: number): Promise<void> {
    const link = this.#links.get(nodeId);
    if (link === undefined) return;
    const { connection, attempt } = link;
    link.connection = undefined;
    // Closed on purpose (the broker moved, or the view closes): not a failure of the broker's.
    if (connection !== undefined) this.#pacing.release(connection);
    await connection?.close();
    const opened = await attempt?.catch(() => undefined);
    if (opened !== undefined) this.#pacing.release(opened);
    await opened?.close();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#maxAgeTimer);
    this.#closing.abort();
    const all = [...this.#links.keys()].map((nodeId) => this.#dropConnection(nodeId));
    await Promise.all(all);
    await this.#metadataConnection?.close();
  }
}

/** Whether two topic ids, or two leader lists, hold the same values. */
function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function isUnknown(code: number | undefined): boolean {
  return code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION || code === ErrorCode.INVALID_TOPIC_EXCEPTION;
}
