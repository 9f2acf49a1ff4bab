/**
 * Progress lines on stderr. On a terminal one line is rewritten every second; elsewhere (a log, a pipe) a line is
 * added every interval, like Kafka's ProducerPerformance: records/s, MB/s and latency since the previous line.
 * Its timer is unref'd and cleared by stop(), so it never holds the process open.
 */
import type { Writer } from './output.js';

export class Progress {
  readonly #stream: Writer;
  readonly #intervalMs: number;
  readonly #tty: boolean;
  #timer: NodeJS.Timeout | undefined;
  #status: () => string = () => '';
  /** On a terminal: the progress line now on screen, not ended by a newline; undefined when none is. */
  #shown: string | undefined;
  #windowStart = 0;
  #bytes = 0;
  #records = 0;
  #latencySum = 0;
  #latencyMax = 0;

  constructor(stream: Writer, intervalMs: number | undefined) {
    this.#stream = stream;
    this.#tty = stream.isTTY === true;
    this.#intervalMs = intervalMs ?? (this.#tty ? 1000 : 5000);
  }

  start(status: () => string): void {
    this.#status = status;
    this.#windowStart = performance.now();
    this.#timer = setInterval(() => this.#report(), this.#intervalMs);
    this.#timer.unref();
  }

  /** `records` records of `bytes` bytes in all were acknowledged `latencyMs` after they were sent. */
  tick(bytes: number, records: number, latencyMs: number): void {
    this.#bytes += bytes;
    this.#records += records;
    this.#latencySum += latencyMs * records;
    // A group of which nothing was acknowledged has no acknowledgement latency: a topic that does not exist made
    // its 60 s wait for metadata the "max latency" of a window in which no record went anywhere.
    if (records > 0 && latencyMs > this.#latencyMax) this.#latencyMax = latencyMs;
  }

  /**
   * Writes `line` (a newline is added) on a line of its own. On a terminal the progress line is cleared first and
   * drawn again below it: written as it was, an error was glued to it ("… 0 failedline 2: not JSON").
   */
  print(line: string): void {
    if (this.#shown === undefined) {
      this.#stream.write(`${line}\n`);
      return;
    }
    this.#stream.write(`\r\x1b[2K${line}\n${this.#shown}`);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    // Only a progress line on screen is ended: a run that failed before its first line (an unreachable cluster)
    // printed an empty line before its error.
    if (this.#shown !== undefined) this.#stream.write('\n');
    this.#shown = undefined;
  }

  #report(): void {
    const now = performance.now();
    const seconds = (now - this.#windowStart) / 1000;
    const rate = this.#records / seconds;
    const avg = this.#records > 0 ? this.#latencySum / this.#records : 0;
    const line = `${Math.round(rate).toLocaleString('en')} records/sec (${(this.#bytes / seconds / (1024 * 1024)).toFixed(2)} MB/sec), ` +
      `${avg.toFixed(1)} ms avg latency, ${this.#latencyMax.toFixed(1)} ms max latency; ${this.#status()}`;
    if (this.#tty) {
      this.#stream.write(`\r\x1b[2K${line}`);
      this.#shown = line;
    } else this.#stream.write(`${line}\n`);
    this.#windowStart = now;
    this.#bytes = 0;
    this.#records = 0;
    this.#latencySum = 0;
    this.#latencyMax = 0;
  }
}
