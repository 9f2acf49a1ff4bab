/**
 * Invariant 5 for transactions: a caller whose signal aborts is released at once, whatever the transaction is waiting
 * for (a batch in flight, an epoch bump, a TxnOffsetCommit on the wire, the connection), while what was already sent
 * goes on; and a transaction close() aborted is reported as the producer closing. Against a scripted coordinator,
 * and one producer against an address nothing listens on.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Producer } from '../../../src/main/producer.js';
import { runTransaction, type TransactionalCalls } from '../../../src/main/transactions/run-transaction.js';
import type { TransactionManager } from '../../../src/main/transactions/transaction-manager.js';
import { AbortError, ProducerClosedError } from '../../../src/shared/producer-errors.js';
import { TransactionAbortableError } from '../../../src/shared/transaction-errors.js';
import { deferred, setUp, turns } from '../../helpers/scripted-coordinators.js';

/** The producer's transactional calls, reduced to the manager's. */
function calls(manager: TransactionManager): TransactionalCalls {
  return {
    commitTransaction: (options) => manager.commit(options?.signal),
    abortTransaction: () => manager.abort(),
  } as TransactionalCalls;
}

/** Whether `promise` has settled, and how. */
function watch(promise: Promise<unknown>): { settled: boolean; error: unknown } {
  const state = { settled: false, error: undefined as unknown };
  promise.then(() => void (state.settled = true), (error: unknown) => {
    state.settled = true;
    state.error = error;
  });
  return state;
}

