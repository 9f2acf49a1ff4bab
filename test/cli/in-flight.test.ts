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
