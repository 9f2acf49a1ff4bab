import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InFlight } from '../../src/cli/in-flight.js';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

test('add waits while `limit` calls are under way, and resumes when one settles', async () => {
  const inFlight = new InFlight(2);
  const a = deferred();
  const b = deferred();
  await inFlight.add(a.promise); // one under way: no wait
  let resumed = false;
  const adding = inFlight.add(b.promise).then(() => (resumed = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(resumed, false, 'two under way: the caller waits');
  a.resolve();
  await adding;
  assert.equal(resumed, true);
  let done = false;
  const all = inFlight.settled().then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(done, false, 'b is still under way');
  b.resolve();
  await all;
});

test('a call that rejects frees its place, and the add waiting on it rejects with it', async () => {
  const inFlight = new InFlight(1);
  const a = deferred();
  const waiting = inFlight.add(a.promise);
  a.reject(new Error('boom'));
  await assert.rejects(waiting, /boom/);
  const b = deferred();
  const next = inFlight.add(b.promise);
  b.resolve();
  await next;
  await inFlight.settled();
});

test('a full set is waited on without a reaction on every call under way: each call is subscribed to once', async () => {
  // Promise.race over the calls under way subscribed to each of them on every wait: at a limit of a thousand, a
  // thousand reactions per call added, kept until the calls settled.
  const limit = 100;
  const inFlight = new InFlight(limit);
  const calls: ReturnType<typeof deferred>[] = [];
  let subscriptions = 0;
  const add = (): Promise<void> => {
    const call = deferred();
    const then = call.promise.then.bind(call.promise);
    call.promise.then = ((...args: Parameters<typeof then>) => {
      subscriptions++;
      return then(...args);
    }) as typeof call.promise.then;
    calls.push(call);
    return inFlight.add(call.promise);
  };
  for (let i = 0; i < limit - 1; i++) await add();
  for (let i = 0; i < 50; i++) {
    const waiting = add(); // the set is full: this one waits
    calls[i]!.resolve();
    await waiting;
  }
  for (const call of calls) call.resolve();
  await inFlight.settled();
  assert.ok(subscriptions <= 2 * calls.length, `${subscriptions} subscriptions for ${calls.length} calls`);
});

test('a call that rejects while nothing waits is not lost: settled() rejects with it (it resolved, and a command said "0 failed")', async () => {
  const inFlight = new InFlight(8);
  const a = deferred();
  await inFlight.add(a.promise);
  a.reject(new Error('boom'));
  await new Promise((resolve) => setImmediate(resolve));
  await assert.rejects(inFlight.settled(), /boom/);
  await inFlight.settled(); // heard once: the wait after it is a plain one
});

test('a call that rejects while nothing waits is reported by the next add, which still takes its call', async () => {
  const inFlight = new InFlight(8);
  const a = deferred();
  await inFlight.add(a.promise);
  a.reject(new Error('boom'));
  await new Promise((resolve) => setImmediate(resolve));
  const b = deferred();
  await assert.rejects(inFlight.add(b.promise), /boom/);
  let done = false;
  const all = inFlight.settled().then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(done, false, 'b is still under way, and waited for');
  b.resolve();
  await all;
});

test('settled() rejects as soon as a call under way rejects, as Promise.all did, and the failure is not told twice', async () => {
  const inFlight = new InFlight(8);
  const a = deferred();
  const b = deferred();
  await inFlight.add(a.promise);
  await inFlight.add(b.promise);
  const all = inFlight.settled();
  a.reject(new Error('boom'));
  await assert.rejects(all, /boom/);
  b.resolve();
  await inFlight.settled();
});
