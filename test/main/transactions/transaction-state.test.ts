/**
 * The transaction state on its own: which failure sticks, what an EndTxn that did not get through leaves possible,
 * and what a refused call is told. The manager's tests drive the same rules through a scripted coordinator.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ProducerFencedError, TransactionAbortableError, TransactionRetriableError, TransactionStateError,
} from '../../../src/shared/transaction-errors.js';
import { TransactionStatus } from '../../../src/main/transactions/transaction-state.js';

function opened(): TransactionStatus {
  const status = new TransactionStatus();
  status.open();
  return status;
}

describe('TransactionStatus', () => {
  it('a commit, abort or offsets before the producer connected is told first that no transaction is open', () => {
    const status = new TransactionStatus();
    const refused = status.refusal('commit', ['open', 'committing']);
    assert.ok(refused instanceof TransactionStateError);
    assert.equal(refused.message, 'cannot commit: no transaction is open, and the producer has not connected yet');
  });

  it('keeps the first abortable failure, and a fatal one over it', () => {
    const status = opened();
    const first = new TransactionAbortableError(-1, 'first');
    status.fail(first);
    status.fail(new TransactionAbortableError(-1, 'second'));
    assert.equal(status.state, 'abortable');
    assert.equal(status.failure, first);
    const fenced = new ProducerFencedError(90, 'fenced');
    status.fail(fenced);
    status.fail(new TransactionAbortableError(-1, 'after'));
    assert.equal(status.state, 'fatal');
    assert.equal(status.failure, fenced);
  });

  it('an EndTxn(commit) sent without an answer leaves only commit; one never sent leaves the transaction as it was', () => {
    const sent = opened();
    sent.state = 'ending';
    sent.endFailed(true, new Error('lost'), true);
    assert.equal(sent.state, 'committing');
    const notSent = opened();
    notSent.state = 'ending';
    notSent.endFailed(true, new Error('no coordinator'), false);
    assert.equal(notSent.state, 'open');
    const abort = opened();
    abort.state = 'ending';
    abort.endFailed(false, new Error('lost'), true);
    assert.equal(abort.state, 'abortable');
    assert.ok(abort.failure instanceof TransactionAbortableError);
  });

  it('a retriable EndTxn(commit) answer leaves only commit, until EndTxn succeeds', () => {
    const status = opened();
    status.state = 'ending';
    status.endRefused(true, new TransactionRetriableError(51, 'CONCURRENT_TRANSACTIONS'));
    assert.equal(status.state, 'committing');
    assert.equal(status.commitMayHaveApplied, true);
    status.ended();
    assert.equal(status.state, 'ready');
    assert.equal(status.commitMayHaveApplied, false);
  });

  it('a crashed worker fails only a transaction under way', () => {
    const idle = new TransactionStatus();
    idle.state = 'ready';
    idle.workerCrashed(new Error('crash'));
    assert.equal(idle.state, 'ready');
    assert.equal(idle.recordFailed, false);
    const status = opened();
    status.workerCrashed(new Error('crash'));
    assert.equal(status.state, 'abortable');
    assert.equal(status.recordFailed, true);
  });

  it('refuses by state, telling an abortable or fatal producer its failure', () => {
    const status = new TransactionStatus();
    assert.ok(status.refusal('commit', ['open']) instanceof TransactionStateError);
    assert.throws(() => status.checkSend(), /call transaction\(\) or beginTransaction\(\) first/);
    status.open();
    assert.equal(status.refusal('commit', ['open']), undefined);
    status.onRecordFailed(new Error('record failed'));
    assert.equal(status.refusal('commit', ['open']), status.failure);
    assert.throws(() => status.checkSend(), TransactionAbortableError);
  });
});
