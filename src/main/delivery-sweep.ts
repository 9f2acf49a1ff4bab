/**
 * The delivery-timeout sweep: every SWEEP_INTERVAL_MS it fails the accepted records past deliveryTimeoutMs
 * (deliveries.ts). Its timer runs only while work is pending: it is what keeps the process alive then, and it never
 * keeps an idle producer's process alive. Every send begins here, so the timer is started by the first send after
 * an idle spell, and stops once no send is open, nothing is awaiting delivery and no flush is waiting.
 */
import type { Deliveries } from './deliveries.js';
import type { SendTracker } from './send-tracker.js';

const SWEEP_INTERVAL_MS = 100;

export class DeliverySweep {
  readonly #deliveries: Pick<Deliveries, 'expire' | 'count'>;
  readonly #sends: SendTracker;
  #timer: NodeJS.Timeout | undefined;

  constructor(deliveries: Pick<Deliveries, 'expire' | 'count'>, sends: SendTracker) {
    this.#deliveries = deliveries;
    this.#sends = sends;
  }

  /** A send begins (once per record): its sequence number, with the sweep started if it was not running. */
  beginSend(): number {
    if (this.#timer === undefined) this.#start();
    return this.#sends.begin();
  }

  /** Stops the sweep (close, once nothing is pending any more). */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Apart from beginSend, which runs per record: V8 allocates the context of a function that makes a closure on
   * every call to it, whichever branch runs (in a sampling allocation profile of the kfake bench at 100B-none, with
   * inlining off, the context of the per-record function that made the closure was two fifths of what the main
   * thread allocated).
   */
  #start(): void {
    this.#timer = setInterval(() => this.#sweep(), SWEEP_INTERVAL_MS);
  }

  #sweep(): void {
    this.#deliveries.expire(Date.now());
    if (this.#sends.open === 0 && this.#deliveries.count === 0 && !this.#sends.flushing) this.stop();
  }
}
