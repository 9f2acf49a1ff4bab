/** SubmitBacklog: slices per turn of the event loop, call order across calls, whenSubmitted and failAll; pendingRecords and pendingCall. */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SubmitBacklog, pendingCall, pendingRecords, type PendingSubmission } from '../../src/main/submit-backlog.js';

/** A call of `count` records that logs "name:position" as each is placed, and "name!position" as each is failed. */
function call(name: string, count: number, log: string[]): PendingSubmission {
  return pendingRecords(
    Array.from({ length: count }, (_, i) => i),
    0,
    (_, position) => log.push(`${name}:${position}`),
    (position) => log.push(`${name}!${position}`),
  );
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('SubmitBacklog', () => {
  it('submits at most sliceRecords a turn, calls in the order they were queued', async () => {
    const backlog = new SubmitBacklog(3);
    const log: string[] = [];
    backlog.push(call('a', 4, log));
    backlog.push(call('b', 1, log));
    backlog.push(call('c', 2, log));
    assert.deepEqual(log, [], 'nothing in the turn that queued them');
    const perTurn: string[][] = [];
    while (!backlog.isEmpty) {
      await turn();
      perTurn.push(log.splice(0));
    }
    assert.deepEqual(perTurn, [['a:0', 'a:1', 'a:2'], ['a:3', 'b:0', 'c:0'], ['c:1']]);
  });

  it('fails the records a call has not submitted on its signal\'s abort, at once, and stops listening once a call is through', async () => {
    const backlog = new SubmitBacklog(2);
    const log: string[] = [];
    const first = new AbortController();
    const second = new AbortController();
    backlog.push(call('a', 4, log), first.signal);
    backlog.push(call('b', 2, log), second.signal);
    assert.equal(getEventListeners(first.signal, 'abort').length, 1);
    await turn();
    assert.deepEqual(log.splice(0), ['a:0', 'a:1']);
    first.abort();
    await Promise.resolve();
    assert.deepEqual(log.splice(0), ['a!2', 'a!3'], 'failed in the abort\'s microtask, not at their turn');
    assert.equal(getEventListeners(first.signal, 'abort').length, 0);
    while (!backlog.isEmpty) await turn();
    assert.deepEqual(log.splice(0), ['b:0', 'b:1']);
    // b is through: its signal holds no listener of the backlog's, and an abort now fails nothing.
    assert.equal(getEventListeners(second.signal, 'abort').length, 0);
    second.abort();
    await Promise.resolve();
    assert.deepEqual(log, []);
    // A call whose signal aborted before it was queued (its own serializer aborted it): failed all the same.
    backlog.push(call('c', 2, log), AbortSignal.abort());
    await Promise.resolve();
    assert.deepEqual(log, ['c!0', 'c!1']);
  });

  it('whenSubmitted waits for the calls queued before it, not for later ones', async () => {
    const backlog = new SubmitBacklog(2);
    const log: string[] = [];
    backlog.push(call('a', 3, log));
    const submitted = backlog.whenSubmitted().then(() => log.push('flushed'));
    backlog.push(call('b', 4, log));
    await submitted;
    assert.deepEqual(log, ['a:0', 'a:1', 'a:2', 'b:0', 'flushed'], "resolved in the turn a's last record went, before the rest of b");
    await backlog.whenSubmitted();
    assert.equal(backlog.isEmpty, true);
    assert.equal(log.at(-1), 'b:3');
  });

  it('failAll fails every record not yet submitted and releases the waiters', async () => {
    const backlog = new SubmitBacklog(2);
    const log: string[] = [];
    backlog.push(call('a', 3, log));
    backlog.push(call('b', 2, log));
    const submitted = backlog.whenSubmitted();
    await turn();
    backlog.failAll(new Error('closed'));
    await submitted;
    assert.deepEqual(log, ['a:0', 'a:1', 'a!2', 'b!0', 'b!1']);
    assert.equal(backlog.isEmpty, true);
    await turn();
    assert.equal(log.length, 5, 'no turn submits anything after failAll');
  });

  it('lets go of a call once it has submitted every record, while later calls still wait', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const backlog = new SubmitBacklog(3);
    const log: string[] = [];
    // What a finished call's submission holds (its columns, its settler with a result per record) must not outlive
    // it: under sustained load the backlog never empties, and every finished call stayed in it until a compaction.
    let first: PendingSubmission | undefined = call('a', 1, log);
    const firstGone = new WeakRef(first);
    backlog.push(first);
    backlog.push(call('b', 10, log));
    first = undefined;
    await turn();
    assert.deepEqual(log, ['a:0', 'b:0', 'b:1'], 'a is through, b is not');
    assert.equal(backlog.isEmpty, false);
    // A WeakRef holds its target until the current job ends.
    await turn();
    gc();
    assert.equal(firstGone.deref(), undefined, 'the finished call is not kept by the backlog');
    while (!backlog.isEmpty) await turn();
    assert.equal(log.length, 11, 'b goes on to its end');
  });

  it('pendingRecords counts positions from `first`, skips the records whose check failed, and runs afterSlice per slice', () => {
    const log: string[] = [];
    const pending = pendingRecords(['a', undefined, 'c', 'd', undefined], 10, (record, position) => log.push(`${record}@${position}`), (position) => log.push(`failed@${position}`), () => log.push('slice'));
    assert.equal(pending.submitSome(3), 3, 'a hole counts as submitted: its caller was told already');
    assert.equal(pending.done, false);
    pending.failRest(new Error('closed'));
    assert.deepEqual(log, ['a@10', 'c@12', 'slice', 'failed@13']);
    assert.equal(pending.done, true);
  });

  it('pendingCall places a call\'s records from `first` on, skips positions with none, and fails and forgets the rest', () => {
    const log: string[] = [];
    const kept = new Set([2, 3, 5, 6]); // 4 failed its check; 0 and 1 were placed by the call itself
    const call = { length: 7, has: (p: number) => kept.has(p), forget: (p: number) => void kept.delete(p), donePlacing: () => void log.push('done') };
    const pending = pendingCall(call, 2, (position) => log.push(`placed@${position}`), (position) => log.push(`failed@${position}`), () => log.push('slice'));
    assert.equal(pending.submitSome(3), 3, 'a position with no record counts as submitted: its caller was told already');
    assert.equal(pending.done, false);
    pending.failRest(new Error('closed'));
    assert.deepEqual(log, ['placed@2', 'placed@3', 'slice', 'failed@5', 'failed@6', 'done']);
    assert.deepEqual([...kept], [2, 3], 'the failed ones are forgotten');
    assert.equal(pending.done, true);
  });

  it('pendingCall says when the call is done placing, after its last slice', () => {
    const log: string[] = [];
    const call = { length: 4, has: () => true, forget: () => {}, donePlacing: () => void log.push('done') };
    const pending = pendingCall(call, 1, (position) => log.push(`placed@${position}`), () => {}, () => log.push('slice'));
    pending.submitSome(2);
    assert.deepEqual(log, ['placed@1', 'placed@2', 'slice']);
    pending.submitSome(2);
    assert.deepEqual(log.slice(3), ['placed@3', 'slice', 'done']);
  });
});
