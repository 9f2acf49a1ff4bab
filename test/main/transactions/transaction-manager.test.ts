/**
 * The transaction state machine against a scripted coordinator (no broker, no clock): when EndTxn goes out, what a
 * failed record does, which epoch the workers are shown, and which calls are refused in which state.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { BrokerError, ConfigError, ProtocolError } from '../../../src/shared/errors.js';
import {
  ProducerFencedError, TransactionAbortableError, TransactionFatalError, TransactionRetriableError, TransactionStateError,
} from '../../../src/shared/transaction-errors.js';
import { deferred, ScriptedCoordinators, setUp, turns, unanswered } from '../../helpers/scripted-coordinators.js';
import type { Coordinators } from '../../../src/main/transactions/coordinators.js';
import { TransactionManager } from '../../../src/main/transactions/transaction-manager.js';
import { createProducerIdentity, ProducerIdentityView } from '../../../src/shared/producer-identity.js';
import { AbortError, ProducerClosedError } from '../../../src/shared/producer-errors.js';

describe('TransactionManager', () => {
  it('publishes the InitProducerId identity to the workers and is ready', async () => {
    const { view, manager, coordinators } = await setUp();
    assert.equal(manager.state, 'ready');
    assert.equal(manager.protocol, 2);
    assert.equal(view.producerId, 42n);
    assert.equal(view.epoch, 7);
    assert.deepEqual(coordinators.calls.map((c) => c.api), ['InitProducerId']);
    assert.equal(coordinators.calls[0]!.request.transactionalId, 'tx-1');
  });

  it('sends EndTxn(commit) only once every record of the transaction has its result', async () => {
    const { manager, coordinators } = await setUp();
    await manager.begin();
    const record = deferred<number>();
    manager.track(record.promise, () => undefined);
    const committed = manager.commit();
    await turns();
    assert.ok(!coordinators.calls.some((c) => c.api === 'EndTxn'), 'EndTxn waits for the outstanding record');
    record.resolve(1);
    await committed;
    const end = coordinators.calls.find((c) => c.api === 'EndTxn')!;
    assert.equal(end.request.committed, true);
    assert.equal(manager.state, 'ready');
  });

  it('protocol v2: the epoch EndTxn returns is what the workers stamp next', async () => {
    const { manager, coordinators, view } = await setUp();
    coordinators.script('EndTxn', { errorCode: 0, producerId: 42n, producerEpoch: 8 });
    await manager.begin();
    manager.track(Promise.resolve(1), () => undefined);
    await manager.commit();
    assert.equal(view.epoch, 8);
    assert.equal(manager.maxProduceVersion, Number.MAX_SAFE_INTEGER);
  });

  it('a failed record makes the transaction abortable: commit refuses, abort ends it, the next one commits', async () => {
    const { manager, coordinators } = await setUp();
    await manager.begin();
    manager.track(Promise.reject(new BrokerError(ErrorCode.NOT_ENOUGH_REPLICAS, 'NOT_ENOUGH_REPLICAS', true)), () => undefined);
    await turns();
    assert.equal(manager.state, 'abortable');
    assert.throws(() => manager.checkSend(), TransactionAbortableError);
    await assert.rejects(manager.commit(), TransactionAbortableError);
    assert.ok(!coordinators.calls.some((c) => c.api === 'EndTxn'), 'nothing is committed');
    await manager.abort();
    assert.equal(coordinators.calls.find((c) => c.api === 'EndTxn')!.request.committed, false);
    assert.equal(manager.state, 'ready');
    await manager.begin();
    manager.track(Promise.resolve(1), () => undefined);
    await manager.commit();
    assert.equal(coordinators.calls.filter((c) => c.api === 'EndTxn').at(-1)!.request.committed, true);
  });

  it('a failed record found in a sendBatch result counts too', async () => {
    const { manager } = await setUp();
    await manager.begin();
    manager.track(Promise.resolve(['ok', 'failed']), (results) => (results.includes('failed') ? new Error('one failed') : undefined));
    await assert.rejects(manager.commit(), TransactionAbortableError);
  });

  it('INVALID_PRODUCER_EPOCH on a record is abortable (the coordinator aborted a timed-out transaction, KIP-588)', async () => {
    const { manager } = await setUp();
    await manager.begin();
    manager.track(Promise.reject(new BrokerError(ErrorCode.INVALID_PRODUCER_EPOCH, 'INVALID_PRODUCER_EPOCH', false)), () => undefined);
    await turns();
    assert.equal(manager.state, 'abortable');
  });

  it('a record fenced by the broker makes the producer fatal: every later call throws ProducerFencedError', async () => {
    const { manager } = await setUp();
    await manager.begin();
    manager.track(Promise.reject(new BrokerError(ErrorCode.PRODUCER_FENCED, 'PRODUCER_FENCED', false)), () => undefined);
    await turns();
    assert.equal(manager.state, 'fatal');
    await assert.rejects(manager.commit(), ProducerFencedError);
    await assert.rejects(manager.abort(), ProducerFencedError);
    await assert.rejects(manager.begin(), ProducerFencedError);
  });

  it('EndTxn answered PRODUCER_FENCED: fatal, with the Kafka code', async () => {
    const { manager, coordinators } = await setUp();
    coordinators.script('EndTxn', { errorCode: ErrorCode.PRODUCER_FENCED, producerId: -1n, producerEpoch: -1 });
    await manager.begin();
    manager.track(Promise.resolve(1), () => undefined);
    const error = await manager.commit().then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof ProducerFencedError);
    assert.equal(error.errorCode, ErrorCode.PRODUCER_FENCED);
    assert.equal(error.code, 'ERR_PRODUCER_FENCED');
    assert.equal(manager.state, 'fatal');
  });

  it('an EndTxn refused after the transaction outlived transactionTimeoutMs says so', async (t) => {
    const { manager, coordinators } = await setUp(); // transactionTimeoutMs 60,000
    t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    coordinators.script('EndTxn', { errorCode: ErrorCode.INVALID_TXN_STATE, producerId: -1n, producerEpoch: -1 });
    await manager.begin();
    manager.track(Promise.resolve(1), () => undefined);
    t.mock.timers.tick(61_000);
    const error = await manager.commit().then(() => undefined, (e: unknown) => e);
    // It said "EndTxn(commit): INVALID_TXN_STATE", and nothing of the timeout.
    assert.ok(error instanceof Error);
    assert.equal(error.message, 'EndTxn(commit): INVALID_TXN_STATE (the transaction was open 61000 ms, longer than transactionTimeoutMs '
      + '(60000 ms), after which its coordinator aborts it)');
  });

  it('an empty transaction ends without EndTxn (the coordinator never heard of it)', async () => {
    const { manager, coordinators } = await setUp();
    await manager.begin();
    await manager.commit();
    await manager.begin();
    await manager.abort();
    assert.deepEqual(coordinators.calls.map((c) => c.api), ['InitProducerId']);
  });

  it('refuses sends and ends outside a transaction, and a second begin', async () => {
    const { manager } = await setUp();
    assert.throws(() => manager.checkSend(), TransactionStateError);
    await assert.rejects(manager.commit(), TransactionStateError);
    await assert.rejects(manager.abort(), TransactionStateError);
    await manager.begin();
    await assert.rejects(manager.begin(), TransactionStateError);
    manager.checkSend();
  });

  it('abort fires the transaction signal (unsent records are dropped) before waiting for the rest', async () => {
    const { manager } = await setUp();
    await manager.begin();
    const signal = manager.signal;
    const record = deferred<number>();
    manager.track(record.promise, () => undefined);
    const aborted = manager.abort();
    assert.equal(signal.aborted, true);
    assert.throws(() => manager.checkSend(), TransactionStateError, 'no sends while ending');
    record.reject(new Error('dropped'));
    await aborted;
    assert.equal(manager.state, 'ready');
    await manager.begin();
    assert.equal(manager.signal.aborted, false, 'each transaction has its own signal');
  });

  it('an EndTxn(commit) whose outcome is unknown leaves only commit: no sends, no abort; commit again sends it again', async () => {
    const { manager, coordinators } = await setUp();
    coordinators.script('EndTxn', unanswered(new TransactionRetriableError(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, 'not in time')));
    await manager.begin();
    manager.track(Promise.resolve(1), () => undefined);
    await assert.rejects(manager.commit(), TransactionRetriableError);
    assert.equal(manager.state, 'committing');
    assert.throws(() => manager.checkSend(), TransactionStateError);
    await assert.rejects(manager.abort(), /a commit whose outcome is unknown is pending/);
    await manager.commit();
    assert.equal(manager.state, 'ready');
    const ends = coordinators.calls.filter((c) => c.api === 'EndTxn');
    assert.deepEqual(ends.map((c) => c.request.committed), [true, true], 'the same EndTxn(commit), twice');
  });

  it('an EndTxn(commit) that went out unanswered and whose retry was refused leaves only commit: no abort is sent', async () => {
    // The refusal of the retry does not undo the first attempt, which the coordinator may have applied.
    const { manager, coordinators } = await setUp();
    coordinators.script('EndTxn', unanswered({ errorCode: ErrorCode.TRANSACTION_ABORTABLE, producerId: -1n, producerEpoch: -1 }));
    await manager.begin();
    manager.track(Promise.resolve(1), () => undefined);
    await assert.rejects(manager.commit(), (e: unknown) => e instanceof TransactionRetriableError && /may have been applied/.test(e.message));
    assert.equal(manager.state, 'committing');
    await assert.rejects(manager.abort(), /a commit whose outcome is unknown is pending/);
    await manager.commit();
    assert.deepEqual(coordinators.calls.filter((c) => c.api === 'EndTxn').map((c) => c.request.committed), [true, true]);
  });

  it('a commit cancelled before its EndTxn went out leaves the transaction open: abort ends it, and close aborts, never commits', async () => {
    for (const notSent of [
      new AbortError('not-sent', 'aborted while waiting to retry'),
      new TransactionRetriableError(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'EndTxn for tx-1 did not succeed in time: no coordinator found'),
    ]) {
      const { manager, coordinators } = await setUp();
      coordinators.script('EndTxn', notSent);
      await manager.begin();
      manager.track(Promise.resolve(1), () => undefined);
      await assert.rejects(manager.commit(), (e: unknown) => e === notSent);
      assert.equal(manager.state, 'open', notSent.message);
      await manager.closeOpen();
      const ends = coordinators.calls.filter((c) => c.api === 'EndTxn').map((c) => c.request.committed);
      assert.deepEqual(ends, [true, false], 'the commit that never went out, then the abort close sends');
      assert.equal(manager.state, 'ready');
    }
  });

  it('a commit sent again after an unknown outcome is the only one in flight: a second commit or an abort meanwhile is refused', async () => {
    const { manager, coordinators } = await setUp();
    coordinators.script('EndTxn', unanswered(new TransactionRetriableError(ErrorCode.REQUEST_TIMED_OUT, 'no answer')));
    await manager.begin();
    manager.track(Promise.resolve(1), () => undefined);
    await assert.rejects(manager.commit(), TransactionRetriableError);
    assert.equal(manager.state, 'committing');
    const held = deferred<Record<string, unknown>>();
    const call = coordinators.call.bind(coordinators);
    coordinators.call = async (...args: Parameters<typeof call>) => (args[2].name === 'EndTxn' ? held.promise : call(...args));
    const again = manager.commit();
    await assert.rejects(manager.commit(), /the transaction is already ending/);
    await assert.rejects(manager.abort(), /the transaction is already ending/);
    held.resolve({ errorCode: 0, producerId: -1n, producerEpoch: -1 });
    await again;
    assert.equal(manager.state, 'ready');
  });

  it('an EndTxn(commit) sent again that is still not answered keeps only commit, even when the retry itself was never sent', async () => {
    const { manager, coordinators } = await setUp();
    coordinators.script('EndTxn',
      unanswered(new TransactionRetriableError(ErrorCode.REQUEST_TIMED_OUT, 'no answer')),
      new AbortError('not-sent', 'aborted while waiting to retry'));
    await manager.begin();
    manager.track(Promise.resolve(1), () => undefined);
    await assert.rejects(manager.commit(), TransactionRetriableError);
    // Cut short while waiting to retry, it is not a 'not-sent' AbortError: the first one may have been applied.
    await assert.rejects(manager.commit(), (e: unknown) => e instanceof TransactionRetriableError && e.cause instanceof AbortError && /call commitTransaction\(\) again/.test(e.message));
    assert.equal(manager.state, 'committing', 'the first EndTxn(commit) may still have been applied');
  });

  it('a commit whose unanswered EndTxn may have been applied, cut short by its signal before the retry, is retriable, not not-sent', async () => {
    const { manager, coordinators } = await setUp();
    coordinators.script('EndTxn',
      unanswered(new AbortError('not-sent', 'aborted while waiting to retry')));
    await manager.begin();
    manager.track(Promise.resolve(1), () => undefined);
    await assert.rejects(manager.commit(), (e: unknown) => e instanceof TransactionRetriableError && e.cause instanceof AbortError);
    assert.equal(manager.state, 'committing');
    await manager.commit();
    assert.equal(manager.state, 'ready');
  });

  it('once the producer is closing, a commit cut short before its retry is a ProducerClosedError (unknown), not retriable', async () => {
    // Retriable, it told a caller's retry loop to commit again, and every later try met the closed coordinators at
    // once: the loop spun without yielding to a timer.
    const { manager, coordinators } = await setUp();
    coordinators.script('EndTxn',
      unanswered(new TransactionRetriableError(ErrorCode.REQUEST_TIMED_OUT, 'no answer')),
      new AbortError('not-sent', 'the producer is closing'),
      new AbortError('not-sent', 'the producer is closing'));
    await manager.begin();
    manager.track(Promise.resolve(1), () => undefined);
    await assert.rejects(manager.commit(), TransactionRetriableError);
    await manager.closeOpen(); // its own commit fails the same way, and is swallowed
    assert.equal(manager.state, 'committing');
    await assert.rejects(manager.commit(), (e: unknown) => e instanceof ProducerClosedError && e.delivery === 'unknown' && !e.retriable);
  });

  it('protocol v1: an add the coordinator refused leaves it without the transaction, so the abort sends no EndTxn', async () => {
    // Taken as known at once, the abort sent EndTxn(abort) to a coordinator in Empty or CompleteCommit, whose
    // INVALID_TXN_STATE is fatal: the producer had to be closed, its real error hidden.
    for (const refused of ['AddPartitionsToTxn', 'AddOffsetsToTxn'] as const) {
      const { manager, coordinators } = await setUp(1);
      coordinators.script('EndTxn', { errorCode: ErrorCode.INVALID_TXN_STATE, producerId: -1n, producerEpoch: -1 });
      await manager.begin();
      if (refused === 'AddPartitionsToTxn') {
        coordinators.script('AddPartitionsToTxn', { topics: [{ name: 't', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED }] }] });
        // Named: the caller of a keyless send did not choose the partition, and could not tell which was refused.
        await assert.rejects(manager.addPartition('t', 0), /AddPartitionsToTxn for t-0: TOPIC_AUTHORIZATION_FAILED/);
      } else {
        coordinators.script('AddOffsetsToTxn', { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED });
        await assert.rejects(manager.sendOffsets({ groupId: 'g', offsets: [{ topic: 'in', partition: 0, offset: 1 }] }));
      }
      assert.equal(manager.state, 'abortable', refused);
      await manager.abort();
      assert.equal(manager.state, 'ready', refused);
      assert.deepEqual(coordinators.calls.map((c) => c.api).filter((api) => api === 'EndTxn'), [], `${refused}: no EndTxn`);
    }
  });

  it('protocol v1: an add that went out without an answer may have reached the coordinator, so the abort sends EndTxn', async () => {
    const { manager, coordinators } = await setUp(1);
    coordinators.script('AddPartitionsToTxn', unanswered(new TransactionRetriableError(ErrorCode.REQUEST_TIMED_OUT, 'no answer')));
    await manager.begin();
    await assert.rejects(manager.addPartition('t', 0));
    await manager.abort();
    assert.deepEqual(coordinators.calls.map((c) => c.api).filter((api) => api === 'EndTxn'), ['EndTxn']);
  });

  it('sendOffsets with no offsets sends nothing and adds nothing: the commit of such a transaction sends no EndTxn', async () => {
    // Under protocol v2 an EndTxn(commit) for a transaction no request reached is refused with INVALID_TXN_STATE,
    // which is fatal (checked against Kafka 4.3 by test/integration/producer-transactions.test.ts).
    for (const version of [1, 2]) {
      const { manager, coordinators } = await setUp(version);
      await manager.begin();
      await manager.sendOffsets({ groupId: 'g', offsets: [] });
      await manager.commit();
      assert.deepEqual(coordinators.calls.map((c) => c.api), ['InitProducerId'], `v${version}`);
      assert.equal(manager.state, 'ready');
    }
  });

  it('connecting again after a fatal InitProducerId fails again: no workers start without a producer id', async () => {
    const coordinators = new ScriptedCoordinators(2);
    coordinators.script('InitProducerId', { errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1n, producerEpoch: -1 });
    const manager = new TransactionManager({ transactionalId: 'tx-1', transactionTimeoutMs: 60_000, blockMs: 1000 },
      coordinators as unknown as Coordinators, new ProducerIdentityView(createProducerIdentity()), () => Promise.resolve());
    const first = await manager.init().then(() => undefined, (e: unknown) => e);
    assert.ok(first instanceof Error, 'the first init fails');
    assert.equal(manager.state, 'fatal');
    await assert.rejects(manager.init(), (e: unknown) => e === first, 'and so does every later one');
    assert.equal(manager.identity.producerId, -1n);
  });

  it('a transactional id FindCoordinator refused makes the producer fatal, whichever call met it: init, the epoch bump, EndTxn', async () => {
    const refused = (): TransactionFatalError =>
      new TransactionFatalError(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'FindCoordinator for tx-1: TRANSACTIONAL_ID_AUTHORIZATION_FAILED');
    // At connect: the error stays the answer, as a refused InitProducerId's does.
    const coordinators = new ScriptedCoordinators(2);
    const atInit = refused();
    coordinators.script('InitProducerId', atInit);
    const manager = new TransactionManager({ transactionalId: 'tx-1', transactionTimeoutMs: 60_000, blockMs: 1000 },
      coordinators as unknown as Coordinators, new ProducerIdentityView(createProducerIdentity()), () => Promise.resolve());
    await assert.rejects(manager.init(), (e: unknown) => e === atInit);
    assert.equal(manager.state, 'fatal');
    await assert.rejects(manager.init(), (e: unknown) => e === atInit, 'connecting again meets it at once');
    assert.equal(coordinators.calls.length, 1);

    // Protocol v1, bumping the epoch before the next transaction.
    const v1 = await setUp(1);
    await v1.manager.begin();
    v1.manager.workerCrashed(new Error('worker died'));
    await v1.manager.abort();
    const atBump = refused();
    v1.coordinators.script('InitProducerId', atBump);
    await assert.rejects(v1.manager.begin(), (e: unknown) => e === atBump);
    assert.equal(v1.manager.state, 'fatal');
    await assert.rejects(v1.manager.begin(), (e: unknown) => e === atBump);

    // EndTxn, commit and abort alike.
    for (const commit of [true, false]) {
      const v2 = await setUp(2);
      await v2.manager.begin();
      v2.manager.track(Promise.resolve(), () => undefined); // protocol v2: a send tells the coordinator
      const atEnd = refused();
      v2.coordinators.script('EndTxn', atEnd);
      await assert.rejects(commit ? v2.manager.commit() : v2.manager.abort(), (e: unknown) => e === atEnd);
      assert.equal(v2.manager.state, 'fatal', commit ? 'commit' : 'abort');
      await assert.rejects(v2.manager.begin(), (e: unknown) => e === atEnd);
    }
  });

  it('a coordinator connection lost right after InitProducerId fails connect as retriable; connecting again works', async () => {
    const coordinators = new ScriptedCoordinators(2);
    const connection = coordinators.connection.bind(coordinators);
    coordinators.connection = () => Promise.reject(new ProtocolError('FindCoordinator response: 3 bytes left over'));
    const manager = new TransactionManager({ transactionalId: 'tx-1', transactionTimeoutMs: 60_000, blockMs: 1000 },
      coordinators as unknown as Coordinators, new ProducerIdentityView(createProducerIdentity()), () => Promise.resolve());
    await assert.rejects(manager.init(), (e: unknown) => e instanceof TransactionRetriableError && e.cause instanceof ProtocolError);
    assert.equal(manager.state, 'uninitialized');
    coordinators.connection = connection;
    await manager.init();
    assert.equal(manager.state, 'ready');
  });

  it('no transaction begins once close has begun, not even one that was bumping its epoch when close came', async () => {
    const { manager } = await setUp();
    await manager.closeOpen();
    await assert.rejects(manager.begin(), /cannot begin a transaction: the producer is closing/);

    const v1 = await setUp(1);
    await v1.manager.begin();
    v1.manager.workerCrashed(new Error('worker died')); // protocol v1: the next begin bumps the epoch first
    await v1.manager.abort(); // nothing reached the coordinator: no EndTxn, so no bump after it either
    const bump = deferred<Record<string, unknown>>();
    const call = v1.coordinators.call.bind(v1.coordinators);
    v1.coordinators.call = async (...args: Parameters<typeof call>) => (args[2].name === 'InitProducerId' ? bump.promise : call(...args));
    const beginning = v1.manager.begin();
    const closing = v1.manager.closeOpen();
    bump.resolve({ errorCode: 0, producerId: 42n, producerEpoch: 8 });
    await closing;
    await assert.rejects(beginning, /the producer is closing/);
    assert.equal(v1.manager.state, 'ready');
  });

  it('a commit asked for once close has begun is refused: close aborts the open transaction, whatever the tick', async () => {
    const { manager, coordinators } = await setUp();
    await manager.begin();
    manager.track(Promise.resolve(1), () => undefined);
    const closing = manager.closeOpen();
    // In the same tick as close: it committed, and close, finding a commit under way, aborted nothing.
    await assert.rejects(manager.commit(), (e: unknown) => e instanceof ProducerClosedError && /cannot commit: the producer is closing/.test(e.message));
    await closing;
    const ends = coordinators.calls.filter((c) => c.api === 'EndTxn');
    assert.equal(ends.length, 1);
    assert.equal((ends[0]!.request as { committed: boolean }).committed, false, 'aborted, not committed');
  });

  it('close waits for an abort asked for in the same tick: its EndTxn is answered before close goes on', async () => {
    const { manager, coordinators } = await setUp();
    await manager.begin();
    manager.track(Promise.resolve(1), () => undefined);
    const answer = deferred<Record<string, unknown>>();
    const original = coordinators.call.bind(coordinators);
    coordinators.call = async (...args: Parameters<typeof original>) => (args[2].name === 'EndTxn' ? answer.promise : original(...args));
    let closed = false;
    const closing = manager.closeOpen().then(() => (closed = true));
    const aborting = manager.abort();
    await turns(10);
    assert.equal(closed, false, 'close went on while the abort\'s EndTxn waited for its answer');
    answer.resolve({ errorCode: 0, producerId: 42n, producerEpoch: 8 });
    await aborting;
    await closing;
    assert.equal(manager.state, 'ready');
  });

  it('ends only once the workers reported every record, not when the callers were answered', async () => {
    const { manager, coordinators, drained } = await setUp();
    const workers = deferred<void>();
    drained.promise = workers.promise;
    await manager.begin();
    manager.track(Promise.resolve(1), () => undefined); // the caller was answered (say, released 'unknown')
    const aborted = manager.abort();
    await turns();
    assert.ok(!coordinators.calls.some((c) => c.api === 'EndTxn'), 'a batch of the transaction may still be in a worker');
    workers.resolve();
    await aborted;
    assert.equal(coordinators.calls.at(-1)!.api, 'EndTxn');
  });

  it('commit waits for a sendOffsets under way: EndTxn never overtakes the offsets of its transaction', async () => {
    const { manager, coordinators } = await setUp();
    const answer = deferred<Record<string, unknown>>();
    const original = coordinators.call.bind(coordinators);
    coordinators.call = async (type, key, api, request, options) =>
      api.name === 'TxnOffsetCommit' ? (coordinators.calls.push({ api: api.name, request, maxVersion: undefined }), answer.promise) : original(type, key, api, request, options);
    await manager.begin();
    const offsets = manager.sendOffsets({ groupId: 'g', offsets: [{ topic: 'in', partition: 0, offset: 5 }] });
    const committed = manager.commit();
    await turns();
    assert.ok(!coordinators.calls.some((c) => c.api === 'EndTxn'));
    answer.resolve({ topics: [{ name: 'in', partitions: [{ partitionIndex: 0, errorCode: 0 }] }] });
    await offsets;
    await committed;
    assert.deepEqual(coordinators.calls.map((c) => c.api), ['InitProducerId', 'TxnOffsetCommit', 'EndTxn']);
  });

  it('a worker crash makes the open transaction abortable', async () => {
    const { manager } = await setUp();
    await manager.begin();
    manager.workerCrashed(new Error('worker 0 died'));
    assert.equal(manager.state, 'abortable');
    await assert.rejects(manager.commit(), TransactionAbortableError);
    await manager.abort();
    assert.equal(manager.state, 'ready');
  });

  it('sendOffsets (v2) sends TxnOffsetCommit alone; a group error makes the transaction abortable', async () => {
    const { manager, coordinators } = await setUp();
    await manager.begin();
    await manager.sendOffsets({ groupId: 'g', offsets: [{ topic: 'in', partition: 0, offset: 10 }] });
    assert.deepEqual(coordinators.calls.map((c) => c.api), ['InitProducerId', 'TxnOffsetCommit']);
    const commit = coordinators.calls[1]!.request;
    assert.equal(commit.groupId, 'g');
    assert.deepEqual(commit.topics, [{ name: 'in', partitions: [{ partition: 0, offset: 10n, leaderEpoch: -1, metadata: null }] }]);
    coordinators.script('TxnOffsetCommit', { topics: [{ name: 'in', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.NONE }, { partitionIndex: 3, errorCode: ErrorCode.ILLEGAL_GENERATION }] }] });
    // The failed partition named: with several, the code alone did not say which.
    await assert.rejects(manager.sendOffsets({ groupId: 'g', offsets: [{ topic: 'in', partition: 0, offset: 11 }, { topic: 'in', partition: 3, offset: 5 }] }), (error: unknown) =>
      error instanceof TransactionAbortableError && error.message === 'TxnOffsetCommit for group g, partition in-3: ILLEGAL_GENERATION');
    assert.equal(manager.state, 'abortable');
  });

  describe('protocol v1 (transaction.version 1)', () => {
    it('caps Produce at v11 and EndTxn at v4; sendOffsets goes through AddOffsetsToTxn first', async () => {
      const { manager, coordinators } = await setUp(1);
      assert.equal(manager.protocol, 1);
      assert.equal(manager.maxProduceVersion, 11);
      await manager.begin();
      await manager.sendOffsets({ groupId: 'g', offsets: [{ topic: 'in', partition: 0, offset: 1 }] });
      await manager.commit();
      assert.deepEqual(coordinators.calls.map((c) => c.api), ['InitProducerId', 'AddOffsetsToTxn', 'TxnOffsetCommit', 'EndTxn']);
      assert.equal(coordinators.calls[2]!.maxVersion, 4);
      assert.equal(coordinators.calls[3]!.maxVersion, 4);
    });

    it('adds a partition once per transaction, before its records may go', async () => {
      const { manager, coordinators } = await setUp(1);
      await manager.begin();
      assert.equal(manager.isAdded('t', 0), false);
      await Promise.all([manager.addPartition('t', 0), manager.addPartition('t', 1)]);
      assert.equal(manager.isAdded('t', 0), true);
      assert.equal(manager.isAdded('t', 1), true);
      const adds = coordinators.calls.filter((c) => c.api === 'AddPartitionsToTxn');
      assert.equal(adds.length, 1, 'one request for the adds of one tick');
      assert.deepEqual(adds[0]!.request.topics, [{ name: 't', partitions: [0, 1] }]);
      await manager.commit();
      await manager.begin();
      assert.equal(manager.isAdded('t', 0), false, 'a new transaction starts with no partitions');
    });

    it('the epoch stays across a commit; an abort after a failed record bumps it with InitProducerId', async () => {
      const { manager, coordinators, view } = await setUp(1);
      await manager.begin();
      await manager.addPartition('t', 0);
      manager.track(Promise.resolve(1), () => undefined);
      await manager.commit();
      assert.equal(view.epoch, 7, 'commit keeps the epoch');
      await manager.begin();
      await manager.addPartition('t', 0);
      manager.track(Promise.reject(new Error('lost')), () => undefined);
      await turns();
      coordinators.script('InitProducerId', { errorCode: 0, producerId: 42n, producerEpoch: 8 });
      await manager.abort();
      const bump = coordinators.calls.at(-1)!;
      assert.equal(bump.api, 'InitProducerId');
      assert.equal(bump.request.producerId, 42n);
      assert.equal(bump.request.producerEpoch, 7);
      assert.equal(view.epoch, 8);
    });

    it('an abort before any partition was added sends no EndTxn (the coordinator would refuse it, fatally)', async () => {
      const { manager, coordinators } = await setUp(1);
      await manager.begin();
      manager.track(Promise.reject(new Error('record too large')), () => undefined);
      await turns();
      await manager.abort();
      assert.deepEqual(coordinators.calls.map((c) => c.api), ['InitProducerId']);
      assert.equal(manager.state, 'ready');
    });

    it('a worker crash between transactions: the next transaction begins on a new epoch', async () => {
      const { manager, coordinators, view } = await setUp(1);
      manager.workerCrashed(new Error('worker 1 died'));
      assert.equal(manager.state, 'ready');
      coordinators.script('InitProducerId', { errorCode: 0, producerId: 42n, producerEpoch: 8 });
      await manager.begin();
      assert.equal(coordinators.calls.at(-1)!.api, 'InitProducerId');
      assert.equal(view.epoch, 8);
      assert.equal(manager.state, 'open');
    });
  });

  describe('calls at awkward moments', () => {
    it('a refused abort while a commit waits does not let close stop waiting for that commit', async () => {
      const { manager, coordinators } = await setUp();
      await manager.begin();
      const record = deferred<number>();
      manager.track(record.promise, () => undefined);
      const committing = manager.commit();
      await assert.rejects(manager.abort(), TransactionStateError, 'the transaction is already ending');
      let closed = false;
      const closing = manager.closeOpen().then(() => (closed = true));
      await turns();
      assert.equal(closed, false, 'close waits for the commit under way');
      record.resolve(1);
      await committing;
      await closing;
      assert.deepEqual(coordinators.calls.filter((c) => c.api === 'EndTxn').map((c) => c.request.committed), [true]);
      assert.equal(manager.state, 'ready');
    });

    it('protocol v1: an abort right after a send to a new partition waits for its AddPartitionsToTxn before EndTxn', async () => {
      const { manager, coordinators } = await setUp(1);
      await manager.begin();
      // The add goes out a tick later (one request for the tick's partitions); the send it was for is dropped by
      // the abort at once, so nothing else holds the EndTxn back.
      const adding = manager.addPartition('t', 0);
      await manager.abort();
      await adding;
      assert.deepEqual(coordinators.calls.map((c) => c.api), ['InitProducerId', 'AddPartitionsToTxn', 'EndTxn']);
      assert.equal(manager.state, 'ready');
    });

    it('sendOffsets with a bad offset is a ConfigError naming it; nothing reaches a coordinator and the transaction stays open', async () => {
      for (const version of [1, 2]) {
        const { manager, coordinators } = await setUp(version);
        await manager.begin();
        const bad = { groupId: 'g', offsets: [{ topic: 'in', partition: 0, offset: -5 }] };
        assert.throws(() => manager.sendOffsets(bad), (e: unknown) => e instanceof ConfigError && e.message.includes('offsets[0].offset'));
        assert.deepEqual(coordinators.calls.map((c) => c.api), ['InitProducerId'], `protocol ${version}`);
        assert.equal(manager.state, 'open');
        await manager.commit();
        assert.equal(manager.state, 'ready', 'nothing was touched: the commit needs no EndTxn');
      }
    });

    it('a commit whose signal aborts after a record failed leaves the transaction abortable, not open', async () => {
      const { manager } = await setUp();
      await manager.begin();
      const failed = deferred<number>();
      const other = deferred<number>();
      manager.track(failed.promise, () => undefined);
      manager.track(other.promise, () => undefined);
      const controller = new AbortController();
      const committing = manager.commit(controller.signal);
      failed.reject(new Error('NOT_ENOUGH_REPLICAS after its retries'));
      await turns();
      controller.abort();
      await assert.rejects(committing);
      assert.equal(manager.state, 'abortable');
      assert.throws(() => manager.checkSend(), TransactionAbortableError, 'no new record joins a transaction that cannot commit');
      other.resolve(1);
      await manager.abort();
      assert.equal(manager.state, 'ready');
    });
  });
});

