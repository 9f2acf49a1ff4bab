/**
 * Fetches of topics the main thread does not know yet (topic-registry.ts): one fetch per topic at a time, shared by
 * every caller (the fetches of one turn share a request: metadata-batches.ts), retried with the retry backoff while
 * the topic is being created or has no leader, and kept going until the latest deadline any caller gave it.
 *
 * Callers that will not wait, or not yet, only give a deadline (`prefetch`): trySend, which returns false and is
 * called again, and sends queued behind others of their topic. A trySend loop on a topic that does not exist used
 * to make a promise and a bufferTimeoutMs timer per call (346,000 timers and 618 MB of heap in two seconds); queued
 * sends each started a fetch of their own once the one before them gave up, one Metadata request per send (462 for
 * 500 sends).
 */
import type { Connection } from '../net/connection.js';
import { checkAnswer, isRebootstrap, reachableLeaders } from '../protocol/apis/metadata.js';
import { ErrorCode, errorInfo } from '../protocol/error-codes.js';
import { backoffMs, type BackoffSettings } from '../shared/backoff.js';
import { ConnectionError, ProtocolError } from '../shared/errors.js';
import { pause } from '../shared/pause.js';
import { AbortError, AuthenticationError, UnknownTopicError } from '../shared/producer-errors.js';
import { MAX_TIMER_MS } from '../shared/timers.js';
import { MetadataBatches } from './metadata-batches.js';
import type { TopicInfo } from './topic-registry.js';

/** A fetch's reason before any attempt failed. */
const NO_ANSWER_YET = 'no answer yet';

function reasonOf(loading: Loading): string | undefined {
  return loading.reason === NO_ANSWER_YET ? undefined : loading.reason;
}

/** What a fetch needs of the registry. */
export interface FetchSource {
  readonly backoff: BackoffSettings;
  /** Aborted by close: no attempt starts after it, and the pauses between attempts end. */
  readonly closing: AbortSignal;
  /** The registry's shared bootstrap connection. */
  connection(): Promise<Connection>;
  /** The reconnect backoff left before a new bootstrap connection, and why the last attempt failed. */
  reconnectDelay(): number;
  reconnectReason(): string | undefined;
  /** Throws ERR_TOO_MANY_TOPICS when `name` would need a new index and none is left. */
  checkRoom(name: string): void;
  /** Makes the topic known, from an answer that gives it partitions: the leader of each (-1: none). */
  register(name: string, leaders: readonly number[], topicId: Uint8Array | null): TopicInfo;
}

/** A fetch of one topic's metadata, shared by every caller waiting for it. */
interface Loading {
  promise: Promise<TopicInfo>;
  /** The latest deadline among its callers (epoch ms): no new attempt starts after it. */
  deadline: number;
  /** Why the last attempt did not give the topic, for the callers that time out. */
  reason: string;
  /** The topic's error code in the last answer (0: none, or no answer named it). */
  errorCode: number;
  /**
   * What made the last attempt fail without an answer (a connection refused, a request unanswered), the error
   * itself: the callers' UnknownTopicError carries it as its cause, so that an outage is not told from a topic a
   * broker said does not exist by the message's text alone. Cleared by an answer.
   */
  failure: Error | undefined;
}

export class TopicFetches {
  readonly #source: FetchSource;
  readonly #loading = new Map<string, Loading>();
  /** New topics asked for in the same turn go in one request (metadata-batches.ts). */
  readonly #batches = new MetadataBatches();

  constructor(source: FetchSource) {
    this.#source = source;
  }

  /** Why the topic's fetch has no answer yet, once an attempt failed; undefined while none did, or none runs. */
  reasonFor(name: string): string | undefined {
    const loading = this.#loading.get(name);
    return loading === undefined ? undefined : reasonOf(loading);
  }

  /** Starts the topic's fetch, or keeps it going until `deadline` (epoch ms): no promise or timer of the caller's. */
  prefetch(name: string, deadline: number): void {
    this.#until(name, deadline);
  }

