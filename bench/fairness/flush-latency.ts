/**
 * Flush latency with a linger no flush should ever wait for: the real Producer against the broker, lingerMs 10
 * minutes, one record and one flush() per round. flush() tells the worker to stop lingering (FLUSHES, then a
 * wake of its ring); a wake lost against a worker going to sleep leaves the record in its open batch for the
 * whole linger. A flush that has not ended after `flushStuckMs` is counted as one that waited for the linger,
 * and is abandoned (its signal aborts) so the run goes on; the next flush's wake-up then sends the record.
 */
import { Producer } from '../../src/main/producer.js';
import type { Topics } from '../lib/topics.js';
import { seededRandom } from '../lib/stats.js';
import { Observations, type FairnessRow } from './measure.js';
import type { Plan } from './plan.js';

const LINGER_MS = 10 * 60 * 1000;

export async function flushLatencyBroker(brokers: readonly string[], topics: Topics, plan: Plan): Promise<FairnessRow> {
  const topic = `fairness-flush-${Date.now().toString(36)}`;
  await topics.create(topic, 1);
  const producer = new Producer({
    brokers: [...brokers], clientId: 'ringkafka-fairness', lingerMs: LINGER_MS, deliveryTimeoutMs: 2 * LINGER_MS, workers: 1,
  });
  const observations = new Observations();
  const random = seededRandom(11);
  const value = Buffer.alloc(100, 'f');
  const started = performance.now();
  try {
    // Connect and load the topic's metadata first (flushed: it would linger too).
    await Promise.all([producer.send({ topic, partition: 0, value }), producer.flush()]);
    for (let i = 0; i < plan.flushes; i++) {
      const sent = producer.send({ topic, partition: 0, value }).catch(() => undefined);
      await Promise.resolve(); // the record reaches the ring (its commit is a microtask)
      // A random 0–100 µs gap lets the worker be anywhere between reading the record and falling asleep when the
      // flush begins — the window in which a wake-up can be lost.
      const gapEnd = performance.now() + random() * 0.1;
      while (performance.now() < gapEnd);
      const asked = performance.now();
      const signal = AbortSignal.timeout(plan.flushStuckMs);
      const flushed = await producer.flush({ signal }).then(() => true, () => false);
      observations.waitsMs.push(performance.now() - asked);
      if (flushed) observations.completed++;
      else observations.lostWakeups++;
      await sent;
    }
  } finally {
    await producer.close({ timeoutMs: 10_000 });
    await topics.delete(topic);
  }
  return observations.summarise(
    'flush-linger-10min/broker',
    plan.flushes,
    performance.now() - started,
    `${plan.flushes} rounds of send(100 B) + flush() with lingerMs 10 min, one worker; wait = flush() latency; ` +
      `lost wake-ups = flushes still waiting after ${plan.flushStuckMs} ms (they would have waited for the linger)`,
    false,
    false,
  );
}
