/**
 * Where a record goes, in Java's order (clients/.../producer/KafkaProducer.java `partition()` and
 * internals/BuiltInPartitioner.java): an explicit partition, else the user's partitioner, else murmur2 of the key
 * over all partitions, else the uniform sticky partitioner of KIP-794.
 */
import { ConfigError } from '../shared/errors.js';
import { murmur2 } from './murmur2.js';
import type { PartitionerFunction, PartitionerRecord } from './partitioner-function.js';
import { describe, InvalidRecordError, type PreparedRecord } from './serialize.js';

/**
 * Java's keyed partition: `(murmur2(key) & 0x7fffffff) % partitionCount` (Utils.toPositive). The mask is not
 * `Math.abs` (which differs for every negative hash) and not `>>> 0` (which keeps bit 31): either would send
 * keys to other partitions than the Java client does.
 */
export function partitionForKey(key: Uint8Array, partitionCount: number): number {
  return (murmur2(key) & 0x7fffffff) % partitionCount;
}

export interface StickyPartitionerOptions {
  /** Bytes sent to one partition before switching; the producer passes `batchMaxBytes` (Java uses batch.size). */
  readonly batchMaxBytes: number;
  /** A number in [0, 1); tests make it deterministic. Default `Math.random`. */
  readonly random?: (() => number) | undefined;
}

interface StickyState {
  /** The partition records go to now; -1 before the first pick. */
  partition: number;
  /** A batch worth of bytes went to `partition`: the next record picks another. */
  due: boolean;
  /** Bytes sent to `partition` since it was picked. */
  bytes: number;
  /** The `available` list `partition` was last found in, so a hot topic does not rescan it for every record. */
  checkedIn: readonly number[] | undefined;
}

/**
 * KIP-794's uniform sticky partitioner for keyless records. The first sticky partitioner (KIP-480) switched when a
 * batch was sent, so slow brokers, whose batches fill up more before leaving, received more data and got slower
 * still. Switching after a fixed number of bytes instead spreads bytes evenly whatever the brokers' speeds, while
 * each partition still gets full batches.
 *
 * Per topic state, main thread only. Not the adaptive variant (which weighs queue sizes): the main thread does not
 * see the workers' queues.
 */
export class StickyPartitioner {
  readonly #batchMaxBytes: number;
  readonly #random: () => number;
  readonly #topics = new Map<string, StickyState>();
  /** The last topic's state and name: a run of records to one topic compares a string instead of a map lookup each. */
  #lastTopic: string | undefined;
  #lastState: StickyState | undefined;

  constructor(options: StickyPartitionerOptions) {
    this.#batchMaxBytes = options.batchMaxBytes;
    this.#random = options.random ?? Math.random;
  }

