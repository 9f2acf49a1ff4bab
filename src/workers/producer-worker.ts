/**
 * A producer worker: reads records from its ring, accumulates them per owned partition, seals batches (lingerMs,
 * batchMaxBytes), sends them through one sink per broker, retries, and reports one completion per batch.
 *
 * Ordering and idempotence need no locks because a partition lives here and nowhere else. With idempotence up to
 * `maxInFlight` batches of a partition are on the wire at once (one without: nothing else keeps a retry in order);
 * what an answer does to a partition's batches and sequences is the delivery policy's (./delivery-policy.ts), and
 * carrying its verdicts out is ./batch-outcomes.ts's: this file reads the ring, seals, pumps batches to their
 * leaders, and owns the worker's lifecycle (timers, sinks, close).
 */
import type { MessagePort } from 'node:worker_threads';
import { ControlBlock } from '../shared/control-block.js';
import { RingReader, RingWriter } from '../shared/ring.js';
import { EntryKind, RecordEntryOffset, readTopicEntry } from '../shared/record-entry.js';
import { ClientErrorCode } from '../shared/completion-entry.js';
import { WorkerStats } from '../shared/worker-stats.js';
import { MAX_TIMER_MS } from '../shared/timers.js';
import type { ControlMessage, WorkerInit } from '../shared/worker-protocol.js';
import type { SaslCredentials } from '../net/sasl.js';
import { WorkerTokens } from './worker-tokens.js';
import { stampProducer } from '../protocol/record-batch.js';
import { loadCodecBinding } from '../protocol/codec-bindings.js';
import { Accumulator } from './accumulator.js';
import { BatchBufferPool, idleMaxBytesFor } from './batch-buffers.js';
import { ClusterView } from './cluster-view.js';
import { CompletionWriter } from './completion-writer.js';
import type { Batch } from './batch.js';
import type { PartitionState } from './partition-state.js';
import type { Outgoing, Sink } from './sink.js';
import { BrokerSinks } from './broker-sinks.js';
import * as policy from './delivery-policy.js';
import { BatchOutcomes } from './batch-outcomes.js';
import { BatchExpiry } from './batch-expiry.js';
import { CloseTimes } from './close-times.js';
import { MetadataRefresher } from './metadata-refresher.js';
import { planSleep } from './sleep-plan.js';
import { NOT_TRANSACTIONAL, ProducerIdentityView } from '../shared/producer-identity.js';

/**
 * The most ring bytes a lingering worker lets pile up before records wake it. A rate that brings this much within
 * a linger is a busy one, where the worker best keeps reading as it did without lingering: with the cap at a
 * quarter of the ring (4 MiB), the kfake bench at 100B-none was slower lingering than not in two pairs of three
 * (716k vs 861k and 653k vs 798k records/s; worker 0.64 vs 0.50 µs per record); with it at 64 KiB the pairs were
 * level.
 */
const LINGER_WAKE_BYTES = 64 * 1024;

/**
 * A partition with no batch opened for this long gives its arena back (Accumulator.releaseIdle), looked for at most
 * this often: without it every partition the worker ever wrote to kept its arena (64 KiB, or what it grew to, up to
 * batchMaxBytes) for the producer's life, memory growing with the number of topics used over time rather than
 * bounded by maxBufferedBytes. Long enough that a partition written to every few seconds keeps its warm arena.
 */
const ARENA_IDLE_MS = 30_000;

