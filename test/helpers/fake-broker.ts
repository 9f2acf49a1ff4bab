/**
 * A minimal in-process Kafka broker for the few producer tests a healthy real broker cannot stage: a Produce
 * request that stays unanswered (a record "in flight" for as long as the test needs), answered later on demand.
 *
 * It speaks just enough, at the oldest versions the producer accepts, to keep the encoding here small and
 * independent of the code under test (the bytes are written by hand from Kafka's message specs): ApiVersions (any
 * version, answered in the v0–v2 or v3+ body layout the request asked for; the header is always v0), Metadata v1 or v13
 * (every asked-for topic exists with `partitionCount` partitions led by this broker, or by whom `leaderOf` says,
 * unless the test says it is missing; the brokers listed are this one as node 1, or those `listedBrokers` names),
 * InitProducerId v0, and Produce v3 (or up to `produceVersion`, v8 at most: the request layout is v3's throughout,
 * answers grow log_start_offset at v5 and record_errors, error_message at v8),
 * which it records and never answers unless the test calls `answer()` or `reply()`. A test may set `tamper` to
 * rewrite, drop or delay any answer (a hostile or slow broker), and read `requests` for when each request arrived.
 * As a transaction coordinator it keeps every EndTxn it was asked for (`endTxns`), with its committed flag.
 */
import { EventEmitter, once } from 'node:events';
import net from 'node:net';

export interface ProduceSeen {
  readonly correlationId: number;
  /** The Produce version the client chose (v3 unless the broker was started with a higher `produceVersion`). */
  readonly version: number;
  readonly socket: net.Socket;
  /** Date.now() when it arrived (see RequestSeen). */
  readonly at: number;
  /** Topic → partition indexes carried by this request. */
  readonly partitions: ReadonlyMap<string, readonly number[]>;
  /** Records per partition, from each batch's record count field. */
  readonly recordCounts: ReadonlyMap<string, number>;
  /** The RecordBatch bytes per `${topic}-${partition}`, as sent. */
  readonly batches: ReadonlyMap<string, Buffer>;
}

/** An EndTxn request as it arrived (v0: transactional id, producer id, epoch, committed). */
export interface EndTxnSeen {
  readonly transactionalId: string | null;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  /** true: commit, false: abort. */
  readonly committed: boolean;
  /** Date.now() when it arrived. */
  readonly at: number;
}

/** A node as Metadata lists it. */
export interface ListedBroker {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
}

/** One request as it arrived: `at` is Date.now() when its last byte was read (the clock the producer throttles by). */
export interface RequestSeen {
  readonly apiKey: number;
  readonly socket: net.Socket;
  readonly at: number;
}

/** What one partition of a Produce answer says; anything left out is a plain success at the answer's base offset. */
export interface PartitionAnswer {
  readonly errorCode?: number;
  readonly baseOffset?: bigint;
  readonly logAppendTimeMs?: bigint;
  /** log_start_offset, sent from Produce v5 on; -1 (unknown) if left out. */
  readonly logStartOffset?: bigint;
  /** record_errors (KIP-467), sent from Produce v8 on; none if left out. */
  readonly recordErrors?: readonly { readonly batchIndex: number; readonly message: string | null }[];
  /** error_message, sent from Produce v8 on; null if left out. */
  readonly errorMessage?: string | null;
}

/** A scripted Produce answer: per partition (see PartitionAnswer), and the throttle_time_ms it asks for. */
export interface ProduceScript {
  readonly partitions?: (topic: string, partition: number) => PartitionAnswer;
  readonly throttleTimeMs?: number;
}

