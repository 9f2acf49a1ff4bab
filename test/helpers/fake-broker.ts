/**
 * A minimal in-process Kafka broker for the few producer tests a healthy real broker cannot stage: a Produce
 * request that stays unanswered (a record "in flight" for as long as the test needs), answered later on demand.
 *
 * It speaks just enough, at the oldest versions the producer accepts, to keep the encoding here small and
 * independent of the code under test (the bytes are written by hand from Kafka's message specs): ApiVersions (any
 * version, answered in the v0–v2 or v3+ body layout the request asked for; the header is always v0), Metadata v1
 * (every asked-for topic exists with `partitionCount` partitions led by this broker, or by whom `leaderOf` says,
 * unless the test says it is missing), InitProducerId v0, and Produce v3, which it records and never answers unless the test calls `answer()`.
 * A test may set `tamper` to rewrite, drop or delay any answer (a hostile or slow broker).
 */
import { EventEmitter, once } from 'node:events';
import net from 'node:net';

export interface ProduceSeen {
  readonly correlationId: number;
  readonly socket: net.Socket;
  /** Topic → partition indexes carried by this request. */
  readonly partitions: ReadonlyMap<string, readonly number[]>;
  /** Records per partition, from each batch's record count field. */
  readonly recordCounts: ReadonlyMap<string, number>;
  /** The RecordBatch bytes per `${topic}-${partition}`, as sent. */
  readonly batches: ReadonlyMap<string, Buffer>;
}

const API_VERSIONS = 18;
const METADATA = 3;
const INIT_PRODUCER_ID = 22;
const PRODUCE = 0;
/** Only these, each at one version, so the producer must use the layouts written below. */
const RANGES: readonly (readonly [key: number, min: number, max: number])[] = [
  [PRODUCE, 3, 3],
  [METADATA, 1, 1],
  [API_VERSIONS, 0, 4],
  [INIT_PRODUCER_ID, 0, 0],
];
export const FAKE_PRODUCER_ID = 4242n;
export const FAKE_API = { produce: PRODUCE, metadata: METADATA, apiVersions: API_VERSIONS, initProducerId: INIT_PRODUCER_ID } as const;
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
 * broker), or null to write nothing now; `write` sends bytes on that connection later (a delayed answer).
 */
export type Tamper = (apiKey: number, frame: Buffer, nth: number, write: (bytes: Buffer) => void) => Buffer | null;

export class FakeBroker extends EventEmitter {
  readonly produces: ProduceSeen[] = [];
  /** Connections accepted so far. */
  connections = 0;
  /** When set, every answer passes through it (see Tamper). */
  tamper: Tamper | undefined;
  /** Partitions of every topic in Metadata answers; a test may change it (partitions added to the cluster). */
  partitionCount: number;
  /** The leader node id Metadata names for a partition (-1: none right now); default this broker (node 1). */
  leaderOf: ((topic: string, partition: number) => number) | undefined;
  readonly #answered = new Map<number, number>();
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  readonly #missing: (topic: string) => boolean;
  readonly #autoAck: boolean;
  /** Next offset per `${topic}-${partition}`, for autoAck. */
  readonly #offsets = new Map<string, bigint>();
  #port = 0;

  private constructor(partitions: number, missing: (topic: string) => boolean, autoAck: boolean) {
    super();
    this.partitionCount = partitions;
    this.#missing = missing;
    this.#autoAck = autoAck;
    this.#server = net.createServer((socket) => this.#accept(socket));
  }

