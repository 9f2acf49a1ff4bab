/**
 * The order in which a thread tries a list of broker addresses ("any broker will do", bootstrap.ts): as given, except
 * that an address whose last attempt failed comes after those that did not, the longest-failed first among them.
 * Tried in the fixed order, an address that accepts connections and never answers (a stopped broker behind a load
 * balancer) cost every reconnect its setup timeout before a working address was tried. Java's client starts from a
 * node chosen at random; remembering failures instead keeps the order predictable and avoids the bad address at
 * once. A success clears the address's record.
 */
type BrokerAddress = { readonly host: string; readonly port: number };

export class AddressOrder {
  /** By "host:port": the Date.now() of the last failed attempt, for addresses whose last attempt failed. */
  readonly #failedAt = new Map<string, number>();

  /** `brokers`, those that failed last time after the others (stable: the given order otherwise). */
  sorted<T extends BrokerAddress>(brokers: readonly T[]): T[] {
    if (this.#failedAt.size === 0) return [...brokers];
    const failedAt = (broker: T): number => this.#failedAt.get(keyOf(broker)) ?? -1;
    return [...brokers].sort((a, b) => failedAt(a) - failedAt(b));
  }

  /** The same order for addresses written "host:port" (a worker's settings). */
  sortedAddresses(addresses: readonly string[]): string[] {
    if (this.#failedAt.size === 0) return [...addresses];
    return [...addresses].sort((a, b) => (this.#failedAt.get(a) ?? -1) - (this.#failedAt.get(b) ?? -1));
  }

  failed(broker: BrokerAddress): void {
    this.#failedAt.set(keyOf(broker), Date.now());
  }

  succeeded(broker: BrokerAddress): void {
    this.#failedAt.delete(keyOf(broker));
  }
}

function keyOf(broker: BrokerAddress): string {
  return `${broker.host}:${broker.port}`;
}