const API_VERSIONS = 18;
const METADATA = 3;
const INIT_PRODUCER_ID = 22;
const PRODUCE = 0;
const FIND_COORDINATOR = 10;
const ADD_PARTITIONS_TO_TXN = 24;
const ADD_OFFSETS_TO_TXN = 25;
const END_TXN = 26;
const TXN_OFFSET_COMMIT = 28;
/**
 * Only these, each at one version (Produce: from v3 up to the broker's `produceVersion`), so the producer must use the
 * layouts written below. With `transactions`, also what a transactional producer of protocol v1 needs of its
 * coordinator (this broker): FindCoordinator v1, AddPartitionsToTxn v0 and EndTxn v0; with `offsets` as well, what
 * sendOffsets needs of the transaction and group coordinator (this broker too): AddOffsetsToTxn v0 and TxnOffsetCommit v0.
 */
function ranges(
  produceVersion: number, transactions: boolean, metadataVersion: number, offsets = false,
): readonly (readonly [key: number, min: number, max: number])[] {
  return [
    [PRODUCE, 3, produceVersion],
    [METADATA, metadataVersion, metadataVersion],
    [API_VERSIONS, 0, 4],
    [INIT_PRODUCER_ID, 0, 0],
    ...(transactions ? [[FIND_COORDINATOR, 1, 1], [ADD_PARTITIONS_TO_TXN, 0, 0], [END_TXN, 0, 0]] as const : []),
    ...(transactions && offsets ? [[ADD_OFFSETS_TO_TXN, 0, 0], [TXN_OFFSET_COMMIT, 0, 0]] as const : []),
  ];
}
export const FAKE_PRODUCER_ID = 4242n;
export const FAKE_API = {
  produce: PRODUCE, metadata: METADATA, apiVersions: API_VERSIONS, initProducerId: INIT_PRODUCER_ID,
  findCoordinator: FIND_COORDINATOR, addPartitionsToTxn: ADD_PARTITIONS_TO_TXN, addOffsetsToTxn: ADD_OFFSETS_TO_TXN,
  endTxn: END_TXN, txnOffsetCommit: TXN_OFFSET_COMMIT,
} as const;
const NODE_ID = 1;
const UNKNOWN_TOPIC_OR_PARTITION = 3;

