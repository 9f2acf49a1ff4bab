/**
 * A hostile broker made from a real one: a TCP proxy in front of it that passes requests through untouched and
 * mutates the real answers, frame by frame, from a seeded PRNG (so a run replays from its seed, up to the
 * timing of the network). Metadata answers are first rewritten to name the proxy instead of the broker (the
 * port is patched in place), so every connection the producer opens — the main thread's and each worker's —
 * goes through it.
 *
 * Mutations (frame-mutator.ts, shared with the broker-free transaction fuzz test): a flipped byte or a few, an
 * int32 somewhere set to a huge or negative value (length and count fields among them), a truncated frame with the
 * connection closed, a huge or negative frame size, a wrong correlation id, a duplicated, reordered or dropped
 * answer, an answer dripped a few bytes at a time, a connection closed mid-frame. Every API the producer uses is
 * mutated: ApiVersions, Metadata, InitProducerId and Produce.
 *
 * The proxy keeps what the broker really said: for each partition the base offsets of the Produce answers that
 * reported success, so a run can check that no record was reported delivered without a real acknowledgement.
 */
import net from 'node:net';
import { Produce } from '../../src/protocol/apis/produce.js';
import { Reader } from '../../src/protocol/reader.js';
import { patchBrokerPorts, produceCounts } from './wire-walk.js';
import { mulberry32 } from '../helpers/prng.js';
import { FrameOutput, MUTATIONS, mutateFrame, pickMutation, type Mutation } from './frame-mutator.js';

export { MUTATIONS, type Mutation };

const API_VERSIONS = 18;
const METADATA = 3;
const PRODUCE = 0;
const FIRST_FLEXIBLE: Record<number, number> = { 0: 9, 3: 9, 18: 3, 22: 2 };

/** The proxy's seeded generator (test/helpers/prng.ts), under the name the campaign knows it by. */
export const prng = mulberry32;

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
    const out = new FrameOutput(client, this.#timers);
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

  #mutate(frame: Buffer, out: FrameOutput): void {
    const random = this.#random;
    if (this.#closed || random() >= this.#options.rate) {
      out.write(frame);
      return;
    }
    const kind = pickMutation(random);
    this.mutated++;
    this.byKind.set(kind, (this.byKind.get(kind) ?? 0) + 1);
    mutateFrame(kind, frame, random, out);
  }
}
