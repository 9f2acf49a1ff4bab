/**
 * Requests to a coordinator: the transaction coordinator of a transactional id, or the group coordinator of a
 * consumer group (for TxnOffsetCommit). Finds it with FindCoordinator through the registry's bootstrap connection,
 * keeps one connection to it, and retries what the coordinator protocol says to retry, with backoff, until the
 * caller's deadline:
 * - NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, or a lost connection: find the coordinator again (it moved);
 * - a retriable code (COORDINATOR_LOAD_IN_PROGRESS, CONCURRENT_TRANSACTIONS while the previous transaction is still
 *   ending, …): ask again.
 * Any other code is the caller's to judge; running out of time is a TransactionRetriableError (the call may be
 * made again). A FindCoordinator refusal (the id or group not authorised) is the transaction error its code means.
 */
import type { Connection } from '../../net/connection.js';
import type { ApiDefinition } from '../../protocol/api.js';
import { CoordinatorType, FindCoordinator } from '../../protocol/apis/find-coordinator.js';
import { ErrorCode, errorInfo, transactionErrorCategory } from '../../protocol/error-codes.js';
import { backoffMs } from '../../shared/backoff.js';
import { ConnectionError, KafkaProducerError, ProtocolError } from '../../shared/errors.js';
import { AbortError } from '../../shared/producer-errors.js';
import { untilAborted } from '../../shared/until-aborted.js';
import { TransactionRetriableError } from '../../shared/transaction-errors.js';
import type { BrokerAddress } from '../options.js';
import type { TopicRegistry } from '../topic-registry.js';
import { transactionError } from './transaction-errors.js';

export interface CallOptions<Res> {
  /** Epoch ms after which no new attempt starts. */
  readonly deadline: number;
  /** Stops the retries (an AbortError); a request already sent is still answered first. */
  readonly signal?: AbortSignal | undefined;
  /** The answer's error code (the first failed partition's, for per-partition answers). */
  readonly errorOf: (response: Res) => number;
  /**
   * Where in a failed answer its error is (a partition of a per-partition answer), for the error of a call that gave
   * up retrying it: a code alone did not say which of a commit's partitions the coordinator does not know.
   */
  readonly where?: ((response: Res) => string | undefined) | undefined;
  /** The request version to send, when the caller must cap it (transaction protocol v1). */
  readonly maxVersion?: number | undefined;
  /**
   * Set to true once a request of this call went to the coordinator and no answer came (the connection was lost,
   * the request timed out): it may have been applied. Left false when every attempt was answered or never sent (no
   * coordinator found, aborted while waiting to retry), so the caller knows nothing happened.
   */
  readonly unanswered?: { value: boolean } | undefined;
}

interface Backoff {
  readonly retryBackoffMs: number;
  readonly retryBackoffMaxMs: number;
}

/**
 * What a coordinator's answer asks of the caller, by KIP-1050's categories (transactionErrorCategory): find the
 * coordinator again ('refresh-coordinator': NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE), ask again later
 * ('retriable': COORDINATOR_LOAD_IN_PROGRESS, CONCURRENT_TRANSACTIONS, …), or nothing more ('done').
 */
function retryOf(code: number): 'refresh-coordinator' | 'retriable' | 'done' {
  if (code === ErrorCode.NONE) return 'done';
  const category = transactionErrorCategory(code);
  return category === 'refresh-coordinator' || category === 'retriable' ? category : 'done';
}

/**
 * Group coordinators' connections kept at most (the transaction coordinator's is kept apart): one per consumer group
 * ever passed to sendOffsets stayed open for the producer's life, 204 sockets to one broker after 200 groups.
 */
const MAX_GROUP_CONNECTIONS = 8;

