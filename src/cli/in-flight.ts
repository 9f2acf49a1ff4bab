/**
 * sendBatch calls under way, at most `limit` at once: a command reads its input (stdin, or its own generator) no
 * faster than the producer settles it, so memory stays bounded by the limit and the producer's byte budget.
 */
export class InFlight {
  readonly #limit: number;
  readonly #pending = new Set<Promise<void>>();

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Adds a call under way; resolves once fewer than `limit` are. */
  async add(call: Promise<void>): Promise<void> {
    const pending = this.#pending;
    const remove = (): void => void pending.delete(call);
    // Registered before any race below, so a settled call is gone by the time the race resumes.
    call.then(remove, remove);
    pending.add(call);
    if (pending.size >= this.#limit) await Promise.race(pending);
  }

  /** Resolves once every call added so far has settled. */
  async settled(): Promise<void> {
    await Promise.all(this.#pending);
  }
}
