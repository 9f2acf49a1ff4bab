/**
 * The one way the facade turns down a KafkaJS setting it cannot honour: a KafkaJSNonRetriableError that names the
 * field and says why, thrown when the setting is given (at `kafka.producer()`, or at the call for per-call fields),
 * never a setting quietly dropped.
 */
import { KafkaJSNonRetriableError } from './errors.js';

/** Throws the refusal of `field`; `why` completes the sentence "ringkafka/kafkajs: {field} …". */
export function refuse(field: string, why: string): never {
  throw new KafkaJSNonRetriableError(`ringkafka/kafkajs: ${field} ${why}`);
}
