/**
 * The lines of a byte stream, for `ringkafka produce`. Not readline, for three reasons:
 *
 * - A line is ended by `\n` alone (a `\r` before it is dropped, so CRLF files read as LF ones). readline also ends
 *   a line at a lone `\r`, which cut a record in two wherever a value held one.
 * - A UTF-8 byte order mark at the start of the input is not part of the first line (readline kept it, and line 1
 *   of a BOM-prefixed NDJSON file was "not JSON").
 * - A line is held only up to `maxBytes`: a longer one is reported as too long and skipped to its end without being
 *   kept. readline held all of it, so input without a newline (a binary file by mistake) grew one string until the
 *   process failed with a RangeError at 512 MB.
 *
 * A line is given as its bytes, not decoded: decoded here, an invalid UTF-8 byte became U+FFFD, and a plain line
 * went out changed with exit status 0. What a line must be is the command's to check (NDJSON must be UTF-8).
 */
import { fstatSync } from 'node:fs';

/** A line of the input, numbered from 1, without its end (`\n` or `\r\n`). */
export interface Line {
  readonly number: number;
  /**
   * The line's bytes (none for a line too long): a view of the input's, not a copy (no allocation per line beyond
   * the view), so the input's chunks must not be changed once read, as Node's streams never change theirs.
   */
  readonly data: Buffer;
  readonly bytes: number;
  readonly tooLong: boolean;
}

/**
 * Whether `input` reads a directory: `ringkafka produce < dir`. Node gives such a stdin as a stream that ends at
 * once, with no error, so the command said "0 records delivered" with exit status 0, as for an empty file.
 */
export function isDirectoryInput(input: unknown): boolean {
  const fd = (input as { fd?: unknown } | null)?.fd;
  if (typeof fd !== 'number') return false;
  try {
    return fstatSync(fd).isDirectory();
  } catch {
    return false;
  }
}

const LF = 0x0a;
const CR = 0x0d;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const NO_BYTES = Buffer.alloc(0);

/** The lines of `input`; the last one is yielded even without a `\n` after it. */
export async function* readLines(input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, maxBytes: number): AsyncGenerator<Line> {
  let pieces: Buffer[] = [];
  let held = 0;
  /** Bytes of the current line beyond maxBytes were seen: it is skipped to its end, its bytes only counted. */
  let tooLong = false;
  let skipped = 0;
  /** Whether the last byte of the current line so far is a `\r`: a too-long line's length is told without it. */
  let endsInCR = false;
  let number = 0;
  /** The input's first bytes while they may still be a byte order mark; undefined once it is dropped or ruled out. */
  let head: Buffer | undefined = Buffer.alloc(0);
  const finish = (): Line => {
    number++;
    if (tooLong) {
      const line: Line = { number, data: NO_BYTES, bytes: endsInCR ? skipped - 1 : skipped, tooLong: true };
      tooLong = false;
      skipped = 0;
      return line;
    }
    let bytes = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, held);
    if (bytes.length > 0 && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1);
    pieces = [];
    held = 0;
    if (bytes.length > maxBytes) return { number, data: NO_BYTES, bytes: bytes.length, tooLong: true };
    return { number, data: bytes, bytes: bytes.length, tooLong: false };
  };
  /** Adds a piece of the current line, or only counts it once the line is too long to keep. */
  const take = (piece: Buffer): void => {
    if (piece.length > 0) endsInCR = piece[piece.length - 1] === CR;
    if (tooLong) {
      skipped += piece.length;
      return;
    }
    // One byte more than maxBytes is allowed for the `\r` of a CRLF line.
    if (held + piece.length > maxBytes + 1) {
      tooLong = true;
      skipped = held + piece.length;
      pieces = [];
      held = 0;
      return;
    }
    if (piece.length > 0) {
      pieces.push(piece);
      held += piece.length;
    }
  };
  for await (const chunk of input) {
    let data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    if (head !== undefined) {
      // The mark may arrive split over chunks (a writer whose first write is one or two bytes): its first bytes are held until
      // the mark is whole or ruled out.
      data = Buffer.concat([head, data]);
      if (data.length < BOM.length && data.equals(BOM.subarray(0, data.length))) {
        head = data;
        continue;
      }
      if (data.subarray(0, BOM.length).equals(BOM)) data = data.subarray(BOM.length);
      head = undefined;
    }
    let from = 0;
    for (let end = data.indexOf(LF, from); end >= 0; end = data.indexOf(LF, from)) {
      take(data.subarray(from, end));
      from = end + 1;
      yield finish();
    }
    // Copied: a short rest of a large chunk would keep all of the chunk alive until its line ends.
    if (from < data.length) take(Buffer.from(data.subarray(from)));
  }
  // Input that ended within what could have been a mark: those bytes are its only line.
  if (head !== undefined && head.length > 0) take(head);
  if (held > 0 || tooLong) yield finish();
}

/**
 * Whether `data` holds nothing but white space, as `String.prototype.trim()` sees it (ASCII's, and Unicode's: U+00A0,
 * U+3000, U+FEFF…), without decoding a line that starts with anything else: blank lines were found by decoding every
 * line and trimming it. Only a line whose first other byte may start a Unicode space (0xC2, 0xE1–0xE3, 0xEF) is
 * decoded.
 */
export function isBlank(data: Buffer): boolean {
  for (let i = 0; i < data.length; i++) {
    const byte = data[i]!;
    if (byte === 0x20 || (byte >= 0x09 && byte <= 0x0d)) continue;
    if (byte === 0xc2 || (byte >= 0xe1 && byte <= 0xe3) || byte === 0xef) {
      return data.toString('utf8', i).trim() === '';
    }
    return false;
  }
  return true;
}
