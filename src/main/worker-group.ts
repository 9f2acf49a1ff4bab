/**
 * The producer's worker threads as a group: starting them all (the pool and the handles are usable only once every
 * worker loop runs), waking them, closing them within a deadline, and replacing one that crashed — after the
 * delivery settlement has failed its records honestly ('not-sent' for those it never sealed, 'unknown' for the
 * rest; invariants 2 and 5, docs/invariants.md).
 *
 * Dependencies go one way: the group calls the settlement (deliveries.ts) and the handles (worker-handle.ts); the
 * settlement calls the handles; the handles call nothing above them.
 */
import type { AddressOrder } from '../net/address-order.js';
import { ProducerClosedError, WorkerCrashedError, WorkerStartError } from '../shared/producer-errors.js';
import { pause } from '../shared/pause.js';
import { TransactionFatalError } from '../shared/transaction-errors.js';
import { untilDeadline } from './deadlines.js';
import { untilAborted } from '../shared/until-aborted.js';
import type { Deliveries } from './deliveries.js';
import type { OAuthTokens } from './oauth-tokens.js';
import type { ResolvedOptions } from './options.js';
import { NO_PRODUCER_ID, initProducerId, type ProducerIdentity } from './producer-id.js';
import type { TopicRegistry } from './topic-registry.js';
import type { WorkerHandle, WorkerLaunch } from './worker-handle.js';
import { WorkerPool } from './worker-pool.js';
import type { WorkerStats } from '../shared/worker-stats.js';
import { channels } from './tracing.js';

/** The least a replacement is given to start, whatever bufferTimeoutMs says (0 would end every one at once). */
const MIN_START_WAIT_MS = 10_000;

export interface WorkerGroupContext {
  readonly handles: readonly WorkerHandle[];
  readonly deliveries: Deliveries;
  /** Everything a worker starts with but its producer id (one per start: a replacement gets a fresh one). */
  readonly launch: Omit<WorkerLaunch, 'producerId' | 'producerEpoch'>;
  /** Wakes the main thread's completion wait (ControlBlock.wakeMain): a dead worker may have taken its wake-up. */
  readonly wakeSettlement?: (() => void) | undefined;
  /** The main thread's record of bootstrap addresses that failed (address-order.ts). */
  readonly bootstrapOrder?: AddressOrder | undefined;
  /** OAUTHBEARER only: the token cache the workers draw from. */
  readonly tokens: OAuthTokens | undefined;
  /** For InitProducerId (its connection) when idempotent. */
  readonly registry: TopicRegistry;
  readonly options: Pick<ResolvedOptions, 'idempotent' | 'bufferTimeoutMs' | 'retryBackoffMs' | 'retryBackoffMaxMs'>;
  /** 'workerCrash', with the error and the worker's index. */
  emit(event: 'workerCrash', error: Error, index: number): void;
  /**
   * A transactional producer's transaction state: it obtains the one producer id every worker shares (a
   * replacement worker too: a new id would fence the transaction) and says which Produce versions fit its protocol.
   */
  readonly transactions?: TransactionIdentity | undefined;
  /**
   * A thread pool for one worker (each worker index has its own, and a replacement a fresh one); default a piscina
   * WorkerPool. Tests pass one that starts no thread.
   */
  readonly pool?: (() => ThreadPool) | undefined;
}

/** What the group needs of the transaction manager (src/main/transactions/transaction-manager.ts). */
export interface TransactionIdentity {
  /** InitProducerId with the transactional id; a no-op once done. */
  init(): Promise<void>;
  readonly identity: ProducerIdentity;
  readonly maxProduceVersion: number;
  /** A worker died: the sequence state of its partitions is lost at this epoch (an open transaction must abort). */
  workerCrashed(error: unknown): void;
}

/** What the group needs of a pool: start a worker, end them all. */
export type ThreadPool = Pick<WorkerPool, 'start' | 'destroy'>;

