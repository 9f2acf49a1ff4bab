/**
 * WorkerGroup: starting every worker, closing them, and replacing one that crashed. The pool starts no thread
 * (test/main/fixtures/fake-pool.ts): the test decides when each worker has started, finished or died.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it, mock, type TestContext } from 'node:test';
import { ByteBudget } from '../../src/main/byte-budget.js';
import { Deliveries } from '../../src/main/deliveries.js';
import { SendTracker } from '../../src/main/send-tracker.js';
import { SendSettler } from '../../src/main/settlers.js';
import { allocateProducerMemory } from '../../src/main/shared-memory.js';
import type { TopicInfo, TopicRegistry } from '../../src/main/topic-registry.js';
import { WorkerGroup, type TransactionIdentity } from '../../src/main/worker-group.js';
import { TransactionFatalError } from '../../src/shared/transaction-errors.js';
import { ConnectionError } from '../../src/shared/errors.js';
import { WorkerHandle, type WorkerLaunch } from '../../src/main/worker-handle.js';
import { WorkerCrashedError } from '../../src/shared/producer-errors.js';
import { RingReader, RingSlot, RingWriter } from '../../src/shared/ring.js';
import { ControlSlot } from '../../src/shared/control-block.js';
import { CompletionKind, completionSize, encodeMessage, writeCompletion } from '../../src/shared/completion-entry.js';
import { ProducerClosedError } from '../../src/shared/producer-errors.js';
import { EntryKind, readU32 } from '../../src/shared/record-entry.js';
import { FakePool, withFakePool } from './fixtures/fake-pool.js';
import { channels } from '../../src/main/tracing.js';
import { trackTimers } from '../helpers/timers.js';

const TOPIC: TopicInfo = { index: 0, name: 'alpha', partitionCount: 2, available: [0, 1] };

/** Lets promise callbacks and immediates run until `done()` holds (a bounded number of turns, no clock). */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let turn = 0; turn < 100; turn++) {
    if (done()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.fail(`never happened: ${what}`);
}

/** Starts the group and both its workers, as a producer's connect does. */
async function startBoth(group: WorkerGroup, pool: FakePool): Promise<void> {
  const starting = group.start();
  await until(() => pool.workers.length === 2, 'both workers asked for');
  for (const worker of pool.workers) worker.start();
  await starting;
}

/** Lets promise callbacks and immediates run for a few turns of the event loop. */
async function turns(count = 5): Promise<void> {
  for (let turn = 0; turn < count; turn++) await new Promise((resolve) => setImmediate(resolve));
}

function setup(options: {
  autoStart?: boolean; maxBytes?: number; transactions?: TransactionIdentity; retryBackoffMaxMs?: number; idempotentVia?: TopicRegistry;
} = {}) {
  const memory = allocateProducerMemory(16);
  const budget = new ByteBudget(memory.control, { maxBytes: options.maxBytes ?? 1000, maxRecords: 16 });
  const sends = new SendTracker();
  const handles = [new WorkerHandle(0), new WorkerHandle(1)];
  const deliveries = new Deliveries({
    budget, sends, handles, recordStates: memory.recordStates, deliveryTimeoutMs: 60_000,
    registry: { byIndex: () => TOPIC }, emit: () => {},
  });
  const pool = new FakePool(options.autoStart === undefined ? {} : { autoStart: options.autoStart });
  const crashes: [unknown, number][] = [];
  const launch: Omit<WorkerLaunch, 'producerId' | 'producerEpoch'> = {
    workerCount: 2, control: memory.control.buffer, recordStates: memory.recordStates, identity: null, settings: {} as WorkerLaunch['settings'],
  };
  const group = new WorkerGroup({
    handles, deliveries, launch, tokens: undefined,
    // Without idempotence no producer id is asked for, and the registry is never used.
    registry: options.idempotentVia ?? ({} as TopicRegistry),
    options: {
      idempotent: options.idempotentVia !== undefined, bufferTimeoutMs: options.idempotentVia === undefined ? 1000 : 600_000,
      retryBackoffMs: options.idempotentVia === undefined ? 1 : 30_000,
      retryBackoffMaxMs: options.retryBackoffMaxMs ?? 1,
    },
    emit: (_event, error, index) => crashes.push([error, index]),
    pool: () => pool.spawn(),
    transactions: options.transactions,
    wakeSettlement: () => memory.control.wakeMain(),
  });
  /** Accepts a record for `partition` (worker = partition here), as the producer's fast path does. */
  const send = (partition: number): SendSettler => {
    const settler = new SendSettler();
    assert.ok(budget.tryAcquire(10));
    const prepared = { topic: 'alpha', key: null, value: new Uint8Array(10), headers: [], timestamp: 1, partition, size: 10, valueBytes: 10 };
    deliveries.accept(prepared, TOPIC, partition, sends.begin(), settler, 0, undefined, Date.now());
    return settler;
  };
  /** A record for `partition` that waits for buffer space, accepted when granted, as a waiting send is. */
  const sendWhenRoom = (partition: number): SendSettler => {
    const settler = new SendSettler();
    const prepared = { topic: 'alpha', key: null, value: new Uint8Array(10), headers: [], timestamp: 1, partition, size: 10, valueBytes: 10 };
    budget.wait(10, 1, 60_000, undefined, () => deliveries.accept(prepared, TOPIC, partition, sends.begin(), settler, 0, undefined, Date.now()), (error) => settler.reject(0, error));
    return settler;
  };
  return { group, pool, crashes, send, sendWhenRoom, budget, deliveries, control: memory.control };
}

/** A test body run against a fresh setup, whose ports are closed however it ends. */
function withSetup(options: Parameters<typeof setup>[0], body: (fixture: ReturnType<typeof setup>, t: TestContext) => Promise<void>): (t: TestContext) => Promise<void> {
  return (t) => withFakePool(() => setup(options), (fixture) => body(fixture, t))();
}

describe('WorkerGroup', () => {
  it('is started only once every worker loop runs, each on its own memory with its index', withSetup({ autoStart: false }, async ({ group, pool }) => {
    let started = false;
    const starting = group.start().then(() => (started = true));
    await until(() => pool.workers.length === 2, 'both workers asked for');
    pool.workers[0]!.start();
    await turns();
    assert.equal(started, false);
    assert.equal(group.started, false);
    assert.deepEqual(group.stats(), [], 'no counters before the start');
    pool.workers[1]!.start();
    await starting;
    assert.equal(group.started, true);
    assert.equal(group.stats().length, 2);
    assert.deepEqual(pool.inits.map((i) => [i.workerIndex, i.workerCount, i.producerId]), [[0, 2, -1n], [1, 2, -1n]]);
    assert.notEqual(pool.inits[0]!.recordRing, pool.inits[1]!.recordRing);
  }));

  it('a start that fails reports its error, ends the threads that did start and leaves the group unstarted', withSetup({ autoStart: false }, async ({ group, pool }) => {
    const starting = group.start();
    await until(() => pool.workers.length === 2, 'both workers asked for');
    pool.workers[0]!.start();
    pool.workers[1]!.start(new Error('no thread for you'));
    await assert.rejects(starting, /no thread for you/);
    assert.equal(pool.spawned.length, 2, 'a pool per worker');
    assert.ok(pool.spawned.every((spawned) => spawned.destroyed), 'every pool of the start is ended');
    assert.equal(group.started, false);
  }));

  it('destroy() waits for the threads of a failed start still being ended (close giving up on the start)', withSetup({ autoStart: false }, async ({ group, pool }) => {
    let endThreads!: () => void;
    pool.destroyHeldBy = new Promise<void>((resolve) => (endThreads = resolve));
    const starting = group.start().catch((error: unknown) => error);
    await until(() => pool.workers.length === 2, 'both workers asked for');
    pool.workers[0]!.start();
    pool.workers[1]!.start(new Error('no thread for you'));
    await until(() => pool.spawned.every((spawned) => spawned.destroyed), 'the start ends its pools');
    let destroyed = false;
    const destroying = group.destroy().then(() => (destroyed = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(destroyed, false, 'the threads are still being ended');
    endThreads();
    await destroying;
    assert.match(String(await starting), /no thread for you/);
  }));

  it('the thread of a failed start that dies when its pool is ended is no crash: nothing is replaced, and a later start runs one thread per worker', withSetup({ autoStart: false }, async ({ group, pool, crashes }) => {
    const starting = group.start();
    await until(() => pool.workers.length === 2, 'both workers asked for');
    pool.workers[0]!.start();
    pool.workers[1]!.start(new Error('no thread for you'));
    await assert.rejects(starting, /no thread for you/);
    pool.workers[0]!.crash(new Error('ended by the pool\'s destroy'));
    await turns(10);
    assert.deepEqual(crashes, [], 'no crash reported');
    assert.equal(pool.workers.length, 2, 'no replacement started for a group that failed to start');

    const again = group.start();
    await until(() => pool.workers.length === 4, 'the second start asked for both workers');
    pool.workers[2]!.start();
    pool.workers[3]!.start();
    await again;
    await turns(10);
    assert.deepEqual(pool.inits.slice(2).map((init) => init.workerIndex), [0, 1]);
    assert.equal(pool.workers.length, 4, 'one thread per worker index, none started by a leftover retry');
  }));

  it('a retry left from a failed start ends with it: it never touches the worker of a later start', withSetup({ autoStart: false }, async ({ group, pool }) => {
    // The retry's backoff on a mock clock: it is over exactly when the test says.
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const first = group.start();
      await until(() => pool.workers.length === 2, 'both workers asked for');
      pool.workers[0]!.start();
      pool.workers[0]!.crash(new Error('crashed while worker 1 still starts'));
      await until(() => pool.workers.length === 3, 'a replacement for worker 0 asked for');
      pool.workers[2]!.start(new Error('the replacement could not start')); // its loop now waits out its backoff
      await turns();
      pool.workers[1]!.start(new Error('worker 1 could not start'));
      await assert.rejects(first, /worker 1 could not start/);

      const second = group.start(); // connect() again while the old loop still waits
      await until(() => pool.workers.length === 5, 'the second start asked for both workers');
      pool.workers[3]!.start();
      pool.workers[4]!.start();
      await second;
      const secondPool = pool.spawned.at(-2)!;
      mock.timers.tick(1_000); // the old loop's backoff is over
      await turns(10);
      assert.equal(pool.workers.length, 5, 'no thread started by the old loop');
      assert.equal(secondPool.destroyed, false, "the second start's pool for worker 0 is left alone");
    } finally {
      mock.timers.reset();
    }
  }));

  it('a transactional producer that can no longer get its identity fails the dead worker\'s records and stops replacing it', async (t) => {
    let fatal = false;
    const transactions: TransactionIdentity = {
      init: () => (fatal ? Promise.reject(new TransactionFatalError(-1, 'fenced: only close remains')) : Promise.resolve()),
      identity: { producerId: 1n, producerEpoch: 0 }, maxProduceVersion: 11, workerCrashed: () => undefined,
    };
    await withSetup({ transactions }, async ({ group, pool, send, crashes }) => {
      await group.start();
      const held = send(0);
      fatal = true;
      pool.workers[0]!.crash(new Error('crashed after the producer was fenced'));
      await assert.rejects(held.promise, (e: Error) => e instanceof WorkerCrashedError && e.message === 'worker 0 crashed: Error: crashed after the producer was fenced');
      await until(() => crashes.length === 1, 'the crash reported');
      await turns(10);
      assert.equal(pool.spawned.length, 2, 'no pool made (each starts a thread) for a replacement that cannot start');
      assert.equal(pool.workers.length, 2);
    })(t);
  });

  it('a replacement that fails to start once close has begun still fails what waits in its ring at once, and is not tried again', withSetup({ autoStart: false }, async ({ group, pool, send, budget }) => {
    await startBoth(group, pool);
    pool.workers[0]!.crash(new Error('segfault, say'));
    await until(() => pool.workers.length === 3, 'a replacement asked for');
    const waiting = send(0); // waits in the replacement's ring
    group.stopReplacing(); // close has flushed and begun to stop the workers
    pool.workers[2]!.start(new Error('preload refused this thread'));
    await assert.rejects(waiting.promise, (e: Error) => e instanceof WorkerCrashedError && e.delivery === 'not-sent' && /could not be restarted/.test(e.message));
    assert.equal(budget.bufferedBytes, 0, 'its bytes are back');
    await turns(10);
    assert.equal(pool.workers.length, 3, 'no replacement tried while closing');
  }));

  it('a replacement that cannot start fails what waits in its ring at once, giving the bytes back, and the next one starts in a fresh pool', withSetup({ autoStart: false }, async ({ group, pool, crashes, send, budget }) => {
    await startBoth(group, pool);
    const spawnedBefore = pool.spawned.length;
    pool.workers[0]!.crash(new Error('segfault, say'));
    await until(() => pool.workers.length === 3, 'a replacement asked for');
    // The replacement's thread fails before it is ready; records sent meanwhile wait in its ring.
    const waiting = send(0);
    assert.equal(budget.bufferedBytes, 10);
    pool.workers[2]!.start(new Error('preload refused this thread'));
    await assert.rejects(waiting.promise, (e: Error) => e instanceof WorkerCrashedError && e.delivery === 'not-sent' && /could not be restarted/.test(e.message));
    assert.equal(budget.bufferedBytes, 0, 'its bytes are back');
    // After retryBackoffMaxMs (1 ms here): a 1 ms timer set after the group's fires after it (timers of one duration
    // run in the order they were set), so this waits on timers rather than on a number of turns.
    for (let tick = 0; tick < 100 && pool.workers.length < 4; tick++) await new Promise((resolve) => setTimeout(resolve, 1));
    assert.equal(pool.workers.length, 4, 'another replacement asked for');
    assert.equal(pool.inits[3]!.workerIndex, 0);
    assert.equal(pool.spawned.length, spawnedBefore + 2, 'each replacement in a pool of its own');
    assert.ok(pool.spawned[0]!.destroyed && pool.spawned[spawnedBefore]!.destroyed, 'the dead pools are ended');
    await until(() => crashes.length === 1, 'the crash reported once');
  }));

  it('a replacement whose thread neither runs nor fails is given up on after bufferTimeoutMs (at least 10 s): what waits in its ring fails and gives its ids and bytes back, and another is tried', withSetup({ autoStart: false }, async ({ group, pool, send, budget, deliveries }, t) => {
    // A thread that never runs its task and never dies (a preload that waits for ever) held what was sent to its
    // partitions, ids and bytes, until close: callers were released at their delivery timeout, but the buffer space
    // stayed taken and a transaction's end, which waits for every accepted record to be reported, never came.
    await startBoth(group, pool);
    t.mock.timers.enable({ apis: ['setTimeout'] });
    pool.workers[0]!.crash(new Error('segfault, say'));
    await until(() => pool.workers.length === 3, 'a replacement asked for');
    const waiting = send(0);
    const outcome: { error?: unknown } = {};
    waiting.promise.catch((error: unknown) => (outcome.error = error));
    t.mock.timers.tick(9_999); // bufferTimeoutMs is 1 s here: the floor of 10 s applies
    await turns(10);
    assert.ok(outcome.error === undefined, 'still waiting for the start');
    t.mock.timers.tick(1);
    await until(() => outcome.error !== undefined, 'the records waiting for the stalled start failed');
    const failure = outcome.error as unknown; // set by the callback, which the narrowing above does not see
    assert.ok(failure instanceof WorkerCrashedError && failure.delivery === 'not-sent', String(failure));
    assert.match(failure.message, /worker 0 could not be restarted after a crash: WorkerStartError: worker 0 did not start within 10000 ms/);
    assert.equal(budget.bufferedBytes, 0, 'its bytes are back');
    assert.equal(deliveries.count, 0, 'its id is free');
    assert.ok(pool.spawned[2]!.destroyed, 'the stalled thread is ended');
    t.mock.timers.tick(1); // retryBackoffMaxMs
    await until(() => pool.workers.length === 4, 'another replacement asked for');
    pool.workers[3]!.start();
    await turns(10);
    const next = send(0);
    assert.equal(deliveries.count, 1, 'the next replacement takes records');
    next.promise.catch(() => undefined);
  }));

  it('a replacement that fails to start is retried under the same producer id: InitProducerId is asked once per crash, not once per attempt', async () => {
    // A start that failed ran nothing under its id. One InitProducerId per attempt took a new producer id from the
    // cluster every retryBackoffMaxMs for as long as the start kept failing.
    let asked = 0;
    const cluster = {
      reconnectDelay: () => 0,
      reconnectReason: () => undefined,
      connection: () => Promise.resolve({ request: () => Promise.resolve({ errorCode: 0, producerId: BigInt(++asked), producerEpoch: 0 }) }),
    } as unknown as TopicRegistry;
    await withFakePool(() => setup({ autoStart: false, idempotentVia: cluster }), async ({ group, pool }) => {
      await startBoth(group, pool);
      assert.equal(asked, 1);
      pool.workers[0]!.crash(new Error('segfault, say'));
      // Each attempt after retryBackoffMaxMs (1 ms here): waited for on timers (a 1 ms timer set after the group's
      // fires after it), not on a number of turns, which a loaded machine may run before the group's timer is due.
      const attempt = async (n: number): Promise<void> => {
        for (let tick = 0; tick < 100 && pool.workers.length < 2 + n; tick++) await new Promise((resolve) => setTimeout(resolve, 1));
        assert.equal(pool.workers.length, 2 + n, `replacement attempt ${n}`);
      };
      for (let n = 1; n <= 3; n++) {
        await attempt(n);
        pool.workers.at(-1)!.start(new Error('preload refused this thread'));
      }
      await attempt(4);
      assert.equal(asked, 2, 'one InitProducerId for the start and one for the crash');
      assert.deepEqual(pool.inits.slice(2).map((init) => init.producerId), [2n, 2n, 2n, 2n]);
      pool.workers[5]!.start();
      await turns(10);
    })();
  });

  it('stopReplacing ends the wait before the next replacement, an unreferenced one: no timer of it outlives close or keeps an idle process alive', withSetup({ autoStart: false, retryBackoffMaxMs: 60_000 }, async ({ group, pool }, t) => {
    await startBoth(group, pool);
    pool.workers[0]!.crash(new Error('segfault, say'));
    await until(() => pool.workers.length === 3, 'a replacement asked for');
    // Tracked from here: the replacement cannot start, so the group waits retryBackoffMaxMs (a minute) to try again.
    const waits = trackTimers(t, 60_000);
    pool.workers[2]!.start(new Error('preload refused this thread'));
    await until(() => waits.size === 1, 'the wait before the next replacement');
    // Nothing waits on the retry: an idle producer's process must be free to exit (records waiting for the
    // replacement hold the delivery sweep's timer instead).
    for (const timer of waits) assert.equal((timer as NodeJS.Timeout).hasRef(), false, 'the retry keeps no process alive');
    group.stopReplacing(); // close has flushed and begun to stop the workers
    await until(() => waits.size === 0, 'the wait ended by stopReplacing');
    await turns(10);
    assert.equal(pool.workers.length, 3, 'no replacement tried while closing');
  }));

  it('a replacement waiting to retry InitProducerId (the cluster out of reach) keeps no idle process alive', async (t) => {
    // Its pauses were referenced timers: a producer with nothing to send, whose worker died while the cluster was out
    // of reach, kept its process alive for up to bufferTimeoutMs.
    let asked = 0;
    const unreachable = {
      reconnectDelay: () => 0,
      reconnectReason: () => undefined,
      connection: () => {
        asked++;
        return asked === 1
          ? Promise.resolve({ request: () => Promise.resolve({ errorCode: 0, producerId: 7n, producerEpoch: 0 }) })
          : Promise.reject(new ConnectionError('no broker could be reached'));
      },
    } as unknown as TopicRegistry;
    await withFakePool(() => setup({ idempotentVia: unreachable, retryBackoffMaxMs: 60_000 }), async ({ group, pool }) => {
      await startBoth(group, pool);
      const waits = trackTimers(t, 10_000);
      pool.workers[0]!.crash(new Error('segfault, say'));
      await until(() => waits.size === 1, 'the wait before InitProducerId is asked again');
      for (const timer of waits) assert.equal((timer as NodeJS.Timeout).hasRef(), false, 'the wait keeps the process alive');
      group.stopReplacing();
      await until(() => waits.size === 0, 'the wait ended by stopReplacing');
    })();
  });

  it('a crash the pool reports as WorkerCrashedError is said once: its message, not wrapped in another', withSetup({}, async ({ group, pool, send }) => {
    await group.start();
    const lost = send(0);
    const error = new WorkerCrashedError('unknown', 'worker 0 died: Error: segfault, say');
    pool.workers[0]!.crash(error);
    // It said "worker 0 crashed: WorkerCrashedError: worker 0 died: Error: segfault, say".
    await assert.rejects(lost.promise, (e: Error) => e instanceof WorkerCrashedError && e.message === 'worker 0 died: Error: segfault, say' && e.cause === error);
  }));

  it('a crashed worker\'s records fail, it is reported, and it is replaced on fresh memory; the other worker\'s records live on', withSetup({}, async ({ group, pool, crashes, send, deliveries }) => {
    await group.start();
    const lost = send(0);
    const kept = send(1);
    const error = new Error('segfault, say');
    const published: unknown[] = [];
    const onWorker = (message: unknown): void => void published.push(message);
    channels.worker.subscribe(onWorker);
    pool.workers[0]!.crash(error);
    await assert.rejects(lost.promise, (e: Error) => e instanceof WorkerCrashedError && e.delivery === 'not-sent' && e.cause === error);
    await until(() => crashes.length > 0, "'workerCrash' emitted (in a later tick than the failures)");
    assert.deepEqual(crashes, [[error, 0]]);
    channels.worker.unsubscribe(onWorker);
    assert.deepEqual(published, [{ worker: 0, event: 'crash', error }], 'the diagnostics channel heard of it too');
    await until(() => pool.workers.length === 3, 'a replacement started');
    const replacement = pool.inits[2]!;
    assert.equal(replacement.workerIndex, 0);
    assert.notEqual(replacement.recordRing, pool.inits[0]!.recordRing, 'the replacement has its own rings');
    assert.equal(deliveries.count, 1, 'only the other worker\'s record is left');
    void kept.promise.catch(() => undefined);
  }));

  it('a send granted buffer space while a crashed worker\'s records fail goes to the replacement\'s ring, not the dead one\'s', withSetup({ maxBytes: 20 }, async ({ group, pool, send, sendWhenRoom, budget, deliveries }) => {
    await group.start();
    const lost = [send(0), send(0)];
    // The budget is full: this one waits, and failing the crashed worker's records grants it at once.
    const waiting = sendWhenRoom(0);
    let settled = false;
    void waiting.promise.then(() => (settled = true), () => (settled = true));
    pool.workers[0]!.crash(new Error('gone'));
    for (const settler of lost) await assert.rejects(settler.promise, (e: Error) => e instanceof WorkerCrashedError && e.delivery === 'not-sent');
    assert.equal(deliveries.count, 1, 'the granted record is live');
    assert.equal(budget.bufferedBytes, 10);
    await until(() => pool.workers.length === 3, 'a replacement started');
    const ring = new RingReader(pool.inits[2]!.recordRing);
    const entries: number[] = [];
    while (ring.read() >= 0) if (ring.data[ring.offset] === EntryKind.record) entries.push(readU32(ring.data, ring.offset + 4));
    assert.equal(entries.length, 1, 'the granted record waits in the replacement\'s ring');
    assert.equal(settled, false, 'and its caller waits for its outcome');
  }));

  it('a send granted buffer space by what the crashed worker reported before it died goes to the replacement\'s ring', withSetup({ maxBytes: 20 }, async ({ group, pool, send, sendWhenRoom }) => {
    // The crash read the dead thread's completions before its memory was renewed: the bytes of a record it had
    // delivered granted the waiting send into the dead ring, and that send then failed as crashed.
    await group.start();
    const delivered = send(0);
    const held = send(0);
    const waiting = sendWhenRoom(0); // the budget is full
    let settled = false;
    void waiting.promise.then(() => (settled = true), () => (settled = true));
    const writer = new RingWriter(pool.inits[0]!.completionRing);
    const message = encodeMessage('');
    const at = writer.reserve(completionSize(1, message));
    writeCompletion(writer.data, at, { kind: CompletionKind.delivered, topicIndex: 0, partition: 0, errorCode: 0, baseOffset: 5, timestamp: -1, logStartOffset: -1 }, [0], 1, message);
    writer.commit();
    pool.workers[0]!.crash(new Error('gone'));
    assert.equal((await delivered.promise).offset, 5, 'what the thread reported before it died stands');
    await assert.rejects(held.promise, (e: Error) => e instanceof WorkerCrashedError && e.delivery === 'not-sent');
    await until(() => pool.workers.length === 3, 'a replacement started');
    const ring = new RingReader(pool.inits[2]!.recordRing);
    const entries: number[] = [];
    while (ring.read() >= 0) if (ring.data[ring.offset] === EntryKind.record) entries.push(readU32(ring.data, ring.offset + 4));
    assert.equal(entries.length, 1, 'the granted record waits in the replacement\'s ring');
    assert.equal(settled, false, 'and its caller waits for its outcome');
  }));

  it('a worker that dies between taking the main thread\'s sleep word and notifying it leaves no other worker\'s completion unread', withSetup({}, async ({ group, pool, send, deliveries, control }) => {
    // The loss, step by step: the main thread sleeps (MAIN_SLEEPING 1); worker 0 swaps the word to 0 and dies before
    // its notify; worker 1 then publishes a completion, reads the word as 0 ("awake") and notifies nobody.
    await group.start();
    const other = send(1);
    let settled = false;
    void other.promise.then(() => (settled = true), () => (settled = true));
    const stop = new AbortController();
    const loop = deliveries.settleLoop(control, stop.signal);
    const slots = new Int32Array(control.buffer);
    await until(() => slots[ControlSlot.MAIN_SLEEPING] === 1, 'the settle loop asleep');
    assert.equal(Atomics.compareExchange(slots, ControlSlot.MAIN_SLEEPING, 1, 0), 1); // worker 0's swap (W4)
    pool.workers[0]!.crash(new Error('killed between its swap and its notify'));
    await turns(10);
    // Worker 1 reports its record delivered.
    const ring = new RingReader(pool.inits[1]!.recordRing);
    let id = -1;
    while (id < 0 && ring.read() >= 0) if (ring.data[ring.offset] === EntryKind.record) id = readU32(ring.data, ring.offset + 4);
    const writer = new RingWriter(pool.inits[1]!.completionRing);
    const message = encodeMessage('');
    const at = writer.reserve(completionSize(1, message));
    writeCompletion(writer.data, at, { kind: CompletionKind.delivered, topicIndex: 0, partition: 1, errorCode: 0, baseOffset: 9, timestamp: -1, logStartOffset: -1 }, [id], 1, message);
    writer.commit();
    control.signalCompletion();
    try {
      await until(() => settled, 'worker 1\'s record settled by the settle loop');
      assert.equal((await other.promise).offset, 9);
    } finally {
      stop.abort();
      await loop;
    }
  }));

  it('after stopReplacing a crashed worker\'s records still fail at once, and it is not replaced', withSetup({}, async ({ group, pool, crashes, send, deliveries }) => {
    await group.start();
    const lost = send(1);
    group.stopReplacing();
    const error = new Error('late');
    pool.workers[1]!.crash(error);
    // Nothing else would ever settle it: the dead thread never answers, and a close without a deadline (or a
    // transaction's abort, which waits for every record) would wait for ever.
    await assert.rejects(lost.promise, (e: Error) => e instanceof WorkerCrashedError && e.delivery === 'not-sent');
    assert.equal(deliveries.count, 0);
    await deliveries.whenEmpty();
    await until(() => crashes.length > 0, "'workerCrash' emitted");
    assert.deepEqual(crashes, [[error, 1]]);
    await turns();
    assert.equal(pool.workers.length, 2, 'no replacement while closing');
  }));

  it('a worker that dies once close is over is left alone: what it reported after the producer failed its records is not read', withSetup({}, async ({ group, pool, send, budget, deliveries }) => {
    await group.start();
    const held = send(0);
    group.stopReplacing();
    await group.close(Date.now(), undefined); // the deadline is over: nobody waits for the workers
    // As the producer's close goes on: whatever is still live fails, its bytes back in the budget.
    deliveries.failLive(undefined, (delivery) => new ProducerClosedError(delivery, 'closed'));
    await assert.rejects(held.promise, ProducerClosedError);
    assert.equal(budget.bufferedBytes, 0);
    // Meanwhile the worker, given up on, reported the same record dropped; then its thread is ended.
    const writer = new RingWriter(pool.inits[0]!.completionRing);
    const message = encodeMessage('');
    const at = writer.reserve(completionSize(1, message));
    writeCompletion(writer.data, at, { kind: CompletionKind.dropped, topicIndex: 0, partition: 0, errorCode: 0, baseOffset: -1, timestamp: -1, logStartOffset: -1 }, [0], 1, message);
    writer.commit();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      pool.workers[0]!.crash(new Error('ended by destroy'));
      await turns();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    assert.deepEqual(unhandled, [], 'the record\'s bytes were released twice');
    assert.equal(budget.bufferedBytes, 0);
  }));

  it('a worker replaced after close was hurried is told the same deadline', withSetup({}, async ({ group, pool }) => {
    await group.start();
    // close({ timeoutMs }) hurried every worker; then worker 0 dies while the flush waits, and is replaced.
    group.hurry(1000, 1234);
    pool.workers[0]!.crash(new Error('died during close'));
    await until(() => pool.workers.length === 3, 'a replacement started');
    const received: unknown[] = [];
    pool.workers[2]!.port.on('message', (message) => received.push(message));
    await until(() => received.length > 0, 'the replacement was told the deadline (else it retries up to the delivery timeout)');
    assert.deepEqual(received, [{ type: 'cut-off', sendUntil: 1000, deadline: 1234 }], 'the times, not a close: the worker reads its ring on');
  }));

  it('cutOff tells every worker when to stop sending, and a worker replaced after it is told too', withSetup({}, async ({ group, pool }) => {
    await group.start();
    // close({ timeoutMs }) began: the workers hear of the cut-off before the flush, by their own clocks.
    const messages = pool.workerPorts.map((port) => once(port, 'message'));
    group.cutOff(5678);
    assert.deepEqual((await Promise.all(messages)).map(([m]) => m), [{ type: 'cut-off', sendUntil: 5678 }, { type: 'cut-off', sendUntil: 5678 }]);
    pool.workers[0]!.crash(new Error('died during close'));
    await until(() => pool.workers.length === 3, 'a replacement started');
    const received: unknown[] = [];
    pool.workers[2]!.port.on('message', (message) => received.push(message));
    await until(() => received.length > 0, 'the replacement was told the cut-off (else it sends until the deadline)');
    assert.deepEqual(received, [{ type: 'cut-off', sendUntil: 5678 }]);
  }));

  it('workers that start after close began (a connection attempt outliving it) are told the cut-off and a later deadline once they run', withSetup({ autoStart: false }, async ({ group, pool }) => {
    // close began while the threads were being started, and a second close brought its deadline forward: no thread
    // heard either.
    group.cutOff(5678);
    group.hurry(9000, 9999);
    const starting = group.start();
    await until(() => pool.workers.length === 2, 'both workers asked for');
    const received: unknown[] = [];
    for (const worker of pool.workers) worker.port.on('message', (message) => received.push(message));
    for (const worker of pool.workers) worker.start();
    await starting;
    await until(() => received.length >= 2, 'both workers told the cut-off and the deadline');
    const told = { type: 'cut-off', sendUntil: 5678, deadline: 9999 };
    assert.deepEqual(received, [told, told]);
  }));

  it('close tells every worker its deadline and when to stop sending, and resolves once each has finished', withSetup({}, async ({ group, pool }) => {
    await group.start();
    const deadline = Date.now() + 60_000;
    const sendUntil = deadline - 250;
    const messages = pool.workerPorts.map((port) => once(port, 'message'));
    let closed = false;
    const closing = group.close(deadline, undefined, sendUntil).then(() => (closed = true));
    assert.deepEqual((await Promise.all(messages)).map(([m]) => m), [{ type: 'close', deadline, sendUntil }, { type: 'close', deadline, sendUntil }]);
    pool.workers[0]!.finish();
    await turns();
    assert.equal(closed, false, 'one worker is still closing');
    pool.workers[1]!.finish();
    await closing;
  }));

  it('an aborted close gives up at once: every worker is told deadline 0', withSetup({}, async ({ group, pool }) => {
    await group.start();
    const controller = new AbortController();
    controller.abort();
    const messages = pool.workerPorts.map((port) => once(port, 'message'));
    await group.close(Date.now() + 60_000, controller.signal);
    assert.deepEqual((await Promise.all(messages)).map(([m]) => m), [{ type: 'close', deadline: 0, sendUntil: 0 }, { type: 'close', deadline: 0, sendUntil: 0 }]);
  }));

  it('wake kicks every worker asleep on its record ring', withSetup({}, async ({ group, pool }) => {
    await group.start();
    const sleeping = pool.inits.map((init) => new Int32Array(init.recordRing, 0, 32));
    for (const words of sleeping) Atomics.store(words, RingSlot.READER_SLEEPING, 1);
    group.wake();
    assert.deepEqual(sleeping.map((words) => Atomics.load(words, RingSlot.READER_SLEEPING)), [0, 0]);
  }));
});
