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

export async function shutdownProducer(parts: ShutdownParts, { timeoutMs, signal }: CloseOptions): Promise<void> {
  const { intake, deliveries, workers, transactions } = parts;
  intake.close(); // no new sends from here
  parts.control.setClosing();
  // At most 2^53-1: a worker keeps no deadline later than that (src/workers/close-times.ts), and never began to close.
  const deadline = timeoutMs === undefined ? Number.MAX_SAFE_INTEGER : Math.min(Number.MAX_SAFE_INTEGER, Date.now() + timeoutMs);
  // With a deadline the workers stop sending a lead before it (reportLead): from then they fail every batch that
  // never left, and their 'not-sent' reaches this thread before the deadline, where failing what is left it knows
  // only that a record was sealed, and says 'unknown'. They hear of it now and keep it by their own clocks. It bounds
  // the open transaction's end below too: a batch of it not sent by then fails 'not-sent', so its abort waits no
  // longer, and a commit under way with a batch not sent by then fails, and is aborted (by close before the
  // deadline, or else by the coordinator's timeout).
  const sendUntil = timeoutMs === undefined ? Number.MAX_SAFE_INTEGER : deadline - reportLead(timeoutMs);
  if (timeoutMs !== undefined) workers.cutOff(sendUntil);
  // A transaction still open is aborted rather than left to the coordinator's timeout: its records never show.
  // The abort waits for the workers to report every record of it, and a batch the broker never answers is retried
  // for as long as the producer runs (invariant 5): without timeoutMs that wait is bounded as the flush's below is
  // (every send has its result within deliveryTimeoutMs, one request timeout more for a late answer). Given up,
  // the transaction is left to the coordinator's timeout, which aborts it.
  if (transactions !== undefined) {
    const endBy = timeoutMs === undefined ? Date.now() + parts.deliveryTimeoutMs + parts.requestTimeoutMs : deadline;
    await untilDeadline(transactions.closeOpen(signal).catch(() => undefined), endBy, signal);
  }
  // Close flushes first: every send made before it — waiting for metadata, for buffer space or for its
  // answer — gets its result, within the deadline and unless the signal aborts. Only then is anything failed.
  // With a deadline the flush ends when the workers stop sending.
  await untilDeadline(parts.flush().catch(() => undefined), sendUntil, signal);
  intake.failPending();
  // Only now: a worker that crashes while the transaction ends or the flush waits is replaced, so sends granted
  // buffer space by its failed records go to a thread that sends them. From here nothing waits to be granted.
  workers.stopReplacing();
  // Nothing waits for the connection now. An attempt still waiting for its producer id stops (its request is
  // ended by the registry's close below); one starting its threads is waited for, within the deadline: past it,
  // destroy ends the threads it started.
  parts.stopConnecting.abort();
  await untilDeadline(parts.connecting()?.catch(() => undefined) ?? Promise.resolve(), deadline, signal);
  // Records accepted but still queued for ring space go to the rings first, before the workers are told to close
  // (until sendUntil: after it they could only fail 'not-sent' in their workers, and failQueued fails them below).
  await workers.close(timeoutMs === undefined ? afterFlushDeadline(parts.requestTimeoutMs) : deadline, signal, sendUntil);
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
 * Tells the workers a later close's deadline (they keep the earliest they were given), now or when `signal` aborts
 * before the close under way ends (`closed`). The listener goes when that close ends: a long-lived signal given to
 * repeated close() calls kept one listener per call, and with it the producer, for as long as the signal lived.
 */
export function hurryClose(workers: WorkerGroup, { timeoutMs, signal }: CloseOptions, closed: Promise<void>): void {
  // A deadline past 2^53-1 ms brings nothing forward: the first close's is capped there (shutdownProducer).
  if (timeoutMs !== undefined && Date.now() + timeoutMs < Number.MAX_SAFE_INTEGER) workers.hurry(Date.now() + timeoutMs);
  if (signal === undefined) return;
  if (signal.aborted) {
    workers.hurry(0);
    return;
  }
  const onAbort = (): void => workers.hurry(0);
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