export class WorkerGroup {
  readonly #context: WorkerGroupContext;
  /**
   * Each worker index's pool, from the start under way on. A thread of any other pool (a failed start's, a crashed
   * worker's) is no longer ours: its death is not a crash to handle. Handled, a start that failed left a loop
   * retrying on no pool, and a later start ran a second thread on one worker's rings.
   */
  #pools: (ThreadPool | undefined)[] = [];
  #started = false;
  /** Pools of crashed workers still being ended; `destroy` waits for them too, so no thread outlives close. */
  readonly #ending = new Set<Promise<void>>();
  #closed = false;
  /** Aborted with `#closed` set: ends the waits of a producer id fetch and of a replacement's retry. */
  readonly #stopping = new AbortController();
  /** `close` has returned: its caller fails what the workers hold, and a crash is no longer handled here. */
  #closeOver = false;
  /** The earliest close deadline `hurry` was given: a worker replaced after it is told too. */
  #hurriedTo: number | undefined;
  /** The earliest cut-off `cutOff` was given: a worker replaced after it is told too. */
  #cutOffAt = Infinity;

  constructor(context: WorkerGroupContext) {
    this.#context = context;
    // Each refreshed token goes to every worker before its connections need one.
    context.tokens?.onRefresh(({ value, expiresAt }) => {
      for (const handle of context.handles) handle.sendToken(value, expiresAt);
    });
  }

  /** True once every worker loop runs; until then sends wait for the connection. */
  get started(): boolean {
    return this.#started;
  }

  /** Counters of the running workers (none before the start). */
  /** Close is over: the workers were told to stop, or given up on; whatever they had in flight is abandoned. */
  get closeOver(): boolean {
    return this.#closeOver;
  }

  stats(): WorkerStats[] {
    return this.started ? this.#context.handles.map((handle) => handle.stats!) : [];
  }

