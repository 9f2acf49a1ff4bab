/**
 * A hostile broker made from a real one: a TCP proxy in front of it that passes requests through untouched and
 * mutates the real answers, frame by frame, from a seeded PRNG (so a run replays from its seed, up to the
 * timing of the network). Metadata answers are first rewritten to name the proxy instead of the broker (the
 * port is patched in place), so every connection the producer opens — the main thread's and each worker's —
 * goes through it.
 *
 * Mutations: a flipped byte or a few, an int32 somewhere set to a huge or negative value (length and count
 * fields among them), a truncated frame with the connection closed, a huge or negative frame size, a wrong
 * correlation id, a duplicated, reordered or dropped answer, an answer dripped a few bytes at a time, a
 * connection closed mid-frame. Every API the producer uses is mutated: ApiVersions, Metadata, InitProducerId
 * and Produce.
 *
 * The proxy keeps what the broker really said: for each partition the base offsets of the Produce answers that
 * reported success, so a run can check that no record was reported delivered without a real acknowledgement.
 */
import net from 'node:net';
import { Produce } from '../../src/protocol/apis/produce.js';
import { Reader } from '../../src/protocol/reader.js';
import { patchBrokerPorts, produceCounts } from './wire-walk.js';
import { mulberry32 } from '../helpers/prng.js';

const API_VERSIONS = 18;
const METADATA = 3;
const PRODUCE = 0;
const FIRST_FLEXIBLE: Record<number, number> = { 0: 9, 3: 9, 18: 3, 22: 2 };

/** The proxy's seeded generator (test/helpers/prng.ts), under the name the campaign knows it by. */
export const prng = mulberry32;

export const MUTATIONS = [
  'flip',
  'flipMany',
  'int32Field',
  'truncateAndClose',
  'hugeSize',
  'negativeSize',
  'nearSize',
  'wrongCorrelation',
  'duplicate',
  'reorder',
  'drop',
  'drip',
  'closeMidFrame',
] as const;
export type Mutation = (typeof MUTATIONS)[number];

export interface ProxyOptions {
  readonly upstreamHost: string;
  readonly upstreamPort: number;
  readonly seed: number;
  /** Probability that an answer frame is mutated. */
  readonly rate: number;
}

interface Pending {
  readonly apiKey: number;
  readonly version: number;
  /** Produce: records per partition index in this request (from each batch's record count). */
  readonly counts?: Map<number, number>;
}

/** A Produce answer the broker really gave with error 0: its base offset and the records of the batch. */
export interface Ack {
  readonly baseOffset: bigint;
  readonly count: number;
}

export class HostileProxy {
  /** Answer frames seen from the broker, and how many of them were mutated (by kind). */
  frames = 0;
  mutated = 0;
  readonly byKind = new Map<Mutation, number>();
  /** Partition → the batches the broker really acknowledged (error 0) in a Produce answer. */
  readonly acked = new Map<number, Ack[]>();
  /** Answers of the real broker the proxy itself could not read (a bug in the proxy, reported by the run). */
  readonly errors: string[] = [];
  readonly #options: ProxyOptions;
  readonly #random: () => number;
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #port = 0;
  #closed = false;

  private constructor(options: ProxyOptions) {
    this.#options = options;
    this.#random = prng(options.seed);
    this.#server = net.createServer((client) => this.#accept(client));
  }

  static async start(options: ProxyOptions): Promise<HostileProxy> {
    const proxy = new HostileProxy(options);
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    proxy.#port = (proxy.#server.address() as net.AddressInfo).port;
    return proxy;
  }

