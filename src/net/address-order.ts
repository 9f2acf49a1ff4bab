/**
 * The order in which a thread tries a list of broker addresses ("any broker will do", bootstrap.ts): as given, except
 * that an address whose last attempt failed comes after those that did not, the longest-failed first among them.
 * Tried in the fixed order, an address that accepts connections and never answers (a stopped broker behind a load
 * balancer) cost every reconnect its setup timeout before a working address was tried. Java's client starts from a
 * node chosen at random; remembering failures instead keeps the order predictable and avoids the bad address at
 * once. A success clears the address's record.
 */
export type BrokerAddress = { readonly host: string; readonly port: number };

export class AddressOrder {
  /** By "host:port": the Date.now() of the last failed attempt, for addresses whose last attempt failed. */
  readonly #failedAt = new Map<string, number>();

  /** `brokers`, those that failed last time after the others (stable: the given order otherwise). */
  sorted<T extends BrokerAddress>(brokers: readonly T[]): T[] {
    return this.#sortedBy(brokers, keyOf);
  }

  /** The same order for addresses written "host:port" (a worker's settings). */
  sortedAddresses(addresses: readonly string[]): string[] {
    return this.#sortedBy(addresses, (address) => address);
  }

  #sortedBy<T>(items: readonly T[], key: (item: T) => string): T[] {
    if (this.#failedAt.size === 0) return [...items];
    const failedAt = (item: T): number => this.#failedAt.get(key(item)) ?? -1;
    return [...items].sort((a, b) => failedAt(a) - failedAt(b));
  }

  failed(broker: BrokerAddress): void {
    this.#failedAt.set(keyOf(broker), Date.now());
  }

  succeeded(broker: BrokerAddress): void {
    this.#failedAt.delete(keyOf(broker));
  }
}

/** A broker address as one key, "host:port" (AuthGate keys its TLS failures so too). */
export function keyOf(broker: BrokerAddress): string {
  return `${broker.host}:${broker.port}`;
}
