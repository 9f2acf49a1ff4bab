/**
 * The hostile answers of the fuzz tests: what can be done to one answer frame on its way to the client, and an
 * ordered writer that does it on one connection. Shared by the hostile proxy in front of the real broker
 * (hostile-proxy.ts, the campaign) and by the broker-free transaction fuzz test (hostile-transactions.test.ts),
 * which applies the same mutations to the in-process FakeBroker's answers through its `tamper` hook.
 *
 * Mutations: a flipped byte or a few, an int32 somewhere set to a huge or negative value (length and count
 * fields among them), a truncated frame with the connection closed, a huge or negative frame size, a size a little
 * off, a wrong correlation id, a duplicated, reordered or dropped answer, an answer dripped a few bytes at a time,
 * a connection closed mid-frame.
 */
import type net from 'node:net';

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

/** Draws a mutation: one call of `random`. */
export function pickMutation(random: () => number): Mutation {
  return MUTATIONS[Math.floor(random() * MUTATIONS.length)]!;
}

/** Where a mutated frame goes: the connection's ordered writer (FrameOutput). */
export interface FrameSink {
  write(bytes: Buffer): void;
  /** Closes the connection once what was written before has gone. */
  close(): void;
  /** Sends `frame` after the next frame written, or on its own a little later (a reordered answer). */
  hold(frame: Buffer): void;
  /** Sends `frame` `step` bytes per timer tick. */
  drip(frame: Buffer, step: number): void;
}

/**
 * Does `kind` to `frame` (a whole answer, its size prefix included) and hands the result to `out`. The bytes of
 * `frame` are never changed in place. Draws from `random` as the kind needs (the same draws as the proxy always made,
 * so a proxy run still replays from its seed).
 */
export function mutateFrame(kind: Mutation, frame: Buffer, random: () => number, out: FrameSink): void {
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

/**
 * Writes to one client in order, whatever is delayed: a held (reordered) frame goes out after the next one, or
 * on its own a little later; a dripped frame goes out a few bytes per timer tick. Every timer is put in `timers`
 * (and taken out when it fires), for the owner to clear on close.
 */
export class FrameOutput implements FrameSink {
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