/** Byte writer for hand-written answers (big-endian, Kafka's classic and compact encodings). */
class Out {
  readonly #parts: Buffer[] = [];
  int8(v: number): this { const b = Buffer.alloc(1); b.writeInt8(v); return this.push(b); }
  int16(v: number): this { const b = Buffer.alloc(2); b.writeInt16BE(v); return this.push(b); }
  int32(v: number): this { const b = Buffer.alloc(4); b.writeInt32BE(v); return this.push(b); }
  int64(v: bigint): this { const b = Buffer.alloc(8); b.writeBigInt64BE(v); return this.push(b); }
  uvarint(v: number): this {
    const bytes: number[] = [];
    while (v > 0x7f) { bytes.push((v & 0x7f) | 0x80); v >>>= 7; }
    bytes.push(v);
    return this.push(Buffer.from(bytes));
  }
  string(s: string | null): this {
    if (s === null) return this.int16(-1);
    const b = Buffer.from(s, 'utf8');
    return this.int16(b.length).push(b);
  }
  compactString(s: string | null): this {
    if (s === null) return this.uvarint(0);
    const b = Buffer.from(s, 'utf8');
    return this.uvarint(b.length + 1).push(b);
  }
  push(b: Buffer): this { this.#parts.push(b); return this; }
  /** The frame: size prefix, then everything written. */
  frame(): Buffer {
    const body = Buffer.concat(this.#parts);
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length);
    return Buffer.concat([size, body]);
  }
}

/** Reads a request frame's header (v1 or v2) and the fields of the few bodies we need. */
class In {
  pos: number;
  constructor(readonly b: Buffer, pos = 0) { this.pos = pos; }
  int16(): number { const v = this.b.readInt16BE(this.pos); this.pos += 2; return v; }
  int32(): number { const v = this.b.readInt32BE(this.pos); this.pos += 4; return v; }
  string(): string | null {
    const n = this.int16();
    if (n < 0) return null;
    const s = this.b.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  uvarint(): number {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = this.b[this.pos++]!;
      value |= (byte & 0x7f) << shift;
      if (byte < 0x80) return value;
    }
  }
  compactString(): string | null {
    const n = this.uvarint() - 1;
    if (n < 0) return null;
    const s = this.b.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  int8(): number { const v = this.b.readInt8(this.pos); this.pos += 1; return v; }
  int64(): bigint { const v = this.b.readBigInt64BE(this.pos); this.pos += 8; return v; }
  bytes(): Buffer | null {
    const n = this.int32();
    if (n < 0) return null;
    const s = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
}

/**
 * Rewrites an answer before it is written: `frame` is the whole answer (size prefix included), `nth` counts the
 * answers to `apiKey` so far on this broker (from 0). Return the bytes to write instead (anything: a hostile
 * broker), or null to write nothing now; `write` sends bytes on that connection later (a delayed answer). `socket` is
 * that connection, for a tamper that writes on it itself, or closes it.
 */
export type Tamper = (apiKey: number, frame: Buffer, nth: number, write: (bytes: Buffer) => void, socket: net.Socket) => Buffer | null;

export class FakeBroker extends EventEmitter {
  readonly produces: ProduceSeen[] = [];
  /** Every EndTxn request (transactions), in arrival order: what the producer asked its coordinator to do. */
  readonly endTxns: EndTxnSeen[] = [];
  /** Every request, in arrival order. */
  readonly requests: RequestSeen[] = [];
  /** The topics each Metadata request asked for, in arrival order. */
  readonly metadataTopics: (readonly string[])[] = [];
  /** Connections accepted so far. */
  connections = 0;
  /** When set, every answer passes through it (see Tamper). */
  tamper: Tamper | undefined;
  /** Partitions of every topic in Metadata answers; a test may change it (partitions added to the cluster). */
  partitionCount: number;
  /** The leader node id Metadata names for a partition (-1: none right now); default this broker (node 1). */
  leaderOf: ((topic: string, partition: number) => number) | undefined;
  /** Every byte of the topic id Metadata v10+ gives every topic; a test changes it for a topic deleted and created again. */
  topicIdByte = 7;
  /**
   * The brokers Metadata lists, when set: a cluster of several nodes (another fake broker, a port where nothing
   * listens) or one whose nodes move. Default: this broker alone, as node 1.
   */
  listedBrokers: readonly ListedBroker[] | undefined;
  /**
   * With `metadataVersion` 13: the answer's top-level error_code. Not 0 (REBOOTSTRAP_REQUIRED, KIP-1102), the
   * answer lists no brokers and no topics, as the error stands instead of a cluster view.
   */
  metadataError = 0;
  readonly #answered = new Map<number, number>();
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  readonly #missing: (topic: string) => boolean;
  readonly #autoAck: boolean;
  readonly #produceVersion: number;
  readonly #transactions: boolean;
  /** AddOffsetsToTxn and TxnOffsetCommit offered (with transactions). */
  readonly #offsetApis: boolean;
  readonly #metadataVersion: number;
  /** Next offset per `${topic}-${partition}`, for autoAck. */
  readonly #offsets = new Map<string, bigint>();
  #port = 0;

  private constructor(
    partitions: number, missing: (topic: string) => boolean, autoAck: boolean, produceVersion: number, transactions: boolean, metadataVersion: number,
    offsets: boolean,
  ) {
    super();
    this.#offsetApis = offsets;
    this.#metadataVersion = metadataVersion;
    this.partitionCount = partitions;
    this.#missing = missing;
    this.#autoAck = autoAck;
    this.#produceVersion = produceVersion;
    this.#transactions = transactions;
    this.#server = net.createServer((socket) => this.#accept(socket));
  }

  /**
   * Starts listening on 127.0.0.1 on a free port. Every topic asked for has `partitions` partitions, except those
   * `missing` names: Metadata answers UNKNOWN_TOPIC_OR_PARTITION for them, for ever. With `autoAck` every Produce
   * is answered at once with success and consecutive offsets per partition, and nothing is recorded (the main-thread
   * benchmark uses it as a broker that costs the client nothing). `produceVersion` (3 to 8, default 3) is the
   * highest Produce version offered: from v6 a throttled client must hold back on its own (KIP-219). With
   * `transactions` it is its own transaction coordinator too, and answers every coordinator request with success.
   * `metadataVersion` is 1 (the default) or 13, the only Metadata version offered: v13 has a top-level error_code
   * (`metadataError`). `offsets` (with `transactions`) offers AddOffsetsToTxn v0 and TxnOffsetCommit v0 too, for
   * sendOffsets: this broker is every group's coordinator as well, and accepts every offset.
   */
  static async start(
    partitions = 1, missing: (topic: string) => boolean = () => false,
    options: { autoAck?: boolean; produceVersion?: number; transactions?: boolean; metadataVersion?: 1 | 13; offsets?: boolean } = {},
  ): Promise<FakeBroker> {
    const produceVersion = options.produceVersion ?? 3;
    if (!(produceVersion >= 3 && produceVersion <= 8)) throw new RangeError(`the fake broker speaks Produce v3–v8, not v${produceVersion}`);
    const broker = new FakeBroker(
      partitions, missing, options.autoAck ?? false, produceVersion, options.transactions ?? false, options.metadataVersion ?? 1,
      options.offsets ?? false,
    );
    broker.#server.listen(0, '127.0.0.1');
    await once(broker.#server, 'listening');
    broker.#port = (broker.#server.address() as net.AddressInfo).port;
    return broker;
  }

  get address(): string {
    return `127.0.0.1:${this.#port}`;
  }

  /** Resolves with the next Produce request (or the oldest one not yet taken by an earlier call). */
  async nextProduce(index = this.produces.length): Promise<ProduceSeen> {
    while (this.produces.length <= index) await once(this, 'produce');
    return this.produces[index]!;
  }

  /** Resolves once `count` more answers to `apiKey` have been written (after `tamper`). */
  answers(apiKey: number, count: number): Promise<void> {
    return new Promise((resolve) => {
      let seen = 0;
      const onAnswer = (key: number): void => {
        if (key !== apiKey || ++seen < count) return;
        this.off('answered', onAnswer);
        resolve();
      };
      this.on('answered', onAnswer);
    });
  }

  /**
   * Answers a recorded Produce request: every partition in it succeeds at `baseOffset` (or fails with
   * `errorCode`), with `logAppendTimeMs` as its log_append_time_ms (-1: a CreateTime answer).
   */
  answer(produce: ProduceSeen, baseOffset: bigint, errorCode = 0, logAppendTimeMs = -1n): void {
    this.reply(produce, { partitions: () => ({ errorCode, baseOffset: errorCode === 0 ? baseOffset : -1n, logAppendTimeMs }) });
  }

  /** Answers a recorded Produce request as scripted: each partition's error code and offsets, and a throttle. */
  reply(produce: ProduceSeen, script: ProduceScript): void {
    this.#write(produce.socket, PRODUCE, produceAnswer(produce, script));
  }

  #write(socket: net.Socket, apiKey: number, frame: Buffer): void {
    const nth = this.#answered.get(apiKey) ?? 0;
    this.#answered.set(apiKey, nth + 1);
    const write = (bytes: Buffer): void => void (socket.destroyed || socket.write(bytes));
    const bytes = this.tamper === undefined ? frame : this.tamper(apiKey, frame, nth, write, socket);
    if (bytes !== null && !socket.destroyed) socket.write(bytes);
    this.emit('answered', apiKey, nth);
  }

  /** autoAck: every partition of the request succeeds at its next offsets. */
  #ack(produce: ProduceSeen): void {
    const partitions = (topic: string, index: number): PartitionAnswer => {
      const key = `${topic}-${index}`;
      const baseOffset = this.#offsets.get(key) ?? 0n;
      this.#offsets.set(key, baseOffset + BigInt(produce.recordCounts.get(key) ?? 0));
      return { baseOffset };
    };
    produce.socket.write(produceAnswer(produce, { partitions }));
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: net.Socket): void {
    this.connections++;
    this.emit('connection');
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => undefined);
    // Chunks are joined only once a whole frame is there: joining on every chunk would be quadratic in the size
    // of a 1 MiB Produce request.
    let chunks: Buffer[] = [];
    let length = 0;
    let needed = 4;
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      while (length >= needed) {
        let buffered = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
        const size = buffered.readInt32BE(0);
        if (buffered.length < 4 + size) {
          chunks = [buffered];
          needed = 4 + size;
          return;
        }
        const frame = buffered.subarray(4, 4 + size);
        buffered = buffered.subarray(4 + size);
        chunks = buffered.length > 0 ? [buffered] : [];
        length = buffered.length;
        needed = 4;
        this.#request(socket, frame);
      }
    });
  }

  #request(socket: net.Socket, frame: Buffer): void {
    const r = new In(frame);
    const apiKey = r.int16();
    const version = r.int16();
    const correlationId = r.int32();
    r.string(); // client id
    const at = Date.now();
    this.requests.push({ apiKey, socket, at });
    switch (apiKey) {
      case API_VERSIONS:
        this.#write(socket, apiKey, apiVersionsAnswer(correlationId, version, ranges(this.#produceVersion, this.#transactions, this.#metadataVersion, this.#offsetApis)));
        return;
      case METADATA:
        this.#write(socket, apiKey, version >= 13 ? this.#metadataAnswerV13(correlationId, r) : this.#metadataAnswer(correlationId, r));
        return;
      case INIT_PRODUCER_ID:
        this.#write(socket, apiKey, new Out().int32(correlationId).int32(0).int16(0).int64(FAKE_PRODUCER_ID).int16(0).frame());
        return;
      case PRODUCE:
        this.#produce(socket, correlationId, version, at, r);
        return;
      case FIND_COORDINATOR: // v1: throttle, error, error message, node id, host, port
        this.#write(socket, apiKey, new Out().int32(correlationId).int32(0).int16(0).string(null).int32(NODE_ID).string('127.0.0.1').int32(this.#port).frame());
        return;
      case ADD_PARTITIONS_TO_TXN:
        this.#write(socket, apiKey, addPartitionsAnswer(correlationId, r));
        return;
      case END_TXN: { // v0 request: transactional id, producer id, epoch, committed; answer: throttle, error
        const transactionalId = r.string();
        const producerId = r.int64();
        const producerEpoch = r.int16();
        this.endTxns.push({ transactionalId, producerId, producerEpoch, committed: r.int8() !== 0, at });
        this.#write(socket, apiKey, new Out().int32(correlationId).int32(0).int16(0).frame());
        return;
      }
      case ADD_OFFSETS_TO_TXN: // v0: throttle, error
        this.#write(socket, apiKey, new Out().int32(correlationId).int32(0).int16(0).frame());
        return;
      case TXN_OFFSET_COMMIT:
        this.#write(socket, apiKey, txnOffsetCommitAnswer(correlationId, r));
        return;
      default:
        socket.destroy(new Error(`the fake broker does not speak API ${apiKey}`));
    }
  }

  #listed(): readonly ListedBroker[] {
    return this.listedBrokers ?? [{ nodeId: NODE_ID, host: '127.0.0.1', port: this.#port }];
  }

  /** MetadataResponse v1: brokers, controller, and each asked-for topic with its partitions, all led by us. */
  #metadataAnswer(correlationId: number, r: In): Buffer {
    const count = r.int32();
    const topics: string[] = [];
    for (let i = 0; i < count; i++) topics.push(r.string()!);
    this.metadataTopics.push(topics);
    const out = new Out().int32(correlationId);
    const brokers = this.#listed();
    out.int32(brokers.length);
    for (const { nodeId, host, port } of brokers) out.int32(nodeId).string(host).int32(port).string(null);
    out.int32(NODE_ID); // controller_id
    out.int32(topics.length);
    for (const topic of topics) {
      if (this.#missing(topic)) {
        out.int16(UNKNOWN_TOPIC_OR_PARTITION).string(topic).int8(0).int32(0);
        continue;
      }
      out.int16(0).string(topic).int8(0).int32(this.partitionCount);
      for (let p = 0; p < this.partitionCount; p++) {
        const leader = this.leaderOf?.(topic, p) ?? NODE_ID;
        out.int16(0).int32(p).int32(leader).int32(1).int32(NODE_ID).int32(1).int32(NODE_ID);
      }
    }
    return out.frame();
  }

  /**
   * MetadataResponse v13 (flexible: compact strings and arrays, tagged fields, response header v1): the same view as
   * v1, with leader epoch 1, or, while `metadataError` is set, nothing but that top-level error.
   * Request (after header v2's client_id): header tagged fields, topics:[topic_id:uuid name:compact_nullable_string
   * tagged_fields], allow_auto_topic_creation:bool, include_topic_authorized_operations:bool, tagged_fields.
   */
  #metadataAnswerV13(correlationId: number, r: In): Buffer {
    r.uvarint(); // request header tagged fields (none sent)
    const count = r.uvarint() - 1;
    const topics: string[] = [];
    for (let i = 0; i < count; i++) {
      r.pos += 16; // topic_id
      topics.push(r.compactString()!);
      r.uvarint();
    }
    this.metadataTopics.push(topics);
    const out = new Out().int32(correlationId).uvarint(0).int32(0); // header tagged fields, throttle_time_ms
    const failed = this.metadataError !== 0;
    if (failed) out.uvarint(1);
    else {
      const brokers = this.#listed();
      out.uvarint(brokers.length + 1);
      for (const { nodeId, host, port } of brokers) out.int32(nodeId).compactString(host).int32(port).compactString(null).uvarint(0);
    }
    out.compactString(null).int32(failed ? -1 : NODE_ID); // cluster_id, controller_id
    out.uvarint(failed ? 1 : topics.length + 1);
    for (const topic of failed ? [] : topics) {
      const missing = this.#missing(topic);
      out.int16(missing ? UNKNOWN_TOPIC_OR_PARTITION : 0).compactString(topic).push(Buffer.alloc(16, this.topicIdByte)).int8(0);
      const partitions = missing ? 0 : this.partitionCount;
      out.uvarint(partitions + 1);
      for (let p = 0; p < partitions; p++) {
        const leader = this.leaderOf?.(topic, p) ?? NODE_ID;
        out.int16(0).int32(p).int32(leader).int32(1); // error_code, partition_index, leader_id, leader_epoch
        out.uvarint(2).int32(NODE_ID).uvarint(2).int32(NODE_ID).uvarint(1).uvarint(0); // replicas, isr, offline
      }
      out.int32(-2147483648).uvarint(0); // topic_authorized_operations: not asked for
    }
    out.int16(this.metadataError).uvarint(0);
    return out.frame();
  }

  /** ProduceRequest v3: transactional_id, acks, timeout, [topic [partition records]]. Recorded, not answered. */
  #produce(socket: net.Socket, correlationId: number, version: number, at: number, r: In): void {
    r.string(); // transactional_id
    r.int16(); // acks
    r.int32(); // timeout_ms
    const partitions = new Map<string, number[]>();
    const recordCounts = new Map<string, number>();
    const batches = new Map<string, Buffer>();
    const topicCount = r.int32();
    for (let t = 0; t < topicCount; t++) {
      const topic = r.string()!;
      const indexes: number[] = [];
      const partitionCount = r.int32();
      for (let p = 0; p < partitionCount; p++) {
        const index = r.int32();
        const batch = r.bytes();
        indexes.push(index);
        // RecordBatch v2: records_count is the int32 at byte 57.
        recordCounts.set(`${topic}-${index}`, batch === null ? 0 : batch.readInt32BE(57));
        if (batch !== null && !this.#autoAck) batches.set(`${topic}-${index}`, Buffer.from(batch));
      }
      partitions.set(topic, indexes);
    }
    const seen: ProduceSeen = { correlationId, version, socket, at, partitions, recordCounts, batches };
    if (this.#autoAck) {
      this.#ack(seen);
      return;
    }
    this.produces.push(seen);
    this.emit('produce', seen);
  }
}

