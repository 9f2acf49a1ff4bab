/** until-aborted.ts: waiting for work unless a signal aborts first. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { untilAborted } from '../../src/shared/until-aborted.js';
import { AbortError } from '../../src/shared/producer-errors.js';

describe('untilAborted', () => {
  it('a signal aborted already rejects at once, and the work\'s later failure is still observed', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      let fail!: (error: Error) => void;
      const work = new Promise<never>((_, reject) => (fail = reject));
      await assert.rejects(untilAborted(work, AbortSignal.abort(), 'the wait'), (e: unknown) => e instanceof AbortError && e.message.includes('the wait'));
      fail(new Error('the work failed later'));
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(unhandled, [], 'nobody else holds the work: an unhandled rejection would end the process');
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
