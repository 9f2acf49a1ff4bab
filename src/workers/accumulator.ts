/**
 * Records in, sealed batches out: the per-partition accumulation of one worker. Records are copied from the ring
 * into their partition's arena; a partition's open batch is sealed when it reaches batchMaxBytes (or 65,536
 * records), when its linger is over, or at once while anyone waits for buffer space, flushes or closes. Sealing
 * claims each record with a CAS on its state byte (a record the main thread cancelled first is dropped, so no
 * sequence number is spent on it) and encodes the batch straight from the arena.
 */
import { RECORD_HEADER_BYTES, RecordEntryOffset, readI32, readU16, readU32 } from '../shared/record-entry.js';
import { seal } from '../shared/record-states.js';
import type { WorkerInit } from '../shared/worker-protocol.js';
import type { BatchBufferSource, BatchHeader } from '../protocol/record-batch.js';
import { expiresAt, newBatch, type Batch } from './batch.js';
import { encodeEntries } from './entry-encoder.js';
import { ARENA_GAP_MAX, PartitionState, type TopicState } from './partition-state.js';

/** A batch's completion lists its record ids (4 bytes each) and must fit in half the 1 MiB completion ring. */
const MAX_BATCH_RECORDS = 65_536;

export interface AccumulatorEvents {
  /** Records cancelled on the main thread before sealing: their ids go back. */
  dropped(p: PartitionState, recordIds: number[]): void;
  /** A batch's compression finished: it can be sent. */
  encoded(): void;
  /** A batch could not be encoded. */
  failed(p: PartitionState, batch: Batch, message: string): void;
}

export class Accumulator {
  readonly topics = new Map<number, TopicState>();
  /** Every partition this worker has seen, in first-seen order. */
  readonly partitions: PartitionState[] = [];
  /**
   * The partitions with a sealed batch (queued, backing off or in flight), which the pump rotates over, and some
   * that had one since `pruneSending` last ran. Not every partition: the pump runs after every batch encoded and
   * every answer, and a pass over every partition this worker ever wrote to made each of them cost more the more
   * topics the producer had used over its life.
   */
  readonly sending: PartitionState[] = [];
  /** Partitions with records in their open batch. */
  readonly #filling = new Set<PartitionState>();
  /** Partitions whose arena may wait for a run of entries still in the ring (`copyPending`). */
  readonly #copyList: PartitionState[] = [];
  /** The ring bytes records last came from, and their byteOffset (read once: about 15 ns per read on Node 20). */
  #ringData: Buffer | undefined;
  #ringByteOffset = 0;
  #last: PartitionState | undefined;
  readonly #init: WorkerInit;
  readonly #states: Uint8Array;
  readonly #events: AccumulatorEvents;
  /** Where sealed batches get their buffers (batch-buffers.ts); the worker gives delivered batches' back. */
  readonly #buffers: BatchBufferSource;

  constructor(init: WorkerInit, states: Uint8Array, events: AccumulatorEvents, buffers: BatchBufferSource) {
    this.#init = init;
    this.#states = states;
    this.#events = events;
    this.#buffers = buffers;
  }

  /** A topic entry: the runs read before it are copied first, so no run spans a change of the topic table. */
  addTopic(index: number, name: string): void {
    this.copyPending();
    this.#last = undefined;
    this.topics.set(index, { index, name, partitions: new Map() });
  }

