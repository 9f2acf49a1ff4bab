/**
 * The command's stdout and stderr, written through an Output that stops writing once its stream has failed. A reader
 * that goes away (`ringkafka produce … 2>&1 | head -1`, `ringkafka perf … | true`) made the next write fail with
 * EPIPE, an 'error' event nothing handled: the process died mid-run with a stack trace, its producer never closed,
 * and the lines read but not yet sent were lost. Now a failed stream is written no more and the run goes on.
 */

/** What the commands and their progress lines write to: an Output, or a test's stream. */
export interface Writer {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export class Output implements Writer {
  readonly isTTY: boolean;
  readonly #stream: NodeJS.WritableStream;
  #failure: Error | undefined;
  /** Writes whose callback has not come yet: flushed() waits for them, as their failure may still be reported. */
  #pending = 0;
  #waiting: (() => void)[] = [];

  constructor(stream: NodeJS.WritableStream & { readonly isTTY?: boolean }) {
    this.#stream = stream;
    this.isTTY = stream.isTTY === true;
    // Kept for the life of the process: a write by anything else (Node's own warnings on stderr) fails the same way.
    stream.on('error', (error: Error) => this.#fail(error));
  }

  /** The first error writing the stream; undefined while it works. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  write(text: string): void {
    // Once failed, a stream is written no more: each later write failed again (stdout and stderr are not destroyed
    // by their error), a system call and an error apiece, for every progress line of a long run.
    if (this.#failure !== undefined) return;
    this.#pending++;
    try {
      this.#stream.write(text, (error?: Error | null) => {
        if (error) this.#fail(error);
        this.#settled();
      });
    } catch (error) {
      // A stream may throw rather than call back: the run is not ended by it either.
      this.#fail(error instanceof Error ? error : new Error(String(error)));
      this.#settled();
    }
  }

  /** Resolves once every write has been done or has failed, so `failure` names any failure of theirs. */
  flushed(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #fail(error: Error): void {
    this.#failure ??= error;
  }

  #settled(): void {
    if (--this.#pending > 0) return;
    for (const resolve of this.#waiting.splice(0)) resolve();
  }
}

/** Whether `error` says the reader has gone (EPIPE), as `| head` does once it has what it wants. */
export function isClosedPipe(error: Error | undefined): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
}
