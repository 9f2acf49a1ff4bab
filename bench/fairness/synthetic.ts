/**
 * The byte budget (src/main/byte-budget.ts) against a synthetic drain in this process, so its fairness numbers
 * do not depend on the broker, the network or the workers.
 *
 * The drain stands in for the workers: records admitted in one turn of the event loop are sealed into one batch,
 * up to 5 batches are "in flight", and each completes after a random 0–2 ms, releasing its bytes with one
 * `release()` (once per batch, as the producer does). Senders are admitted the way `Producer.send` admits them:
 * `tryAcquire`, else `await acquire`.
 *
 * Grant order is recorded one microtask after each grant on both paths (a waiter's `await` resumes one job after
 * `release()` resolves it; an immediate grant awaits once on purpose), so the recorded order is the order the
 * budget granted in, even when a release grants several waiters and a newcomer is admitted right behind them.
 */
import { ByteBudget } from '../../src/main/byte-budget.js';
import { createControlBlock } from '../../src/shared/control-block.js';
import { seededRandom } from '../lib/stats.js';
import { Observations, type FairnessRow } from './measure.js';
import { logUniformSizes, shuffled, type Plan } from './plan.js';

const MAX_IN_FLIGHT = 5;
const MAX_DELAY_MS = 2;
/** Waits here are unbounded: the hang detector, not a timeout, is what ends a stuck scenario. */
const NO_TIMEOUT = { timeoutMs: Infinity } as const;

class SyntheticDrain {
  lastReleaseAt = 0;
  #pendingBytes = 0;
  #pendingRecords = 0;
  #inFlight = 0;
  #sealScheduled = false;
  readonly #budget: ByteBudget;
  readonly #random: () => number;
  readonly #onComplete: (records: number) => void;

  constructor(budget: ByteBudget, random: () => number, onComplete: (records: number) => void) {
    this.#budget = budget;
    this.#random = random;
    this.#onComplete = onComplete;
  }

  /** Nothing buffered and nothing in flight: no release is coming. */
  get idle(): boolean {
    return this.#inFlight === 0 && this.#pendingRecords === 0;
  }

  accept(bytes: number): void {
    this.#pendingBytes += bytes;
    this.#pendingRecords++;
    if (!this.#sealScheduled) {
      this.#sealScheduled = true;
      setImmediate(() => {
        this.#sealScheduled = false;
        this.#seal();
      });
    }
  }

  #seal(): void {
    while (this.#inFlight < MAX_IN_FLIGHT && this.#pendingRecords > 0) {
      const bytes = this.#pendingBytes;
      const records = this.#pendingRecords;
      this.#pendingBytes = this.#pendingRecords = 0;
      this.#inFlight++;
      const complete = (): void => {
        this.#inFlight--;
        this.lastReleaseAt = performance.now();
        this.#budget.release(bytes, records);
        this.#onComplete(records);
        this.#seal();
      };
      const delay = this.#random() * MAX_DELAY_MS;
      if (delay < 0.25) setImmediate(complete);
      else setTimeout(complete, delay);
    }
  }
}

export interface Harness {
  readonly budget: ByteBudget;
  readonly drain: SyntheticDrain;
  readonly observations: Observations;
  /** Admits `bytes` for a sender as Producer.send does; resolves once granted (rejects if failed at the deadline). */
  admit(bytes: number): Promise<void>;
}

/** A budget of `maxBytes` with a synthetic drain (exported for the bench's own tests). */
export function harness(maxBytes: number, seed: number, observations = new Observations()): Harness {
  const budget = new ByteBudget(createControlBlock(), { maxBytes, maxRecords: 2 ** 31 - 1 });
  const drain = new SyntheticDrain(budget, seededRandom(seed), (records) => (observations.completed += records));
  return {
    budget,
    drain,
    observations,
    async admit(bytes) {
      const request = observations.request();
      const asked = performance.now();
      if (budget.tryAcquire(bytes)) {
        await undefined; // one job, like a waiter's resumption: keeps recorded order = grant order
        observations.grantOrder.push(request);
        observations.waitsMs.push(0);
      } else {
        await budget.acquire(bytes, NO_TIMEOUT);
        const granted = performance.now();
        observations.grantOrder.push(request);
        observations.waitsMs.push(granted - asked);
        observations.wakeLatenciesUs.push((granted - drain.lastReleaseAt) * 1000);
      }
      drain.accept(bytes);
    },
  };
}

