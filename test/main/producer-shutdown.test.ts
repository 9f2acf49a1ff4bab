/**
 * shutdownProducer and hurryClose (src/main/producer-shutdown.ts), against parts that note what is called of them:
 * the order of close's steps, a flush or transaction that never ends given up at the deadline or the signal, and a
 * later close's deadline handed to the workers. The producer-level behaviour is test/main/producer-silent-cluster.test.ts's
 * and the integration tests'.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hurryClose, shutdownProducer, type ShutdownParts } from '../../src/main/producer-shutdown.js';
import type { WorkerGroup } from '../../src/main/worker-group.js';
import { ProducerClosedError } from '../../src/shared/producer-errors.js';

interface Recorded {
  readonly steps: string[];
  readonly parts: ShutdownParts;
  /** The workers' close deadline, and the errors the settlement was given to fail what it still holds. */
  readonly seen: { workersCloseBy?: number; queuedError?: Error; liveError?: Error };
}

/** Parts whose every call is noted in `steps`; `flush`, `closeOpen` and `connecting` return what the test gives. */
function recordingParts(options: {
  flush?: () => Promise<void>; closeOpen?: () => Promise<void>; connecting?: Promise<void>; transactional?: boolean;
} = {}): Recorded {
  const steps: string[] = [];
  const seen: Recorded['seen'] = {};
  const note = (step: string) => () => void steps.push(step);
  const noteAsync = (step: string) => async () => void steps.push(step);
  const stopConnecting = new AbortController();
  stopConnecting.signal.addEventListener('abort', note('stopConnecting'));
  const stopLoop = new AbortController();
  stopLoop.signal.addEventListener('abort', note('stopLoop'));
  const transactional = options.transactional ?? false;
  const parts = {
    intake: { close: note('intake.close'), failPending: note('intake.failPending'), stopSweep: note('intake.stopSweep') },
    control: { setClosing: note('control.setClosing') },
    deliveries: {
      drain: note('deliveries.drain'),
      failQueued: (_worker: unknown, error: Error) => { steps.push('deliveries.failQueued'); seen.queuedError = error; },
      failLive: (_worker: unknown, errorFor: (delivery: 'not-sent' | 'unknown') => Error) => {
        steps.push('deliveries.failLive');
        seen.liveError = errorFor('unknown');
      },
    },
    workers: {
      stopReplacing: note('workers.stopReplacing'),
      close: async (closeBy: number) => { steps.push('workers.close'); seen.workersCloseBy = closeBy; },
      destroy: noteAsync('workers.destroy'),
    },
    registry: { close: noteAsync('registry.close') },
    transactions: transactional ? { closeOpen: options.closeOpen ?? noteAsync('transactions.closeOpen') } : undefined,
    coordinators: transactional ? { close: noteAsync('coordinators.close') } : undefined,
    tokens: { close: note('tokens.close') },
    deliveryTimeoutMs: 120_000,
    requestTimeoutMs: 30_000,
    flush: options.flush ?? noteAsync('flush'),
    connecting: () => options.connecting,
    stopConnecting,
    stopLoop,
  };
  return { steps, seen, parts: parts as unknown as ShutdownParts };
}

const AFTER_FLUSH = [
  'intake.failPending', 'workers.stopReplacing', 'stopConnecting', 'workers.close', 'deliveries.drain', 'deliveries.failQueued',
  'deliveries.failLive', 'stopLoop', 'intake.stopSweep', 'workers.destroy', 'tokens.close',
];

describe('shutdownProducer', () => {
  it('stops new sends, flushes, and only then fails what is pending and releases the workers, tokens and sockets', async () => {
    const { steps, parts, seen } = recordingParts();
    const before = Date.now();
    await shutdownProducer(parts, {});
    assert.deepEqual(steps, ['intake.close', 'control.setClosing', 'flush', ...AFTER_FLUSH, 'registry.close']);
    // Without timeoutMs the workers get one request timeout after the flush for batches nobody waits for any more.
    assert.ok(seen.workersCloseBy! >= before + parts.requestTimeoutMs, `workers' close deadline ${seen.workersCloseBy}`);
    assert.ok(seen.queuedError instanceof ProducerClosedError && seen.queuedError.delivery === 'not-sent');
    assert.ok(seen.liveError instanceof ProducerClosedError && seen.liveError.delivery === 'unknown');
  });

  it('aborts an open transaction before the flush, and closes the coordinators before the registry', async () => {
    const { steps, parts } = recordingParts({ transactional: true });
    await shutdownProducer(parts, {});
    assert.deepEqual(steps, [
      'intake.close', 'control.setClosing', 'transactions.closeOpen', 'flush', ...AFTER_FLUSH, 'coordinators.close', 'registry.close',
    ]);
  });

  it('gives up a flush, a transaction\'s abort and a connection attempt that never end at timeoutMs: 0, and still fails and releases everything', async () => {
    const never = new Promise<void>(() => undefined);
    const { steps, parts, seen } = recordingParts({ transactional: true, flush: () => never, closeOpen: () => never, connecting: never });
    const before = Date.now();
    await shutdownProducer(parts, { timeoutMs: 0 });
    assert.deepEqual(steps, ['intake.close', 'control.setClosing', ...AFTER_FLUSH, 'coordinators.close', 'registry.close']);
    assert.ok(seen.workersCloseBy! <= Date.now() && seen.workersCloseBy! >= before, 'the workers are given close\'s own deadline');
  });

  it('gives up what never ends once the signal aborts', async () => {
    const never = new Promise<void>(() => undefined);
    const { steps, parts } = recordingParts({ flush: () => never, connecting: never });
    const controller = new AbortController();
    const closed = shutdownProducer(parts, { signal: controller.signal });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(steps, ['intake.close', 'control.setClosing'], 'waiting for the flush');
    controller.abort();
    await closed;
    assert.deepEqual(steps, ['intake.close', 'control.setClosing', ...AFTER_FLUSH, 'registry.close']);
  });
});

describe('hurryClose', () => {
  function hurriedWorkers(): { workers: WorkerGroup; deadlines: number[] } {
    const deadlines: number[] = [];
    return { deadlines, workers: { hurry: (deadline: number) => void deadlines.push(deadline) } as unknown as WorkerGroup };
  }

  it('hands a later close\'s timeoutMs to the workers as a deadline', () => {
    const { workers, deadlines } = hurriedWorkers();
    const before = Date.now();
    hurryClose(workers, { timeoutMs: 5_000 });
    assert.equal(deadlines.length, 1);
    assert.ok(deadlines[0]! >= before + 5_000 && deadlines[0]! <= Date.now() + 5_000);
  });

  it('hurries the workers at once for an aborted signal, and when a live one aborts', () => {
    const aborted = hurriedWorkers();
    hurryClose(aborted.workers, { signal: AbortSignal.abort() });
    assert.deepEqual(aborted.deadlines, [0]);
    const live = hurriedWorkers();
    const controller = new AbortController();
    hurryClose(live.workers, { signal: controller.signal });
    assert.deepEqual(live.deadlines, []);
    controller.abort();
    assert.deepEqual(live.deadlines, [0]);
  });
});