/**
 * ProduceResponse v3–v8 for every partition of the request: index, error_code, base_offset, log_append_time_ms,
 * log_start_offset (v5+), record_errors and error_message (v8+); then throttle_time_ms.
 */
function produceAnswer(produce: ProduceSeen, script: ProduceScript): Buffer {
  const out = new Out().int32(produce.correlationId);
  out.int32(produce.partitions.size);
  for (const [topic, partitions] of produce.partitions) {
    out.string(topic).int32(partitions.length);
    for (const index of partitions) {
      const answer = script.partitions?.(topic, index) ?? {};
      const { errorCode = 0, baseOffset = 0n, logAppendTimeMs = -1n, logStartOffset = -1n, recordErrors = [], errorMessage = null } = answer;
      out.int32(index).int16(errorCode).int64(baseOffset).int64(logAppendTimeMs);
      if (produce.version >= 5) out.int64(logStartOffset);
      if (produce.version < 8) continue;
      out.int32(recordErrors.length);
      for (const { batchIndex, message } of recordErrors) out.int32(batchIndex).string(message);
      out.string(errorMessage);
    }
  }
  out.int32(script.throttleTimeMs ?? 0);
  return out.frame();
}

/** AddPartitionsToTxn v0: every partition asked for is added (request: transactional id, producer id, epoch, topics). */
function addPartitionsAnswer(correlationId: number, r: In): Buffer {
  r.string(); // transactional_id
  r.int32();
  r.int32(); // producer_id (int64)
  r.int16(); // producer_epoch
  return eachPartitionAccepted(r, new Out().int32(correlationId).int32(0)).frame();
}

