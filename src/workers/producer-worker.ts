/**
 * A producer worker: reads records from its ring, accumulates them per owned partition, seals batches (lingerMs,
 * batchMaxBytes), sends them through one sink per broker, retries, and reports one completion per batch.
 *
 * Ordering and idempotence need no locks because a partition lives here and nowhere else. At most one batch per
 * partition is on the wire at a time: a retry is then always the oldest unacknowledged batch, so it can be resent
 * byte for byte with its sequence, and a batch the broker definitively rejected can hand its sequence back.
 */
import type { MessagePort } from 'node:worker_threads';
import { ControlBlock } from '../shared/control-block.js';
import { RingReader, RingWriter } from '../shared/ring.js';
import { EntryKind, RECORD_HEADER_BYTES, readF64, readI32, readTopicEntry, readU16, readU32 } from '../shared/record-entry.js';
import { ClientErrorCode, CompletionKind } from '../shared/completion-entry.js';
import { seal } from '../shared/record-states.js';
import type { ControlMessage, WorkerInit } from '../shared/worker-protocol.js';
import { encodeRecordBatch, BatchOffset } from '../protocol/record-batch.js';
import { crc32c } from '../protocol/crc32c.js';
import { ErrorCode, errorInfo } from '../protocol/error-codes.js';
import type { Acks } from '../protocol/apis/produce.js';
import { ClusterView } from './cluster-view.js';
import { CompletionWriter } from './completion-writer.js';
import { newBatch, type Batch, type QueuedRecord } from './batch.js';
import { PartitionState, addSequence, type TopicState } from './partition-state.js';
import { Sink, type Outgoing, type PartitionOutcome } from './sink.js';

/** Upper bound on the batches gathered into one Produce request (the broker takes up to 100 MiB). */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;
/** Per-record overhead estimate used for batchMaxBytes before the exact size is computed at encoding. */
const RECORD_OVERHEAD_ESTIMATE = 24;
const MAX_TIMER_MS = 2 ** 31 - 1;

export class ProducerWorker {
  readonly #init: WorkerInit;
  readonly #settings: WorkerInit['settings'];
  readonly #control: ControlBlock;
  readonly #reader: RingReader;
  readonly #completions: CompletionWriter;
  readonly #states: Uint8Array;
  readonly #port: MessagePort;
  readonly #view: ClusterView;
  readonly #topics = new Map<number, TopicState>();
  readonly #partitions: PartitionState[] = [];
  /** Partitions with records in their open list. */
  readonly #filling = new Set<PartitionState>();
  readonly #sinks = new Map<number, Sink>();
  readonly #stop = new AbortController();
  #rotation = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryAt = Infinity;
  #closeDeadline = Infinity;
  #closing = false;
  #closeTimer: NodeJS.Timeout | undefined;
  #finished!: () => void;
  readonly #done = new Promise<void>((resolve) => (this.#finished = resolve));

  constructor(init: WorkerInit) {
    this.#init = init;
    this.#settings = init.settings;
    this.#control = new ControlBlock(init.control);
    this.#reader = new RingReader(init.recordRing);
    this.#completions = new CompletionWriter(new RingWriter(init.completionRing), this.#control);
    this.#states = new Uint8Array(init.recordStates);
    this.#port = init.port;
    const { clientId, requestTimeoutMs, connectTimeoutMs, maxInFlight } = this.#settings;
    this.#view = new ClusterView(this.#settings.brokers, { clientId, requestTimeoutMs, connectTimeoutMs, maxInFlight });
  }

