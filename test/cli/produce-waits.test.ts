/**
 * `ringkafka produce`'s waits leave nothing behind: a run as long as `tail -f app.log | ringkafka produce` must not
 * hold one more object per group of lines. Checked structurally, through V8's promise hooks: no promise still
 * pending at the end of a run was given a reaction per group (each Promise.race of a group's call against the
 * never-settling stop promise added one, about 450 bytes a group for the life of the process).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { promiseHooks } from 'node:v8';
import { runProduce } from '../../src/cli/produce.js';
import { standInProducer } from './fixtures/stand-in-producer.js';

const GROUPS = 200;

/** Runs `body` and returns, for each promise that was still pending when it ended, how many promises were derived from it. */
async function reactionsLeftOnPending(body: () => Promise<void>): Promise<number[]> {
  const derived = new Map<Promise<unknown>, number>();
  const settled = new WeakSet<Promise<unknown>>();
  const stopInit = promiseHooks.onInit((_promise, parent) => {
    if (parent !== undefined && !settled.has(parent)) derived.set(parent, (derived.get(parent) ?? 0) + 1);
  });
  const stopSettled = promiseHooks.onSettled((promise) => {
    settled.add(promise);
    derived.delete(promise);
  });
  try {
    await body();
  } finally {
    stopInit();
    stopSettled();
  }
  return [...derived.values()];
}

test(`${GROUPS} full groups of lines leave no promise pending with a reaction per group (the race against the stop promise did)`, async (t) => {
  let calls = 0;
  standInProducer(t, {
    sendBatch: async () => {
      calls++;
      return { failures: [] };
    },
  });
  const counts = await reactionsLeftOnPending(async () => {
    const input = new PassThrough();
    const run = runProduce(['--topic', 't', '--brokers', '127.0.0.1:1'], input, new PassThrough(), new PassThrough() as unknown as NodeJS.WriteStream);
    input.end('x\n'.repeat(1000 * GROUPS));
    assert.equal(await run, 0);
  });
  assert.equal(calls, GROUPS);
  const most = Math.max(0, ...counts);
  assert.ok(most < GROUPS / 10, `a promise still pending after the run holds ${most} reactions, about one per group`);
});

test('lines that trickle in (each sent alone by the linger timer) leave no promise pending with a reaction per line', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  standInProducer(t);
  const lines = 100;
  const counts = await reactionsLeftOnPending(async () => {
    const input = new PassThrough();
    const run = runProduce(['--topic', 't', '--brokers', '127.0.0.1:1'], input, new PassThrough(), new PassThrough() as unknown as NodeJS.WriteStream);
    const turns = async (): Promise<void> => {
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    for (let line = 0; line < lines; line++) {
      input.write('x\n');
      await turns();
      t.mock.timers.tick(10);
      await turns();
    }
    input.end();
    assert.equal(await run, 0);
  });
  const most = Math.max(0, ...counts);
  assert.ok(most < lines / 10, `a promise still pending after the run holds ${most} reactions, about one per line`);
});
