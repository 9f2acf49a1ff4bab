/**
 * shutdownProducer and hurryClose (src/main/producer-shutdown.ts), against parts that note what is called of them:
 * the order of close's steps, a flush or transaction that never ends given up at the deadline or the signal, and a
 * later close's deadline handed to the workers. The producer-level behaviour is test/main/producer-silent-cluster.test.ts's
 * and the integration tests'.
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { closeLimitsFor, hurryClose, shutdownProducer, type ShutdownParts } from '../../src/main/producer-shutdown.js';
import type { CloseLimits } from '../../src/main/close-limits.js';
import type { WorkerGroup } from '../../src/main/worker-group.js';
import { ProducerClosedError } from '../../src/shared/producer-errors.js';

interface Recorded {
  readonly steps: string[];
  readonly parts: ShutdownParts;
  /** The workers' close deadline and cut-off, and the errors the settlement was given to fail what it still holds. */
  readonly seen: { workersCloseBy?: number; workersCutOffAt?: number; queuedError?: Error; liveError?: Error };
}

/**
 * Parts whose every call is noted in `steps`; `flush`, `closeOpen` and `connecting` return what the test gives (the
 * first two given `steps`, to note when they end).
 */
function recordingParts(options: {
  flush?: (steps: string[]) => Promise<void>; closeOpen?: (steps: string[]) => Promise<void>; connecting?: Promise<void>;
  transactional?: boolean;
  withoutTokens?: boolean;
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
      cutOff: (sendUntil: number) => { steps.push('workers.cutOff'); seen.workersCutOffAt = sendUntil; },
      close: async (closeBy: number) => { steps.push('workers.close'); seen.workersCloseBy = closeBy; },
      destroy: noteAsync('workers.destroy'),
    },
    registry: { close: noteAsync('registry.close') },
    transactions: transactional ? { closeOpen: options.closeOpen === undefined ? noteAsync('transactions.closeOpen') : () => options.closeOpen!(steps) } : undefined,
    coordinators: transactional ? { close: noteAsync('coordinators.close') } : undefined,
    tokens: options.withoutTokens === true ? undefined : { close: note('tokens.close') },
    deliveryTimeoutMs: 120_000,
    requestTimeoutMs: 30_000,
    flush: options.flush === undefined ? noteAsync('flush') : () => options.flush!(steps),
    connecting: () => options.connecting,
    stopConnecting,
    stopLoop,
  };
  return { steps, seen, parts: parts as unknown as ShutdownParts };
}

/** A step that ends a few turns of the event loop after it began (long before afterTimer's), and notes its end. */
function afterTurns(step: string): (steps: string[]) => Promise<void> {
  return async (steps) => {
    for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
    steps.push(step);
  };
}

/**
 * A step that ends on a 50 ms timer, and notes its end: after a wait that gave up on it at once or a millisecond on
 * (a deadline already past, or not a number) would have ended. Not a timed assertion: only the order is checked.
 */
