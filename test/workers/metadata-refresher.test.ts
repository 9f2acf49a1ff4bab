/** MetadataRefresher: one continuation per refresh, however many ask while it runs; failures back off. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MetadataRefresher } from '../../src/workers/metadata-refresher.js';

/** A cluster view whose refreshes the test settles, shared by concurrent callers as the real one shares them. */
class ScriptedView {
  readonly topics: (string | undefined)[] = [];
  #current: { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } | undefined;
  refresh(topic?: string): Promise<void> {
    this.topics.push(topic);
    if (this.#current === undefined) {
      let resolve!: () => void;
      let reject!: (error: Error) => void;
      const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej))).finally(() => (this.#current = undefined));
      this.#current = { promise, resolve, reject };
    }
    return this.#current.promise;
  }
  settle(error?: Error): void {
    if (error === undefined) this.#current!.resolve();
    else this.#current!.reject(error);
  }
}

const settings = { retryBackoffMs: 100, retryBackoffMaxMs: 1000 };
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('MetadataRefresher', () => {
  it('runs what follows a refresh once, however many asked while it ran; each ask still names its topic', async () => {
    const view = new ScriptedView();
    let refreshed = 0;
    const refresher = new MetadataRefresher(view, { refreshed: () => refreshed++, retryAt: () => assert.fail('no failure') }, settings);
    for (let i = 0; i < 1000; i++) refresher.request(i === 500 ? 'new-topic' : undefined);
    view.settle();
    await flush();
    assert.equal(refreshed, 1, 'one pump for one refresh (it was one per ask)');
    assert.equal(view.topics.length, 1000);
    assert.equal(view.topics[500], 'new-topic');

    // What follows asks again, as a pump that still finds a partition without a leader does: one more each time.
    refresher.request();
    refresher.request();
    view.settle();
    await flush();
    assert.equal(refreshed, 2);
  });

  it('a failed refresh is retried after a backoff that grows with failures in a row, and resets on success', async () => {
    const view = new ScriptedView();
    const waits: number[] = [];
    let refreshed = 0;
    const refresher = new MetadataRefresher(view, { refreshed: () => refreshed++, retryAt: (at) => waits.push(at - Date.now()) }, settings);
    for (let failure = 0; failure < 4; failure++) {
      refresher.request();
      refresher.request();
      view.settle(new Error('broker down'));
      await flush();
    }
    assert.equal(waits.length, 4, 'one retry per failed refresh');
    // 100, 200, 400, 800 ms, each ±20 % (and a millisecond of clock between the two reads).
    waits.forEach((wait, i) => assert.ok(wait >= 0.8 * 100 * 2 ** i - 1 && wait <= 1.2 * 100 * 2 ** i, `wait ${i}: ${wait}`));
    refresher.request();
    view.settle();
    await flush();
    refresher.request();
    view.settle(new Error('down again'));
    await flush();
    assert.ok(waits[4]! <= 1.2 * 100, 'the backoff starts over after a success');
  });
});
