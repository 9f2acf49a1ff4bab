/**
 * Which timers are still pending, for tests of invariant 2 (docs/invariants.md: every timer is cleared on every
 * path). Node lists no unref'd timer among its active resources, so the global setTimeout and clearTimeout are
 * wrapped for the test's duration (t.mock restores them when it ends).
 */
import type { TestContext } from 'node:test';

/**
 * Timers set through the global setTimeout since the call, and neither fired nor cleared yet; with `minMs`, only
 * those set for at least that long (a backoff, among the short timers of requests and sweeps).
 */
export function trackTimers(t: TestContext, minMs = 0): Set<unknown> {
  const live = new Set<unknown>();
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  t.mock.method(globalThis, 'setTimeout', (callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const handle = realSet(() => {
      live.delete(handle);
      callback(...args);
    }, ms);
    if ((ms ?? 0) >= minMs) live.add(handle);
    return handle;
  });
  t.mock.method(globalThis, 'clearTimeout', (handle: Parameters<typeof clearTimeout>[0]) => {
    live.delete(handle);
    realClear(handle);
  });
  return live;
}
