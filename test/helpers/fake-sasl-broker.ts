/**
 * A small in-process broker that authenticates with SASL/PLAIN, for the re-authentication tests (KIP-368): what a
 * real broker does only after minutes, and cannot be told to refuse or to stall, it does on demand.
 *
 * Encodings are written by hand from Kafka's message specs, independently of the code under test. It speaks
 * ApiVersions (v0–v2 body layout for v0–v2 requests, compact for v3+; header v0), SaslHandshake v1, SaslAuthenticate
 * v1 (which carries session_lifetime_ms) and Echo (a test API, key 1000, v0: an int32 that comes back as it went).
 * It lists only these, so the client must use exactly these versions.
 *
 * Each authentication on a socket is a round (1 = the first). The test decides per round the session lifetime to
 * state, whether to refuse, and whether to hold the SaslHandshake answer until `release()`; Echo answers can be
 * held too (`holdEcho`), to keep a request in flight for as long as a test needs.
 */
import { EventEmitter, once } from 'node:events';
import net from 'node:net';

export const ECHO_KEY = 1000;
const API_VERSIONS = 18;
const SASL_HANDSHAKE = 17;
const SASL_AUTHENTICATE = 36;
const SASL_AUTHENTICATION_FAILED = 58;
const RANGES: readonly (readonly [key: number, min: number, max: number])[] = [
  [API_VERSIONS, 0, 4],
  [SASL_HANDSHAKE, 1, 1],
  [SASL_AUTHENTICATE, 1, 1],
  [ECHO_KEY, 0, 0],
];

export interface SaslRound {
  /** session_lifetime_ms in the SaslAuthenticate answer. */
  readonly lifetimeMs: number;
  /** Answer SaslAuthenticate with SASL_AUTHENTICATION_FAILED. */
  readonly refuse?: boolean;
  /** Keep the SaslHandshake answer until `release()`. */
  readonly hold?: boolean;
}

export interface SeenRequest {
  readonly apiKey: number;
  readonly correlationId: number;
  readonly socket: net.Socket;
  /** Echo's value; the mechanism for SaslHandshake; the round for SaslAuthenticate. */
  readonly detail: number | string;
}

function frame(parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

function i16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(v);
  return b;
}

function i32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
}

function i64(v: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(v));
  return b;
}

function str(s: string | null): Buffer {
  if (s === null) return i16(-1);
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([i16(b.length), b]);
}

function apiVersionsAnswer(correlationId: number, version: number): Buffer {
  const parts = [i32(correlationId), i16(0)];
  if (version >= 3) {
    parts.push(Buffer.from([RANGES.length + 1]));
    for (const [key, min, max] of RANGES) parts.push(i16(key), i16(min), i16(max), Buffer.from([0]));
    parts.push(i32(0), Buffer.from([0]));
  } else {
    parts.push(i32(RANGES.length));
    for (const [key, min, max] of RANGES) parts.push(i16(key), i16(min), i16(max));
    if (version >= 1) parts.push(i32(0));
  }
  return frame(parts);
}

export class FakeSaslBroker extends EventEmitter {
  /** Every request seen, in arrival order, ApiVersions excepted. */
  readonly seen: SeenRequest[] = [];
  /** Sockets accepted, in order. */
  readonly sockets: net.Socket[] = [];
  closedSockets = 0;
  readonly #server: net.Server;
  readonly #rounds: (round: number) => SaslRound;
  readonly #password: string;
  readonly #held: (() => void)[] = [];
  readonly #heldEcho: (() => void)[] = [];
  holdEcho = false;

  private constructor(rounds: (round: number) => SaslRound, password: string) {
    super();
    this.#rounds = rounds;
    this.#password = password;
    this.#server = net.createServer((socket) => this.#accept(socket));
  }

  /** Listens on a free port of 127.0.0.1; user `alice`, the given password; `rounds` says how to answer each round. */
  static async start(rounds: (round: number) => SaslRound, password = 'secret'): Promise<FakeSaslBroker> {
    const broker = new FakeSaslBroker(rounds, password);
    broker.#server.listen(0, '127.0.0.1');
    await once(broker.#server, 'listening');
    return broker;
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  /** Requests of one API seen so far. */
  count(apiKey: number): number {
    return this.seen.filter((request) => request.apiKey === apiKey).length;
  }

  /** Sends the held SaslHandshake answers. */
  release(): void {
    for (const send of this.#held.splice(0)) send();
  }

  /** Sends the held Echo answers, in order. */
  releaseEcho(): void {
    for (const send of this.#heldEcho.splice(0)) send();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: net.Socket): void {
    this.sockets.push(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closedSockets++;
      this.emit('changed');
    });
    let buffered = Buffer.alloc(0);
    let round = 0;
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
        const size = buffered.readInt32BE(0);
        const body = buffered.subarray(4, 4 + size);
        buffered = buffered.subarray(4 + size);
        // Header v1 (every request here is non-flexible, ApiVersions v3+ aside, whose body we ignore).
        const apiKey = body.readInt16BE(0);
        const version = body.readInt16BE(2);
        const correlationId = body.readInt32BE(4);
        const clientIdLength = body.readInt16BE(8);
        let pos = 10 + Math.max(0, clientIdLength);
        if (apiKey === API_VERSIONS) {
          socket.write(apiVersionsAnswer(correlationId, version));
          continue;
        }
        const record = (detail: number | string): void => {
          this.seen.push({ apiKey, correlationId, socket, detail });
          this.emit('changed');
        };
        if (apiKey === SASL_HANDSHAKE) {
          round++;
          const mechanism = body.toString('utf8', pos + 2, pos + 2 + body.readInt16BE(pos));
          record(mechanism);
          // OAUTHBEARER is offered so that a client gets as far as its token provider; no token is accepted.
          const ok = mechanism === 'PLAIN' || mechanism === 'OAUTHBEARER';
          const answer = frame([i32(correlationId), i16(ok ? 0 : 33), i32(2), str('PLAIN'), str('OAUTHBEARER')]);
          if (this.#rounds(round).hold) this.#held.push(() => socket.write(answer));
          else socket.write(answer);
        } else if (apiKey === SASL_AUTHENTICATE) {
          const length = body.readInt32BE(pos);
          pos += 4;
          const token = body.toString('utf8', pos, pos + length);
          record(round);
          const { lifetimeMs, refuse } = this.#rounds(round);
          const ok = !refuse && token === `\0alice\0${this.#password}`;
          socket.write(
            frame([
              i32(correlationId),
              i16(ok ? 0 : SASL_AUTHENTICATION_FAILED),
              str(ok ? null : 'Authentication failed: Invalid username or password'),
              i32(0),
              i64(ok ? lifetimeMs : 0),
            ]),
          );
          if (!ok) socket.end();
        } else if (apiKey === ECHO_KEY) {
          const value = body.readInt32BE(pos);
          record(value);
          const answer = frame([i32(correlationId), i32(value)]);
          if (this.holdEcho) this.#heldEcho.push(() => socket.write(answer));
          else socket.write(answer);
        } else {
          socket.destroy();
        }
      }
    });
  }
}

/** Resolves once `condition` holds, re-checked on every request and close the broker sees; rejects after `limitMs`. */
export async function until(broker: FakeSaslBroker, condition: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  if (condition()) return;
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (!condition()) return;
      done();
      resolve();
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`still waiting after ${limitMs} ms for: ${what}`));
    }, limitMs);
    const done = (): void => {
      clearTimeout(timer);
      broker.off('changed', check);
    };
    broker.on('changed', check);
  });
}