  /** Runs until close; resolves when every batch has an outcome and every socket and timer is released. */
  async run(): Promise<void> {
    this.#port.on('message', (message: ControlMessage) => {
      if (message.type === 'close') this.#beginClose(message.deadline);
    });
    while (!this.#closing) {
      this.#readRing();
      this.#sealDue();
      this.#pump();
      this.#completions.signal();
      if (this.#closing) break;
      await this.#reader.waitForData({ timeoutMs: this.#lingerWait(), signal: this.#stop.signal });
    }
    await this.#done;
    await this.#completions.drained();
    await this.#view.close();
    this.#port.close();
  }

  /** How long the ring may sleep: until the oldest open batch must be sealed, or indefinitely. */
  #lingerWait(): number | undefined {
    if (this.#filling.size === 0) return undefined;
    let oldest = Infinity;
    for (const p of this.#filling) oldest = Math.min(oldest, p.openSince);
    return Math.max(0, oldest + this.#settings.lingerMs - Date.now());
  }

  #readRing(): void {
    const reader = this.#reader;
    const data = reader.data;
    const now = Date.now();
    for (let length; (length = reader.read()) >= 0; ) {
      const at = reader.offset;
      if (data[at] === EntryKind.topic) {
        const { topicIndex, name } = readTopicEntry(data, at);
        this.#topics.set(topicIndex, { index: topicIndex, name, partitions: new Map() });
        void this.#view.refresh(name).then(() => this.#pump(), () => this.#pump());
        continue;
      }
      this.#addRecord(data, at, length, now);
    }
    reader.release();
  }

  #addRecord(data: Uint8Array, at: number, length: number, now: number): void {
    const topic = this.#topics.get(readU16(data, at + 2))!;
    const partitionIndex = readI32(data, at + 8);
    let p = topic.partitions.get(partitionIndex);
    if (p === undefined) {
      p = new PartitionState(topic, partitionIndex);
      topic.partitions.set(partitionIndex, p);
      this.#partitions.push(p);
    }
    // One copy per record: the ring space is handed back right after this drain.
    const bytes = data.slice(at + RECORD_HEADER_BYTES, at + length);
    const keyLength = readI32(data, at + 12);
    const valueLength = readI32(data, at + 16);
    const headerCount = readU32(data, at + 20);
    let pos = 0;
    const key = keyLength < 0 ? null : bytes.subarray(pos, (pos += keyLength));
    const value = valueLength < 0 ? null : bytes.subarray(pos, (pos += valueLength));
    const headers: [Uint8Array, Uint8Array | null][] = [];
    for (let i = 0; i < headerCount; i++) {
      const hk = readI32(bytes, pos);
      const headerKey = bytes.subarray(pos + 4, (pos += 4 + hk));
      const hv = readI32(bytes, pos);
      pos += 4;
      headers.push([headerKey, hv < 0 ? null : bytes.subarray(pos, (pos += hv))]);
    }
    const record: QueuedRecord = { recordId: readU32(data, at + 4), key, value, headers, timestamp: readF64(data, at + 24) };
    const size = bytes.length + RECORD_OVERHEAD_ESTIMATE;
    if (p.open.length > 0 && p.openBytes + size > this.#settings.batchMaxBytes) this.#seal(p, now);
    if (p.open.length === 0) {
      p.openSince = now;
      this.#filling.add(p);
    }
    p.open.push(record);
    p.openBytes += size;
    if (p.openBytes >= this.#settings.batchMaxBytes) this.#seal(p, now);
  }

  /** Seals open lists whose linger is over, or all of them when someone waits, flushes or closes. */
  #sealDue(): void {
    if (this.#filling.size === 0) return;
    const now = Date.now();
    const all = this.#closing || this.#settings.lingerMs === 0 || this.#control.sendNow;
    for (const p of this.#filling) {
      if (all || now - p.openSince >= this.#settings.lingerMs) this.#seal(p, now);
    }
  }

  /**
   * Claims each record with a CAS on its state byte; one the main thread cancelled first is left out, so no
   * sequence number is ever spent on it (DESIGN invariant 5), and its id goes back as `dropped`.
   */
  #seal(p: PartitionState, now: number): void {
    const records = p.open;
    p.open = [];
    p.openBytes = 0;
    this.#filling.delete(p);
    const kept: QueuedRecord[] = [];
    let dropped: number[] | undefined;
    for (const record of records) {
      if (seal(this.#states, record.recordId)) kept.push(record);
      else (dropped ??= []).push(record.recordId);
    }
    if (dropped !== undefined) {
      this.#completions.publish(this.#head(p, CompletionKind.dropped, 0), dropped);
    }
    if (kept.length === 0) return;
    const batch = newBatch(kept, now + this.#settings.deliveryTimeoutMs);
    this.#encode(p, batch);
    p.sealed.push(batch);
  }

  #encode(p: PartitionState, batch: Batch): void {
    const { idempotent, codec } = this.#settings;
    batch.encoding = encodeRecordBatch(batch.records, {
      producerId: idempotent ? this.#init.producerId : -1n,
      producerEpoch: idempotent ? this.#init.producerEpoch : -1,
      baseSequence: idempotent ? 0 : -1,
      codec,
    }).then(
      (bytes) => {
        batch.bytes = bytes;
        batch.encoding = undefined;
        this.#pump();
      },
      (error: unknown) => {
        batch.encoding = undefined;
        this.#remove(p, batch);
        this.#fail(p, batch, ClientErrorCode.protocol, `encoding failed: ${String(error)}`);
        this.#pump();
      },
    );
  }

  /** Sends what can go now: for each partition whose head batch is encoded, not in flight and not backing off. */
  #pump(): void {
    const now = Date.now();
    const requests = new Map<Sink, { outgoing: Outgoing[]; bytes: number }>();
    const partitions = this.#partitions;
    const count = partitions.length;
    let nextRetry = Infinity;
    let needMetadata = false;
    const start = this.#rotation++ % Math.max(1, count);
    for (let i = 0; i < count; i++) {
      // Starting at a rotating index, so one busy partition cannot always fill the request first.
      const p = partitions[(start + i) % count]!;
      const batch = p.sealed[0];
      if (batch === undefined || p.inFlight || batch.bytes === undefined) continue;
      if (batch.retryAt > now) {
        nextRetry = Math.min(nextRetry, batch.retryAt);
        continue;
      }
      if (!batch.ambiguous && (now >= batch.deadline || this.#closeDeadline <= now)) {
        this.#remove(p, batch);
        this.#fail(p, batch, now >= batch.deadline ? ClientErrorCode.deliveryTimeout : ClientErrorCode.closed, 'not sent before the deadline');
        continue;
      }
      const layout = this.#view.topic(p.topic.name);
      const leader = layout?.leaders[p.partition] ?? -1;
      if (layout === undefined || leader < 0) {
        if (layout !== undefined && this.#view.isUnknownTopic(p.topic.name)) {
          this.#remove(p, batch);
          this.#fail(p, batch, ClientErrorCode.unknownTopic, `topic ${p.topic.name}: ${this.#view.describeTopicError(p.topic.name)}`);
          continue;
        }
        needMetadata = true;
        continue;
      }
      const sink = this.#sink(leader);
      if (!sink.canSend(now)) continue;
      let request = requests.get(sink);
      if (request === undefined) {
        if (sink.inFlight + requests.size >= this.#settings.maxInFlight && requests.size > 0) continue;
        request = { outgoing: [], bytes: 0 };
        requests.set(sink, request);
      }
      if (request.bytes > 0 && request.bytes + batch.bytes.length > MAX_REQUEST_BYTES) continue;
      this.#prepareAttempt(p, batch);
      request.outgoing.push({ topic: p.topic.name, topicId: layout.topicId, partition: p.partition, batch });
      request.bytes += batch.bytes.length;
    }
    for (const [sink, request] of requests) sink.send(request.outgoing);
    if (needMetadata) void this.#view.refresh().then(() => this.#pump(), () => this.#retryLater(now + this.#settings.retryBackoffMs));
    if (nextRetry !== Infinity) this.#retryLater(nextRetry);
    this.#completions.signal();
    this.#maybeFinish();
  }

  /** First attempt: the batch takes its sequence now, patched into the bytes (the CRC covers it). */
  #prepareAttempt(p: PartitionState, batch: Batch): void {
    p.inFlight = true;
    batch.attempts++;
    if (!this.#settings.idempotent || batch.baseSequence >= 0) return;
    batch.baseSequence = p.nextSequence;
    p.nextSequence = addSequence(p.nextSequence, batch.records.length);
    const bytes = batch.bytes!;
    bytes.writeInt32BE(batch.baseSequence, BatchOffset.baseSequence);
    bytes.writeUInt32BE(crc32c(bytes, BatchOffset.attributes, bytes.length), BatchOffset.crc);
  }

  #sink(nodeId: number): Sink {
    let sink = this.#sinks.get(nodeId);
    if (sink === undefined) {
      const { acks, requestTimeoutMs, maxInFlight } = this.#settings;
      sink = new Sink(nodeId, this.#view, { acks: acks as Acks, requestTimeoutMs, maxInFlight }, {
        answered: (outgoing, outcome) => this.#answered(outgoing, outcome),
        lost: (outgoing, error) => this.#lost(outgoing, error),
        ready: () => this.#pump(),
        throttled: () => {},
      });
      this.#sinks.set(nodeId, sink);
    }
    return sink;
  }

  #partitionOf(outgoing: Outgoing): PartitionState {
    for (const topic of this.#topics.values()) {
      if (topic.name === outgoing.topic) return topic.partitions.get(outgoing.partition)!;
    }
    throw new Error(`no state for ${outgoing.topic}-${outgoing.partition}`);
  }

  #answered(outgoing: Outgoing, outcome: PartitionOutcome): void {
    const p = this.#partitionOf(outgoing);
    const batch = outgoing.batch;
    p.inFlight = false;
    const code = outcome.errorCode;
    if (code === ErrorCode.NONE || code === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) {
      this.#remove(p, batch);
      this.#completions.publish(
        { ...this.#head(p, CompletionKind.delivered, 0), baseOffset: outcome.baseOffset, timestamp: outcome.logAppendTimeMs },
        batch.records.map((r) => r.recordId),
      );
      return;
    }
    const info = errorInfo(code);
    if (code === ErrorCode.MESSAGE_TOO_LARGE && batch.records.length > 1) {
      this.#split(p, batch);
      return;
    }
    if (info.retriable && (batch.ambiguous || Date.now() < batch.deadline) && this.#closeDeadline > Date.now()) {
      if (info.refreshMetadata) void this.#view.refresh();
      this.#backOff(batch);
      return;
    }
    // A definitive rejection: the broker did not write the batch, and nothing after it was sent (one batch per
    // partition in flight), so its sequence numbers are handed back and the next batch takes them.
    this.#remove(p, batch);
    if (this.#settings.idempotent && batch.baseSequence >= 0) p.nextSequence = batch.baseSequence;
    this.#fail(p, batch, code, outcome.errorMessage ?? '');
  }

  /** No answer: the broker may have written it. Retried byte for byte until it answers (or close gives up). */
  #lost(outgoing: Outgoing, _error: Error): void {
    const p = this.#partitionOf(outgoing);
    p.inFlight = false;
    outgoing.batch.ambiguous = true;
    void this.#view.refresh().catch(() => undefined);
    this.#backOff(outgoing.batch);
  }

  /** MESSAGE_TOO_LARGE for a multi-record batch: split it in two, same sequences, and send the halves in order. */
  #split(p: PartitionState, batch: Batch): void {
    const half = Math.ceil(batch.records.length / 2);
    const first = newBatch(batch.records.slice(0, half), batch.deadline);
    const second = newBatch(batch.records.slice(half), batch.deadline);
    if (this.#settings.idempotent && batch.baseSequence >= 0) p.nextSequence = batch.baseSequence;
    p.sealed.splice(0, 1, first, second);
    this.#encode(p, first);
    this.#encode(p, second);
  }

  #backOff(batch: Batch): void {
    const { retryBackoffMs, retryBackoffMaxMs } = this.#settings;
    const exponential = Math.min(retryBackoffMaxMs, retryBackoffMs * 2 ** Math.min(20, batch.attempts - 1));
    // ±20 % jitter, as Java does, so partitions that failed together do not retry in lockstep.
    batch.retryAt = Date.now() + exponential * (0.8 + Math.random() * 0.4);
    this.#retryLater(batch.retryAt);
  }

  #retryLater(at: number): void {
    if (at >= this.#retryAt) return;
    clearTimeout(this.#retryTimer);
    this.#retryAt = at;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#retryAt = Infinity;
      this.#pump();
    }, Math.max(0, at - Date.now()));
  }

  #remove(p: PartitionState, batch: Batch): void {
    const index = p.sealed.indexOf(batch);
    if (index >= 0) p.sealed.splice(index, 1);
  }

  #head(p: PartitionState, kind: (typeof CompletionKind)[keyof typeof CompletionKind], errorCode: number) {
    return { kind, topicIndex: p.topic.index, partition: p.partition, errorCode, baseOffset: -1, timestamp: -1 };
  }

  #fail(p: PartitionState, batch: Batch, errorCode: number, message: string): void {
    this.#completions.publish(this.#head(p, CompletionKind.failed, errorCode), batch.records.map((r) => r.recordId), message);
  }

  #beginClose(deadline: number): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#closeDeadline = deadline;
    this.#stop.abort();
    this.#readRing();
    this.#sealDue();
    const wait = Math.max(0, deadline - Date.now());
    // No deadline (close without timeoutMs) arms no timer: Node would clamp a delay over 2^31-1 ms to 1 ms.
    if (wait <= MAX_TIMER_MS) this.#closeTimer = setTimeout(() => this.#giveUp(), wait);
    this.#pump();
  }

  /** The close deadline passed: whatever is still here fails, in flight or not, and the worker finishes. */
  #giveUp(): void {
    for (const p of this.#partitions) {
      for (const batch of p.sealed.splice(0)) this.#fail(p, batch, ClientErrorCode.closed, 'the producer closed before the broker answered');
      p.inFlight = false;
    }
    this.#finish();
  }

  #maybeFinish(): void {
    if (!this.#closing) return;
    for (const p of this.#partitions) if (!p.idle || p.inFlight) return;
    this.#finish();
  }

  #finish(): void {
    clearTimeout(this.#closeTimer);
    clearTimeout(this.#retryTimer);
    this.#retryAt = -Infinity; // no timer is armed after this
    for (const sink of this.#sinks.values()) sink.close();
    this.#completions.signal();
    this.#finished();
  }
}