  get address(): string {
    return `127.0.0.1:${this.#port}`;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: net.Socket): void {
    const upstream = net.connect(this.#options.upstreamPort, this.#options.upstreamHost);
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.#sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    const pending = new Map<number, Pending>();
    let requests = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      requests = Buffer.concat([requests, chunk]);
      while (requests.length >= 4 && requests.length >= 4 + requests.readInt32BE(0)) {
        const size = requests.readInt32BE(0);
        const frame = requests.subarray(4, 4 + size);
        if (frame.length >= 8) {
          const apiKey = frame.readInt16BE(0);
          const version = frame.readInt16BE(2);
          const counts = apiKey === PRODUCE ? produceCounts(frame, version) : undefined;
          pending.set(frame.readInt32BE(4), counts === undefined ? { apiKey, version } : { apiKey, version, counts });
        }
        requests = requests.subarray(4 + size);
      }
      upstream.write(chunk);
    });
    const out = new Output(client, this.#timers);
    let answers = Buffer.alloc(0);
    upstream.on('data', (chunk: Buffer) => {
      answers = Buffer.concat([answers, chunk]);
      while (answers.length >= 4 && answers.length >= 4 + answers.readInt32BE(0)) {
        const size = answers.readInt32BE(0);
        const frame = Buffer.from(answers.subarray(0, 4 + size));
        answers = answers.subarray(4 + size);
        const correlationId = frame.readInt32BE(4);
        const request = pending.get(correlationId);
        pending.delete(correlationId);
        if (request !== undefined) this.#clean(request, frame);
        this.frames++;
        this.#mutate(frame, out);
      }
    });
  }

  /** What the broker really said: patched to name the proxy (Metadata), remembered (Produce). */
  #clean(request: Pending, frame: Buffer): void {
    const flexible = request.version >= (FIRST_FLEXIBLE[request.apiKey] ?? Infinity) && request.apiKey !== API_VERSIONS;
    try {
      if (request.apiKey === METADATA) patchBrokerPorts(frame, request.version, flexible, this.#port);
      if (request.apiKey === PRODUCE) {
        const reader = new Reader(frame, 8);
        if (flexible) reader.taggedFields();
        for (const topic of Produce.decodeResponse(reader, request.version).responses) {
          for (const p of topic.partitionResponses) {
            if (p.errorCode !== 0) continue;
            let acks = this.acked.get(p.index);
            if (acks === undefined) this.acked.set(p.index, (acks = []));
            // A deduplicated retry is answered with the original offset: one batch, counted once.
            if (!acks.some((ack) => ack.baseOffset === p.baseOffset)) acks.push({ baseOffset: p.baseOffset, count: request.counts?.get(p.index) ?? 0 });
          }
        }
      }
    } catch (error) {
      // The proxy's own failure, not the producer's: reported by the run, never thrown into the event loop.
      this.errors.push(`cannot read the broker's own API ${request.apiKey} v${request.version} answer: ${String(error)}`);
    }
  }

