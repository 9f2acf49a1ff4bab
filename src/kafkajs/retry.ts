/**
 * KafkaJS's `retry` settings → ringkafka's backoff and delivery timeout. KafkaJS counts retries per request;
 * ringkafka, like the Java client, retries until `deliveryTimeoutMs` runs out. `retries: n` therefore becomes the
 * longest time n retries could take under KafkaJS's own schedule: n + 1 requests that each wait out the request
 * timeout, the n backoff waits between them, and one linger before the first.
 */
import type { ProducerOptions } from '../main/options.js';
import { MAX_TIMER_MS } from '../shared/timers.js';
import { refuse, shown } from './refuse.js';
import type { RetryOptions } from './types.js';

/** ringkafka's backoff doubles with ±20 % jitter: the KafkaJS settings that say the same are accepted. */
const MULTIPLIER = 2;
const FACTOR = 0.2;
/** The defaults the timeout sum uses when a setting is left out: ringkafka's, which are what applies then. */
const DEFAULTS = { lingerMs: 5, requestTimeoutMs: 30_000, retryBackoffMs: 100, retryBackoffMaxMs: 1000 };
/**
 * KafkaJS's default maxRetryTime, the ceiling once `initialRetryTime` is given without one: ringkafka's 1 s default
 * cut a KafkaJS first wait of 5 s down to 1 s without a word.
 */
const KAFKAJS_MAX_RETRY_TIME = 30_000;

const KNOWN = new Set(['maxRetryTime', 'initialRetryTime', 'factor', 'multiplier', 'retries', 'restartOnFailure']);

/** The ringkafka options for `retry`, given the rest of the producer's options (for the request timeout and linger). */
export function retryOptions(retry: RetryOptions | undefined, field: string, base: ProducerOptions): ProducerOptions {
  if (retry === undefined) return {};
  for (const name of Object.keys(retry)) if (!KNOWN.has(name)) refuse(`${field}.${name}`, 'is not a KafkaJS retry setting');
  if (retry.restartOnFailure !== undefined) refuse(`${field}.restartOnFailure`, 'is a consumer setting; a producer has nothing to restart');
  if (retry.multiplier !== undefined && retry.multiplier !== MULTIPLIER) {
    refuse(`${field}.multiplier`, `must be ${MULTIPLIER} (ringkafka doubles the wait per retry), got ${shown(retry.multiplier)}`);
  }
  if (retry.factor !== undefined && retry.factor !== FACTOR) {
    refuse(`${field}.factor`, `must be ${FACTOR} (ringkafka's jitter is ±20 %), got ${shown(retry.factor)}`);
  }
  const backoff = backoffOptions(retry, field, base);
  if (retry.retries === undefined) return backoff;
  // A count (or Infinity, which KafkaJS takes as "never give up"): 2.5 passed and became the timeout of two and a half
  // retries, which no KafkaJS setting means.
  const retries: unknown = retry.retries;
  if (typeof retries !== 'number' || !(Number.isInteger(retries) || retries === Infinity) || retries < 0) {
    refuse(`${field}.retries`, `must be an integer >= 0 or Infinity, got ${shown(retries)}`);
  }
  // ringkafka's own options (in base only when the caller gave them) win over the mapped backoff, so the sum uses them.
  return { ...backoff, deliveryTimeoutMs: deliveryTimeoutFor(retry.retries, { ...DEFAULTS, ...backoff, ...definedOnly(base) }) };
}

/**
 * `initialRetryTime` and `maxRetryTime` → ringkafka's backoff. Without an initialRetryTime ringkafka's pair applies
 * (100 ms up to 1 s); with one, the ceiling is KafkaJS's. An initialRetryTime above the ceiling is refused: KafkaJS
 * waits it once and then the ceiling, ringkafka would wait the ceiling from the first retry, so the setting would
 * quietly not be what happens.
 */
function backoffOptions(retry: RetryOptions, field: string, base: ProducerOptions): { retryBackoffMs?: number; retryBackoffMaxMs?: number } {
  const initial = retry.initialRetryTime;
  if (initial === undefined) return retry.maxRetryTime === undefined ? {} : { retryBackoffMaxMs: retry.maxRetryTime };
  const max = retry.maxRetryTime ?? KAFKAJS_MAX_RETRY_TIME;
  // A ringkafka retryBackoffMaxMs given with it is the caller's choice, with ringkafka's meaning.
  if (base.retryBackoffMaxMs === undefined && typeof initial === 'number' && typeof max === 'number' && initial > max) {
    const maxText = retry.maxRetryTime === undefined ? `${max}, KafkaJS's default` : String(max);
    refuse(
      `${field}.initialRetryTime (${initial})`,
      `is above ${field}.maxRetryTime (${maxText}): ringkafka would wait maxRetryTime from the first retry on; raise maxRetryTime to at least initialRetryTime`,
    );
  }
  return { retryBackoffMs: initial, retryBackoffMaxMs: max };
}

function deliveryTimeoutFor(
  retries: number,
  s: { lingerMs: number; requestTimeoutMs: number; retryBackoffMs: number; retryBackoffMaxMs: number },
): number {
  let total = s.lingerMs + s.requestTimeoutMs;
  for (let i = 0; i < retries && total < MAX_TIMER_MS; i++) {
    total += s.requestTimeoutMs + Math.min(s.retryBackoffMaxMs, s.retryBackoffMs * MULTIPLIER ** Math.min(i, 30));
  }
  return Math.min(MAX_TIMER_MS, Math.ceil(total));
}

function definedOnly(options: ProducerOptions): Partial<typeof DEFAULTS> {
  const { lingerMs, requestTimeoutMs, retryBackoffMs, retryBackoffMaxMs } = options;
  return Object.fromEntries(
    Object.entries({ lingerMs, requestTimeoutMs, retryBackoffMs, retryBackoffMaxMs }).filter(([, v]) => typeof v === 'number'),
  );
}
