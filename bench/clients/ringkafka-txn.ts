/**
 * ringkafka's side of the transactional scenario (`100B-txn`): one `producer.transaction()` per
 * `transactionRecords` records, one after the other (a transactional producer has one transaction open at a time),
 * each handing its records over in sendBatch calls of about `chunkBytes` (or `callRecords`), all outstanding
 * together. Latency is per transaction, from the call until the commit resolved, as the Java and franz-go drivers
 * time theirs.
 *
 * The transaction API is reached through the structural types below, not the package's declarations, so the bench
 * can still run an older build (comparing two builds): one without it is reported as unsupported
 * (`transactionSupport`), never a failure.
 */
import type { Producer } from 'ringkafka';
import type { LatencySamples, RecordData, RunOutcome } from './harness.js';

interface BenchRecord {
  readonly topic: string;
  readonly key?: Buffer;
  readonly value: Buffer;
}

interface TransactionLike {
  sendBatch(records: readonly BenchRecord[]): unknown;
}

interface TransactionalProducer {
  transaction(work: (tx: TransactionLike) => Promise<void>): Promise<unknown>;
}

/** Why this build cannot run the transactional scenario, or undefined when it has `producer.transaction()`. */
export function transactionSupport(producerClass: { readonly prototype: object }): string | undefined {
  const transaction = (producerClass.prototype as Record<string, unknown>).transaction;
  return typeof transaction === 'function' ? undefined : 'this build of ringkafka has no producer.transaction() yet';
}

/** Settled results of one sendBatch, however many of them failed; anything else a sendBatch resolved with is none. */
function rejectedOf(result: unknown): unknown[] {
  if (!Array.isArray(result)) return [];
  return (result as PromiseSettledResult<unknown>[]).filter((r) => r?.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason);
}

export async function produceInTransactions(
  producer: Producer,
  topic: string,
  options: { readonly from: number; readonly count: number; readonly perTransaction: number; readonly perCall: number },
  { values, keys }: RecordData,
  latency: LatencySamples | undefined,
): Promise<RunOutcome> {
  const transactional = producer as unknown as TransactionalProducer;
  const { from, count, perTransaction, perCall } = options;
  let errors = 0;
  let firstError: string | undefined;
  const recordOf = (i: number): BenchRecord =>
    keys === undefined ? { topic, value: values[i % values.length]! } : { topic, key: keys[i % keys.length]!, value: values[i % values.length]! };
  for (let first = from; first < from + count; first += perTransaction) {
    const end = Math.min(from + count, first + perTransaction);
    const began = performance.now();
    try {
      await transactional.transaction(async (tx) => {
        const calls: unknown[] = [];
        for (let start = first; start < end; start += perCall) {
          const batch: BenchRecord[] = [];
          for (let i = start; i < Math.min(end, start + perCall); i++) batch.push(recordOf(i));
          calls.push(tx.sendBatch(batch));
        }
        const rejected = (await Promise.all(calls)).flatMap(rejectedOf);
        // a failed record must abort its transaction: throwing out of the callback is how the caller asks for that
        if (rejected.length > 0) throw rejected[0];
      });
      latency?.add(performance.now() - began);
    } catch (error) {
      errors += end - first;
      firstError ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
  }
  return { errors, firstError };
}