/**
 * Waits for `work` or the deadline. At the deadline, requests still queued while the drain is idle can never be
 * woken: those are lost wake-ups. Everyone still queued is then failed so the scenario ends.
 */
export async function withHangDetector(h: Harness, work: Promise<unknown>, deadlineMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), deadlineMs)));
  const outcome = await Promise.race([work.then(() => 'done' as const, () => 'failed' as const), deadline]);
  clearTimeout(timer);
  if (outcome === 'deadline') {
    if (h.drain.idle) h.observations.lostWakeups += h.budget.waiting;
    h.budget.failAll(new Error('hang detector: deadline passed'));
    await work.catch(() => undefined);
  }
  // let the drain finish what it holds, so `completed` counts every admitted record
  while (!h.drain.idle) await new Promise((resolve) => setTimeout(resolve, 1));
}

/** The case behind invariant 1 (docs/invariants.md), many times over: budget 100 B; A = 100 holds it, B = 50 and C = 50 wait. */
export async function lostWakeUp(plan: Plan): Promise<FairnessRow> {
  const observations = new Observations();
  const started = performance.now();
  for (let round = 0; round < plan.lostWakeupRounds; round++) {
    const h = harness(100, round, observations);
    const all = Promise.all([h.admit(100), h.admit(50), h.admit(50)]);
    await withHangDetector(h, all, plan.roundDeadlineMs);
  }
  return observations.summarise(
    'lost-wake-up/synthetic',
    3 * plan.lostWakeupRounds,
    performance.now() - started,
    `${plan.lostWakeupRounds} rounds of 100+50+50 B against a 100 B budget; wait = admission`,
    false,
  );
}

/** 64 senders, record sizes log-uniform from 100 B to 1 MiB, budget 4 MiB; each sender has the same sizes, shuffled. */
export async function manySenders(plan: Plan): Promise<FairnessRow> {
  const largest = 1024 * 1024;
  const h = harness(4 * largest, 64);
  const sizes = logUniformSizes(plan.recordsPerSender, 100, largest, 7);
  const started = performance.now();
  const senders = Array.from({ length: plan.senders }, async (_, sender) => {
    const mine = shuffled(sizes, 1000 + sender);
    for (const bytes of mine) {
      await h.admit(bytes);
      h.observations.senderProgress(sender, bytes, started, performance.now());
    }
  });
  await withHangDetector(h, Promise.all(senders), plan.scenarioDeadlineMs);
  return h.observations.summarise(
    `${plan.senders}-senders/synthetic`,
    plan.senders * plan.recordsPerSender,
    performance.now() - started,
    `${plan.senders} senders × ${plan.recordsPerSender} records of 100 B..1 MiB, budget 4 MiB; wait = admission; Jain over admitted bytes/s`,
  );
}

/**
 * Small senders keep a 1 MiB budget full of 100 B records; once they have to queue, one 1 MiB record (the whole
 * budget) asks. Strict FIFO holds every small record behind it until the budget is empty, so it is granted; a
 * budget that let small records pass would starve it for as long as they keep coming.
 */
export async function floodBehindHuge(plan: Plan): Promise<FairnessRow> {
  const budgetBytes = 1024 * 1024;
  const h = harness(budgetBytes, 99);
  const started = performance.now();
  let hugeWaitMs = Number.NaN;
  let smallsDone = false;
  const smalls = Promise.all(
    Array.from({ length: plan.floodSenders }, async (_, sender) => {
      for (let i = 0; i < plan.floodRecordsPerSender; i++) {
        await h.admit(100);
        h.observations.senderProgress(sender, 100, started, performance.now());
      }
    }),
  ).finally(() => (smallsDone = true));
  const huge = (async () => {
    while (h.budget.waiting === 0 && !smallsDone) await new Promise((resolve) => setImmediate(resolve));
    const asked = performance.now();
    await h.admit(budgetBytes);
    hugeWaitMs = performance.now() - asked;
  })();
  await withHangDetector(h, Promise.all([smalls, huge]), plan.scenarioDeadlineMs);
  return h.observations.summarise(
    'flood-behind-huge/synthetic',
    plan.floodSenders * plan.floodRecordsPerSender + 1,
    performance.now() - started,
    `${plan.floodSenders} senders × ${plan.floodRecordsPerSender} × 100 B around one 1 MiB record, budget 1 MiB; ` +
      `the huge record waited ${hugeWaitMs.toFixed(2)} ms; Jain over the small senders`,
  );
}