function afterTimer(step: string): (steps: string[]) => Promise<void> {
  return (steps) => new Promise((resolve) => setTimeout(() => {
    steps.push(step);
    resolve();
  }, 50));
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
    const closeBy = seen.workersCloseBy!;
    assert.ok(closeBy >= before + parts.requestTimeoutMs && closeBy <= Date.now() + parts.requestTimeoutMs, `workers' close deadline ${closeBy}`);
    assert.ok(seen.queuedError instanceof ProducerClosedError && seen.queuedError.delivery === 'not-sent');
    assert.match(seen.queuedError.message, /closed before the record was sent/);
    assert.ok(seen.liveError instanceof ProducerClosedError && seen.liveError.delivery === 'unknown');
    assert.match(seen.liveError.message, /closed before the record had a result/);
  });

  it('aborts an open transaction before the flush, and closes the coordinators before the registry', async () => {
    const { steps, parts } = recordingParts({ transactional: true, withoutTokens: true });
    await shutdownProducer(parts, {});
    assert.deepEqual(steps, [
      'intake.close', 'control.setClosing', 'transactions.closeOpen', 'flush', ...AFTER_FLUSH.filter((step) => step !== 'tokens.close'),
      'coordinators.close', 'registry.close',
    ]);
  });

  for (const timeoutMs of [undefined, 60_000]) {
    const within = timeoutMs === undefined ? 'no deadline' : 'a deadline';
    it(`waits for a flush that ends later, within ${within}, before it fails anything`, async () => {
      const { steps, parts } = recordingParts({ flush: afterTimer('flush ended') });
      await shutdownProducer(parts, { timeoutMs });
      const cutOff = timeoutMs === undefined ? [] : ['workers.cutOff'];
      assert.deepEqual(steps.slice(0, 4 + cutOff.length), ['intake.close', 'control.setClosing', ...cutOff, 'flush ended', 'intake.failPending']);
    });

    it(`waits for a transaction's abort that ends later, within ${within}, before the flush`, async () => {
      const { steps, parts } = recordingParts({ transactional: true, closeOpen: afterTimer('closeOpen ended'), flush: afterTurns('flush ended') });
      await shutdownProducer(parts, { timeoutMs });
      const cutOff = timeoutMs === undefined ? [] : ['workers.cutOff'];
      assert.deepEqual(steps.slice(0, 5 + cutOff.length), ['intake.close', 'control.setClosing', ...cutOff, 'closeOpen ended', 'flush ended', 'intake.failPending']);
    });
  }

  it('without a deadline, gives up a transaction\'s abort that never ends after deliveryTimeoutMs + requestTimeoutMs', async () => {
    const never = new Promise<void>(() => undefined);
    const recorded = recordingParts({ transactional: true, closeOpen: () => never });
    const parts = { ...recorded.parts, deliveryTimeoutMs: 20, requestTimeoutMs: 10 };
    await shutdownProducer(parts, {});
    assert.deepEqual(recorded.steps, ['intake.close', 'control.setClosing', 'flush', ...AFTER_FLUSH, 'coordinators.close', 'registry.close']);
  });

  it('gives up a flush, a transaction\'s abort and a connection attempt that never end at timeoutMs: 0, and still fails and releases everything', async () => {
    const never = new Promise<void>(() => undefined);
    const { steps, parts, seen } = recordingParts({ transactional: true, flush: () => never, closeOpen: () => never, connecting: never });
    const before = Date.now();
    await shutdownProducer(parts, { timeoutMs: 0 });
    assert.deepEqual(steps, ['intake.close', 'control.setClosing', 'workers.cutOff', ...AFTER_FLUSH, 'coordinators.close', 'registry.close']);
    assert.ok(seen.workersCloseBy! <= Date.now() && seen.workersCloseBy! >= before, 'the workers are given close\'s own deadline');
  });

  it("tells the workers close's cut-off, a lead before the deadline, as close begins: before the transaction's abort and the flush", async () => {
    const { steps, parts, seen } = recordingParts({ transactional: true });
    const before = Date.now();
    await shutdownProducer(parts, { timeoutMs: 4000 });
    assert.deepEqual(steps.slice(0, 5), ['intake.close', 'control.setClosing', 'workers.cutOff', 'transactions.closeOpen', 'flush']);
    // The lead of a 4 s close is 250 ms (src/shared/report-lead.ts).
    assert.ok(seen.workersCutOffAt! >= before + 3750 && seen.workersCutOffAt! <= Date.now() + 3750, `cut-off at ${seen.workersCutOffAt! - before} ms`);
    assert.ok(seen.workersCloseBy! - seen.workersCutOffAt! === 250, 'the deadline is the lead after it');
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
  function hurriedWorkers(): { workers: WorkerGroup; deadlines: number[]; cutOffs: number[] } {
    const deadlines: number[] = [];
    const cutOffs: number[] = [];
    const hurry = (sendUntil: number, deadline: number): void => {
      cutOffs.push(sendUntil);
      deadlines.push(deadline);
    };
    return { deadlines, cutOffs, workers: { hurry } as unknown as WorkerGroup };
  }
  const untimed = (): CloseLimits => closeLimitsFor({});

  it('brings close\'s times forward to a later close\'s timeoutMs, on this thread and in the workers', () => {
    const { workers, deadlines, cutOffs } = hurriedWorkers();
    const limits = untimed();
    const before = Date.now();
    hurryClose(limits, workers, { timeoutMs: 5_000 }, Promise.resolve());
    assert.equal(deadlines.length, 1);
    assert.ok(deadlines[0]! >= before + 5_000 && deadlines[0]! <= Date.now() + 5_000);
    assert.equal(limits.deadline, deadlines[0]);
    assert.ok(cutOffs[0]! < deadlines[0]!, 'the workers stop sending a lead before it');
    assert.equal(limits.sendUntil, cutOffs[0]);
    hurryClose(limits, workers, { timeoutMs: 60_000 }, Promise.resolve());
    assert.equal(deadlines.length, 1, 'a later deadline brings nothing forward');
    limits.clear();
  });

  it('a later close with timeoutMs 0 ends the first close\'s waits at once', () => {
    const { workers } = hurriedWorkers();
    const limits = untimed();
    assert.equal(limits.deadlineSignal.aborted, false);
    hurryClose(limits, workers, { timeoutMs: 0 }, Promise.resolve());
    assert.equal(limits.sendSignal.aborted, true);
    assert.equal(limits.deadlineSignal.aborted, true);
  });

  it('hurries the workers at once for an aborted signal, and when a live one aborts', () => {
    const aborted = hurriedWorkers();
    const abortedLimits = untimed();
    hurryClose(abortedLimits, aborted.workers, { signal: AbortSignal.abort() }, Promise.resolve());
    assert.equal(abortedLimits.deadlineSignal.aborted, true, 'this thread gives up too');
    assert.deepEqual(aborted.deadlines, [0]);
    const live = hurriedWorkers();
    const controller = new AbortController();
    hurryClose(untimed(), live.workers, { signal: controller.signal }, new Promise(() => undefined));
    assert.deepEqual(live.deadlines, []);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
    controller.abort();
    assert.deepEqual(live.deadlines, [0]);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0, 'the listener went with the abort');
  });

  it('removes its listener once the close under way ends, whether it resolves or rejects: a long-lived signal keeps none', async () => {
    const { workers, deadlines } = hurriedWorkers();
    const signal = new AbortController().signal;
    for (const end of [() => Promise.resolve(), () => Promise.reject(new Error('close failed'))]) {
      const ended = end();
      hurryClose(untimed(), workers, { signal }, ended);
      assert.equal(getEventListeners(signal, 'abort').length, 1, 'listening while the close runs');
      await ended.catch(() => undefined);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(getEventListeners(signal, 'abort').length, 0, 'the listener went with the close');
    }
    assert.deepEqual(deadlines, []);
  });
});
