/**
 * The one retry backoff of the producer, Java's (ExponentialBackoff with retry.backoff.ms, retry.backoff.max.ms,
 * multiplier 2 and jitter 0.2): every retry loop, on either thread, waits the same way. Connecting again to a broker
 * out of reach waits the same way with the reconnect settings (reconnectDelayMs), as Java's reconnect.backoff.ms.
 */
import { MAX_TIMER_MS } from './timers.js';

export interface BackoffSettings {
  /** The first pause. */
  readonly retryBackoffMs: number;
  /** The longest pause before jitter. */
  readonly retryBackoffMaxMs: number;
}

/** Doublings beyond this change nothing for any settable retryBackoffMs, and keep 2 ** n finite. */
const MAX_DOUBLINGS = 20;
/** ±20 %: retries of many clients (or partitions) that failed together spread out instead of arriving together. */
const JITTER = 0.2;

/**
 * The pause before retry number `attempt` (0 for the first retry): retryBackoffMs doubled per earlier attempt, at
 * most retryBackoffMaxMs, then scaled by a random factor in [0.8, 1.2). `random` returns a number in [0, 1).
 *
 * Never over MAX_TIMER_MS: the settings may be that large, and the jitter above it made a timer of 1 ms instead
 * (Node's overflow rule), so a worker with a batch to retry re-armed the same pause every millisecond.
 */
export function backoffMs(attempt: number, settings: BackoffSettings, random: () => number = Math.random): number {
  const doublings = Math.min(MAX_DOUBLINGS, Math.max(0, attempt));
  const exponential = Math.min(settings.retryBackoffMaxMs, settings.retryBackoffMs * 2 ** doublings);
  return Math.min(MAX_TIMER_MS, exponential * (1 - JITTER + random() * 2 * JITTER));
}

/** The producer's reconnect settings (ProducerOptions.reconnectBackoffMs, reconnectBackoffMaxMs). */
export interface ReconnectSettings {
  readonly reconnectBackoffMs: number;
  readonly reconnectBackoffMaxMs: number;
}

/** The pause before connecting again after `failures` failed attempts in a row (≥ 1): backoffMs with those settings. */
export function reconnectDelayMs(failures: number, settings: ReconnectSettings, random: () => number = Math.random): number {
  return backoffMs(failures - 1, { retryBackoffMs: settings.reconnectBackoffMs, retryBackoffMaxMs: settings.reconnectBackoffMaxMs }, random);
}