  #mutate(frame: Buffer, out: Output): void {
    const random = this.#random;
    if (this.#closed || random() >= this.#options.rate) {
      out.write(frame);
      return;
    }
    const kind = MUTATIONS[Math.floor(random() * MUTATIONS.length)]!;
    this.mutated++;
    this.byKind.set(kind, (this.byKind.get(kind) ?? 0) + 1);
    const at = (): number => 4 + Math.floor(random() * (frame.length - 4));
    switch (kind) {
      case 'flip': {
        const bad = Buffer.from(frame);
        const i = at();
        bad[i] = bad[i]! ^ (1 << Math.floor(random() * 8));
        out.write(bad);
        return;
      }
      case 'flipMany': {
        const bad = Buffer.from(frame);
        for (let n = 0; n < 8; n++) bad[at()] = Math.floor(random() * 256);
        out.write(bad);
        return;
      }
      case 'int32Field': {
        const bad = Buffer.from(frame);
        const values = [0x7fffffff, -1, -2, 0x80000000 | 0, 922_746_883, 0x0fffffff];
        if (bad.length >= 8) bad.writeInt32BE(values[Math.floor(random() * values.length)]!, Math.min(bad.length - 4, at()));
        out.write(bad);
        return;
      }
      case 'truncateAndClose':
        out.write(frame.subarray(0, 4 + Math.floor(random() * (frame.length - 4))));
        out.close();
        return;
      case 'hugeSize': {
        const bad = Buffer.from(frame);
        bad.writeInt32BE(0x7fffffff, 0);
        out.write(bad);
        return;
      }
      case 'negativeSize': {
        const bad = Buffer.from(frame);
        bad.writeInt32BE(-1 - Math.floor(random() * 1000), 0);
        out.write(bad);
        return;
      }
      case 'nearSize': {
        // A size a little off: the frame swallows the start of the next answer, or leaves its own tail to be read
        // as the next frame's size (pipelined answers), where a huge or negative size is refused at once.
        const bad = Buffer.from(frame);
        const delta = (1 + Math.floor(random() * 64)) * (random() < 0.5 ? -1 : 1);
        bad.writeInt32BE(Math.max(0, frame.length - 4 + delta), 0);
        out.write(bad);
        return;
      }
      case 'wrongCorrelation': {
        const bad = Buffer.from(frame);
        bad.writeInt32BE((bad.readInt32BE(4) + 1 + Math.floor(random() * 5)) | 0, 4);
        out.write(bad);
        return;
      }
      case 'duplicate':
        out.write(frame);
        out.write(frame);
        return;
      case 'reorder':
        out.hold(frame);
        return;
      case 'drop':
        return;
      case 'drip':
        out.drip(frame, 1 + Math.floor(random() * 7));
        return;
      case 'closeMidFrame':
        out.write(frame.subarray(0, Math.max(1, Math.floor(frame.length / 2))));
        out.close();
        return;
    }
  }
}

/**
 * Writes to one client in order, whatever is delayed: a held (reordered) frame goes out after the next one, or
 * on its own a little later; a dripped frame goes out a few bytes per timer tick. Every timer is the proxy's,
 * cleared on close.
 */
class Output {
  readonly #socket: net.Socket;
  readonly #timers: Set<NodeJS.Timeout>;
  readonly #queue: (Buffer | 'close')[] = [];
  #held: Buffer | undefined;
  #heldTimer: NodeJS.Timeout | undefined;
  #dripping = false;
  /** A dripped piece went out this tick; the next waits for the timer. */
  #pacing = false;

  constructor(socket: net.Socket, timers: Set<NodeJS.Timeout>) {
    this.#socket = socket;
    this.#timers = timers;
  }

  write(bytes: Buffer): void {
    this.#queue.push(bytes);
    if (this.#held !== undefined) this.#release();
    this.#flush();
  }

  close(): void {
    this.#queue.push('close');
    this.#flush();
  }

  hold(frame: Buffer): void {
    if (this.#held !== undefined) this.#release();
    this.#held = frame;
    this.#heldTimer = this.#later(() => this.#release(), 20);
  }

  drip(frame: Buffer, step: number): void {
    for (let i = 0; i < frame.length; i += step) this.#queue.push(frame.subarray(i, i + step));
    this.#dripping = true;
    this.#flush();
  }

  #release(): void {
    const held = this.#held;
    if (held === undefined) return;
    this.#held = undefined;
    if (this.#heldTimer !== undefined) {
      clearTimeout(this.#heldTimer);
      this.#timers.delete(this.#heldTimer);
      this.#heldTimer = undefined;
    }
    this.#queue.push(held);
    this.#flush();
  }

  #flush(): void {
    if (this.#dripping && this.#queue.length > 0 && this.#pacing) return;
    while (this.#queue.length > 0) {
      if (this.#socket.destroyed) {
        this.#queue.length = 0;
        return;
      }
      const next = this.#queue.shift()!;
      if (next === 'close') {
        this.#socket.destroy();
        this.#queue.length = 0;
        return;
      }
      this.#socket.write(next);
      if (this.#dripping) {
        // One piece per tick while dripping, so the client sees the frame in many reads.
        this.#pacing = true;
        this.#later(() => {
          this.#pacing = false;
          if (this.#queue.length === 0) this.#dripping = false;
          this.#flush();
        }, 1);
        return;
      }
    }
  }

  #later(fn: () => void, ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
    return timer;
  }
}
