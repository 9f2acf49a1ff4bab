/**
 * OAuthTokens (src/main/oauth-tokens.ts): a provider that fails at refresh time leaves the current token in use
 * until it expires, and the refresh is tried again. On Node's mock clock: nothing here waits on real time.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OAuthTokens, type LiveToken } from '../../src/main/oauth-tokens.js';
import { AuthenticationError } from '../../src/shared/producer-errors.js';

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
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
});