export class ProducerWorker {
  readonly #settings: WorkerInit['settings'];
  /** Reused batch buffers (batch-buffers.ts). */
  readonly #buffers: BatchBufferPool;
  /** Batches of one partition that may be in flight at once. */
  readonly #window: number;
  readonly #control: ControlBlock;
  readonly #reader: RingReader;
  /**
   * The record ring's data area as a Buffer, so entries leave it by Buffer#copy: a native memory copy on Node 22
   * and later (V8's TypedArray#set copies out of shared memory element by element), and no view object per record.
   */
  readonly #ringBytes: Buffer;
  readonly #completions: CompletionWriter;
  readonly #states: Uint8Array;
  readonly #port: MessagePort;
  readonly #stats: WorkerStats;
  readonly #view: ClusterView;
  readonly #batches: Accumulator;
  readonly #outcomes: BatchOutcomes;
  /** Fails the batches past their delivery deadline that never left (./batch-expiry.ts). */
  readonly #expiry: BatchExpiry;
  /** One sink per broker this worker sends to. */
  readonly #sinks: BrokerSinks;
  readonly #stop = new AbortController();
  /** The loop last slept lingering (entries may have waited in the ring since #lastReadAt). */
  #lingered = false;
  /** When #readRing last began: every entry it left unread was published after that. */
  #lastReadAt = 0;
  /** The last #readRing read records (not only topic entries, or nothing). */
  #readRecords = false;
  /** The loop's last sleep ended with its timeout. */
  #timedOut = false;
  /** The sleeping loop's `hasWork` while batches are open or it lingers: the main thread's demand to send now. */
  readonly #sendNow = (): boolean => this.#control.sendNow;
  readonly #tokens: WorkerTokens;
  /** A transactional producer's id and epoch, as the main thread publishes them; undefined otherwise. */
  readonly #identity: ProducerIdentityView | undefined;
  #rotation = 0;
  /** When the loop next looks for idle partitions' arenas and idle buffers to release (ARENA_IDLE_MS). */
  #nextArenaSweep = 0;
  /**
   * Whether a later sweep may release memory: a partition held an arena, the pool kept idle buffers above its floor
   * or had buffers lent, or records came since the last sweep. While it does, an idle loop wakes for the sweep
   * instead of sleeping until the next record, which may never come: memory a quiet producer no longer needs is
   * given back.
   */
  #sweepMayRelease = false;
  readonly #refresher: MetadataRefresher;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryAt = Infinity;
  /** Close's cut-off and deadline: from the cut-off nothing is sent, and what never left has failed. */
  readonly #closeTimes = new CloseTimes({ cutOff: () => this.#pump(), giveUp: () => this.#deadlinePassed() });
  #closing = false;
  #finished!: () => void;
  readonly #done = new Promise<void>((resolve) => (this.#finished = resolve));

