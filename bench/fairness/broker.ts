/**
 * The same fairness scenarios through the real Producer against the broker: its byte budget, workers, batching
 * and acknowledgements all in the loop.
 *
 * From outside the producer a grant cannot be seen, but its order can: every record goes to partition 0 of a
 * fresh one-partition topic, one worker owns it and sends its batches in order, so offsets follow the order in
 * which records were admitted. A record with a lower offset than one requested before it overtook that one.
 * "Wait" here is `send()` to its result (buffer wait + delivery); wake latency is not visible and is left out.
 */
import { Producer } from '../../src/main/producer.js';
import type { ProducerOptions } from '../../src/main/options.js';
import type { Topics } from '../lib/topics.js';
import { Observations, type FairnessRow } from './measure.js';
import { logUniformSizes, shuffled, type Plan } from './plan.js';

/** The broker's default message.max.bytes is 1 MiB + 12 B including batch overhead: 1 MB values fit, 1 MiB do not. */
const LARGEST = 1_000_000;
const VALUES = Buffer.alloc(LARGEST, 'x');

interface Run {
  readonly producer: Producer;
  readonly topic: string;
  readonly observations: Observations;
  /** [request number, offset] per acknowledged record. */
  readonly offsets: [number, number][];
  /** Sends one record of `bytes` to partition 0, recording its wait and offset; resolves when it has its result. */
  send(bytes: number): Promise<void>;
}

async function open(brokers: readonly string[], topics: Topics, name: string, options: ProducerOptions): Promise<Run> {
  const topic = `fairness-${name}-${Date.now().toString(36)}`;
  await topics.create(topic, 1);
  const producer = new Producer({ brokers: [...brokers], clientId: 'ringkafka-fairness', bufferTimeoutMs: 600_000, ...options });
  // connect and load the topic's metadata first, so the first measured sends do not all wait for it
  await producer.send({ topic, partition: 0, value: VALUES.subarray(0, 1) });
  const observations = new Observations();
  const offsets: [number, number][] = [];
  return {
    producer,
    topic,
    observations,
    offsets,
    async send(bytes) {
      const request = observations.request();
      const asked = performance.now();
      const metadata = await producer.send({ topic, partition: 0, value: VALUES.subarray(0, bytes) });
      observations.waitsMs.push(performance.now() - asked);
      observations.completed++;
      offsets.push([request, metadata.offset]);
    },
  };
}

/**
 * Waits for `work` or the deadline. Sends still waiting for buffer space at the deadline are lost wake-ups (the
 * producer had until then to deliver what it held and wake them). Then the producer is closed, which settles
 * every send, and the topic is deleted.
 */
async function finish(run: Run, topics: Topics, work: Promise<unknown>, deadlineMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), deadlineMs)));
  const outcome = await Promise.race([work.then(() => 'done' as const, () => 'failed' as const), deadline]);
  clearTimeout(timer);
  if (outcome === 'deadline') run.observations.lostWakeups += run.producer.metrics().waiters;
  await run.producer.close({ timeoutMs: 10_000 });
  await work.catch(() => undefined);
  // grant order as the log shows it: request numbers sorted by offset
  run.observations.grantOrder.push(...run.offsets.sort((a, b) => a[1] - b[1]).map(([request]) => request));
  await topics.delete(run.topic);
}

export async function lostWakeUpBroker(brokers: readonly string[], topics: Topics, plan: Plan): Promise<FairnessRow> {
  const run = await open(brokers, topics, 'lost-wake-up', { maxBufferedBytes: 100 });
  const started = performance.now();
  const rounds = (async () => {
    for (let round = 0; round < plan.brokerLostWakeupRounds; round++) {
      await Promise.all([run.send(100), run.send(50), run.send(50)]);
    }
  })();
  await finish(run, topics, rounds, plan.brokerDeadlineMs);
  return run.observations.summarise(
    'lost-wake-up/broker',
    3 * plan.brokerLostWakeupRounds,
    performance.now() - started,
    `${plan.brokerLostWakeupRounds} rounds of 100+50+50 B, maxBufferedBytes 100; wait = send() to ack`,
    false,
    false,
  );
}

export async function manySendersBroker(brokers: readonly string[], topics: Topics, plan: Plan): Promise<FairnessRow> {
  const run = await open(brokers, topics, 'senders', { maxBufferedBytes: 4 * 1024 * 1024 });
  const sizes = logUniformSizes(plan.brokerRecordsPerSender, 100, LARGEST, 7);
  const started = performance.now();
  const senders = Promise.all(
    Array.from({ length: plan.senders }, async (_, sender) => {
      for (const bytes of shuffled(sizes, 1000 + sender)) {
        await run.send(bytes);
        run.observations.senderProgress(sender, bytes, started, performance.now());
      }
    }),
  );
  await finish(run, topics, senders, plan.brokerDeadlineMs);
  return run.observations.summarise(
    `${plan.senders}-senders/broker`,
    plan.senders * plan.brokerRecordsPerSender,
    performance.now() - started,
    `${plan.senders} senders × ${plan.brokerRecordsPerSender} records of 100 B..1 MB, maxBufferedBytes 4 MiB, each awaiting its ack; ` +
      'wait = send() to ack; Jain over acknowledged bytes/s',
    true,
    false,
  );
}

export async function floodBehindHugeBroker(brokers: readonly string[], topics: Topics, plan: Plan): Promise<FairnessRow> {
  const run = await open(brokers, topics, 'flood', { maxBufferedBytes: 1024 * 1024 });
  const started = performance.now();
  const smallSends: Promise<void>[] = [];
  const floodFrom = (sender: number, count: number): void => {
    for (let i = 0; i < count; i++) {
      smallSends.push(run.send(100).then(() => run.observations.senderProgress(sender, 100, started, performance.now())));
    }
  };
  for (let sender = 0; sender < plan.floodSenders; sender++) floodFrom(sender, plan.brokerFloodBefore);
  const hugeAsked = performance.now();
  let hugeWaitMs = Number.NaN;
  const huge = run.send(LARGEST).then(() => (hugeWaitMs = performance.now() - hugeAsked));
  for (let sender = 0; sender < plan.floodSenders; sender++) floodFrom(sender, plan.brokerFloodAfter);
  await finish(run, topics, Promise.all([...smallSends, huge]), plan.brokerDeadlineMs);
  return run.observations.summarise(
    'flood-behind-huge/broker',
    plan.floodSenders * (plan.brokerFloodBefore + plan.brokerFloodAfter) + 1,
    performance.now() - started,
    `${plan.floodSenders} senders × ${plan.brokerFloodBefore} × 100 B, then one 1 MB record, then ${plan.brokerFloodAfter} × 100 B more each, ` +
      `maxBufferedBytes 1 MiB; the huge record waited ${hugeWaitMs.toFixed(1)} ms (send to ack); Jain over the small senders`,
    true,
    false,
  );
}
