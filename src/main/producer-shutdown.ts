/**
 * The order in which a producer closes (`Producer.close`): the open transaction aborted, a flush, then what is still
 * pending failed, the connection attempt stopped, the workers closed, and last the threads, tokens, coordinators
 * and sockets released. Every step waits within close's deadline and its signal, and whatever has no result by
 * then fails with ProducerClosedError: close always ends, and every promise is settled (invariant 2,
 * docs/invariants.md).
 */
import type { ControlBlock } from '../shared/control-block.js';
import { ProducerClosedError } from '../shared/producer-errors.js';
import { reportLead } from '../shared/report-lead.js';
import { CloseLimits } from './close-limits.js';
import { untilDeadline } from './deadlines.js';
import type { Deliveries } from './deliveries.js';
import type { OAuthTokens } from './oauth-tokens.js';
import type { RecordIntake } from './record-intake.js';
import type { TopicRegistry } from './topic-registry.js';
import type { Coordinators } from './transactions/coordinators.js';
import type { TransactionManager } from './transactions/transaction-manager.js';
import type { CloseOptions } from './types.js';
import type { WorkerGroup } from './worker-group.js';

/** What closing touches: the producer's parts, and the two controllers only close may abort. */
export interface ShutdownParts {
  readonly intake: RecordIntake;
  readonly control: ControlBlock;
  readonly deliveries: Deliveries;
  readonly workers: WorkerGroup;
  readonly registry: TopicRegistry;
  readonly transactions: TransactionManager | undefined;
  readonly coordinators: Coordinators | undefined;
  readonly tokens: OAuthTokens | undefined;
  readonly deliveryTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** The producer's own flush, run before anything is failed. */
  readonly flush: () => Promise<void>;
  /** The connection attempt under way, read once nothing new can start one. */
  readonly connecting: () => Promise<void> | undefined;
  /**
   * Aborted once nothing waits for the connection: an attempt still waiting for its producer id then ends, rather
   * than wait out requestTimeoutMs on a cluster that does not answer (close({ timeoutMs: 0 }) took 30 s so).
   */
  readonly stopConnecting: AbortController;
  /** Ends the settle loop, once every record is settled. */
  readonly stopLoop: AbortController;
}

/**
 * Close's deadline for `timeoutMs` (epoch ms), at most 2^53-1: a worker keeps no deadline later than that
 * (src/workers/close-times.ts), and never began to close. With a deadline the workers stop sending a lead before it
 * (reportLead): from then they fail every batch that never left, and their 'not-sent' reaches this thread before the
 * deadline, where failing what is left it knows only that a record was sealed, and says 'unknown'.
 */
function timesFor(timeoutMs: number | undefined): { sendUntil: number; deadline: number } {
  if (timeoutMs === undefined) return { sendUntil: Number.POSITIVE_INFINITY, deadline: Number.POSITIVE_INFINITY };
  const deadline = Math.min(Number.MAX_SAFE_INTEGER, Date.now() + timeoutMs);
  return { sendUntil: deadline - reportLead(timeoutMs), deadline };
}

/** The first close's limits; a later close brings them forward (hurryClose). */
export function closeLimitsFor({ timeoutMs }: CloseOptions): CloseLimits {
  const { sendUntil, deadline } = timesFor(timeoutMs);
  return new CloseLimits(sendUntil, deadline);
}

export async function shutdownProducer(parts: ShutdownParts, options: CloseOptions, limits = closeLimitsFor(options)): Promise<void> {
  const { signal } = options;
  const onAbort = (): void => limits.passNow();
  if (signal?.aborted === true) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await shutdownWithin(parts, limits, options.timeoutMs !== undefined);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    limits.clear();
  }
}