/**
 * Answers a v0 [topic [partition ...]] request with error 0 for every partition, after `out`'s own fields;
 * `readRest` reads what each partition has after its index.
 */
function eachPartitionAccepted(r: In, out: Out, readRest: () => void = () => undefined): Out {
  const topics = r.int32();
  out.int32(topics);
  for (let t = 0; t < topics; t++) {
    out.string(r.string());
    const partitions = r.int32();
    out.int32(partitions);
    for (let p = 0; p < partitions; p++) {
      out.int32(r.int32()).int16(0);
      readRest();
    }
  }
  return out;
}

/**
 * TxnOffsetCommit v0: every offset is accepted (request: transactional id, group id, producer id, epoch,
 * [topic [partition offset metadata]]; answer: throttle, [topic [partition error]]).
 */
function txnOffsetCommitAnswer(correlationId: number, r: In): Buffer {
  r.string(); // transactional_id
  r.string(); // group_id
  r.int64(); // producer_id
  r.int16(); // producer_epoch
  return eachPartitionAccepted(r, new Out().int32(correlationId).int32(0), () => {
    r.int64(); // committed_offset
    r.string(); // committed_metadata
  }).frame();
}

/** ApiVersions answer: header v0 always; body in the v3+ (compact) layout for v3+ requests, else v1–v2. */
function apiVersionsAnswer(correlationId: number, version: number, offered: ReturnType<typeof ranges>): Buffer {
  const out = new Out().int32(correlationId).int16(0);
  if (version >= 3) {
    out.uvarint(offered.length + 1);
    for (const [key, min, max] of offered) out.int16(key).int16(min).int16(max).uvarint(0);
    out.int32(0).uvarint(0);
  } else {
    out.int32(offered.length);
    for (const [key, min, max] of offered) out.int16(key).int16(min).int16(max);
    if (version >= 1) out.int32(0);
  }
  return out.frame();
}

/** A port on 127.0.0.1 where nothing listens (taken from the OS, then released). */
export async function deadPort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A listener on 127.0.0.1 that accepts connections and never writes a byte: to a client, a broker whose answers are
 * dropped on the way (a black-holed host), every handshake waiting out its request timeout. `close` ends it and
 * every connection it took.
 */
export async function silentListener(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
