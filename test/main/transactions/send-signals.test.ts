/**
 * SendSignals (src/main/transactions/send-signals.ts): what a send in a transaction listens to.
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { SendSignals } from '../../../src/main/transactions/send-signals.js';
import { inTransaction } from '../../../src/main/transactions/run-transaction.js';

function transaction(): { controller: AbortController; signals: SendSignals; manager: { signal: AbortSignal; signalFor(caller?: AbortSignal): AbortSignal } } {
  const controller = new AbortController();
  const signals = new SendSignals(controller.signal);
  return { controller, signals, manager: { signal: controller.signal, signalFor: (caller) => signals.for(caller) } };
}

describe('SendSignals', () => {
  it('combines a long-lived caller signal once per transaction, whatever the number of sends (one listener on it)', () => {
    const { manager } = transaction();
    const shutdown = new AbortController().signal;
    const first = inTransaction(shutdown, manager as never);
    for (let i = 0; i < 1_000; i++) assert.equal(inTransaction(shutdown, manager as never), first);
    assert.equal(getEventListeners(shutdown, 'abort').length, 1);
  });

  it("is the transaction's signal without a caller's, and aborts with either", () => {
    const tx = transaction();
    assert.equal(tx.signals.for(undefined), tx.controller.signal);
    const caller = new AbortController();
    const combined = tx.signals.for(caller.signal);
    caller.abort(new Error('caller'));
    assert.equal(combined.aborted, true);
    assert.equal((combined.reason as Error).message, 'caller');

    const other = transaction();
    const viaTransaction = other.signals.for(new AbortController().signal);
    other.controller.abort(new Error('transaction aborted'));
    assert.equal((viaTransaction.reason as Error).message, 'transaction aborted');
  });

  it('lets go of the caller\'s signal when the transaction ends', () => {
    const { signals } = transaction();
    const shutdown = new AbortController().signal;
    signals.for(shutdown);
    signals.release();
    assert.equal(getEventListeners(shutdown, 'abort').length, 0);
  });
});
