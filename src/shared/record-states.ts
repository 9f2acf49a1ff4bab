/**
 * One state byte per in-flight record id, in a SharedArrayBuffer, so that an abort on the main thread and the
 * sealing of a batch on a worker agree on what happened to a record without a round trip (invariant 5, docs/invariants.md):
 *
 *   FREE ──main: accept──▶ BUFFERED ──worker: seal (CAS)──▶ SEALED ──main: result──▶ FREE
 *                              └──main: abort/timeout (CAS)──▶ CANCELLED ──worker: drops it, reports──▶ FREE (main)
 *
 * Writers: the main thread stores BUFFERED and FREE and CASes BUFFERED→CANCELLED; the owning worker CASes
 * BUFFERED→SEALED. Whoever wins the CAS decides: a cancelled record never enters a batch (so no sequence gap), a
 * sealed one is in a batch, in a request or about to be, and the caller is told `delivery: 'unknown'`.
 *
 * The two stores are plain, not Atomics.store: each happens before the worker can look at the byte. BUFFERED is
 * stored before the record's entry is written to the ring, and the worker reaches the byte only through that
 * entry, which the ring's atomic commit publishes (a release store the worker's atomic load of the write position
 * acquires). FREE is stored after the worker reported the record through the completion ring; the worker holds
 * no reference to the id then, and meets it again only in a later entry published the same way. The exception is
 * close, and a crash: the main thread claims (CAS to CANCELLED) and frees records a worker may still hold
 * (Deliveries.failListed). A live worker there can only try its CAS, which fails on CANCELLED and on FREE alike,
 * and no id is reused, since no record is accepted once close began (a crashed worker's thread is gone). Only
 * the two CASes can race, and they are atomic. An Atomics.store is a full fence, about 10 ns a record twice over.
 */
export const RecordState = { free: 0, buffered: 1, sealed: 2, cancelled: 3 } as const;

/** Allocates the table (all FREE); each thread views it as a Uint8Array. Only src/main/shared-memory.ts calls it. */
export function createRecordStates(capacity: number): SharedArrayBuffer {
  return new SharedArrayBuffer(capacity);
}

/** Worker side: claim a buffered record for a batch. False when the main thread cancelled it first. */
export function seal(states: Uint8Array, recordId: number): boolean {
  return Atomics.compareExchange(states, recordId, RecordState.buffered, RecordState.sealed) === RecordState.buffered;
}

/** Main side: take a buffered record back. False when a worker sealed it first (it is in a batch that may be sent). */
export function cancel(states: Uint8Array, recordId: number): boolean {
  return Atomics.compareExchange(states, recordId, RecordState.buffered, RecordState.cancelled) === RecordState.buffered;
}
