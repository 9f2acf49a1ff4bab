/**
 * How long before the main thread gives up on records a worker holds (their delivery deadline, or close's) the worker
 * fails those that no broker may hold, so that they reach the main thread as `'not-sent'` in time. The main thread
 * only knows that a record was sealed into a batch and would say `'unknown'`, which a caller cannot resend without
 * risking a duplicate (invariant 5, docs/invariants.md). The lead covers a record's wait in the ring before its
 * worker read it, the report's way back, and a late timer on a busy thread: at most 250 ms, and at most an eighth of
 * the span it is taken from, so a short timeout keeps most of its time.
 */
export const REPORT_LEAD_MAX_MS = 250;

/** The lead for a deadline `spanMs` after the moment it counts from. */
export function reportLead(spanMs: number): number {
  return Math.min(REPORT_LEAD_MAX_MS, Math.max(0, spanMs) / 8);
}
