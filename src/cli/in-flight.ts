/**
 * sendBatch calls under way, at most `limit` at once: a command reads its input (stdin, or its own generator) no
 * faster than the producer settles it, so memory stays bounded by the limit and the producer's byte budget.
 *
 * A full set is waited on through a waiter that a settling call wakes, not a Promise.race over the calls under way:
 * each race left a reaction on every pending call until it settled, so at `ringkafka perf`'s limit (enough calls to
 * fill a 64 MiB buffer, about a thousand) every call added a thousand reactions; a heap snapshot in the middle of a
 * run held 57,000 of them and as many promises.
 */
export class InFlight {
  readonly #limit: number;
  readonly #pending = new Set<Promise<void>>();
  /** Adds waiting for a place (a command awaits each add before the next, so at most one). */
  readonly #waiting: { resolve: () => void; reject: (error: unknown) => void }[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  /**
   * Adds a call under way; resolves once fewer than `limit` are. Rejects as the call whose end made the place rejects
   * (the waiting caller hears of the failure at once, as it would from its own await).
   */
  add(call: Promise<void>): Promise<void> {
    const pending = this.#pending;
    // Registered before any wait below, so a settled call is gone by the time the waiter resumes.
    call.then(() => this.#ended(call, false, undefined), (error: unknown) => this.#ended(call, true, error));
    pending.add(call);
    if (pending.size < this.#limit) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  /** Resolves once every call added so far has settled. */
  async settled(): Promise<void> {
    await Promise.all(this.#pending);
  }

  #ended(call: Promise<void>, failed: boolean, error: unknown): void {
    this.#pending.delete(call);
    if (this.#pending.size >= this.#limit) return;
    const waiter = this.#waiting.shift();
    if (waiter === undefined) return;
    if (failed) waiter.reject(error);
    else waiter.resolve();
  }
}