  /**
   * Obtains a producer id and starts every worker on fresh memory. A start that fails stops the threads that did
   * start, so nothing is left running, and leaves the group unstarted: a later call may try again. `signal` (the
   * producer's close) stops the wait for the producer id, which starts no thread then.
   */
  async start(signal?: AbortSignal): Promise<void> {
    const identity = await untilAborted(this.#identity(), signal, 'the producer closed while it obtained a producer id');
    const { handles } = this.#context;
    const pools: ThreadPool[] = [];
    this.#pools = pools;
    try {
      for (const handle of handles) pools.push(this.#newPool());
      await Promise.all(
        handles.map((handle, index) => {
          handle.renew();
          return this.#run(handle, identity, pools[index]!);
        }),
      );
    } catch (error) {
      if (this.#pools === pools) this.#pools = [];
      // Ended through #ending: a destroy() meanwhile (close giving up on the start) found no pool of this start left
      // to wait for, and resolved while its threads were still being ended. The start's error is the one to report.
      await Promise.all(pools.map((pool) => this.#end(pool)));
      throw error;
    }
    // Started while close runs (a connection attempt that outlived close's beginning): the cut-off and a later close's
    // deadline told then reached no thread. Without them these workers would hear of the cut-off only from the close
    // message, late when this thread is held up, and never of a second close's deadline. Not to a destroyed pool's.
    if (this.#pools === pools) {
      for (const handle of handles) {
        this.#tellCloseTimes(handle);
      }
    }
    this.#started = true;
  }

  #newPool(): ThreadPool {
    return this.#context.pool?.() ?? new WorkerPool(1);
  }

  /** `kick` for every worker: re-read the control block (someone waits for budget, flushes or closes). */
  wake(): void {
    for (const handle of this.#context.handles) handle.wake();
  }

  /**
   * Tells every worker a later close's times (each keeps the earliest it was given; 0, 0: give up now), without
   * telling it to close: it reads its ring on until `close` below.
   */
  hurry(sendUntil: number, deadline: number): void {
    this.#hurriedTo = Math.min(this.#hurriedTo ?? Infinity, deadline);
    this.#cutOffAt = Math.min(this.#cutOffAt, sendUntil);
    for (const handle of this.#context.handles) handle.cutOff(sendUntil, deadline);
  }

  /** A worker started or replaced after close began is told the times the others were. */
  #tellCloseTimes(handle: WorkerHandle): void {
    if (this.#cutOffAt !== Infinity || this.#hurriedTo !== undefined) handle.cutOff(this.#cutOffAt, this.#hurriedTo);
  }

  /**
   * Tells every worker, as close begins, when to stop sending (each keeps the earliest it was given): from then on
   * they fail what never left, by their own clocks, however late the main thread's flush lets `close` below run.
   */
  cutOff(sendUntil: number): void {
    this.#cutOffAt = Math.min(this.#cutOffAt, sendUntil);
    for (const handle of this.#context.handles) handle.cutOff(sendUntil);
  }

  /**
   * From here on a crashed worker is not replaced and no producer id is fetched; its records still fail at once, so
   * nothing waits for a thread that will not answer (a close without a deadline would never end).
   */
  stopReplacing(): void {
    this.#closed = true;
    this.#stopping.abort();
  }

  /**
   * Closes every worker by `deadline` (or at once when `signal` aborts): records still queued for ring space are
   * written first (the workers read their rings until told to close), then each worker sends what it holds and
   * answers 'closed'. From `sendUntil` on a worker sends nothing new and fails what never left (`'not-sent'`). A
   * worker that cannot finish in time (blocked, frozen) is not waited for.
   */
  async close(deadline: number, signal: AbortSignal | undefined, sendUntil = deadline): Promise<void> {
    const { handles } = this.#context;
    const giveUp = (): void => this.hurry(0, 0);
    signal?.addEventListener('abort', giveUp, { once: true });
    try {
      // Not past sendUntil: a record written after it would only fail 'not-sent' in its worker, and what is still
      // queued then fails so here (failQueued), while the workers must hear of sendUntil before the deadline.
      await untilDeadline(Promise.all(handles.map((handle) => handle.whenFeedEmpty())), Math.min(deadline, sendUntil), signal);
      // Ports held while close waits for the 'closed' messages: nothing else may keep the loop alive now.
      for (const handle of handles) handle.close(signal?.aborted ? 0 : deadline, true, signal?.aborted ? 0 : sendUntil);
      this.wake();
      await untilDeadline(Promise.allSettled(handles.map((handle) => handle.done)), deadline, signal);
      for (const handle of handles) handle.release();
    } finally {
      signal?.removeEventListener('abort', giveUp);
      // The caller now fails whatever the workers still hold; a thread that dies after this (ended by destroy, or
      // given up on) may have reported some of those records meanwhile, and its reports must not be read again.
      this.#closeOver = true;
    }
  }

  /** Ends the threads (after close, whatever state they are in). */
  async destroy(): Promise<void> {
    const pools = this.#pools;
    this.#pools = [];
    await Promise.all([...pools.map((pool) => pool?.destroy()), ...this.#ending]);
  }

  /**
   * Ends a pool the group no longer holds (a crashed worker's: piscina may have started a thread in it again; a failed
   * start's), so that destroy() waits for it too. Resolves once it is ended, whatever its outcome.
   */
  #end(pool: ThreadPool | undefined): Promise<void> {
    if (pool === undefined) return Promise.resolve();
    const ending = pool.destroy().catch(() => undefined).finally(() => this.#ending.delete(ending));
    this.#ending.add(ending);
    return ending;
  }

  /** `keepAlive`: whether its waits keep the process alive (not for a replacement nobody waits on; see #onCrash). */
  async #identity(keepAlive = true): Promise<ProducerIdentity> {
    const { options, registry, transactions } = this.#context;
    if (transactions !== undefined) {
      await transactions.init();
      return transactions.identity;
    }
    if (!options.idempotent) return NO_PRODUCER_ID;
    return initProducerId(registry, options, this.#stopping.signal, keepAlive);
  }

  /** Starts `handle`'s thread; resolves when its loop runs, rejects with WorkerStartError if it never does. */
  #run(handle: WorkerHandle, identity: ProducerIdentity, pool: ThreadPool): Promise<void> {
    const registry = this.#context.registry;
    // A failed refresh is the registry's to retry; nothing waits on this one.
    const onStale = (): void => void registry.refresh().catch(() => undefined);
    const { launch, transactions } = this.#context;
    // Bootstrap addresses that failed the main thread's attempts go last: each worker would have met them first again.
    const brokers = this.#context.bootstrapOrder?.sortedAddresses(launch.settings.brokers) ?? launch.settings.brokers;
    const settings = transactions === undefined ? { ...launch.settings, brokers } : { ...launch.settings, brokers, maxProduceVersion: transactions.maxProduceVersion };
    const running = handle.start(pool, { ...launch, ...identity, settings }, this.#context.tokens, onStale);
    // Only a worker that ran and died is a crash; one that never started is reported through `started`.
    running.done.catch((error: unknown) => running.started.then(() => {
      if (this.#pools[handle.index] === pool) return this.#onCrash(handle, error);
    }, () => undefined));
    return running.started;
  }

  /**
   * A worker thread died: its records fail (honestly: sealed ones may have been written), and it is replaced unless
   * the producer is closing.
   */
  async #onCrash(handle: WorkerHandle, error: unknown): Promise<void> {
    if (this.#closeOver) return;
    const { deliveries, emit, options } = this.#context;
    const index = handle.index;
    // The pool's error names the worker already ("worker 0 died: …"): said once, not "worker 0 crashed:
    // WorkerCrashedError: worker 0 died: …".
    const message = error instanceof WorkerCrashedError ? error.message : `worker ${index} crashed: ${String(error)}`;
    // Told after the records are failed and in a later tick: a listener that throws must not stop the bookkeeping.
    // An Error for the listener, whose type says so (the pool's crashes are WorkerCrashedErrors already).
    const crash = error instanceof Error ? error : new WorkerCrashedError('unknown', message);
    process.nextTick(() => emit('workerCrash', crash, index));
    if (channels.worker.hasSubscribers) channels.worker.publish({ worker: index, event: 'crash', error });
    this.#context.transactions?.workerCrashed(error);
    this.#failHeld(handle, message, error);
    // It may have died between taking the main thread's sleep word and notifying it (docs/shared-memory.md).
    this.#context.wakeSettlement?.();
    // A fresh producer id: the dead worker's sequence numbers died with it, and reusing them would be refused. A
    // transactional producer keeps its one id instead (a new one would fence it): the transaction manager was told
    // of the crash, and moves the epoch on before sequences matter again.
    // A fresh pool too: piscina starts no thread again once one failed before it was ready, so a replacement that
    // could not start would have waited for ever on the old one.
    // Records for its partitions wait in the new ring until it runs; retried until it does or the producer closes.
    // Only while the pool that died is still this worker's, in the pools of the start it belongs to: once that start
    // failed (its pools are gone) or a later one runs, this loop is over. Tested by generation, not by "some pool
    // there", or a retry left from a failed start ended a later start's worker and ran a second thread on its rings.
    const pools = this.#pools;
    let mine = pools[index];
    // Kept while no thread ran under it: a start that failed sent nothing, so it serves the next attempt (one
    // InitProducerId per attempt burnt a producer id every retryBackoffMaxMs for as long as the start failed).
    let identity: ProducerIdentity | undefined;
    const ours = (): boolean => !this.#closed && this.#pools === pools && pools[index] === mine;
    while (ours()) {
      try {
        // Unref'd waits: an idle producer whose worker died while the cluster was out of reach kept its process
        // alive for up to bufferTimeoutMs (records waiting for the replacement hold the delivery sweep's timer).
        identity ??= await this.#identity(false);
        if (!ours()) return;
        // Made once the identity is in hand: every pool starts a thread, and a loop that cannot get an identity
        // would have started and ended one per attempt.
        const dead = mine;
        mine = this.#newPool();
        pools[index] = mine;
        this.#end(dead);
        const running = this.#run(handle, identity, mine);
        // A close deadline given while the worker was dead reached no thread; the new one keeps it (queued on its
        // port until it runs).
        this.#tellCloseTimes(handle);
        // Within bufferTimeoutMs (at least MIN_START_WAIT_MS): a thread that neither ran nor failed (a preload or
        // loader hook that waits for ever) held what was sent to its partitions, ids and bytes, until close, and a
        // transaction's end waited for those records for ever. Its thread is ended before they fail (ids are reused).
        const startWaitMs = Math.max(options.bufferTimeoutMs, MIN_START_WAIT_MS);
        if (!(await startsWithin(running, startWaitMs))) {
          const stalled = mine;
          pools[index] = mine = undefined; // its thread's death, once ended, is no crash to handle
          identity = undefined; // it may have run after all, just now
          await this.#end(stalled);
          throw new WorkerStartError(`worker ${index} did not start within ${startWaitMs} ms`);
        }
        return;
      } catch (startError) {
        // Closing (stopReplacing) still fails what waits here: nothing else would before close's deadline.
        if (this.#closeOver || this.#pools !== pools || pools[index] !== mine) return;
        // No thread read this memory: its records fail now and give their bytes back, rather than wait in a ring
        // nobody reads until their delivery timeout, holding buffer space the other partitions need.
        this.#failHeld(handle, `worker ${index} could not be restarted after a crash: ${String(startError)}`, startError);
        // Closing, no replacement is tried again; a fenced or fatal transactional producer never gets an identity
        // again: only close remains.
        if (this.#closed || startError instanceof TransactionFatalError) return;
        // Cut short by close, as the producer id's backoff is: a plain timer kept a closed producer's process alive.
        // Unref'd: records waiting for the replacement hold the delivery sweep's timer, and an idle producer whose
        // worker cannot start kept its process alive for ever, retrying.
        const closing = (): Error => new ProducerClosedError('not-sent', 'the producer is closing');
        await pause(options.retryBackoffMaxMs, this.#stopping.signal, closing, false).catch(() => undefined);
      }
    }
  }

  /**
   * Settles what `handle`'s thread reported before it died, fails every other record its memory holds (sealed ones
   * 'unknown', the rest 'not-sent') and gives the handle fresh memory for the next thread.
   */
  #failHeld(handle: WorkerHandle, message: string, cause: unknown): void {
    const { deliveries } = this.#context;
    // In this order. Settling or failing a record gives its bytes back, and the budget grants a waiting send at
    // once: one for this worker's partitions must go to the new ring, where it waits for the replacement, not to
    // the dead thread's ring, where it was failed as crashed although no thread had seen it, or to its stopped
    // feed, where nothing would ever read it or free its id and bytes. So the dead thread's records are listed
    // first (one accepted later is not failed), and its memory is renewed before any is settled: first what the
    // thread reported before it died (a record it delivered is delivered), read from its old completion ring.
    const live = deliveries.listLive(handle.index);
    const reported = handle.completions;
    const queued = handle.stopFeed();
    // Closing, nothing is granted any more (the waiting sends failed first) and no thread would read new memory.
    if (!this.#closed) handle.renew();
    if (reported !== undefined) deliveries.drainRing(reported);
    deliveries.failUnqueued(queued, new WorkerCrashedError('not-sent', message, { cause }));
    deliveries.failListed(live, (delivery) => new WorkerCrashedError(delivery, message, { cause }));
  }
}

/**
 * Whether `started` resolves within `ms` (false once they pass); rejects as it does. The timer is cleared either way
 * and keeps no process alive: nobody waits on a replacement.
 */
function startsWithin(started: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(false), ms);
    timer.unref();
    started.then(() => resolve(true), reject).finally(() => clearTimeout(timer));
  });
}