  /**
   * Adds the record entry at `data[at, at + length)` to its partition's open batch. Its bytes may stay in the ring
   * until `copyPending` (PartitionState.append copies runs of entries at once): call it before the ring space is
   * released.
   */
  add(data: Buffer, at: number, length: number, now: number): void {
    const { batchMaxBytes } = this.#init.settings;
    const p = this.#partitionOf(readU16(data, at + RecordEntryOffset.topicIndex), readI32(data, at + RecordEntryOffset.partition));
    // The arena holds the header's room and entries (32-byte fixed part + bytes), a fair estimate of the encoded
    // size for batchMaxBytes. The entry's gap counts too: a batch never outgrows an arena of batchMaxBytes, which
    // would double it for every batch to come (an arena that became a batch is replaced by one of its size).
    if (p.count > 0 && (p.arenaUsed + ARENA_GAP_MAX + length > batchMaxBytes || p.count >= MAX_BATCH_RECORDS)) this.seal(p, now);
    if (p.count === 0) {
      p.openSince = now;
      this.#filling.add(p);
    }
    if (!p.copyListed) {
      p.copyListed = true;
      this.#copyList.push(p);
    }
    if (data !== this.#ringData) {
      this.#ringData = data;
      this.#ringByteOffset = data.byteOffset;
    }
    p.append(data, at, length, readU32(data, at + RecordEntryOffset.recordId), this.#ringByteOffset);
    if (p.arenaUsed >= batchMaxBytes) this.seal(p, now);
  }

  /** Copies every entry still in the ring into its partition's arena: the ring space can be handed back after. */
  copyPending(): void {
    const list = this.#copyList;
    for (let i = 0; i < list.length; i++) {
      list[i]!.copyPending();
      list[i]!.copyListed = false;
    }
    list.length = 0;
  }

  /** The partition's state, made on its first record; the last one is remembered (records come in runs). */
  #partitionOf(topicIndex: number, partition: number): PartitionState {
    const last = this.#last;
    if (last !== undefined && last.partition === partition && last.topic.index === topicIndex) return last;
    const topic = this.topics.get(topicIndex)!;
    let p = topic.partitions.get(partition);
    if (p === undefined) {
      p = new PartitionState(topic, partition, this.#init.producerEpoch, this.#buffers);
      topic.partitions.set(partition, p);
      this.partitions.push(p);
    }
    this.#last = p;
    return p;
  }

  /**
   * The names of the topics this worker wrote nothing to for `idleMs`: every partition it has of the topic has no
   * open batch, no sealed one, and opened its last batch `idleMs` or more before `now`. A topic with no partition
   * yet (its entry just read, its records not yet) is not idle. The cluster view forgets them (metadataMaxIdleMs).
   */
  idleTopics(now: number, idleMs: number): string[] {
    const idle: string[] = [];
    for (const topic of this.topics.values()) {
      let used = topic.partitions.size === 0;
      for (const p of topic.partitions.values()) {
        // openSince is NaN before a partition's first batch: not counted idle, whatever the comparison says.
        if (p.count > 0 || p.sealed.length > 0 || !(now - p.openSince >= idleMs)) used = true;
      }
      if (!used) idle.push(topic.name);
    }
    return idle;
  }

  /**
   * Partitions with no open batch whose last batch opened `idleMs` or more before `now` (or that never opened one)
   * give back their arena (PartitionState.releaseArena); returns how many did. The worker calls it now and then, so
   * the arenas it holds follow the partitions it writes to now, not every partition it ever wrote to.
   */
  releaseIdle(now: number, idleMs: number): number {
    let released = 0;
    for (const p of this.partitions) {
      // openSince is NaN before a partition's first batch: such a partition is idle too.
      if (p.count > 0 || !p.holdsArena || now - p.openSince < idleMs) continue;
      p.releaseArena();
      released++;
    }
    return released;
  }

  /** How many partitions hold an arena (a pass over every partition, for the worker's sweep). */
  arenasHeld(): number {
    let held = 0;
    for (const p of this.partitions) if (p.holdsArena) held++;
    return held;
  }

  /** Drops from `sending` the partitions left with no sealed batch, keeping the others' order. */
  pruneSending(): void {
    const sending = this.sending;
    let kept = 0;
    for (let i = 0; i < sending.length; i++) {
      const p = sending[i]!;
      if (p.sealed.length > 0) sending[kept++] = p;
      else p.sending = false;
    }
    sending.length = kept;
  }

  /** True while some partition has an open (unsealed) batch. */
  get hasOpen(): boolean {
    return this.#filling.size > 0;
  }

  /**
   * The fewest ring bytes after which some batch could be full: the smallest room left in an open batch (a record
   * takes at least as many ring bytes as arena bytes, and at least a header), or a whole batch for a partition not
   * yet open. A worker that lingers need not look at the ring before that many bytes have come.
   */
  roomBeforeFull(): number {
    const { batchMaxBytes } = this.#init.settings;
    let room = batchMaxBytes;
    for (const p of this.#filling) {
      room = Math.min(room, batchMaxBytes - p.arenaUsed, (MAX_BATCH_RECORDS - p.count) * RECORD_HEADER_BYTES);
    }
    return Math.max(0, room);
  }

  /** How long the worker may sleep: until the oldest open batch must be sealed, or indefinitely. */
  lingerWait(): number | undefined {
    if (this.#filling.size === 0) return undefined;
    let oldest = Infinity;
    for (const p of this.#filling) oldest = Math.min(oldest, p.openSince);
    return Math.max(0, oldest + this.#init.settings.lingerMs - Date.now());
  }

  /**
   * Seals every open batch when `all` says so (waiters, flush, close). Otherwise, when some batch's linger is over,
   * seals it and every other open batch whose partition `leaderOf` puts on the same broker: a request is going to
   * that broker anyway, and the batches that ride along would each have cost a request of their own a moment
   * later — as the Java producer drains every partition of a node that one ready partition made ready. A modest
   * rate spread over many partitions otherwise sends a request per partition per linger (rate-2k-1KiB-keyed-lz4 in
   * the bench: 16 partitions, about one record per batch).
   */
  sealDue(all: boolean, now: number, leaderOf: (p: PartitionState) => number): void {
    if (this.#filling.size === 0) return;
    const { lingerMs } = this.#init.settings;
    if (all || lingerMs === 0) {
      for (const p of this.#filling) this.seal(p, now);
      return;
    }
    let leaders: number[] | undefined;
    for (const p of this.#filling) {
      if (now - p.openSince < lingerMs) continue;
      const leader = leaderOf(p);
      if (leaders === undefined) leaders = [leader];
      else if (!leaders.includes(leader)) leaders.push(leader);
    }
    if (leaders === undefined) return;
    for (const p of this.#filling) if (leaders.includes(leaderOf(p))) this.seal(p, now);
  }

  /** Seals the partition's open batch (see the file comment); the arena is free again when this returns. */
  seal(p: PartitionState, now: number): void {
    p.copyPending();
    this.#filling.delete(p);
    const offsets = p.offsets;
    const ids = p.recordIds;
    let kept = 0;
    let dropped: number[] | undefined;
    for (let i = 0; i < p.count; i++) {
      const id = ids[i]!;
      if (seal(this.#states, id)) {
        offsets[kept] = offsets[i]!;
        ids[kept++] = id;
      } else (dropped ??= []).push(id);
    }
    if (dropped !== undefined) this.#events.dropped(p, dropped);
    if (kept > 0) {
      const batch = newBatch(ids.slice(0, kept), expiresAt(p.openSince, this.#init.settings.deliveryTimeoutMs));
      p.sealed.push(batch);
      if (!p.sending) {
        p.sending = true;
        this.sending.push(p);
      }
      const arena = p.arena;
      let bytes: Buffer | Promise<Buffer>;
      try {
        bytes = encodeEntries(arena, offsets, kept, this.batchHeader(), this.#buffers, true);
      } catch (error) {
        // A synchronous failure (a buffer that cannot be had, an encoder's own check) fails the batch as an async
        // one does: thrown out of here it ended the worker's read loop, its records already claimed and sealed.
        bytes = Promise.reject(error as Error);
      }
      if (!(bytes instanceof Promise) && bytes.buffer === arena.buffer) {
        // Written over its own entries, the arena became the batch. One that fills at least half its arena keeps it
        // (the partition takes another); a smaller one is copied into a buffer of its own size and the arena stays,
        // so that a batch never holds much more memory than its own bytes while it waits for its acknowledgement.
        // Written in place and then copied in one piece, a batch costs less than written field by field into a
        // buffer of its own, which is what a batch under half its arena was until then (the in-place encoding
        // saves copying every record into a second buffer: src/workers/entry-encoder.ts).
        if (2 * p.arenaUsed >= arena.length) p.replaceArena();
        else bytes = copyOut(bytes, this.#buffers);
      }
      this.attach(p, batch, bytes);
    }
    p.reset();
  }

  batchHeader(): BatchHeader {
    const { idempotent, codec, transactionalId } = this.#init.settings;
    // The base sequence (and the partition's epoch, and a transactional producer's id) are patched in at first
    // send, with the CRC over them (delivery-policy.ts markSent, stampProducer); 0 keeps the header well-formed.
    return {
      producerId: idempotent ? this.#init.producerId : -1n,
      producerEpoch: idempotent ? this.#init.producerEpoch : -1,
      baseSequence: idempotent ? 0 : -1,
      transactional: transactionalId !== null,
      codec,
      crcAtSend: idempotent,
    };
  }

  /** Attaches encoded bytes to the batch, now or when compression finishes. */
  attach(p: PartitionState, batch: Batch, result: Buffer | Promise<Buffer>): void {
    if (!(result instanceof Promise)) {
      batch.bytes = result;
      return;
    }
    batch.encoding = result.then(
      (bytes) => {
        batch.bytes = bytes;
        batch.encoding = undefined;
        this.#events.encoded();
      },
      (error: unknown) => {
        batch.encoding = undefined;
        if (p.sealed.includes(batch)) this.#events.failed(p, batch, `encoding failed: ${String(error)}`); // unless close reported it
      },
    );
  }
}

/** `bytes` copied into a buffer of exactly its size from `buffers`. */
function copyOut(bytes: Buffer, buffers: BatchBufferSource): Buffer {
  const copy = buffers.take(bytes.length);
  bytes.copy(copy, 0, 0, bytes.length);
  return copy;
}
