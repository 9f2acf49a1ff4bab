/**
 * ringkafka in its own process, like every peer, so CPU seconds and peak RSS are its own.
 *
 * Driven as an ingestion service would: records arrive in groups of about `chunkBytes` (10,485 records of 100 B:
 * a large request, the driver's best case; `callRecords` sets another size), each group goes to `sendBatch`, and
 * groups holding up to `bufferBytes` are outstanding at once, so the producer's own byte budget is what pushes back,
 * as the native clients' buffers do for them. One record in `sampleEvery` goes through `send` instead, timed from
 * the call to its result.
 */
import { readFileSync } from 'node:fs';
// The compiled package, as users run it (`npm run bench` builds it first); not the TypeScript sources.
import { Producer, type ProducerOptions } from 'ringkafka';
import { paced } from '../lib/pacing.js';
import { callPlan, inWindows, readConfig, reportUnsupported, runClient, type Driver, type RunOutcome } from './harness.js';
import { produceInTransactions, transactionSupport } from './ringkafka-txn.js';

const config = readConfig();
const perTransaction = config.scenario.transactionRecords;
if (perTransaction !== undefined) {
  // checked before construction: a build without transactions rejects the transactionalId option as unknown
  const unsupported = transactionSupport(Producer);
  if (unsupported !== undefined) reportUnsupported(unsupported);
}
const options: ProducerOptions = {
  ...(perTransaction !== undefined && { transactionalId: `${config.topic}-txn` }),
  ...(config.workers !== undefined && { workers: config.workers }),
  ...(config.tls !== undefined && {
    tls: { ca: readFileSync(config.tls.ca), cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) },
  }),
  brokers: [...config.brokers],
  clientId: 'ringkafka-bench',
  acks: 'all',
  idempotent: true,
  compression: config.scenario.compression,
  lingerMs: config.lingerMs,
  batchMaxBytes: config.batchBytes,
  maxBufferedBytes: config.bufferBytes,
  maxBufferedRecords: config.bufferRecords,
};
const producer = new Producer(options);
await producer.connect();

const { perCall, window } = callPlan(config, config.chunkBytes);
const topic = config.topic;

const driver: Driver = {
  settings: [
    `lingerMs=${config.lingerMs}`, `batchMaxBytes=${config.batchBytes}`, `maxBufferedBytes=${config.bufferBytes}`,
    `maxBufferedRecords=${config.bufferRecords}`, "acks='all'", 'idempotent=true', `workers=${producer.metrics().workers}`,
    perTransaction !== undefined
      ? `producer.transaction() per ${perTransaction} records, committed, its records in tx.sendBatch calls of ${perCall} records`
      : config.scenario.rate !== undefined ? `one send() per record, due at ${config.scenario.rate}/s` : `sendBatch calls of ${perCall} records with results: 'failures', up to ${window} outstanding`,
    "partitioner='default' (murmur2 for keys, uniform sticky for null keys)",
    ...(config.tls !== undefined ? ['tls: { ca, cert, key } (mutual TLS)'] : []),
  ],
  latencyNote:
    perTransaction !== undefined
      ? 'per transaction: producer.transaction() called to resolved (committed), every transaction'
      : config.scenario.rate !== undefined
      ? 'each record from its due time to its send() result, every record (one send() per record)'
      : `send() to its result, 1 in ${config.sampleEvery} records`,

  async produce(from, count, { values, keys }, latency): Promise<RunOutcome> {
    if (perTransaction !== undefined) return produceInTransactions(producer, topic, { from, count, perTransaction, perCall }, { values, keys }, latency);
    let errors = 0;
    let firstError: string | undefined;
    const fail = (reason: unknown): void => {
      errors++;
      firstError ??= reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
    };
    const recordOf = (i: number): { topic: string; key?: Buffer; value: Buffer } =>
      keys === undefined ? { topic, value: values[i % values.length]! } : { topic, key: keys[i % keys.length]!, value: values[i % values.length]! };
    if (config.scenario.rate !== undefined) {
      // a service's way at these rates: one send() per record as it arrives, each awaited on its own
      await paced(count, config.scenario.rate, Infinity, async (first, end, dueAt) => {
        const sends: Promise<void>[] = [];
        for (let j = first; j < end; j++) sends.push(producer.send(recordOf(from + j)).then(() => latency?.add(performance.now() - dueAt(j)), fail));
        await Promise.all(sends);
      });
      return { errors, firstError };
    }
    const calls = Math.ceil(count / perCall);
    await inWindows(calls, window, async (call) => {
      const start = from + call * perCall;
      const end = Math.min(from + count, start + perCall);
      const batch: { topic: string; key?: Buffer; value: Buffer }[] = [];
      const timed: Promise<void>[] = [];
      for (let i = start; i < end; i++) {
        const record = recordOf(i);
        if (latency !== undefined && i % config.sampleEvery === 0) {
          const sent = performance.now();
          timed.push(producer.send(record).then(() => latency.add(performance.now() - sent), fail));
        } else batch.push(record);
      }
      // Failures are all it reads, so it asks for nothing else (no result object per delivered record).
      const [outcome] = await Promise.all([producer.sendBatch(batch, { results: 'failures' }), ...timed]);
      // A build from before `results: 'failures'` ignores the option and resolves with every result.
      const settled = outcome as unknown;
      if (Array.isArray(settled)) {
        for (const result of settled as PromiseSettledResult<unknown>[]) if (result.status === 'rejected') fail(result.reason);
      } else for (const failure of outcome.failures) fail(failure.reason);
    });
    return { errors, firstError };
  },

  close: () => producer.close(),
};

await runClient(config, driver);