  /**
   * Waits for the topic's fetch. Each caller has its own deadline: it rejects with UnknownTopicError once its
   * `timeoutMs` has passed (naming the last reason seen), whoever started the fetch and however long a Metadata
   * request takes; or with AbortError ('not-sent').
   */
  wait(name: string, options: { timeoutMs: number; signal?: AbortSignal | undefined }): Promise<TopicInfo> {
    const fetch = this.#until(name, Date.now() + options.timeoutMs);
    const signal = options.signal;
    return new Promise<TopicInfo>((resolve, reject) => {
      const onAbort = (): void => {
        done();
        reject(new AbortError('not-sent', `aborted while waiting for metadata of topic ${name}`, { cause: signal?.reason }));
      };
      const timer = setTimeout(() => {
        done();
        reject(new UnknownTopicError(name, `topic ${JSON.stringify(name)} is not available: ${fetch.reason}`, { cause: fetch.failure }, fetch.errorCode));
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

  /** The topic's fetch, started if none runs; it runs until the latest deadline of its callers. */
  #until(name: string, deadline: number): Loading {
    const running = this.#loading.get(name);
    if (running !== undefined) {
      if (running.deadline < deadline) running.deadline = deadline;
      return running;
    }
    const fetch: Loading = { promise: undefined!, deadline, reason: NO_ANSWER_YET, errorCode: 0, failure: undefined };
    fetch.promise = this.#fetch(name, fetch).finally(() => this.#loading.delete(name));
    fetch.promise.catch(() => undefined); // every caller observes it through its own race (wait)
    this.#loading.set(name, fetch);
    return fetch;
  }

  async #fetch(name: string, loading: Loading): Promise<TopicInfo> {
    const source = this.#source;
    for (let attempt = 0; !source.closing.aborted; attempt++) {
      // Before any request: no answer can make room, and retrying turned this into a late UnknownTopicError.
      source.checkRoom(name);
      // A new bootstrap connection waits out the reconnect backoff: waited here, it ends by the deadline, and says why.
      const reconnectIn = source.reconnectDelay();
      if (reconnectIn > 0) {
        loading.reason = `waiting to connect again after: ${source.reconnectReason()}`;
        // The failed attempt that started the wait stays the cause (its socket's error); else the wait is it.
        loading.failure ??= new ConnectionError(loading.reason);
      }
      if (!(await this.#pauseWithin(loading, reconnectIn))) break;
      let connection: Connection | undefined;
      try {
        connection = await source.connection();
        const { response, topic } = await this.#batches.fetch(connection, name);
        checkAnswer(response);
        const leaders = topic === undefined ? [] : reachableLeaders(topic, response.brokers);
        if (topic !== undefined && topic.errorCode === ErrorCode.NONE && leaders.length > 0) return source.register(name, leaders, topic.topicId);
        loading.reason = topic === undefined ? 'not in the answer' : whyNotUsable(topic.errorCode);
        loading.errorCode = topic?.errorCode ?? 0;
        loading.failure = undefined;
        // Fatal for this topic: a bad name or no permission will not change by waiting.
        if (topic?.errorCode === ErrorCode.INVALID_TOPIC_EXCEPTION || topic?.errorCode === ErrorCode.TOPIC_AUTHORIZATION_FAILED) break;
      } catch (error) {
        if (error instanceof AuthenticationError) throw error; // waiting does not fix credentials
        loading.reason = error instanceof Error ? error.message : String(error);
        loading.errorCode = 0;
        loading.failure = error instanceof Error ? error : undefined;
        // An answer that makes no sense: that connection is not trusted for the next attempt. Asked to rebootstrap
        // (KIP-1102): this connection is always to a bootstrap address, and the next one is opened afresh.
        if (error instanceof ProtocolError || isRebootstrap(error)) await connection?.close();
      }
      // A retryBackoffMs of 0 made this loop give up after its first failure: its pause of 0 read as no time left.
      if (!(await this.#pauseWithin(loading, backoffMs(attempt, source.backoff)))) break;
      // With no pause (retryBackoffMs 0), the deadline is checked here: no request after every caller gave up.
      if (Date.now() >= loading.deadline) break;
    }
    throw new UnknownTopicError(name, `topic ${JSON.stringify(name)} is not available: ${loading.reason}`, { cause: loading.failure }, loading.errorCode);
  }

  /**
   * Pauses `ms`, cut short at the fetch's deadline and by close (a plain timer kept a closed producer's process alive).
   * False after close, or when the deadline came first and no caller put it later: every caller is rejected by then.
   */
  async #pauseWithin(loading: Loading, ms: number): Promise<boolean> {
    if (ms <= 0) return true;
    const { deadline } = loading;
    const remaining = deadline - Date.now();
    if (remaining <= 0) return false;
    const closing = this.#source.closing;
    // Unref'd: a caller that waits holds a timer of its own (wait), and one that only prefetched (a trySend loop
    // that stopped) must not keep an idle process alive until the fetch's deadline.
    await pause(Math.min(ms, remaining), closing, closingError, false).catch(() => undefined);
    return !closing.aborted && (ms < remaining || loading.deadline !== deadline);
  }
}

/**
 * Why an answer that names the topic does not let it be used: its error, or, without one, that it lists no
 * partitions (a topic being created, as a broker may answer before its partitions exist). Reported as the error's
 * name alone, that was "not available: NONE".
 */
function whyNotUsable(errorCode: number): string {
  if (errorCode === ErrorCode.NONE) return 'the answer lists no partitions for it';
  // The code alone left a caller to guess, after a minute's wait, why a send to a new topic never went.
  if (errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) return `${errorInfo(errorCode).name} (${NOT_CREATED})`;
  return errorInfo(errorCode).name;
}

/** Why a broker answers a topic unknown after the producer asked it to create one (Metadata's allowAutoTopicCreation). */
const NOT_CREATED = 'the topic does not exist and the broker did not create it: auto.create.topics.enable is off, or the ' +
  'name collides with a topic\'s that differs only in "." and "_", or it is still being created';

function closingError(): ConnectionError {
  return new ConnectionError('the producer is closing');
}