describe('transaction cancellation', () => {
  it('transaction(fn, { signal }) rejects as its signal aborts while a batch is in flight; the abort goes on and the next begin waits for it', async () => {
    const { manager, coordinators } = await setUp();
    await manager.begin();
    const controller = new AbortController();
    const record = deferred<number>();
    // fn sent a record whose broker does not answer, and waits for it.
    const run = watch(runTransaction(calls(manager), manager, async () => {
      manager.track(record.promise, () => undefined);
      return record.promise;
    }, controller.signal));
    await turns();
    controller.abort(new Error('deadline'));
    await turns();
    // It waited for the abort, which waits for the unanswered batch: as long as the broker stayed silent.
    assert.equal(run.settled, true, 'transaction() still pending after its signal aborted');
    assert.ok(run.error instanceof AbortError && run.error.delivery === 'not-sent', `got ${String(run.error)}`);
    assert.equal(manager.state, 'ending', 'the abort goes on');

    const next = watch(manager.begin());
    await turns();
    assert.equal(next.settled, false, 'the next begin waits for the abort under way');
    record.reject(new Error('answered at last'));
    await turns();
    assert.deepEqual(coordinators.calls.filter((c) => c.api === 'EndTxn').map((c) => c.request.committed), [false]);
    assert.equal(next.settled, true);
    assert.equal(next.error, undefined);
    assert.equal(manager.state, 'open');
  });

  it('a begin whose signal aborts while the epoch is bumped (protocol v1) is released; the bump goes on and no transaction opens', async () => {
    const { manager, coordinators } = await setUp(1);
    manager.workerCrashed(new Error('worker died')); // v1: the epoch must move before the next transaction
    const bump = deferred<Record<string, unknown>>();
    coordinators.script('InitProducerId', bump.promise as unknown as Record<string, unknown>);
    const controller = new AbortController();
    const begin = watch(manager.begin(controller.signal));
    await turns();
    assert.equal(manager.state, 'ending');
    controller.abort(new Error('deadline'));
    await turns();
    assert.equal(begin.settled, true, 'begin still pending after its signal aborted');
    assert.ok(begin.error instanceof AbortError, `got ${String(begin.error)}`);
    bump.resolve({ errorCode: 0, producerId: 42n, producerEpoch: 8 });
    await turns();
    assert.equal(manager.state, 'ready', 'bumped, and nothing opened for the caller that left');
    await manager.begin();
    assert.equal(manager.state, 'open');
    assert.equal(coordinators.calls.filter((c) => c.api === 'InitProducerId').length, 2, 'one bump, not one per begin');
  });

  it('sendOffsets is released as its signal aborts while TxnOffsetCommit is unanswered; the transaction must abort, and EndTxn waits for the request', async () => {
    const { manager, coordinators } = await setUp();
    await manager.begin();
    const answer = deferred<Record<string, unknown>>();
    coordinators.script('TxnOffsetCommit', answer.promise as unknown as Record<string, unknown>);
    const controller = new AbortController();
    const offsets = watch(manager.sendOffsets({ groupId: 'g', offsets: [{ topic: 'in', partition: 0, offset: 5 }] }, controller.signal));
    await turns();
    controller.abort(new Error('deadline'));
    await turns();
    assert.equal(offsets.settled, true, 'sendOffsets still pending after its signal aborted (it waited up to requestTimeoutMs)');
    assert.ok(offsets.error instanceof TransactionAbortableError && offsets.error.cause instanceof AbortError, `got ${String(offsets.error)}`);
    assert.equal(manager.state, 'abortable');
    const aborted = manager.abort();
    await turns();
    assert.ok(!coordinators.calls.some((c) => c.api === 'EndTxn'), 'EndTxn overtook the offsets of its transaction');
    answer.resolve({ topics: [{ name: 'in', partitions: [{ partition: 0, errorCode: 0 }] }] });
    await aborted;
    assert.deepEqual(coordinators.calls.map((c) => c.api).slice(-2), ['TxnOffsetCommit', 'EndTxn']);
  });

  it('abortTransaction({ signal }) is released as its signal aborts while EndTxn(abort) is unanswered; the abort goes on and the next begin waits for it', async () => {
    // The signal went down to EndTxn's call, which honours it only between attempts: the caller waited out the
    // coordinator's silence (requestTimeoutMs) after its abort.
    const { manager, coordinators } = await setUp();
    await manager.begin();
    manager.track(Promise.resolve(1), () => undefined);
    const answer = deferred<Record<string, unknown>>();
    coordinators.script('EndTxn', answer.promise as unknown as Record<string, unknown>);
    const controller = new AbortController();
    const aborted = watch(manager.abort(controller.signal));
    await turns();
    assert.deepEqual(coordinators.calls.filter((c) => c.api === 'EndTxn').map((c) => c.request.committed), [false], 'EndTxn(abort) went out');
    controller.abort(new Error('deadline'));
    await turns();
    assert.equal(aborted.settled, true, 'abortTransaction still pending after its signal aborted');
    assert.ok(aborted.error instanceof AbortError && aborted.error.delivery === 'not-sent', `got ${String(aborted.error)}`);
    assert.equal(manager.state, 'ending', 'the abort goes on');
    await assert.rejects(manager.abort(), /abort/, 'a second abort while the first is under way');

    const next = watch(manager.begin());
    await turns();
    assert.equal(next.settled, false, 'the next begin waits for the abort under way');
    answer.resolve({ errorCode: 0, producerId: -1n, producerEpoch: -1 });
    await turns();
    assert.equal(next.error, undefined);
    assert.equal(manager.state, 'open');
    assert.equal(coordinators.calls.filter((c) => c.api === 'EndTxn').length, 1, 'one EndTxn(abort)');
  });

  it('a commit or abort after close() aborted the transaction is a ProducerClosedError, not "no transaction is open"', async () => {
    const { manager } = await setUp();
    await manager.begin();
    manager.track(Promise.resolve(1), () => undefined);
    await manager.closeOpen();
    assert.equal(manager.state, 'ready');
    await assert.rejects(manager.commit(), (e: unknown) => e instanceof ProducerClosedError && e.delivery === 'not-sent' && /close\(\) ends the open transaction/.test(e.message));
    await assert.rejects(manager.abort(), ProducerClosedError);
  });

  it('transaction(fn, { signal }) is released while the producer connects (InitProducerId is retried up to bufferTimeoutMs)', async (t) => {
    const producer = new Producer({ brokers: ['127.0.0.1:1'], transactionalId: 'tx-cancel', bufferTimeoutMs: 600_000, retryBackoffMs: 20, retryBackoffMaxMs: 50 });
    t.after(() => producer.close({ timeoutMs: 1000 }));
    const controller = new AbortController();
    let ran = false;
    const run = watch(producer.transaction(async () => void (ran = true), { signal: controller.signal }));
    // Let it try to connect a few times (each attempt is refused at once).
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(run.settled, false);
    controller.abort(new Error('deadline'));
    await turns();
    assert.equal(run.settled, true, 'transaction() waited for bufferTimeoutMs after its signal aborted');
    assert.ok(run.error instanceof AbortError && run.error.delivery === 'not-sent', `got ${String(run.error)}`);
    assert.equal(ran, false);
    const begin = watch(producer.beginTransaction({ signal: AbortSignal.abort() }));
    await turns();
    assert.ok(begin.error instanceof AbortError, 'an aborted signal is refused before anything starts');
  });
});

describe('the epoch bump after an abort (protocol v1)', () => {
  it('a begin called while the abort bumps the epoch waits for that bump instead of sending a second InitProducerId', async () => {
    const { manager, coordinators } = await setUp(1);
    await manager.begin();
    await manager.addPartition('t', 0);
    manager.track(Promise.reject(new Error('record failed')), () => undefined);
    await turns();
    const bump = deferred<Record<string, unknown>>();
    coordinators.script('InitProducerId', bump.promise as unknown as Record<string, unknown>);
    const aborted = manager.abort();
    await turns();
    assert.ok(coordinators.calls.some((c) => c.api === 'EndTxn'), 'EndTxn(abort) went out');
    const begin = watch(manager.begin());
    await turns();
    assert.equal(begin.settled, false, 'begin waits for the bump under way');
    bump.resolve({ errorCode: 0, producerId: 42n, producerEpoch: 8 });
    await aborted;
    await turns();
    assert.equal(begin.error, undefined);
    assert.equal(manager.state, 'open');
    assert.equal(coordinators.calls.filter((c) => c.api === 'InitProducerId').length, 2, 'init and one bump');
  });
});
