/**
 * Which record failures end a `ringkafka` command's run: those every later record of the run would meet the same
 * way. Reading on past one of them only repeated it: `produce --topic` with a typo waited the producer's
 * bufferTimeoutMs (60 s) for each group of lines, so 20,000 lines took three minutes and a large input hours.
 *
 * A transient failure (a full buffer, a delivery timeout, a lost connection, a leader election) does not end the
 * run: the records after it may well get through, and a long-running pipe (`tail -f app.log | ringkafka produce`)
 * must outlive a broker restart.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import { BrokerError, ConfigError } from '../shared/errors.js';
import { AuthenticationError, ProducerClosedError, UnknownTopicError, WorkerStartError } from '../shared/producer-errors.js';

/** Topic-wide refusals a Produce answer may carry: no record of the run's topic will be taken either. */
const PERMANENT_BROKER_CODES: ReadonlySet<number> = new Set([
  ErrorCode.TOPIC_AUTHORIZATION_FAILED,
  ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
]);

/** True when `reason` will fail every later record of the run the same way. */
export function isPermanent(reason: unknown): boolean {
  if (reason instanceof UnknownTopicError) {
    // Not retriable: an invalid name or a topic not allowed. Retriable, it is raised only after the producer asked
    // for the topic's metadata for its whole bufferTimeoutMs; when the cluster answered all that time that there is
    // no such topic (a typo, topic creation off), the next group only waits as long again. Another reason (no
    // answer at all, no leader yet) is the cluster's trouble, not the topic's: it may pass.
    return !reason.retriable || reason.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  }
  if (reason instanceof BrokerError) return PERMANENT_BROKER_CODES.has(reason.errorCode);
  // Credentials, a closed producer, a configuration it cannot use (a compression codec whose package did not load),
  // workers that cannot start: the same for every record.
  return reason instanceof AuthenticationError || reason instanceof ProducerClosedError || reason instanceof ConfigError ||
    reason instanceof WorkerStartError;
}
