/**
 * One slice of a sendBatch's records between getting their bytes in the budget and being accepted: they are handed
 * to the delivery settlement grouped by partition, each partition's records in call order, the partitions in the
 * order their first record came.
 *
 * Why: with keys, a call's records interleave across partitions. Accepted in call order, each record's ring entry
 * sat between other partitions' entries, so its worker copied the entries into their partitions' arenas one at a
 * time (a fixed ~80 ns per copy, src/workers/partition-state.ts) instead of in runs, and the ids of one batch were
 * scattered over the delivery table, so settling a batch missed the cache about once per record. Grouped, a
 * partition's records of a slice sit next to each other in the ring and take their ids one after another, which the
 * free list hands out mostly as neighbours (the ids a settled batch gave back together).
 *
 * Order: Kafka orders records within a partition only, and within each partition the call order is kept here
 * (invariant 1, docs/invariants.md). Across calls nothing changes: a slice is handed on before its call returns or
 * its turn of the event loop ends, and before any later record of the same call waits for buffer space, so no other
 * record can reach the rings in between.
 *
 * No object per record: a staged record stays in its call's columns (call-records.ts) and is staged by reference
 * to its call and its position there, in reused columns, and the groups are linked lists through them. Each record
 * is handed on through one reused object (CallRecords.lend).
 */
import { clearLentRecord, newLentRecord, type CallRecords } from './call-records.js';
import type { Deliveries } from './deliveries.js';
import type { Settler } from './settlers.js';
import type { TopicInfo } from './topic-registry.js';

const INITIAL_RECORDS = 256;
const INITIAL_GROUPS = 16;

export class PartitionGrouping {
  /** The call each staged record is in; it stays there (CallRecords) until it is handed on. */
  #calls: (CallRecords | undefined)[] = [];
  #topics: (TopicInfo | undefined)[] = [];
  #partitions = new Int32Array(INITIAL_RECORDS);
  #seqs = new Float64Array(INITIAL_RECORDS);
  #positions = new Int32Array(INITIAL_RECORDS);
  /** The next staged record of the same partition; -1 for a group's last. */
  #next = new Int32Array(INITIAL_RECORDS);
  #count = 0;
  /** Each group's first record, and its topic index and partition (where its tails entry is). */
  #groupHeads = new Int32Array(INITIAL_GROUPS);
  #groupTopics = new Int32Array(INITIAL_GROUPS);
  #groupPartitions = new Int32Array(INITIAL_GROUPS);
  #groups = 0;
  /** By topic index: the last staged record of each partition, -1 where there is none. */
  readonly #tails: (Int32Array | undefined)[] = [];
  /** The object every staged record is lent through to `deliveries.accept`. */
  readonly #lent = newLentRecord();

  /** Records staged and not handed on yet. */
  get size(): number {
    return this.#count;
  }

  /**
   * Stages the record at `position` of `call`, which has its bytes in the budget. The call keeps it until
   * `acceptAll` lends it on (and the call forgets it then).
   */
  add(call: CallRecords, topic: TopicInfo, partition: number, seq: number, position: number): void {
    const i = this.#count;
    if (i === this.#next.length) this.#growRecords();
    this.#calls[i] = call;
    this.#topics[i] = topic;
    this.#partitions[i] = partition;
    this.#seqs[i] = seq;
    this.#positions[i] = position;
    this.#next[i] = -1;
    this.#count = i + 1;
    let tails = this.#tails[topic.index];
    if (tails === undefined || partition >= tails.length) tails = this.#growTails(topic.index, partition);
    const tail = tails[partition]!;
    if (tail < 0) this.#openGroup(i, topic.index, partition);
    else this.#next[tail] = i;
    tails[partition] = i;
  }

  /**
   * Hands every staged record to `deliveries.accept`, partition by partition, and empties the slice. Each is lent
   * through one reused object that `accept` reads and keeps none of (CallRecords.lend). Never re-entered: accepting
   * calls down into the delivery table and the workers' rings, none of which calls back into the intake.
   */
  acceptAll(deliveries: Pick<Deliveries, 'accept'>, settler: Settler, signal: AbortSignal | undefined, now: number): void {
    const groups = this.#groups;
    const count = this.#count;
    if (count === 0) return;
    this.#groups = 0;
    this.#count = 0;
    for (let g = 0; g < groups; g++) this.#tails[this.#groupTopics[g]!]![this.#groupPartitions[g]!] = -1;
    const calls = this.#calls;
    const topics = this.#topics;
    const lent = this.#lent;
    try {
      for (let g = 0; g < groups; g++) {
        for (let i = this.#groupHeads[g]!; i >= 0; i = this.#next[i]!) {
          const position = this.#positions[i]!;
          deliveries.accept(calls[i]!.lend(position, lent), topics[i]!, this.#partitions[i]!, this.#seqs[i]!, settler, position, signal, now);
        }
      }
    } finally {
      // Drop the references (the columns are reused): the calls are done with once their records are accepted.
      calls.fill(undefined, 0, count);
      topics.fill(undefined, 0, count);
      clearLentRecord(lent);
    }
  }

  #openGroup(first: number, topicIndex: number, partition: number): void {
    const g = this.#groups++;
    if (g === this.#groupHeads.length) {
      this.#groupHeads = grown(this.#groupHeads);
      this.#groupTopics = grown(this.#groupTopics);
      this.#groupPartitions = grown(this.#groupPartitions);
    }
    this.#groupHeads[g] = first;
    this.#groupTopics[g] = topicIndex;
    this.#groupPartitions[g] = partition;
  }

  #growRecords(): void {
    this.#partitions = grown(this.#partitions);
    this.#positions = grown(this.#positions);
    this.#next = grown(this.#next);
    const seqs = new Float64Array(this.#seqs.length * 2);
    seqs.set(this.#seqs);
    this.#seqs = seqs;
  }

  /** The topic's tails, long enough for `partition` (partitions are added to a topic over its life). */
  #growTails(topicIndex: number, partition: number): Int32Array {
    const old = this.#tails[topicIndex];
    const tails = new Int32Array(Math.max(partition + 1, 2 * (old?.length ?? 8))).fill(-1);
    if (old !== undefined) tails.set(old);
    this.#tails[topicIndex] = tails;
    return tails;
  }
}

function grown(array: Int32Array): Int32Array<ArrayBuffer> {
  const bigger = new Int32Array(array.length * 2);
  bigger.set(array);
  return bigger;
}
