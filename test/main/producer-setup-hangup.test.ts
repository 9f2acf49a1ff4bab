/**
 * A broker that hangs up during the producer's setup (on InitProducerId, after the ApiVersions handshake): the lost
 * connection is retriable, so the producer id is asked for again after a backoff (retryBackoffMs, ten minutes here).
 * close({ timeoutMs: 0 }) already released the callers at once; these tests check that it also ends that backoff,
 * whose plain timer kept a closed producer's process alive until it ran out (invariant 2, docs/invariants.md: every
 * timer is cleared on every path). No test waits on time: each waits for the backoff's timer to be armed.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { Producer } from '../../src/main/producer.js';
import { ProducerClosedError } from '../../src/shared/producer-errors.js';
import { FAKE_API, FakeBroker } from '../helpers/fake-broker.js';
import { trackTimers } from '../helpers/timers.js';

/** retryBackoffMs, also its maximum: far above anything else the producer arms here, so its timer is recognised. */
const BACKOFF_MS = 600_000;
/** The shortest pause that backoff can be, less its jitter (±20 %, src/shared/backoff.ts). */
const SHORTEST_BACKOFF_MS = BACKOFF_MS * 0.8;

/** A broker that destroys the connection instead of answering InitProducerId; `hangups` counts them. */
async function hangingUpBroker(t: TestContext, transactions: boolean): Promise<{ broker: FakeBroker; hangups: () => number }> {
  const broker = await FakeBroker.start(1, () => false, { transactions });
  t.after(() => broker.close());
  let hangups = 0;
  broker.tamper = (apiKey, frame) => {
    if (apiKey !== FAKE_API.initProducerId) return frame;
    hangups++;
    broker.requests.at(-1)!.socket.destroy(); // the InitProducerId request, the last one seen
    return null;
  };
  return { broker, hangups: () => hangups };
}

/** Lets I/O and promise callbacks run until `done()` holds; the test's timeout bounds it. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setImmediate(resolve));
}

async function closeDuringBackoff(t: TestContext, transactionalId?: string): Promise<void> {
  // Only the backoff's timer: far longer than anything else the producer arms here.
  const backoffs = trackTimers(t, SHORTEST_BACKOFF_MS);
  // So that the test ends even where close leaves the backoff armed: its failure is the assertion below.
  t.after(() => {
    for (const handle of backoffs) clearTimeout(handle as NodeJS.Timeout);
  });
  const { broker, hangups } = await hangingUpBroker(t, transactionalId !== undefined);
  const producer = new Producer({
    brokers: broker.address, workers: 1, transactionalId,
    retryBackoffMs: BACKOFF_MS, retryBackoffMaxMs: BACKOFF_MS, bufferTimeoutMs: 4 * BACKOFF_MS, requestTimeoutMs: 60_000,
  });
  const connecting = producer.connect().then(() => undefined, (error: unknown) => error);
  const backoffArmed = (): boolean => backoffs.size > 0;
  await until(() => hangups() === 1 && backoffArmed());
  await producer.close({ timeoutMs: 0 });
  const error = await connecting;
  assert.ok(error instanceof ProducerClosedError && error.delivery === 'not-sent', String(error));
  assert.equal(backoffArmed(), false, 'the backoff timer went with close (it kept the process alive for retryBackoffMs)');
  assert.equal(hangups(), 1, 'no attempt after close');
}

test('an idempotent producer: close during the backoff after the broker hung up on InitProducerId ends it', { timeout: 30_000 }, async (t) => {
  await closeDuringBackoff(t);
});

test('a transactional producer: close during the backoff after its coordinator hung up on InitProducerId ends it', { timeout: 30_000 }, async (t) => {
  await closeDuringBackoff(t, 'tx-hangup');
});
