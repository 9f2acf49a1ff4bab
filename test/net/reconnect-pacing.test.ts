import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Connection } from '../../src/net/connection.js';
import { ReconnectPacing } from '../../src/net/reconnect-pacing.js';
import { ConnectionError } from '../../src/shared/errors.js';
import { reconnectDelayMs } from '../../src/shared/backoff.js';

/** A random of 0.5 makes the jitter factor exactly 1: each pause is the bare exponential. */
const NO_JITTER = (): number => 0.5;
const SETTINGS = { reconnectBackoffMs: 50, reconnectBackoffMaxMs: 1000 };

describe('reconnectDelayMs', () => {
  it('is reconnectBackoffMs after one failure, doubling per failure up to reconnectBackoffMaxMs, ±20 %', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 30].map((failures) => reconnectDelayMs(failures, SETTINGS, NO_JITTER)), [50, 100, 200, 400, 800, 1000, 1000]);
    assert.equal(reconnectDelayMs(1, SETTINGS, () => 0), 40);
    assert.ok(reconnectDelayMs(1, SETTINGS, () => 0.999_999) < 60);
  });
});

describe('ReconnectPacing', () => {
  it('asks for no pause while no attempt has failed', () => {
    assert.equal(new ReconnectPacing(SETTINGS, NO_JITTER).delay('bootstrap'), 0);
  });

  it('after failures, the pause left since the last one, growing with each failure in a row', (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_000 });
    const pacing = new ReconnectPacing(SETTINGS, NO_JITTER);
    pacing.failed('bootstrap');
    assert.equal(pacing.delay('bootstrap'), 50);
    t.mock.timers.tick(20);
    assert.equal(pacing.delay('bootstrap'), 30, 'counted from the failure');
    pacing.failed('bootstrap');
    assert.equal(pacing.delay('bootstrap'), 100, 'the second failure in a row doubles it, from its own time');
    t.mock.timers.tick(100);
    assert.equal(pacing.delay('bootstrap'), 0, 'waited out');
  });

  it('keeps each target apart, and a target that served answers starts again from the first pause', (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_000 });
    const pacing = new ReconnectPacing(SETTINGS, NO_JITTER);
    for (let i = 0; i < 3; i++) pacing.failed('127.0.0.1:9093');
    pacing.failed('bootstrap');
    assert.equal(pacing.delay('127.0.0.1:9093'), 200, 'the coordinator, after three failures');
    assert.equal(pacing.delay('bootstrap'), 50);
    pacing.succeeded('bootstrap');
    pacing.failed('bootstrap');
    assert.equal(pacing.delay('bootstrap'), 50, 'counted afresh');
  });

  it('with reconnectBackoffMs 0, asks for no pause: the user chose to reconnect at once', () => {
    const pacing = new ReconnectPacing({ reconnectBackoffMs: 0, reconnectBackoffMaxMs: 0 }, NO_JITTER);
    pacing.failed('bootstrap');
    assert.equal(pacing.delay('bootstrap'), 0);
  });

  it('draws the jitter once per failure: every caller reads the same time to try again', (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_000 });
    let draws = 0;
    const pacing = new ReconnectPacing(SETTINGS, () => [0, 0.999][draws++ % 2]!);
    pacing.failed('bootstrap');
    assert.equal(pacing.delay('bootstrap'), 40);
    assert.equal(pacing.delay('bootstrap'), 40);
    assert.equal(draws, 1);
  });

  it('delay(key) is that target\'s pause alone', (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_000 });
    const pacing = new ReconnectPacing(SETTINGS, NO_JITTER);
    for (let i = 0; i < 3; i++) pacing.failed('127.0.0.1:9093');
    assert.equal(pacing.delay('bootstrap'), 0, 'a coordinator out of reach does not hold up the bootstrap connection');
    assert.equal(pacing.delay('127.0.0.1:9093'), 200);
  });
});

/** A stand-in for a Connection: what the pacing reads of one. */
function fakeConnection(): { connection: Connection; end: (proven: boolean) => void } {
  let resolveClosed: () => void = () => undefined;
  const state = { isClosed: false, proven: false, closed: new Promise<void>((resolve) => (resolveClosed = resolve)) };
  return {
    connection: state as unknown as Connection,
    end: (proven) => {
      state.isClosed = true;
      state.proven = proven;
      resolveClosed();
    },
  };
}

describe('ReconnectPacing.attempt', () => {
  const closed = (): Error => new ConnectionError('closing');

  it('books a failed attempt, and a connection that ends before it proved itself, as failures; a proven one clears them', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_000 });
    const pacing = new ReconnectPacing(SETTINGS, NO_JITTER);
    const signal = new AbortController().signal;
    await assert.rejects(pacing.attempt('bootstrap', [signal], closed, () => Promise.reject(new ConnectionError('refused'))), /refused/);
    assert.equal(pacing.delay('bootstrap'), 50);
    t.mock.timers.tick(50);
    const first = fakeConnection();
    assert.equal(await pacing.attempt('bootstrap', [signal], closed, async () => first.connection), first.connection);
    first.end(false);
    // Read at once, before `closed` settles: a request fails with its connection, and its loop reads the delay then.
    assert.equal(pacing.delay('bootstrap'), 100, 'ended unproven: the second failure in a row');
    t.mock.timers.tick(100);
    const second = fakeConnection();
    await pacing.attempt('bootstrap', [signal], closed, async () => second.connection);
    second.end(true);
    assert.equal(pacing.delay('bootstrap'), 0);
    pacing.failed('bootstrap');
    assert.equal(pacing.delay('bootstrap'), 50, 'counted afresh after a connection that served answers');
  });

  it('two attempts side by side that fail count once: one outage, one step of the pause', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_000 });
    const pacing = new ReconnectPacing(SETTINGS, NO_JITTER);
    const signal = new AbortController().signal;
    let fail: (error: Error) => void = () => undefined;
    const refused = new Promise<never>((_, reject) => (fail = reject));
    const both = [0, 1].map(() => pacing.attempt('127.0.0.1:9093', [signal], closed, () => refused));
    fail(new ConnectionError('refused'));
    for (const attempt of both) await assert.rejects(attempt, /refused/);
    assert.equal(pacing.delay('127.0.0.1:9093'), 50, 'not 100');
  });

  it('does not connect while the pause lasts, and a signal that aborts ends the wait with `closed()`', async () => {
    const pacing = new ReconnectPacing({ reconnectBackoffMs: 60_000, reconnectBackoffMaxMs: 60_000 }, NO_JITTER);
    pacing.failed('bootstrap');
    const stop = new AbortController();
    let connects = 0;
    const attempt = pacing.attempt('bootstrap', [new AbortController().signal, stop.signal], closed, async () => {
      connects++;
      return fakeConnection().connection;
    });
    await new Promise((resolve) => setImmediate(resolve));
    stop.abort();
    await assert.rejects(attempt, /closing/);
    assert.equal(connects, 0);
  });
});
