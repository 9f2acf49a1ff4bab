/**
 * Close's two times in a worker, each with its timer: the cut-off (`sendUntil`), from which nothing new is sent and
 * every batch that never left fails `'not-sent'`, and the deadline, when whatever is left fails and the worker
 * finishes. A later message can only bring either forward (close's signal aborted, a second close with a shorter
 * timeout). Worker thread only.
 */
import { EarliestTime } from '../shared/earliest-time.js';

export interface CloseTimesHooks {
  /** The cut-off came: the pump fails what never left. */
  cutOff(): void;
  /** The deadline came. */
  giveUp(): void;
}

/** No time given (a close without timeoutMs, or none yet): later than any epoch ms. */
const NEVER = Number.MAX_SAFE_INTEGER + 1;

export class CloseTimes {
  readonly #cutOff: EarliestTime;
  readonly #deadline: EarliestTime;
  /** Cleared: the worker finished, and a message that comes after (a second close's) arms nothing. */
  #cleared = false;

  constructor(hooks: CloseTimesHooks) {
    this.#cutOff = new EarliestTime(() => hooks.cutOff(), NEVER);
    this.#deadline = new EarliestTime(() => hooks.giveUp(), NEVER);
  }

  /** Close's cut-off (epoch ms), or later than any time when none was given. */
  get sendUntil(): number {
    return this.#cutOff.at;
  }

  get deadline(): number {
    return this.#deadline.at;
  }

  /** Brings the cut-off forward to `sendUntil`; false when it was no earlier than the one kept, or after clear. */
  cutOffAt(sendUntil: number): boolean {
    return !this.#cleared && this.#cutOff.bringForward(sendUntil);
  }

  /** Brings the deadline forward to `deadline`; false when it was no earlier than the one kept, or after clear. */
  giveUpAt(deadline: number): boolean {
    return !this.#cleared && this.#deadline.bringForward(deadline);
  }

  /** True once the worker finished (clear). */
  get cleared(): boolean {
    return this.#cleared;
  }

  /** The worker finished: no timer of close outlives it, and none is armed from now on. */
  clear(): void {
    this.#cleared = true;
    this.#cutOff.clear();
    this.#deadline.clear();
  }
}
