/**
 * sendBatch calls under way, at most `limit` at once: a command reads its input (stdin, or its own generator) no
 * faster than the producer settles it, so memory stays bounded by the limit and the producer's byte budget.
 *
 * A full set is waited on through a waiter that a settling call wakes, not a Promise.race over the calls under way:
 * each race left a reaction on every pending call until it settled, so at `ringkafka perf`'s limit (enough calls to
 * fill a 64 MiB buffer, about a thousand) every call added a thousand reactions; a heap snapshot in the middle of a
 * run held 57,000 of them and as many promises.
 *
 * A call that rejects is always heard of: by the wait it ends (an add waiting for a place, settled()), or, when
 * nothing waits, by the next wait. It was dropped then, and settled() resolved as if its records had been sent: a
 * command could print "0 failed" and exit 0 with a group of records unaccounted for.
 */
interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class InFlight {
  readonly #limit: number;
  readonly #pending = new Set<Promise<void>>();
  /** Adds waiting for a place (a command awaits each add before the next, so at most one). */
  readonly #waiting: Waiter[] = [];
  /** settled() calls waiting for every call to settle. */
  readonly #draining: Waiter[] = [];
  /** The first rejection no wait has reported yet. */
  #unheard: { readonly error: unknown } | undefined;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /**
   * Adds a call under way; resolves once fewer than `limit` are. Rejects as the call whose end made the place rejects
   * (the waiting caller hears of the failure at once, as it would from its own await), or with an earlier call's
   * rejection that nothing heard (the call is still added and waited for by settled()).
   */
  add(call: Promise<void>): Promise<void> {
    const pending = this.#pending;
    // Registered before any wait below, so a settled call is gone by the time the waiter resumes.
    call.then(() => this.#ended(call, undefined), (error: unknown) => this.#ended(call, { error }));
    pending.add(call);
    const unheard = this.#takeUnheard();
    if (unheard !== undefined) return Promise.reject(unheard.error);
    if (pending.size < this.#limit) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  /**
   * Resolves once every call added so far has settled; rejects with the first rejection not yet reported (at once
   * when a call under way rejects, as Promise.all did).
   */
  settled(): Promise<void> {
    const unheard = this.#takeUnheard();
    if (unheard !== undefined) return Promise.reject(unheard.error);
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.#draining.push({ resolve, reject }));
  }

  #takeUnheard(): { readonly error: unknown } | undefined {
    const unheard = this.#unheard;
    this.#unheard = undefined;
    return unheard;
  }

  #ended(call: Promise<void>, failure: { readonly error: unknown } | undefined): void {
    this.#pending.delete(call);
    let heard = false;
    if (failure !== undefined && this.#draining.length > 0) {
      for (const drain of this.#draining.splice(0)) drain.reject(failure.error);
      heard = true;
    } else if (this.#pending.size === 0) {
      for (const drain of this.#draining.splice(0)) drain.resolve();
    }
    if (this.#pending.size < this.#limit) {
      const waiter = this.#waiting.shift();
      if (waiter !== undefined) {
        if (failure === undefined) waiter.resolve();
        else {
          waiter.reject(failure.error);
          heard = true;
        }
      }
    }
    if (failure !== undefined && !heard) this.#unheard ??= failure;
  }
}
