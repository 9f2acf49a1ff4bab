/**
 * Preloaded into the ringkafka bench client with `--import` (bench/lib/clients.ts). The producer starts its worker
 * threads with the parent's Node flags, so this module runs first in the main thread and again in every worker:
 *
 * - in a worker it announces the worker's Linux thread id, read from /proc/thread-self, on a BroadcastChannel;
 * - in the main thread, before the producer exists, it listens on that channel and collects the ids in the array
 *   at `globalThis[Symbol.for('ringkafka.bench.workerTids')]`, which the harness (bench/clients/harness.ts) reads
 *   to take each worker thread's CPU time from /proc/self/task/<tid>/.
 *
 * It touches nothing of the producer's. Plain JavaScript, so it needs no loader in the workers (tsx is kept out of
 * them when the producer runs from dist/).
 */
import { readlinkSync } from 'node:fs';
import { BroadcastChannel, isMainThread } from 'node:worker_threads';

const CHANNEL = 'ringkafka-bench-threads';

if (isMainThread) {
  const tids = [];
  globalThis[Symbol.for('ringkafka.bench.workerTids')] = tids;
  const channel = new BroadcastChannel(CHANNEL);
  channel.onmessage = (event) => {
    const tid = event.data?.tid;
    if (Number.isInteger(tid) && !tids.includes(tid)) tids.push(tid);
  };
  channel.unref();
} else {
  try {
    // "<pid>/task/<tid>"
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    const channel = new BroadcastChannel(CHANNEL);
    channel.postMessage({ tid });
    channel.close();
  } catch {
    // not Linux: the harness then reports no per-worker split
  }
}
