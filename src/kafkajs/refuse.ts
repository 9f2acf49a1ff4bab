/**
 * The one way the facade turns down a KafkaJS setting it cannot honour: a KafkaJSNonRetriableError that names the
 * field and says why, thrown when the setting is given (at `kafka.producer()`, or at the call for per-call fields),
 * never a setting quietly dropped.
 */
import { KafkaJSNonRetriableError } from './errors.js';

/**
 * A setting's value as a refusal shows it: a string quoted, so `'3'` does not read as the number 3 it failed to be,
 * and a bigint with its `n`.
 */
export function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  return String(value);
}

/** Throws the refusal of `field`; `why` completes the sentence "ringkafka/kafkajs: {field} …". */
export function refuse(field: string, why: string): never {
  throw new KafkaJSNonRetriableError(`ringkafka/kafkajs: ${field} ${why}`);
}