  constructor(init: WorkerInit) {
    // The one codec this producer writes with, now: a binding that cannot load fails the worker's start.
    loadCodecBinding(init.settings.codec);
    this.#settings = init.settings;
    this.#window = policy.partitionWindow(init.settings.idempotent, init.settings.maxInFlight);
    this.#buffers = new BatchBufferPool(idleMaxBytesFor(init.settings.maxBufferedBytes, init.workerCount));
    this.#control = new ControlBlock(init.control);
    this.#reader = new RingReader(init.recordRing);
    this.#ringBytes = Buffer.from(this.#reader.data.buffer, this.#reader.data.byteOffset, this.#reader.data.byteLength);
    this.#completions = new CompletionWriter(new RingWriter(init.completionRing), this.#control);
    this.#states = new Uint8Array(init.recordStates);
    this.#port = init.port;
    this.#stats = new WorkerStats(init.stats);
    this.#identity = init.identity === null ? undefined : new ProducerIdentityView(init.identity);
    this.#batches = new Accumulator(init, this.#states, {
      dropped: (p, ids) => this.#outcomes.dropped(p, ids),
      encoded: () => this.#pump(),
      failed: (p, batch, message) => {
        this.#outcomes.abandon(p, batch, ClientErrorCode.protocol, message);
        this.#pump();
      },
    }, this.#buffers);
    const { clientId, requestTimeoutMs, connectTimeoutMs, maxInFlight, metadataMaxAgeMs, metadataMaxIdleMs, tls, sasl } = this.#settings;
    const { retryBackoffMs, retryBackoffMaxMs, reconnectBackoffMs, reconnectBackoffMaxMs } = this.#settings;
    this.#tokens = new WorkerTokens(init.port);
    let credentials: SaslCredentials | null = null;
    if (sasl?.mechanism === 'oauthbearer') credentials = { ...sasl, token: () => this.#tokens.get() };
    else if (sasl !== null) credentials = sasl;
    this.#view = new ClusterView(this.#settings.brokers, {
      clientId, requestTimeoutMs, connectTimeoutMs, maxInFlight, retryBackoffMs, retryBackoffMaxMs, reconnectBackoffMs, reconnectBackoffMaxMs,
      metadataMaxAgeMs, idleTopics: () => this.#batches.idleTopics(Date.now(), metadataMaxIdleMs),
      heldPartitions: () => this.#batches.sending.filter((p) => p.sealed.length > 0),
      // Structured cloning turned Buffers into plain Uint8Arrays; tls.connect takes both.
      tls,
      sasl: credentials,
    });
    this.#refresher = new MetadataRefresher(this.#view, { refreshed: () => this.#pump(), retryAt: (at) => this.#retryLater(at) }, this.#settings);
    this.#outcomes = new BatchOutcomes(
      { settings: this.#settings, completions: this.#completions, stats: this.#stats, port: this.#port, view: this.#view, batches: this.#batches, buffers: this.#buffers },
      {
        refresh: () => this.#refresh(),
        retryLater: (at) => this.#retryLater(at),
        pump: () => this.#pump(),
        closeDeadline: () => this.#closeTimes.deadline,
      },
    );
    this.#expiry = new BatchExpiry({ batches: this.#batches, view: this.#view, outcomes: this.#outcomes, sinkOf: (nodeId) => this.#sinks.get(nodeId) });
    this.#sinks = new BrokerSinks(
      { settings: this.#settings, view: this.#view, outcomes: this.#outcomes, stats: this.#stats, port: this.#port },
      { pump: () => this.#pump(), refresh: () => this.#refresh() },
    );
  }

  /** Runs until close; resolves when every batch has an outcome and every socket and timer is released. */
  async run(): Promise<void> {
    this.#port.on('message', (message: ControlMessage) => {
      if (message.type === 'close') this.#beginClose(message.deadline, Math.min(message.sendUntil, message.deadline));
      // The pump fails every batch no broker may hold from the cut-off on, so that its 'not-sent' can still reach the
      // main thread before the deadline (the main thread's close keeps a lead ahead of it, reportLead).
      else if (message.type === 'cut-off') {
        this.#closeTimes.cutOffAt(message.sendUntil);
        // A later close's deadline: kept, without closing yet (the main thread's flush may still write records here).
        if (message.deadline !== undefined) this.#closeTimes.giveUpAt(message.deadline);
      }
      else if (message.type === 'token' || message.type === 'token-error') this.#tokens.onMessage(message);
    });
    while (!this.#closing) {
      this.#readRing();
      this.#sealDue();
      this.#pump();
      this.#completions.signal();
      if (this.#closing) break;
      if (this.#readRecords) this.#sweepMayRelease = true;
      this.#releaseIdleArenas();
      // `hasWork` is re-checked after the reader announces its sleep: the main thread sets WAITERS/FLUSHES and
      // then wakes us, and a wake landing between #sealDue's look and the sleep must not be lost (it would hold
      // an open batch, or records left unread while lingering, and a flush, for the whole linger).
      // With batches open the loop wakes at their linger deadline anyway: new records need not wake it before
      // then, unless they could fill a batch (roomBeforeFull) or LINGER_WAKE_BYTES have come. One wake-up per
      // linger instead of one per turn of the main thread's loop: at 20,000 records/s of 100 B it took a fifth
      // to a quarter off the worker's CPU.
      // With none open, it lingers on after a turn its linger timeout began that read records (./sleep-plan.ts).
      const plan = planSleep({
        hasOpen: this.#batches.hasOpen,
        readRecords: this.#readRecords,
        timedOut: this.#timedOut,
        sendNow: this.#control.sendNow,
        lingerMs: this.#settings.lingerMs,
        lingerWait: this.#batches.lingerWait(),
        sweepWait: this.#sweepMayRelease ? Math.max(0, this.#nextArenaSweep - Date.now()) : undefined,
      });
      this.#lingered = plan.lingering;
      const outcome = await this.#reader.waitForData({
        timeoutMs: plan.timeoutMs,
        signal: this.#stop.signal,
        hasWork: plan.wakeOnDemand ? this.#sendNow : undefined,
        lingerBytes: plan.lingering ? this.#lingerBytes() : undefined,
      });
      this.#timedOut = outcome === 'timed-out';
    }
    await this.#done;
    await this.#completions.drained();
    this.#tokens.close();
    await this.#view.close();
  }

  /**
   * Idle partitions give back their arenas, once per ARENA_IDLE_MS at most (a pass over every partition), and the
   * buffer pool ends its window: idle buffers kept for a burst older than the last window go.
   */
  #releaseIdleArenas(): void {
    const now = Date.now();
    if (now < this.#nextArenaSweep) return;
    this.#nextArenaSweep = now + ARENA_IDLE_MS;
    this.#batches.releaseIdle(now, ARENA_IDLE_MS);
    this.#buffers.endWindow();
    // Lent buffers count too: given back later (a batch acknowledged after a slow retry), they may lift the idle
    // bytes above the floor with no record coming to turn the loop.
    const buffers = this.#buffers;
    this.#sweepMayRelease = this.#batches.arenasHeld() > 0 || buffers.idleAboveFloor || buffers.lentBytes > 0;
  }

  /** How many bytes of new records may wait in the ring while the loop lingers (at least 1). */
  #lingerBytes(): number {
    return Math.max(1, Math.min(this.#batches.roomBeforeFull(), LINGER_WAKE_BYTES, this.#reader.capacity / 4));
  }

  #readRing(): void {
    const reader = this.#reader;
    const data = this.#ringBytes;
    const now = Date.now();
    // A record that waited in the ring while the loop lingered opens its batch as of the last read, not now: its
    // linger counts from (no later than) when it was sent, so no record waits much past lingerMs for a seal.
    const since = this.#lingered ? this.#lastReadAt : now;
    this.#lastReadAt = now;
    this.#lingered = false;
    this.#readRecords = false;
    for (let length; (length = reader.read()) >= 0; ) {
      const at = reader.offset;
      if (data[at + RecordEntryOffset.kind] === EntryKind.topic) {
        const { topicIndex, name } = readTopicEntry(data, at);
        this.#batches.addTopic(topicIndex, name);
        this.#refresh(name);
        continue;
      }
      this.#batches.add(data, at, length, since);
      this.#readRecords = true;
    }
    // The entries' bytes leave the ring before its space is handed back (Accumulator.add copies in runs).
    this.#batches.copyPending();
    reader.release();
  }

  /** Seals batches whose linger is over (with their brokers' others), or all while anyone waits, flushes or closes. */
  #sealDue(): void {
    this.#batches.sealDue(this.#closing || this.#control.sendNow, Date.now(), this.#leaderOf);
  }

  /** The partition's leader as this worker knows it, -1 while unknown (such partitions are sealed together). */
  readonly #leaderOf = (p: PartitionState): number => this.#view.topic(p.topic.name)?.leaders[p.partition] ?? -1;

  /**
   * Sends what can go now: from every partition, the next batch its window lets go (oldest first, not backing off),
   * in one request per leader (a broker takes one batch per partition per request). One request per leader per
   * call, not as many as the connection would take: the next pump (the next batch encoded, an answer, a timer)
   * sends the next, by which time more batches have sealed to share it. Sending every ready batch at once in
   * separate requests halved the records per second on two cores (more, smaller requests for the worker and the
   * broker to handle; `npx tsx bench/micro/main-thread.ts`). The pass runs again only when a batch failed its
   * deadline, as the batch behind it may go now.
   */
  #pump(): void {
    const now = Date.now();
    // Only the partitions with sealed batches: one with none has nothing to send, and its epoch is adopted (below)
    // once it has one again, before its first batch goes.
    this.#batches.pruneSending();
    const partitions = this.#batches.sending;
    const count = partitions.length;
    // Past close's cut-off nothing new is sent, and what no broker may hold fails now, wherever it waits: also a
    // batch refused after the cut-off and backing off, or one whose encoding ended after it.
    if (this.#closeTimes.sendUntil <= now) this.#expiry.abandonUnsent(ClientErrorCode.closed, 'the producer closed before the batch was sent');
    let nextRetry = this.#expiry.expireDue(now);
    let needMetadata = false;
    let leaderless = false;
    const start = this.#rotation++ % Math.max(1, count);
    const { epoch, producerId } = this.#identity ?? NOT_TRANSACTIONAL;
    const { requestGatherBytes } = this.#settings;
    for (let progress = true; progress; ) {
      progress = false;
      const requests = new Map<Sink, { outgoing: Outgoing[]; bytes: number }>();
      for (let i = 0; i < count; i++) {
        // Starting at a rotating index, so one busy partition cannot always fill the request first.
        const p = partitions[(start + i) % count]!;
        if (epoch >= 0 && !policy.adoptEpoch(p, producerId, epoch)) continue;
        const batch = policy.nextToSend(p, this.#window);
        if (batch === undefined) continue;
        if (batch.retryAt > now) {
          nextRetry = Math.min(nextRetry, batch.retryAt);
          continue;
        }
        // Past close's cut-off or its delivery deadline only an ambiguous batch is still here (failed above if not).
        const layout = this.#view.topic(p.topic.name);
        const leader = layout?.leaders[p.partition] ?? -1;
        // A topic the view forgot, idle for metadataMaxIdleMs until this batch: asked for again by the refresh below.
        if (layout === undefined) this.#view.want(p.topic.name);
        if (layout === undefined || leader < 0) {
          const authFailure = this.#view.metadataAuthFailure;
          if (authFailure !== undefined) {
            // No metadata because this worker cannot authenticate: waiting until the delivery timeout fixes nothing.
            this.#outcomes.abandon(p, batch, policy.authenticationFailure(batch), authFailure.message);
            progress = true;
            continue;
          }
          // No leader yet, or the topic is unknown (being created, or deleted): retried within the delivery timeout
          // as Java does, and reported as unknown if it still is then.
          needMetadata = true;
          // A known topic's partition without a leader: the main thread's partitioner should stop choosing it.
          if (layout !== undefined) leaderless = true;
          continue;
        }
        const sink = this.#sinks.for(leader);
        if (!sink.canSend(now)) continue;
        if (!sink.isConnected) {
          const refusal = this.#view.authRefusal(leader);
          if (refusal !== undefined) {
            // Credentials refused, and a new attempt would fail at once the same way: failed now, never sent.
            this.#outcomes.abandon(p, batch, policy.authenticationFailure(batch), refusal.message);
            progress = true;
            continue;
          }
          // The batch waits unsent until the connection is open, so its delivery deadline can still fail it 'not-sent'.
          sink.connect();
          continue;
        }
        let request = requests.get(sink);
        if (request === undefined) {
          request = { outgoing: [], bytes: 0 };
          requests.set(sink, request);
        }
        // The batches one request gathers are bounded as Java's max.request.size bounds them: a broker drops the
        // connection of a request over its socket.request.max.bytes, and maxRequestBytes is how a user stays under
        // it. A batch alone always goes (batchMaxBytes ≤ maxRequestBytes, and a larger record is refused). One left
        // out goes in another request in the next pass, while the connection takes more in flight: nothing else
        // may pump before an answer comes back, a round trip later.
        if (request.bytes > 0 && request.bytes + batch.bytes!.length > requestGatherBytes) {
          progress = true;
          continue;
        }
        this.#prepareAttempt(p, batch);
        request.outgoing.push({ topic: p.topic.name, topicId: layout.topicId, partition: p.partition, batch });
        request.bytes += batch.bytes!.length;
      }
      for (const [sink, request] of requests) sink.send(request.outgoing);
    }
    if (needMetadata) this.#refresh();
    if (leaderless) this.#outcomes.metadataStale();
    if (nextRetry !== Infinity) this.#retryLater(nextRetry);
    this.#completions.signal();
    this.#maybeFinish();
  }

  /**
   * The batch goes out; a new sequence (and the partition's epoch) is patched into its bytes, and the CRC over them.
   * A Produce frame holds the batch's bytes by reference until they are written (Writer#chunks): patching them is
   * safe because a new attempt starts only once the last one was answered or its connection destroyed, which drops
   * whatever that connection had not written.
   */
  #prepareAttempt(p: PartitionState, batch: Batch): void {
    if (!policy.markSent(p, batch, this.#settings)) return;
    stampProducer(batch.bytes!, p.epoch, batch.baseSequence, this.#identity?.producerId);
  }

  /**
   * Refreshes metadata and pumps once it is in (MetadataRefresher: one pump per refresh, however many asked). A
   * failed refresh is retried after a backoff, and batches waiting on it still fail at their own delivery deadline
   * in #pump.
   */
  #refresh(topic?: string): void {
    this.#refresher.request(topic);
  }

  #retryLater(at: number): void {
    if (at >= this.#retryAt) return;
    clearTimeout(this.#retryTimer);
    this.#retryAt = at;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#retryAt = Infinity;
      this.#pump();
    }, Math.min(MAX_TIMER_MS, Math.max(0, at - Date.now()))); // a timer fired early re-arms in #pump
  }

  #beginClose(deadline: number, sendUntil: number): void {
    this.#closeTimes.cutOffAt(sendUntil);
    this.#closeTimes.giveUpAt(deadline);
    // Not by giveUpAt's answer: a later close's deadline may have come first ('cut-off'), the same as this one.
    if (this.#closing || this.#closeTimes.cleared) return;
    this.#closing = true;
    this.#stop.abort();
    this.#readRing();
    this.#sealDue();
    this.#pump();
  }

  /** Close's deadline passed, before the main thread's 'close' when it was a later close's ('cut-off'). */
  #deadlinePassed(): void {
    if (!this.#closing) this.#beginClose(this.#closeTimes.deadline, this.#closeTimes.sendUntil);
    this.#giveUp();
  }

  /** The close deadline passed: whatever is still here fails, in flight or not, and the worker finishes. */
  #giveUp(): void {
    for (const p of this.#batches.partitions) {
      // In a request now, or in one whose answer never came: the broker may have written it. One that never left, or
      // whose every attempt was answered with an error, was not.
      const unanswered = new Set(p.sealed.filter((batch) => batch.inFlight || batch.ambiguous));
      for (const batch of policy.abandonAll(p)) {
        if (unanswered.has(batch)) this.#outcomes.fail(p, batch, ClientErrorCode.closedInFlight, 'the producer closed before the broker answered');
        else this.#outcomes.fail(p, batch, ClientErrorCode.closed, 'the producer closed before the batch was sent');
      }
    }
    this.#finish();
  }

  #maybeFinish(): void {
    if (!this.#closing) return;
    for (const p of this.#batches.partitions) if (!p.idle || p.inFlight > 0) return;
    this.#finish();
  }

  #finish(): void {
    this.#closeTimes.clear();
    clearTimeout(this.#retryTimer);
    this.#retryAt = -Infinity; // no timer is armed after this
    this.#sinks.closeAll();
    this.#completions.signal();
    this.#finished();
  }
}
