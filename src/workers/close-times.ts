/**
 * Close's two times in a worker, each with its timer: the cut-off (`sendUntil`), from which nothing new is sent and
 * every batch that never left fails `'not-sent'`, and the deadline, when whatever is left fails and the worker
 * finishes. A later message can only bring either forward (close's signal aborted, a second close with a shorter
 * timeout). Worker thread only.
 */
import { MAX_TIMER_MS } from '../shared/timers.js';

export interface CloseTimesHooks {
  /** The cut-off came: the pump fails what never left. */
  cutOff(): void;
  /** The deadline came. */
  giveUp(): void;
}

/** No time given (a close without timeoutMs, or none yet): later than any epoch ms. */
const NEVER = Number.MAX_SAFE_INTEGER + 1;

export class CloseTimes {
  readonly #hooks: CloseTimesHooks;
  #sendUntil = NEVER;
  #deadline = NEVER;
  #cutOffTimer: NodeJS.Timeout | undefined;
  #deadlineTimer: NodeJS.Timeout | undefined;
  /** Cleared: the worker finished, and a message that comes after (a second close's) arms nothing. */
  #cleared = false;

  constructor(hooks: CloseTimesHooks) {
    this.#hooks = hooks;
  }

  /** Close's cut-off (epoch ms), or later than any time when none was given. */
  get sendUntil(): number {
    return this.#sendUntil;
  }

  get deadline(): number {
    return this.#deadline;
  }

  /** Brings the cut-off forward to `sendUntil`; false when it was no earlier than the one kept, or after clear. */
  cutOffAt(sendUntil: number): boolean {
    if (this.#cleared || sendUntil >= this.#sendUntil) return false;
    this.#sendUntil = sendUntil;
    clearTimeout(this.#cutOffTimer);
    this.#cutOffTimer = arm(sendUntil, () => this.#hooks.cutOff());
    return true;
  }

  /** Brings the deadline forward to `deadline`; false when it was no earlier than the one kept, or after clear. */
  giveUpAt(deadline: number): boolean {
    if (this.#cleared || deadline >= this.#deadline) return false;
    this.#deadline = deadline;
    clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = arm(deadline, () => this.#hooks.giveUp());
    return true;
  }

  /** The worker finished: no timer of close outlives it, and none is armed from now on. */
  clear(): void {
    this.#cleared = true;
    clearTimeout(this.#cutOffTimer);
    clearTimeout(this.#deadlineTimer);
  }
}

/** A timer for epoch ms `at`, or none when it is too far off: Node would clamp a delay over 2^31-1 ms to 1 ms. */
function arm(at: number, fire: () => void): NodeJS.Timeout | undefined {
  const wait = Math.max(0, at - Date.now());
  return wait <= MAX_TIMER_MS ? setTimeout(fire, wait) : undefined;
}
