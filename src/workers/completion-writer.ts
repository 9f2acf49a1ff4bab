/**
 * The worker's end of its completion ring: one entry per batch outcome, then one signal to the main thread per
 * burst (ControlBlock.signalCompletion notifies only when the main thread sleeps). If the ring is full the entry
 * waits in a backlog, in order, until the main thread has drained some: completions are never dropped, or a
 * caller would wait forever (invariant 2, docs/invariants.md).
 */
import type { ControlBlock } from '../shared/control-block.js';
import type { RingWriter } from '../shared/ring.js';
import { completionSize, encodeMessage, writeCompletion, type Completion } from '../shared/completion-entry.js';

type Head = Omit<Completion, 'recordIds' | 'message'>;

export class CompletionWriter {
  readonly #ring: RingWriter;
  readonly #control: ControlBlock;
  readonly #backlog: Uint8Array[] = [];
  #flushing: Promise<void> | undefined;
  #dirty = false;

  constructor(ring: RingWriter, control: ControlBlock) {
    this.#ring = ring;
    this.#control = control;
  }

  /** Queues one completion; call `signal()` once after a burst. */
  publish(head: Head, recordIds: ArrayLike<number>, message = ''): void {
    const messageBytes = encodeMessage(message);
    const size = completionSize(recordIds.length, messageBytes);
    if (this.#backlog.length === 0) {
      const at = this.#ring.reserve(size);
      if (at >= 0) {
        writeCompletion(this.#ring.data, at, head, recordIds, recordIds.length, messageBytes);
        this.#dirty = true;
        return;
      }
    }
    const entry = new Uint8Array(size);
    writeCompletion(entry, 0, head, recordIds, recordIds.length, messageBytes);
    this.#backlog.push(entry);
    // #flushing is cleared by the drain itself, in the same turn in which it finds the backlog empty: cleared one
    // microtask later (a `.finally`), a publish in between found a drain still "running", queued its entry, and
    // nothing ever wrote it (a flush then waited out its delivery timeout).
    this.#flushing ??= this.#drainBacklog();
  }

  /** Publishes everything reserved so far and wakes the main thread if it sleeps. */
  signal(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    this.#ring.commit(); // W1 (`publish`) of test/shared/models/completion-signal.pml
    this.#control.signalCompletion(); // W2–W5
  }

  /** Resolves once the backlog is empty (before a worker exits). */
  async drained(): Promise<void> {
    this.signal();
    while (this.#flushing !== undefined) await this.#flushing;
  }

  async #drainBacklog(): Promise<void> {
    try {
      this.signal();
      while (this.#backlog.length > 0) {
        const entry = this.#backlog[0]!;
        await this.#ring.waitForSpace(entry.length);
        const at = this.#ring.reserve(entry.length);
        if (at < 0) continue;
        this.#ring.data.set(entry, at);
        this.#backlog.shift();
        this.#dirty = true;
        this.signal();
      }
    } finally {
      // No await between the loop's last check and here. The first await above comes before publish() stores the
      // promise, so this never runs before that store.
      this.#flushing = undefined;
    }
  }
}
