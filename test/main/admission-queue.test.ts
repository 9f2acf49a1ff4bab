/** AdmissionQueue: sends waiting for the connection or their topic's metadata, admitted one at a time in call order. */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AdmissionQueue, type Admission } from '../../src/main/admission-queue.js';
import { AbortError } from '../../src/shared/producer-errors.js';

interface Waiting extends Admission {
  readonly name: string;
}

const waiting = (name: string, signal?: AbortSignal): Waiting => ({ name, signal, settled: false, stopListening: undefined });

/** A queue whose admissions the test releases one by one; it logs admissions and rejections. */
function queue() {
  const log: string[] = [];
  const gates: (() => void)[] = [];
  const fails = new Map<string, Error>();
  const q = new AdmissionQueue<Waiting>(
    (w) =>
      new Promise<void>((resolve, reject) => {
        log.push(`admit ${w.name}`);
        gates.push(() => {
          const error = fails.get(w.name);
          if (error === undefined) resolve();
          else reject(error);
        });
      }),
    (w, error) => log.push(`reject ${w.name}: ${error.message}`),
    () => log.push('drained'),
  );
  const next = async (): Promise<void> => {
    for (let i = 0; i < 5 && gates.length === 0; i++) await new Promise((resolve) => setImmediate(resolve));
    gates.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { q, log, next, fails };
}

describe('AdmissionQueue', () => {
  it('admits one send at a time, in call order, and is empty once all are through', async () => {
    const { q, log, next } = queue();
    assert.equal(q.isEmpty, true);
    q.push(waiting('a'));
    q.push(waiting('b'));
    assert.equal(q.isEmpty, false);
    assert.deepEqual(log, ['admit a'], 'b waits for a');
    await next();
    assert.deepEqual(log, ['admit a', 'admit b']);
    await next();
    assert.equal(q.isEmpty, true);
  });

  it('says it drained once every send pushed is through, not while one is still being admitted', async () => {
    const { q, log, next } = queue();
    q.push(waiting('a'));
    await next();
    assert.deepEqual(log, ['admit a', 'drained']);
    q.push(waiting('b'));
    q.push(waiting('c'));
    await next();
    assert.deepEqual(log.slice(2), ['admit b', 'admit c'], 'c is being admitted: not drained');
    await next();
    assert.deepEqual(log.slice(4), ['drained']);
    assert.equal(q.isEmpty, true);
  });

  it('lets go of an admitted send while later ones still wait', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { q, log, next } = queue();
    // A waiting send holds its record (the caller's bytes) and its settler: once admitted, the queue must not keep
    // them for as long as later sends keep it from emptying.
    let first: Waiting | undefined = waiting('a');
    const firstGone = new WeakRef(first);
    q.push(first);
    q.push(waiting('b'));
    first = undefined;
    await next();
    assert.deepEqual(log, ['admit a', 'admit b'], 'a is through, b waits');
    assert.equal(q.isEmpty, false);
    gc();
    assert.equal(firstGone.deref(), undefined, 'the admitted send is not kept by the queue');
    await next();
    assert.equal(q.isEmpty, true);
  });

  it('lets go of sends aborted behind the head while the head still waits', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { q, log } = queue();
    q.push(waiting('head')); // its admission never ends in this test: the broker is down, say
    // Callers that abort each request after a while: their sends, and the records they hold, must not stay until
    // the loop reaches them (up to bufferTimeoutMs later).
    const controller = new AbortController();
    let aborted: Waiting[] | undefined = Array.from({ length: 3000 }, (_, i) => waiting(`a${i}`, controller.signal));
    const gone = aborted.map((w) => new WeakRef(w));
    for (const w of aborted) q.push(w);
    const live = waiting('live');
    q.push(live);
    aborted = undefined;
    controller.abort();
    await new Promise((resolve) => setImmediate(resolve)); // a WeakRef keeps its target to the end of the job that made it
    gc();
    const kept = gone.filter((ref) => ref.deref() !== undefined).length;
    assert.ok(kept <= 1024, `${kept} aborted sends still held`);
    assert.ok(q.length <= 2 + 1024, `the head, the live send and at most 1,024 settled ones stay (${q.length})`);
    q.failAll(new Error('closed'));
    assert.deepEqual(log.slice(-2), ['reject head: closed', 'reject live: closed'], 'failAll still reaches every send');
  });

  it('a queue that never empties keeps no slot for each send it passed', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { q, next } = queue();
    // Sends to a topic that does not exist, arriving all the time: the queue is never empty, and every send it
    // let through must go, each with its record.
    let first: Waiting | undefined = waiting('first');
    const firstGone = new WeakRef(first);
    q.push(first);
    first = undefined;
    for (let i = 0; i < 3000; i++) {
      q.push(waiting(`s${i}`));
      await next();
    }
    gc();
    assert.equal(firstGone.deref(), undefined);
    assert.equal(q.length, 1, 'one send waits');
    assert.ok(q.slots <= 2 * 1024 + 1, `${q.slots} slots for 1 waiting send`);
  });

  it('drains after passing more sends than it compacts at, whether they came at once or one by one', async () => {
    // The loop passed its last send just as it had passed 1,025: compacting then kept an empty slot, which the loop
    // read as a send (a TypeError out of it, and never drained: the topic's later sends waited for ever).
    const atOnce = queue();
    for (let i = 0; i < 1025; i++) atOnce.q.push(waiting(`a${i}`));
    for (let i = 0; i < 1025; i++) await atOnce.next();
    assert.equal(atOnce.log.at(-1), 'drained');
    assert.equal(atOnce.q.isEmpty, true);
    const trickle = queue();
    trickle.q.push(waiting('first'));
    for (let i = 0; i < 1100; i++) {
      trickle.q.push(waiting(`t${i}`));
      await trickle.next();
    }
    await trickle.next();
    assert.equal(trickle.log.at(-1), 'drained');
    assert.equal(trickle.q.isEmpty, true);
  });

  it('an admission that fails rejects that send only; the next one is admitted', async () => {
    const { q, log, next, fails } = queue();
    fails.set('a', new Error('no metadata'));
    const a = waiting('a');
    q.push(a);
    q.push(waiting('b'));
    await next();
    assert.deepEqual(log, ['admit a', 'reject a: no metadata', 'admit b']);
    assert.equal(a.settled, true);
    await next();
  });

  it('an aborted send leaves at once (not-sent), its listener removed, and is never admitted', async () => {
    const { q, log, next } = queue();
    const controller = new AbortController();
    q.push(waiting('a'));
    const b = waiting('b', controller.signal);
    q.push(b);
    q.push(waiting('c'));
    controller.abort();
    assert.match(log[1]!, /^reject b: aborted/);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    await next();
    assert.deepEqual(log.slice(2), ['admit c'], 'b is skipped');
    await next();
    assert.equal(q.isEmpty, true);
  });

  it('failAll rejects every send still waiting, once, and removes their abort listeners', async () => {
    const { q, log, next } = queue();
    const controller = new AbortController();
    q.push(waiting('a'));
    q.push(waiting('b', controller.signal));
    q.failAll(new Error('closed'));
    q.failAll(new Error('closed again'));
    assert.deepEqual(log, ['admit a', 'reject a: closed', 'reject b: closed']);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    await next(); // a's admission ends after it was failed: nothing more is reported for it
    assert.deepEqual(log.slice(3), ['drained']);
    assert.equal(q.isEmpty, true);
  });

  it('the abort error says not-sent', async () => {
    const errors: Error[] = [];
    const q = new AdmissionQueue<Waiting>(() => new Promise(() => {}), (_w, error) => errors.push(error));
    const controller = new AbortController();
    q.push(waiting('a', controller.signal));
    controller.abort();
    assert.ok(errors[0] instanceof AbortError && errors[0].delivery === 'not-sent');
  });
});
