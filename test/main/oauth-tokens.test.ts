/**
 * OAuthTokens (src/main/oauth-tokens.ts): a provider that fails at refresh time leaves the current token in use
 * until it expires, and the refresh is tried again; a refresh never holds a get() while the current token is good;
 * close leaves no timer keeping the process alive and no get() unsettled. On Node's mock clock, except where the
 * live timers are counted: nothing here waits on real time.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OAuthTokens, type LiveToken } from '../../src/main/oauth-tokens.js';
import { AuthenticationError, ProducerClosedError } from '../../src/shared/producer-errors.js';

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** The value get() gives once pending callbacks have run, without moving the clock; 'waiting' if it has not settled. */
const getNow = async (tokens: OAuthTokens): Promise<string> => {
  let got = 'waiting';
  tokens.get().then((token) => (got = token.value), (error: unknown) => (got = `rejected: ${String(error)}`));
  await settle();
  return got;
};

describe('OAuthTokens', () => {
  it('a provider that fails at refresh time: get() gives the current token until it expires, then the error', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    let calls = 0;
    const tokens = new OAuthTokens(() => {
      calls++;
      if (calls === 1) return { value: 'tok1', lifetimeMs: 100_000 };
      throw new Error('the identity provider is down');
    }, 5_000);
    try {
      assert.equal((await tokens.get()).value, 'tok1');
      t.mock.timers.tick(85_000); // past the refresh point (80 %), before the expiry
      await settle();
      assert.equal(calls, 2, 'the scheduled refresh asked the provider');
      assert.equal((await tokens.get()).value, 'tok1', 'the current token, still good, not the failure');
      t.mock.timers.tick(15_000); // expired now
      await assert.rejects(tokens.get(), AuthenticationError);
    } finally {
      tokens.close();
    }
  });

  it('a scheduled refresh that failed is tried again, and the workers are handed what the retry brings', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    let calls = 0;
    const tokens = new OAuthTokens(() => {
      calls++;
      if (calls === 2) throw new Error('a moment of outage');
      return { value: `tok${calls}`, lifetimeMs: 100_000 };
    }, 5_000);
    const handed: LiveToken[] = [];
    tokens.onRefresh((token) => handed.push(token));
    try {
      await tokens.get();
      t.mock.timers.tick(80_000);
      await settle();
      assert.equal(calls, 2);
      assert.equal(handed.length, 0, 'the failed refresh handed nothing on');
      t.mock.timers.tick(10_000); // the retry: 10 s later, well before the expiry
      await settle();
      assert.equal(calls, 3);
      assert.deepEqual(handed.map((token) => token.value), ['tok3']);
    } finally {
      tokens.close();
    }
  });

  it('past the refresh point, get() gives the current token at once while one shared refresh runs behind it', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    let calls = 0;
    let answer: ((token: { value: string; lifetimeMs: number }) => void) | undefined;
    const tokens = new OAuthTokens(() => {
      calls++;
      if (calls === 1) return { value: 'tok1', lifetimeMs: 100_000 };
      return new Promise((resolve) => (answer = resolve)); // an identity provider that is slow to answer
    }, 30_000);
    const handed: string[] = [];
    tokens.onRefresh((token) => handed.push(token.value));
    try {
      await tokens.get();
      t.mock.timers.tick(85_000); // past the refresh point: the scheduled refresh is waiting on the provider
      await settle();
      // The clock does not move: a get() that waited on the provider's timeout could not have settled.
      const got = await Promise.all([getNow(tokens), getNow(tokens), getNow(tokens)]);
      assert.deepEqual(got, ['tok1', 'tok1', 'tok1'], 'the current token, good for 15 s more, without waiting');
      assert.equal(calls, 2, 'one provider call shared by the refresh and every get()');
      answer?.({ value: 'tok2', lifetimeMs: 100_000 });
      await settle();
      assert.deepEqual(handed, ['tok2'], 'the workers are handed what the background refresh brought');
      assert.equal((await tokens.get()).value, 'tok2');
    } finally {
      tokens.close();
    }
  });

  it('a get() past the refresh point with no refresh timer refreshes behind it, and the workers get the result', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    const DAY = 86_400_000;
    let calls = 0;
    // 40 days: the refresh point (32 days) is beyond what a timer can wait, so only get() can start the refresh.
    const tokens = new OAuthTokens(() => ({ value: `tok${++calls}`, lifetimeMs: 40 * DAY }), 5_000);
    const handed: string[] = [];
    tokens.onRefresh((token) => handed.push(token.value));
    try {
      await tokens.get();
      t.mock.timers.tick(33 * DAY);
      assert.equal((await tokens.get()).value, 'tok1', 'the current token, not the refresh it started');
      await settle();
      assert.equal(calls, 2);
      assert.deepEqual(handed, ['tok2']);
      assert.equal((await tokens.get()).value, 'tok2');
    } finally {
      tokens.close();
    }
  });

  it('a refresh that timed out is tried again after the backoff, not by every get() before it', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    const DAY = 86_400_000;
    let calls = 0;
    const tokens = new OAuthTokens(() => {
      calls++;
      if (calls === 2) return new Promise<never>(() => {}); // hangs: the refresh times out
      return { value: `tok${calls}`, lifetimeMs: 40 * DAY }; // no refresh timer (see above): get() alone refreshes
    }, 5_000);
    try {
      await tokens.get();
      t.mock.timers.tick(33 * DAY);
      assert.equal(await getNow(tokens), 'tok1');
      t.mock.timers.tick(5_000); // the refresh's provider call times out
      await settle();
      assert.equal(await getNow(tokens), 'tok1');
      assert.equal(calls, 2, 'not asked again before the backoff');
      t.mock.timers.tick(10_000);
      await settle();
      assert.equal(calls, 3, 'asked again after the backoff');
      assert.equal(await getNow(tokens), 'tok3');
    } finally {
      tokens.close();
    }
  });

  it('when the current token has expired, get() waits for the provider, bounded by the timeout', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    let calls = 0;
    const tokens = new OAuthTokens(() => (++calls === 1 ? { value: 'tok1', lifetimeMs: 100_000 } : new Promise<never>(() => {})), 5_000);
    try {
      await tokens.get();
      t.mock.timers.tick(100_000); // expired; the refresh (from 80 s) is still waiting on the provider
      const settled: unknown[] = [];
      tokens.get().then((token) => settled.push(token), (error: unknown) => settled.push(error));
      await settle();
      assert.equal(settled.length, 0, 'no token to give: it waits');
      t.mock.timers.tick(5_000);
      await settle();
      assert.ok(settled[0] instanceof AuthenticationError);
    } finally {
      tokens.close();
    }
  });

  it('close while the provider hangs: the pending get() is rejected and no timer keeps the process alive', async () => {
    // Real timers here: the count of live (ref'd) timers is what keeps a process alive after close. (An unref'd timer
    // is not counted, so this holds by the unref alone; close clears the timer too, which nothing here can observe.)
    const timers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = timers();
    const tokens = new OAuthTokens(() => new Promise<never>(() => {}), 10_000);
    const settled: unknown[] = [];
    tokens.get().then((token) => settled.push(token), (error: unknown) => settled.push(error));
    await settle(); // the provider has been called and its timeout started
    tokens.close();
    assert.equal(timers(), before, 'the provider timeout does not keep the process alive after close');
    await settle();
    assert.ok(settled[0] instanceof ProducerClosedError, `the pending get() is settled by close (got ${String(settled[0])})`);
    await assert.rejects(tokens.get(), ProducerClosedError);
  });
});