async function shutdownWithin(parts: ShutdownParts, limits: CloseLimits, timed: boolean): Promise<void> {
  const { intake, deliveries, workers, transactions } = parts;
  intake.close(); // no new sends from here
  parts.control.setClosing();
  // The workers hear of the cut-off now and keep it by their own clocks. It bounds the open transaction's end below
  // too: a batch of it not sent by then fails 'not-sent', so its abort waits no longer, and a commit under way with
  // a batch not sent by then fails, and is aborted (by close before the deadline, or else by the coordinator's
  // timeout).
  if (timed) workers.cutOff(limits.sendUntil);
  // Each wait below ends when its time passes or a close's signal aborts (the limits' signals), read as it begins: a
  // later close may have brought the times forward meanwhile.
  const sendSignal = limits.sendSignal;
  const deadlineSignal = limits.deadlineSignal;
  // A transaction still open is aborted rather than left to the coordinator's timeout: its records never show.
  // The abort waits for the workers to report every record of it, and a batch the broker never answers is retried
  // for as long as the producer runs (invariant 5): without timeoutMs that wait is bounded as the flush's below is
  // (every send has its result within deliveryTimeoutMs, one request timeout more for a late answer). Given up,
  // the transaction is left to the coordinator's timeout, which aborts it.
  if (transactions !== undefined) {
    const endBy = timed ? Number.POSITIVE_INFINITY : Date.now() + parts.deliveryTimeoutMs + parts.requestTimeoutMs;
    await untilDeadline(transactions.closeOpen(deadlineSignal).catch(() => undefined), endBy, deadlineSignal);
  }
  // Close flushes first: every send made before it — waiting for metadata, for buffer space or for its
  // answer — gets its result, within the deadline and unless the signal aborts. Only then is anything failed.
  // With a deadline the flush ends when the workers stop sending.
  await untilDeadline(parts.flush().catch(() => undefined), Number.POSITIVE_INFINITY, sendSignal);
  intake.failPending();
  // Only now: a worker that crashes while the transaction ends or the flush waits is replaced, so sends granted
  // buffer space by its failed records go to a thread that sends them. From here nothing waits to be granted.
  workers.stopReplacing();
  // Nothing waits for the connection now. An attempt still waiting for its producer id stops (its request is
  // ended by the registry's close below); one starting its threads is waited for, within the deadline: past it,
  // destroy ends the threads it started.
  parts.stopConnecting.abort();
  await untilDeadline(parts.connecting()?.catch(() => undefined) ?? Promise.resolve(), Number.POSITIVE_INFINITY, deadlineSignal);
  // Records accepted but still queued for ring space go to the rings first, before the workers are told to close
  // (until sendUntil: after it they could only fail 'not-sent' in their workers, and failQueued fails them below).
  // A close without timeoutMs gives the workers afterFlushDeadline, whatever a later close said: its times only ever
  // come earlier (a later close with a long timeout had kept the workers retrying until its own deadline).
  if (!timed) limits.bringForward(Number.POSITIVE_INFINITY, afterFlushDeadline(parts.requestTimeoutMs));
  await workers.close(limits.deadline, deadlineSignal, limits.sendUntil);
  deliveries.drain();
  // Anything still unsettled (records queued for a full ring, a worker gone) fails now.
  deliveries.failQueued(undefined, new ProducerClosedError('not-sent', 'the producer closed before the record was sent'));
  deliveries.failLive(undefined, (delivery) => new ProducerClosedError(delivery, 'the producer closed before the record had a result'));
  parts.stopLoop.abort();
  intake.stopSweep();
  await workers.destroy();
  parts.tokens?.close();
  await parts.coordinators?.close();
  await parts.registry.close();
}

/**
 * A later close: its timeoutMs brings close's times forward, on this thread (`limits`) and in the workers (each keeps
 * the earliest it was given, and stays open until told to close), now; its signal ends close when it aborts before
 * the close under way ends (`closed`). The listener goes when that close ends: a long-lived signal given to repeated
 * close() calls kept one listener per call, and with it the producer, for as long as the signal lived.
 *
 * The workers are told the times only, not to close: told to close, a worker read its record ring no more, and
 * the records the main thread's flush still wrote there (sends waiting for metadata or for buffer space) were never
 * sent, their bytes never given back.
 */
export function hurryClose(limits: CloseLimits, workers: WorkerGroup, { timeoutMs, signal }: CloseOptions, closed: Promise<void>): void {
  const { sendUntil, deadline } = timesFor(timeoutMs);
  if (limits.bringForward(sendUntil, deadline)) workers.hurry(limits.sendUntil, limits.deadline);
  if (signal === undefined) return;
  const giveUp = (): void => {
    limits.passNow();
    workers.hurry(0, 0);
  };
  if (signal.aborted) {
    giveUp();
    return;
  }
  const onAbort = giveUp;
  signal.addEventListener('abort', onAbort, { once: true });
  const stopListening = (): void => signal.removeEventListener('abort', onAbort);
  closed.then(stopListening, stopListening);
}

/**
 * The workers' close deadline when close has none of its own. The flush has given every send its result by
 * now (the delivery timeout bounds it), so a batch a worker still holds is one whose callers that timeout
 * released: sent, unanswered, and retried with its sequence while the producer runs (invariant 5), for ever if
 * the broker never comes back. Closing, it is waited for one request timeout more (an answer on its way still
 * arrives as a 'lateOutcome'), then given up: close without timeoutMs ends, as the Java client's does once its
 * delivery timeout has passed.
 */
function afterFlushDeadline(requestTimeoutMs: number): number {
  return Date.now() + requestTimeoutMs;
}
