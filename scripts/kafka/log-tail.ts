/**
 * The last lines of a node's log, for the error that says why the node did not start, and the rotation that keeps
 * that log bounded.
 *
 * A node's JVM writes its output into .kafka/node-<id>/kafka.log. Opened for appending at every start, that file
 * grew across starts for ever (620 MB on one machine), and reading all of it to show 30 lines then threw
 * ERR_STRING_TOO_LONG (a string may hold at most 0x1fffffe8 characters) in place of the reason the node failed.
 * So the tail reads only the end of the file, whatever its size, and each start moves the previous log aside.
 */
import { closeSync, fstatSync, openSync, readSync, renameSync } from 'node:fs';

/** How much of the end of the log `tail` reads by default: far more than 30 lines of a broker's log take. */
export const TAIL_BYTES = 64 * 1024;

/**
 * The last `lines` lines of the file at `path` (trailing blank lines left out), read from its last `maxBytes` bytes
 * only; '(no log)' when there is no such file. A line cut by the start of that window is left out, not shown cut,
 * unless it is all the window holds.
 */
export function tail(path: string, lines: number, maxBytes = TAIL_BYTES): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '(no log)';
    throw error;
  }
  try {
    const size = fstatSync(fd).size;
    // One byte before the window too, when there is one: whether it ends a line tells if the window's first line is whole.
    const from = Math.max(0, size - maxBytes - 1);
    const buffer = Buffer.alloc(size - from);
    let filled = 0;
    while (filled < buffer.length) {
      const read = readSync(fd, buffer, filled, buffer.length - filled, from + filled);
      if (read === 0) break; // truncated while we read: what was read is all there is
      filled += read;
    }
    const bytes = buffer.subarray(0, filled);
    let text = bytes.toString('utf8');
    if (from > 0) {
      // Left out up to and including the first line end (found by byte: 0x0a is never part of a UTF-8 sequence):
      // the extra byte alone when it ends a line, else the cut first line with it. Only when nothing follows that
      // line is its cut end shown, without the extra byte: it says more than nothing.
      const firstEnd = bytes.indexOf(0x0a);
      const rest = firstEnd === -1 ? '' : bytes.subarray(firstEnd + 1).toString('utf8');
      text = rest.trimEnd() !== '' ? rest : bytes.subarray(1).toString('utf8');
    }
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } finally {
    closeSync(fd);
  }
}

/**
 * Moves the log at `path` aside to `<path>.1`, replacing an older one there, so that the next JVM starts a fresh
 * log: at most the current and the previous start's logs are kept. Nothing to move (no log yet) is no error.
 */
export function rotateLog(path: string): void {
  try {
    renameSync(path, `${path}.1`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