export class Coordinators {
  readonly #registry: TopicRegistry;
  readonly #backoff: Backoff;
  readonly #connections = new Map<string, Promise<Connection>>();
  /** Calls under way per coordinator id: a connection is only closed to keep the count down while none uses it. */
  readonly #calls = new Map<string, number>();
  /** Group coordinator ids, least recently called first. */
  readonly #groupsByUse = new Set<string>();
  /** Where FindCoordinator last said each coordinator is, for its reconnect backoff. */
  readonly #addresses = new Map<string, BrokerAddress>();
  #closed = false;
  /**
   * Aborted by close: a lookup under way stops waiting for the bootstrap connection, the FindCoordinator answer or
   * the coordinator's connection. Against a cluster that did not answer, close waited out requestTimeoutMs for it.
   */
  readonly #closing = new AbortController();

  constructor(registry: TopicRegistry, backoff: Backoff) {
    this.#registry = registry;
    this.#backoff = backoff;
  }

  /**
   * The connection to the coordinator of `key`, found if need be: one lookup shared by concurrent callers, so no
   * caller's signal cuts it short (each is bounded by the request timeout).
   */
  async connection(type: CoordinatorType, key: string): Promise<Connection> {
    const id = `${type}:${key}`;
    let found = this.#connections.get(id);
    if (found !== undefined) {
      const connection = await found.catch(() => undefined);
      if (connection !== undefined && !connection.isClosed) return connection;
      if (this.#connections.get(id) === found) this.#connections.delete(id);
      found = undefined;
    }
    found = this.#connections.get(id) ?? this.#find(type, key);
    this.#connections.set(id, found);
    try {
      return await found;
    } catch (error) {
      if (this.#connections.get(id) === found) this.#connections.delete(id);
      throw error;
    }
  }

  async #find(type: CoordinatorType, key: string): Promise<Connection> {
    const closing = this.#closing.signal;
    const bootstrap = await this.#registry.connection(closing);
    const answer = await bootstrap.request(FindCoordinator, { keyType: type, key }, { signal: closing });
    if (answer.errorCode !== ErrorCode.NONE) {
      const info = errorInfo(answer.errorCode);
      throw new CoordinatorError(answer.errorCode, `FindCoordinator for ${key}: ${info.name}${answer.errorMessage ? ` (${answer.errorMessage})` : ''}`, answer.errorMessage);
    }
    // An address no connection can have (a corrupted or half-configured answer): asked again, as a lost answer is.
    // Passed on, it reached the caller as a ConfigError, an option of theirs said to be wrong.
    if (answer.host === '' || !Number.isInteger(answer.port) || answer.port < 1 || answer.port > 65535) {
      throw new ProtocolError(`FindCoordinator for ${key} answered the address ${JSON.stringify(answer.host)}:${answer.port}`, { retriable: true });
    }
    this.#addresses.set(`${type}:${key}`, { host: answer.host, port: answer.port });
    const connection = await this.#registry.connectTo({ host: answer.host, port: answer.port }, closing);
    if (this.#closed) {
      await connection.close();
      throw new AbortError('not-sent', 'the producer is closing');
    }
    return connection;
  }

  /**
   * The reconnect backoff left before the next call can have its connection: the coordinator's address's, and the
   * bootstrap brokers' when the coordinator must be found again (no connection to it is kept).
   */
  #reconnectDelay(type: CoordinatorType, key: string): number {
    const id = `${type}:${key}`;
    const address = this.#addresses.get(id);
    const coordinator = address === undefined ? 0 : this.#registry.reconnectDelay(address);
    return this.#connections.has(id) ? coordinator : Math.max(coordinator, this.#registry.reconnectDelay());
  }

  /** Why no connection could be had, for a call that made no request before its deadline. */
  #unreachable(type: CoordinatorType, key: string): string {
    const address = this.#addresses.get(`${type}:${key}`);
    return (address === undefined ? undefined : this.#registry.reconnectReason(address)) ?? this.#registry.reconnectReason() ?? 'not reached';
  }