  /**
   * The partition for a keyless record of `recordBytes` bytes. `available` lists the partitions that have a
   * leader now (Java's availablePartitionsForTopic); when absent or empty, every partition counts as available,
   * as in Java. Treat `available` as immutable (pass a new array when leaders change): the check that the
   * current partition is still in it runs once per array, not once per record. `partitionCount` is an integer >= 1.
   */
  partition(topic: string, partitionCount: number, recordBytes: number, available?: readonly number[]): number {
    let state = topic === this.#lastTopic ? this.#lastState! : this.#topics.get(topic);
    if (state === undefined) {
      state = { partition: -1, due: true, bytes: 0, checkedIn: undefined };
      this.#topics.set(topic, state);
    }
    this.#lastTopic = topic;
    this.#lastState = state;
    const candidates = available !== undefined && available.length > 0 ? available : undefined;
    let current = state.partition;
    // Pick again when due, when the topic shrank (re-created), or when the partition lost its leader: records
    // sent there would only wait for metadata.
    if (
      state.due ||
      current >= partitionCount ||
      (candidates !== undefined && candidates !== state.checkedIn && !candidates.includes(current))
    ) {
      current = this.#pick(partitionCount, candidates, current);
      state.partition = current;
      state.due = false;
      state.bytes = 0;
    }
    state.checkedIn = candidates;
    state.bytes += recordBytes;
    // KIP-794: once a batch worth of bytes went to this partition, the next record picks another (drawn among the
    // others, where Java's draw may repeat it: docs/kafka-protocol.md "Partitioning").
    if (state.bytes >= this.#batchMaxBytes) state.due = true;
    return current;
  }

  /** A random partition among `candidates` (else all), not `previous` unless it is the only choice. */
  #pick(partitionCount: number, candidates: readonly number[] | undefined, previous: number): number {
    let choices: readonly number[] | undefined;
    if (candidates !== undefined) {
      // Metadata may briefly list a partition beyond a count read elsewhere; never return one that does not exist.
      choices = candidates.filter((p) => p >= 0 && p < partitionCount);
      if (choices.length === 0) choices = undefined;
    }
    const n = choices === undefined ? partitionCount : choices.length;
    if (n === 1) return choices === undefined ? 0 : choices[0]!;
    // Draw among the n - 1 others: index of `previous` among the choices, then skip over it.
    let at = -1;
    if (choices !== undefined) at = choices.indexOf(previous);
    else if (previous >= 0 && previous < partitionCount) at = previous;
    let index = Math.floor(this.#random() * (at < 0 ? n : n - 1));
    if (at >= 0 && index >= at) index++;
    return choices === undefined ? index : choices[index]!;
  }
}

/**
 * The partition for `record`, in Java's order: explicit partition (must exist), else `partitioner` if it is a
 * function, else murmur2 of the key when there is one, else `sticky`. `partitionCount` is an integer >= 1;
 * `available` lists partitions with a leader, for the sticky choice only (a keyed record keeps its partition even
 * while it has no leader, or ordering per key would break).
 */
export function choosePartition(
  record: PreparedRecord,
  partitionCount: number,
  partitioner: 'default' | PartitionerFunction,
  sticky: StickyPartitioner,
  available?: readonly number[],
): number {
  const explicit = record.partition;
  if (explicit !== undefined) {
    if (!(Number.isInteger(explicit) && explicit >= 0 && explicit < partitionCount)) {
      const topic = JSON.stringify(record.topic);
      throw new InvalidRecordError(
        `record.partition must be an integer from 0 to ${partitionCount - 1} (topic ${topic} has ${partitionCount} ` +
          `partition${partitionCount === 1 ? '' : 's'}), got ${String(explicit)}`,
      );
    }
    return explicit;
  }
  if (partitioner !== 'default') {
    let chosen: number;
    try {
      chosen = partitioner(asPartitionerRecord(record), partitionCount);
    } catch (error) {
      // A ConfigError naming the partitioner, its own error the cause, as a serializer's failure is an
      // InvalidRecordError: passed on as it was, a RangeError failed the record with no `code`, `retriable` or
      // `delivery`, where every error a caller gets is a KafkaProducerError. And a thrown non-Error (undefined, a
      // string) read as "no error" downstream left a send unsettled for ever and a writable's record dropped.
      const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new ConfigError(`options.partitioner threw ${what} for topic ${JSON.stringify(record.topic)}`, { cause: error });
    }
    if (!(Number.isInteger(chosen) && chosen >= 0 && chosen < partitionCount)) {
      const topic = JSON.stringify(record.topic);
      // Described by type: '1' and 1n both read "got 1", and an async partitioner's answer "got [object Promise]".
      const thenable = typeof (chosen as { then?: unknown } | null)?.then === 'function';
      throw new ConfigError(
        `options.partitioner must return an integer from 0 to ${partitionCount - 1} for topic ${topic}, ` +
          `got ${thenable ? 'a Promise (a partitioner must be synchronous)' : describe(chosen)}`,
      );
    }
    return chosen;
  }
  return defaultPartition(record.topic, record.key, record.size, partitionCount, sticky, available);
}

/**
 * The default partitioner's choice for a record that asked for no partition: murmur2 of its key when it has one,
 * else `sticky`. Apart from choosePartition so that a sendBatch's records, kept in columns, need no object for it.
 */
export function defaultPartition(
  topic: string,
  key: Uint8Array | null,
  size: number,
  partitionCount: number,
  sticky: StickyPartitioner,
  available?: readonly number[],
): number {
  if (key !== null) return partitionForKey(key, partitionCount);
  return sticky.partition(topic, partitionCount, size, available);
}

/**
 * What a partitioner function is given: a frozen copy of the record, its value as bytes even where it is still a
 * string (PreparedRecord), its headers frozen copies too. Shown the record itself, a partitioner that set `key` or
 * grew `headers` sent what it set, past the size checks and uncounted in the byte budget (the record's size was taken
 * before): a 3 MiB key went out under maxRequestBytes of 1 MiB, counted as one byte. One object per record, for a
 * custom partitioner only.
 */
function asPartitionerRecord(record: PreparedRecord): PartitionerRecord {
  const { value, headers } = record;
  return Object.freeze({
    topic: record.topic,
    key: record.key,
    value: typeof value === 'string' ? Buffer.from(value, 'utf8') : value,
    headers: headers.length === 0 ? headers : Object.freeze(headers.map((header) => Object.freeze([header[0], header[1]] as const))),
    timestamp: record.timestamp,
  });
}
