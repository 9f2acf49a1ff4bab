/** The contract of a custom `partitioner` function (ProducerOptions.partitioner): what it is given and returns. */

/** What a custom partitioner sees: a frozen copy of the record after serialisation, key and value as bytes. */
export interface PartitionerRecord {
  readonly topic: string;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: ReadonlyArray<readonly [Uint8Array, Uint8Array | null]>;
  readonly timestamp: number;
}

/**
 * Returns the partition, an integer from 0 to `partitionCount - 1`, for a record without an explicit partition. It is
 * not told which partitions have a leader: a record it sends to one without waits for a leader, up to
 * `deliveryTimeoutMs`.
 */
export type PartitionerFunction = (record: PartitionerRecord, partitionCount: number) => number;