  /** Forgets the coordinator of `key`: the next call finds it again. */
  #forget(type: CoordinatorType, key: string): void {
    const id = `${type}:${key}`;
    const found = this.#connections.get(id);
    this.#connections.delete(id);
    void found?.then((connection) => connection.close()).catch(() => undefined);
  }

  /**
   * Sends `request` to the coordinator of `key` until its answer carries no error to retry, and returns it (its
   * error code, if any, is the caller's to judge).
   */
  async call<Req, Res>(type: CoordinatorType, key: string, api: ApiDefinition<Req, Res>, request: Req, options: CallOptions<Res>): Promise<Res> {
    const id = `${type}:${key}`;
    this.#calls.set(id, (this.#calls.get(id) ?? 0) + 1);
    try {
      return await this.#call(type, key, api, request, options);
    } finally {
      const left = this.#calls.get(id)! - 1;
      if (left > 0) this.#calls.set(id, left);
      else this.#calls.delete(id);
      if (type === CoordinatorType.GROUP) this.#keepGroupsDown(id);
    }
  }

  /**
   * The group connections past MAX_GROUP_CONNECTIONS are closed, least recently called first, skipping any a call
   * is using (none is between getting its connection and sending on it then: that is one synchronous step).
   */
  #keepGroupsDown(called: string): void {
    this.#groupsByUse.delete(called);
    this.#groupsByUse.add(called);
    let over = this.#groupsByUse.size - MAX_GROUP_CONNECTIONS;
    for (const id of this.#groupsByUse) {
      if (over <= 0) return;
      if (this.#calls.has(id)) continue;
      this.#groupsByUse.delete(id);
      this.#addresses.delete(id);
      const found = this.#connections.get(id);
      this.#connections.delete(id);
      void found?.then((connection) => connection.close()).catch(() => undefined);
      over--;
    }
  }

  async #call<Req, Res>(type: CoordinatorType, key: string, api: ApiDefinition<Req, Res>, request: Req, options: CallOptions<Res>): Promise<Res> {
    const { deadline, signal, errorOf } = options;
    let lastCode: number = ErrorCode.UNKNOWN_SERVER_ERROR;
    let lastError: unknown;
    let lastWhere: string | undefined;
    const gaveUp = (): TransactionRetriableError => {
      const reason = lastError instanceof Error ? lastError.message : `${errorInfo(lastCode).name}${lastWhere === undefined ? '' : ` (${lastWhere})`}`;
      return new TransactionRetriableError(lastCode, `${api.name} for ${key} did not succeed in time: ${reason}`, { cause: lastError });
    };
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw new AbortError('not-sent', `${api.name} aborted`, { cause: signal.reason });
      if (this.#closed) throw new AbortError('not-sent', 'the producer is closing');
      // A new connection, to the bootstrap brokers or the coordinator, waits out its reconnect backoff first
      // (topic-registry.ts): waited here, where it ends at the deadline at the latest.
      const reconnectIn = this.#reconnectDelay(type, key);
      if (reconnectIn > 0) {
        const remaining = deadline - Date.now();
        if (remaining > 0) await sleep(Math.min(reconnectIn, remaining), signal, this.#closing.signal);
        if (reconnectIn >= remaining) {
          lastError ??= new ConnectionError(`no connection: ${this.#unreachable(type, key)}`);
          throw gaveUp();
        }
      }
      let requested = false;
      try {
        // The lookup is shared, and goes on for the other callers; this caller leaves it when its signal aborts
        // (nothing of this call was sent yet: 'not-sent', and `unanswered` stays false).
        const connection = await untilAborted(this.connection(type, key), signal, `${api.name} aborted while its coordinator was found`);
        // The signal is honoured between attempts, never by dropping a request already sent: an EndTxn the
        // coordinator may have applied must get its answer, or the caller would not know the transaction's fate.
        requested = true;
        const response = await connection.request(api, request, { maxVersion: options.maxVersion });
        const code = errorOf(response);
        const retry = retryOf(code);
        if (retry === 'done') return response;
        lastCode = code;
        lastError = undefined;
        lastWhere = options.where?.(response);
        if (retry === 'refresh-coordinator') this.#forget(type, key);
      } catch (error) {
        // A request handed to the connection may have been written before it failed: its effect is unknown.
        if (requested && options.unanswered !== undefined) options.unanswered.value = true;
        // FindCoordinator refused the key (the transactional id or the group not authorised): what that means for
        // the transaction, as the Java client's FindCoordinatorHandler judges it. Passed on as it was, the producer
        // was not fatal, and its caller met an error of none of the documented transaction classes.
        if (error instanceof CoordinatorError && !error.retriable) {
          throw transactionError(error.errorCode, `FindCoordinator for ${key}`, error.detail, 'coordinator');
        }
        // Answers that could not be had: a lost connection, a coordinator not found yet, an answer that could not be
        // read (its connection is closed, as a lost one's; retried like it). Anything else (a bug, a refused
        // authentication, an abort) goes to the caller.
        if (error instanceof AbortError || !(error instanceof KafkaProducerError)) throw error;
        if (!error.retriable && !(error instanceof ProtocolError)) throw error;
        lastError = error;
        lastCode = error instanceof CoordinatorError ? error.errorCode : ErrorCode.UNKNOWN_SERVER_ERROR;
        this.#forget(type, key);
      }
      // CONCURRENT_TRANSACTIONS clears within milliseconds (the markers of the previous transaction are written):
      // the first retries come quickly, as the Java client's 20 ms for it. Up to the deadline only.
      const wait = lastCode === ErrorCode.CONCURRENT_TRANSACTIONS ? Math.min(20 * 2 ** attempt, this.#backoff.retryBackoffMaxMs) : backoffMs(attempt, this.#backoff);
      const remaining = deadline - Date.now();
      if (remaining > 0) await sleep(Math.min(wait, remaining), signal, this.#closing.signal);
      if (wait >= remaining) throw gaveUp();
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#closing.abort();
    const all = [...this.#connections.values()];
    this.#connections.clear();
    await Promise.all(all.map((found) => found.then((connection) => connection.close(), () => undefined)));
  }
}

/**
 * FindCoordinator answered with an error code: retriable when the coordinator is only not ready yet; any other code
 * leaves Coordinators.call as the transaction error it means.
 */
class CoordinatorError extends KafkaProducerError {
  readonly errorCode: number;
  /** The answer's error message, when it had one. */
  readonly detail: string | null;

  constructor(errorCode: number, message: string, detail: string | null) {
    super('ERR_BROKER', message, { retriable: retryOf(errorCode) !== 'done' });
    this.errorCode = errorCode;
    this.detail = detail;
  }
}

/**
 * The pause before the next attempt. Ends early, rejecting with AbortError ('not-sent': no request of the next
 * attempt was made), when the caller's `signal` aborts or the producer closes (`closing`): a pause close did not end
 * kept a closed producer's process alive for up to retryBackoffMaxMs after its coordinator hung up.
 */
function sleep(ms: number, signal: AbortSignal | undefined, closing: AbortSignal): Promise<void> {
  if (closing.aborted) return Promise.reject(new AbortError('not-sent', 'the producer is closing'));
  if (signal?.aborted) return Promise.reject(new AbortError('not-sent', 'aborted while waiting to retry', { cause: signal.reason }));
  return new Promise((resolve, reject) => {
    const end = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      closing.removeEventListener('abort', onClose);
    };
    const onAbort = (): void => {
      end();
      reject(new AbortError('not-sent', 'aborted while waiting to retry', { cause: signal?.reason }));
    };
    const onClose = (): void => {
      end();
      reject(new AbortError('not-sent', 'the producer is closing'));
    };
    const timer = setTimeout(() => {
      end();
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
    closing.addEventListener('abort', onClose, { once: true });
  });
}
