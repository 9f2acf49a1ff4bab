/**
 * Splits a TCP byte stream into Kafka frames: `int32 size` (big-endian, excluding itself), then `size` bytes.
 *
 * Cost rule: every byte is copied at most once. A frame that lies inside one chunk is handed out as a view of
 * that chunk (no copy); only a frame that spans chunks is assembled, once, when its last byte has arrived. The
 * partial chunks are kept in a list meanwhile; concatenating them on every arrival would be quadratic in the
 * frame size (a 1 MiB answer arriving in 64 KiB reads would be copied 16 times over).
 */
import { ProtocolError } from '../shared/errors.js';

/** Larger than any answer a producer gets; a bigger size means a corrupt stream or a peer that is not Kafka. */
export const MAX_FRAME_BYTES = 100 * 1024 * 1024;

const SIZE_BYTES = 4;

export class FrameDecoder {
  readonly #onFrame: (frame: Buffer) => void;
  readonly #maxFrameBytes: number;
  /** Chunks (or tails of chunks) of a frame not yet complete, oldest first. Empty between frames. */
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Size of the frame being collected, once its four size bytes have arrived; -1 before. */
  #frameSize = -1;
  #destroyed = false;

  /**
   * `onFrame` gets each frame body (without its size prefix). It may call `destroy()`, e.g. on a bad response;
   * no further frame is delivered after that, even from the chunk being processed.
   */
  constructor(onFrame: (frame: Buffer) => void, maxFrameBytes = MAX_FRAME_BYTES) {
    this.#onFrame = onFrame;
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** Bytes held for a frame that is not complete yet. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** Feeds one chunk. Throws ProtocolError on a negative or oversized frame size; the decoder is then destroyed. */
  push(chunk: Buffer): void {
    if (this.#destroyed || chunk.length === 0) return;
    if (this.#chunks.length === 0) {
      this.#scan(chunk);
      return;
    }
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    if (this.#frameSize < 0) {
      if (this.#buffered < SIZE_BYTES) return;
      this.#frameSize = this.#checkSize(this.#peekSizeAcrossChunks());
    }
    const total = SIZE_BYTES + this.#frameSize;
    if (this.#buffered < total) return;

    // The frame is complete: copy it out of the chunks, once, and scan what follows it in the last chunk.
    const frame = Buffer.allocUnsafe(this.#frameSize);
    let skip = SIZE_BYTES;
    let written = 0;
    let tail: Buffer | undefined;
    for (const part of this.#chunks) {
      const start = Math.min(skip, part.length);
      skip -= start;
      const take = Math.min(part.length - start, this.#frameSize - written);
      part.copy(frame, written, start, start + take);
      written += take;
      if (start + take < part.length) tail = part.subarray(start + take); // only ever the last chunk
    }
    this.#chunks = [];
    this.#buffered = 0;
    this.#frameSize = -1;
    this.#onFrame(frame);
    if (tail !== undefined && !this.#destroyed) this.#scan(tail);
  }

  /** Drops what is buffered; later pushes are ignored. */
  destroy(): void {
    this.#destroyed = true;
    this.#chunks = [];
    this.#buffered = 0;
    this.#frameSize = -1;
  }

  /** Hands out every whole frame in `chunk` as a view, and keeps the incomplete rest. Nothing is buffered now. */
  #scan(chunk: Buffer): void {
    let offset = 0;
    while (chunk.length - offset >= SIZE_BYTES) {
      const size = this.#checkSize(chunk.readInt32BE(offset));
      const end = offset + SIZE_BYTES + size;
      if (end > chunk.length) {
        this.#frameSize = size;
        break;
      }
      this.#onFrame(chunk.subarray(offset + SIZE_BYTES, end));
      if (this.#destroyed) return;
      offset = end;
    }
    if (offset < chunk.length) {
      this.#chunks.push(offset === 0 ? chunk : chunk.subarray(offset));
      this.#buffered = chunk.length - offset;
    }
  }

  /** The size prefix when its four bytes are split over chunks (at most four chunks are touched). */
  #peekSizeAcrossChunks(): number {
    let size = 0;
    let got = 0;
    for (const part of this.#chunks) {
      for (let i = 0; i < part.length && got < SIZE_BYTES; i++, got++) size = (size << 8) | part[i]!;
      if (got === SIZE_BYTES) break;
    }
    return size; // `<<` and `|` work on int32, so a set top bit reads as negative, as readInt32BE would
  }

  #checkSize(size: number): number {
    if (size < 0 || size > this.#maxFrameBytes) {
      this.destroy();
      throw new ProtocolError(
        size < 0
          ? `negative frame size ${size}: the stream is corrupt`
          : `frame size ${size} exceeds the limit of ${this.#maxFrameBytes} bytes`,
      );
    }
    return size;
  }
}
