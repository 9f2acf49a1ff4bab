/**
 * run-transaction.ts: the first failed record of a sendBatch, in either form of its results, fails the transaction;
 * `transaction(fn)` against a scripted coordinator.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstRejection, runTransaction, type TransactionalCalls } from '../../../src/main/transactions/run-transaction.js';
import type { TransactionManager } from '../../../src/main/transactions/transaction-manager.js';
import { AbortError, ProducerClosedError } from '../../../src/shared/producer-errors.js';
import { TransactionStateError } from '../../../src/shared/transaction-errors.js';
import type { Transaction } from '../../../src/main/transactions/transaction.js';
import { setUp } from '../../helpers/scripted-coordinators.js';

const value = { topic: 't', partition: 0, offset: 1, timestamp: 1 };

describe('firstRejection', () => {
  it('finds the first rejected result of a sendBatch with every result', () => {
    const first = new Error('first');
    assert.equal(firstRejection([{ status: 'fulfilled', value }, { status: 'rejected', reason: first }, { status: 'rejected', reason: new Error('second') }]), first);
    assert.equal(firstRejection([{ status: 'fulfilled', value }]), undefined);
  });

  it("finds the first failure of a sendBatch with results: 'failures'", () => {
    const first = new Error('first');
    assert.equal(firstRejection({ records: 3, failures: [{ index: 0, reason: first }, { index: 2, reason: new Error('second') }] }), first);
    assert.equal(firstRejection({ records: 3, failures: [] }), undefined);
  });
});

/** The producer's transactional calls, reduced to the manager's: enough for runTransaction when fn sends nothing. */
function calls(manager: TransactionManager): TransactionalCalls {
  return {
    commitTransaction: (options) => manager.commit(options?.signal),
    abortTransaction: () => manager.abort(),
  } as TransactionalCalls;
}

describe('runTransaction', () => {
  it('never runs fn once the signal aborted while the transaction began: it aborts and says AbortError', async () => {
    const { manager } = await setUp();
    const controller = new AbortController();
    // Producer.transaction checks the signal, then awaits beginTransaction(); the abort lands during that await.
    await manager.begin();
    controller.abort(new Error('shutdown'));
    let ran = false;
    const fn = async (): Promise<number> => {
      ran = true;
      throw new Error('its sends were dropped by the abort');
    };
    await assert.rejects(runTransaction(calls(manager), manager, fn, controller.signal), (e: unknown) => e instanceof AbortError && e.delivery === 'not-sent');
    assert.equal(ran, false, 'fn ran: its failure would reach nobody (an unhandled rejection ends the process)');
    assert.equal(manager.state, 'ready');
  });

  it('a tx used after its transaction aborted, before another begins, is told its transaction has ended', async () => {
    const { manager } = await setUp();
    await manager.begin();
    let kept: Transaction | undefined;
    const failure = new Error('fn failed');
    await assert.rejects(runTransaction(calls(manager), manager, async (tx) => {
      kept = tx;
      throw failure;
    }, undefined), (e: unknown) => e === failure);
    assert.equal(manager.state, 'ready', 'aborted, and no transaction open');
    await assert.rejects(kept!.send({ topic: 't', value: 'late' }), (e: unknown) => e instanceof TransactionStateError
      && e.message === 'this transaction has ended; its tx can no longer be used');
  });

  it('a tx used after close() aborted its transaction is told the producer is closing, as the producer\'s own calls are', async () => {
    const { manager } = await setUp();
    await manager.begin();
    let kept: Transaction | undefined;
    let closed: Promise<void> | undefined;
    await runTransaction(calls(manager), manager, async (tx) => {
      kept = tx;
      closed = manager.closeOpen();
      await closed;
    }, undefined).catch(() => undefined);
    await closed;
    assert.equal(manager.state, 'ready', 'close aborted the transaction');
    await assert.rejects(kept!.send({ topic: 't', value: 'late' }), (e: unknown) => e instanceof ProducerClosedError
      && e.delivery === 'not-sent' && /the producer is closing, and this transaction has ended/.test(e.message));
  });
});