  /**
   * Starts listening on 127.0.0.1 on a free port. Every topic asked for has `partitions` partitions, except those
   * `missing` names: Metadata answers UNKNOWN_TOPIC_OR_PARTITION for them, for ever. With `autoAck` every Produce
   * is answered at once with success and consecutive offsets per partition, and nothing is recorded (the main-thread
   * benchmark uses it as a broker that costs the client nothing).
   */
  static async start(partitions = 1, missing: (topic: string) => boolean = () => false, options: { autoAck?: boolean } = {}): Promise<FakeBroker> {
    const broker = new FakeBroker(partitions, missing, options.autoAck ?? false);
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
    const out = new Out().int32(produce.correlationId);
    out.int32(produce.partitions.size);
    for (const [topic, partitions] of produce.partitions) {
      out.string(topic).int32(partitions.length);
      for (const index of partitions) out.int32(index).int16(errorCode).int64(errorCode === 0 ? baseOffset : -1n).int64(logAppendTimeMs);
    }
    out.int32(0); // throttle_time_ms
    this.#write(produce.socket, PRODUCE, out.frame());
  }

  #write(socket: net.Socket, apiKey: number, frame: Buffer): void {
    const nth = this.#answered.get(apiKey) ?? 0;
    this.#answered.set(apiKey, nth + 1);
    const write = (bytes: Buffer): void => void (socket.destroyed || socket.write(bytes));
    const bytes = this.tamper === undefined ? frame : this.tamper(apiKey, frame, nth, write);
    if (bytes !== null && !socket.destroyed) socket.write(bytes);
    this.emit('answered', apiKey, nth);
  }

  /** autoAck: every partition of the request succeeds at its next offsets. */
  #ack(produce: ProduceSeen): void {
    const out = new Out().int32(produce.correlationId);
    out.int32(produce.partitions.size);
    for (const [topic, partitions] of produce.partitions) {
      out.string(topic).int32(partitions.length);
      for (const index of partitions) {
        const key = `${topic}-${index}`;
        const base = this.#offsets.get(key) ?? 0n;
        this.#offsets.set(key, base + BigInt(produce.recordCounts.get(key) ?? 0));
        out.int32(index).int16(0).int64(base).int64(-1n);
      }
    }
    out.int32(0); // throttle_time_ms
    produce.socket.write(out.frame());
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
    switch (apiKey) {
      case API_VERSIONS:
        this.#write(socket, apiKey, apiVersionsAnswer(correlationId, version));
        return;
      case METADATA:
        this.#write(socket, apiKey, this.#metadataAnswer(correlationId, r));
        return;
      case INIT_PRODUCER_ID:
        this.#write(socket, apiKey, new Out().int32(correlationId).int32(0).int16(0).int64(FAKE_PRODUCER_ID).int16(0).frame());
        return;
      case PRODUCE:
        this.#produce(socket, correlationId, r);
        return;
      default:
        socket.destroy(new Error(`the fake broker does not speak API ${apiKey}`));
    }
  }

  /** MetadataResponse v1: brokers, controller, and each asked-for topic with its partitions, all led by us. */
  #metadataAnswer(correlationId: number, r: In): Buffer {
    const count = r.int32();
    const topics: string[] = [];
    for (let i = 0; i < count; i++) topics.push(r.string()!);
    const out = new Out().int32(correlationId);
    out.int32(1).int32(NODE_ID).string('127.0.0.1').int32(this.#port).string(null);
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

  /** ProduceRequest v3: transactional_id, acks, timeout, [topic [partition records]]. Recorded, not answered. */
  #produce(socket: net.Socket, correlationId: number, r: In): void {
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
    const seen: ProduceSeen = { correlationId, socket, partitions, recordCounts, batches };
    if (this.#autoAck) {
      this.#ack(seen);
      return;
    }
    this.produces.push(seen);
    this.emit('produce', seen);
  }
}

/** ApiVersions answer: header v0 always; body in the v3+ (compact) layout for v3+ requests, else v1–v2. */
function apiVersionsAnswer(correlationId: number, version: number): Buffer {
  const out = new Out().int32(correlationId).int16(0);
  if (version >= 3) {
    out.uvarint(RANGES.length + 1);
    for (const [key, min, max] of RANGES) out.int16(key).int16(min).int16(max).uvarint(0);
    out.int32(0).uvarint(0);
  } else {
    out.int32(RANGES.length);
    for (const [key, min, max] of RANGES) out.int16(key).int16(min).int16(max);
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
