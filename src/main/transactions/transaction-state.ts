/**
 * The state of a transactional producer and, when it is stuck, why: the transitions a failed record, a crashed
 * worker, a refused answer or an EndTxn that did not get through make, and what a call refused in each state is told.
 * Kept apart from the manager, which decides when its requests go out, so that the rules on which failure sticks (a
 * fatal one always, else the first abortable one of the transaction) and on what an unanswered EndTxn(commit) still
 * allows are written once.
 *
 *   uninitialized ─init→ ready ─begin→ open ─commit/abort→ ending ─→ ready
 *                                       │ a record failed, a worker crashed, an abortable answer
 *                                       └──────────────→ abortable ─abort→ ending ─→ ready
 *   EndTxn(commit) sent, its outcome unknown (no answer in time) ─→ committing: only commit again
 *   any fenced or fatal answer ─→ fatal (only close remains)
 */
import {
  TransactionAbortableError, TransactionFatalError, TransactionRetriableError, TransactionStateError,
} from '../../shared/transaction-errors.js';
import { recordFailure, transactionError, type TransactionFailure } from './transaction-errors.js';

export type TransactionState = 'uninitialized' | 'ready' | 'open' | 'ending' | 'committing' | 'abortable' | 'fatal';

/** Why a call is refused in each state; abortable and fatal ones are told their failure instead. */
const WHY_REFUSED: Readonly<Record<TransactionState, string>> = {
  // Said first: a commit before connect() was told only "not connected yet", and after it "no transaction is open".
  uninitialized: 'no transaction is open, and the producer has not connected yet',
  ready: 'no transaction is open',
  open: 'a transaction is already open',
  ending: 'the transaction is already ending',
  committing: 'a commit whose outcome is unknown is pending: call commitTransaction() again',
  abortable: '',
  fatal: '',
};

export class TransactionStatus {
  state: TransactionState = 'uninitialized';
  /** Why the open transaction cannot commit, or why the producer is done. */
  failure: TransactionFailure | undefined;
  /** An EndTxn(commit) of the open transaction went out and got no answer: the coordinator may have applied it. */
  commitMayHaveApplied = false;
  /** Whether a record of the open transaction failed (protocol v1 then bumps the epoch after the abort). */
  recordFailed = false;

  /** A transaction begins: nothing of it has failed yet. */
  open(): void {
    this.state = 'open';
    this.failure = undefined;
    this.recordFailed = false;
  }

  /** EndTxn succeeded: the next transaction may begin. */
  ended(): void {
    this.commitMayHaveApplied = false;
    this.state = 'ready';
  }

  /** A record of the open transaction failed: it cannot commit, and with a fatal code the producer is done. */
  onRecordFailed(error: unknown): void {
    this.recordFailed = true;
    this.fail(recordFailure(error));
  }

  /** A worker thread died: its records' fate is unknown, so a transaction under way must abort. */
  workerCrashed(error: unknown): void {
    if (this.state === 'open' || this.state === 'ending' || this.state === 'abortable') {
      this.recordFailed = true;
      this.fail(new TransactionAbortableError(-1, 'a worker thread crashed during the transaction, so it must abort', { cause: error }));
    }
  }

  /** Records the failure: fatal ones end the producer, abortable ones the open transaction. Returns it. */
  fail<E extends TransactionFailure>(failure: E): E {
    if (failure instanceof TransactionFatalError) {
      this.state = 'fatal';
      this.failure = failure;
    } else if (this.state !== 'fatal') {
      if (this.state === 'open') this.state = 'abortable';
      this.failure ??= failure;
    }
    return failure;
  }

  /** An abort that did not complete: only abort remains, and the reason is what later calls are told. */
  toAbortable(cause: unknown): void {
    this.state = 'abortable';
    this.failure ??= new TransactionAbortableError(-1, 'the abort did not complete: call abortTransaction() again', { cause });
  }

  /**
   * EndTxn could not be had (`unanswered`: it went out and no answer came). An abort can always be sent again. An
   * EndTxn(commit) sent without an answer may have been applied: only commit can follow (an abort could meet a
   * commit already applied). One never sent (cancelled, or no coordinator found before the deadline) leaves the
   * transaction as it was: commit again, or abort. Taken for 'committing', it made close() commit a transaction its
   * caller had cancelled.
   */
  endFailed(commit: boolean, error: unknown, unanswered: boolean): void {
    if (error instanceof TransactionFatalError) {
      this.fail(error); // the transactional id refused (FindCoordinator): nothing follows, whatever was sent
      return;
    }
    if (!commit) {
      this.toAbortable(error);
      return;
    }
    this.commitMayHaveApplied ||= unanswered;
    this.state = this.commitMayHaveApplied ? 'committing' : this.failure === undefined ? 'open' : 'abortable';
  }

  /**
   * EndTxn was answered with `error`: fatal ends the producer; a retriable answer to a commit leaves only commit
   * (the coordinator may be applying it); anything else leaves only abort.
   */
  endRefused(commit: boolean, error: TransactionFailure | TransactionRetriableError): void {
    if (error instanceof TransactionFatalError) {
      this.fail(error);
    } else if (commit && error instanceof TransactionRetriableError) {
      this.commitMayHaveApplied = true;
      this.state = 'committing';
    } else {
      this.state = 'abortable';
      if (error instanceof TransactionAbortableError) this.failure ??= error;
      else this.toAbortable(error);
    }
  }

  /**
   * `call`'s result; a TransactionFatalError it rejects with (FindCoordinator refused the transactional id) is
   * recorded first, so that every later call meets it, connect included.
   */
  async recordingFatal<T>(call: Promise<T>): Promise<T> {
    try {
      return await call;
    } catch (error) {
      if (error instanceof TransactionFatalError) this.fail(error);
      throw error;
    }
  }

  /** Throws the error `code` means, recorded first when it is abortable or fatal. */
  judge(code: number, what: string): never {
    const error = transactionError(code, what);
    if (error instanceof TransactionRetriableError) throw error;
    throw this.fail(error);
  }

  /** Throws unless records may be sent now: a transaction is open and can still commit. */
  checkSend(): void {
    if (this.state === 'open') return;
    if (this.state === 'abortable' || this.state === 'fatal') throw this.failure!;
    throw new TransactionStateError(
      this.state === 'ending' || this.state === 'committing'
        ? 'the transaction is ending: records cannot be sent until the next one begins'
        : 'a transactional producer sends records inside a transaction: call transaction() or beginTransaction() first',
    );
  }

  check(action: string, allowed: readonly TransactionState[]): void {
    const refused = this.refusal(action, allowed);
    if (refused !== undefined) throw refused;
  }

  /** Why `action` is refused in the current state; undefined when it is allowed. */
  refusal(action: string, allowed: readonly TransactionState[]): Error | undefined {
    if (allowed.includes(this.state)) return undefined;
    if (this.state === 'fatal' || this.state === 'abortable') return this.failure!;
    return new TransactionStateError(`cannot ${action}: ${WHY_REFUSED[this.state]}`);
  }
}
