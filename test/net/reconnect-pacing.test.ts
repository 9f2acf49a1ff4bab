import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReconnectPacing } from '../../src/net/reconnect-pacing.js';
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
    assert.equal(new ReconnectPacing(SETTINGS, NO_JITTER).delay(), 0);
  });

  it('after failures, the pause left since the last one, growing with each failure in a row', (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_000 });
    const pacing = new ReconnectPacing(SETTINGS, NO_JITTER);
    pacing.failed('bootstrap');
    assert.equal(pacing.delay(), 50);
    t.mock.timers.tick(20);
    assert.equal(pacing.delay(), 30, 'counted from the failure');
    pacing.failed('bootstrap');
    assert.equal(pacing.delay(), 100, 'the second failure in a row doubles it, from its own time');
    t.mock.timers.tick(100);
    assert.equal(pacing.delay(), 0, 'waited out');
  });

  it('is the longest of its targets, and a target that served answers starts again from the first pause', (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_000 });
    const pacing = new ReconnectPacing(SETTINGS, NO_JITTER);
    for (let i = 0; i < 3; i++) pacing.failed('127.0.0.1:9093');
    pacing.failed('bootstrap');
    assert.equal(pacing.delay(), 200, 'the coordinator, after three failures, waits longest');
    pacing.succeeded('127.0.0.1:9093');
    assert.equal(pacing.delay(), 50, 'only the bootstrap target is left');
    pacing.succeeded('bootstrap');
    pacing.failed('bootstrap');
    assert.equal(pacing.delay(), 50, 'counted afresh');
  });

  it('with reconnectBackoffMs 0, asks for no pause: the user chose to reconnect at once', () => {
    const pacing = new ReconnectPacing({ reconnectBackoffMs: 0, reconnectBackoffMaxMs: 0 }, NO_JITTER);
    pacing.failed('bootstrap');
    assert.equal(pacing.delay(), 0);
  });
});
