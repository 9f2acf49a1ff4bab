/**
 * What this package's KafkaJS layer (src/kafkajs/) and CLI (src/cli/) need of a Producer beyond its public API. Not
 * exported by the package. The Producer's static block, the one place that can reach its private fields, hands these
 * over once through `provideProducerInternals`.
 */
import type { Producer } from './producer.js';
import type { FailureSettler } from './settlers.js';
import type { ProducerRecord } from './serialize.js';
import type { TransactionState } from './transactions/transaction-manager.js';
import type { SendBatchFailures } from './types.js';

export interface ProducerInternals {
  readonly reach: (producer: Producer, signal: AbortSignal | undefined) => Promise<void>;
  readonly batchThrough: (
    producer: Producer, records: readonly ProducerRecord[], settlerFor: (count: number) => FailureSettler, signal: AbortSignal | undefined,
  ) => Promise<SendBatchFailures>;
  readonly stateOfTransactions: (producer: Producer) => TransactionState | undefined;
  readonly connectFailure: (producer: Producer) => string | undefined;
}

let internals: ProducerInternals | undefined;

export function provideProducerInternals(provided: ProducerInternals): void {
  internals = provided;
}

/** Set before any Producer exists: the class's static block runs when producer.ts is evaluated. */
function producerInternals(): ProducerInternals {
  if (internals === undefined) throw new Error('the Producer class has not been evaluated');
  return internals;
}

/**
 * Resolves once a broker of the cluster has answered (the producer's metadata connection is open: ApiVersions and
 * authentication done); rejects as that connection does when none can be reached. For the KafkaJS layer, whose
 * `connect()` fails against an unreachable cluster as KafkaJS's does; a ringkafka producer that is not idempotent
 * only starts its workers in `connect()`, and its sends wait for the cluster up to bufferTimeoutMs.
 */
export function reachCluster(producer: Producer, signal?: AbortSignal): Promise<void> {
  return producerInternals().reach(producer, signal);
}

/**
 * `producer.sendBatch(records, { results: 'failures', signal })`, settled through the settler `settlerFor` makes:
 * a FailureSettler whose subclass notes what its caller needs of each delivered record as it is reported. For the
 * KafkaJS layer, which answers a send with each partition's first offset and would otherwise need a result object
 * per record to find them (src/kafkajs/partition-offsets.ts).
 *
 * Made for the records actually submitted, not for `records`: a tracing observer may hand on other records (the
 * sendBatch channel's `records`), and a settler counting down from the caller's count would then never finish.
 */
export function sendBatchThrough(
  producer: Producer, records: readonly ProducerRecord[], settlerFor: (count: number) => FailureSettler, signal?: AbortSignal,
): Promise<SendBatchFailures> {
  return producerInternals().batchThrough(producer, records, settlerFor, signal);
}

/**
 * The state of `producer`'s transactions (src/main/transactions/transaction-manager.ts), undefined without a
 * `transactionalId`. For the KafkaJS layer, whose `transaction.isActive()` must turn false once the transaction it
 * began can no longer end (the producer fenced, say) though nobody called commit or abort.
 */
export function transactionStateOf(producer: Producer): TransactionState | undefined {
  return producerInternals().stateOfTransactions(producer);
}

/**
 * Why `producer`'s last attempt at the cluster failed, while it waits to try again; undefined before any attempt
 * failed and once one succeeded. For the CLI, which tells a user waiting for a cluster that refuses them why, not
 * only that there is no answer yet (src/cli/connect-notice.ts).
 */
export function connectFailure(producer: Producer): string | undefined {
  return producerInternals().connectFailure(producer);
}
