import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rotateLog, tail } from '../../../scripts/kafka/log-tail.js';

/** The longest string V8 makes (0x1fffffe8 characters): a log longer than that could not be read whole. */
const MAX_STRING_LENGTH = 0x1fffffe8;

const lines = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}`);

describe('the tail of a node log', () => {
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'log-tail-'));
  });

  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives the last lines of a log longer than a string can be, reading only its end', () => {
    // Sparse: ~600 MB long, no disk used but for the lines appended after the hole.
    const big = join(dir, 'big.log');
    writeFileSync(big, '');
    truncateSync(big, 600 * 1024 * 1024);
    appendFileSync(big, '\n' + lines(1, 100).join('\n') + '\n');
    try {
      // The premise: a file that readFileSync(path, 'utf8') cannot turn into one string.
      assert.ok(statSync(big).size > MAX_STRING_LENGTH);
      const shown = tail(big, 30);
      assert.equal(shown, lines(71, 100).join('\n'));
    } finally {
      rmSync(big, { force: true });
    }
  });

  it('gives the last lines of a small log, or all of them when it has fewer, without its trailing blank lines', () => {
    const small = join(dir, 'small.log');
    writeFileSync(small, lines(1, 5).join('\n') + '\n\n');
    assert.equal(tail(small, 2), 'line 4\nline 5');
    assert.equal(tail(small, 30), lines(1, 5).join('\n'));
    writeFileSync(small, 'no line end');
    assert.equal(tail(small, 3), 'no line end');
    writeFileSync(small, '');
    assert.equal(tail(small, 3), '');
  });

  it('says there is no log when the file is missing', () => {
    assert.equal(tail(join(dir, 'missing.log'), 30), '(no log)');
  });

  it('leaves out a line cut by the start of the window it reads, keeps a whole one, at any cut', () => {
    const log = join(dir, 'window.log');
    writeFileSync(log, 'aaaa\nbbbb\ncccc\n');
    // The last 7 bytes begin inside "bbbb": that line is left out, not shown as "bb".
    assert.equal(tail(log, 10, 7), 'cccc');
    // The last 10 bytes begin just after a line end: "bbbb" is whole and shown.
    assert.equal(tail(log, 10, 10), 'bbbb\ncccc');
    // A window inside one long line still shows its end (19 x and the line end make the last 20 bytes).
    writeFileSync(log, `${'x'.repeat(100)}\n`);
    assert.equal(tail(log, 10, 20), 'x'.repeat(19));
    // 2,000 lines of varying length, ~60 KB: windows of many sizes cut them at many places.
    const all = Array.from({ length: 2000 }, (_, i) => `[${i}] ${'é'.repeat(i % 37)}`);
    writeFileSync(log, all.join('\n') + '\n');
    for (const window of [1000, 1001, 1003, 4096, 8191]) {
      const shown = tail(log, 10, window).split('\n');
      assert.deepEqual(shown, all.slice(-10), `window ${window}`);
    }
  });
});

describe('the rotation of a node log at each start', () => {
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'log-rotate-'));
  });

  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('moves the log aside to .1, replacing the older one there, so the next JVM starts an empty log; no log, no error', () => {
    const log = join(dir, 'kafka.log');
    writeFileSync(`${log}.1`, 'two starts ago\n');
    writeFileSync(log, 'last start\n');
    rotateLog(log);
    assert.equal(existsSync(log), false);
    assert.equal(readFileSync(`${log}.1`, 'utf8'), 'last start\n');
    // No log yet (the first start, or two rotations in a row): nothing to move, no error.
    rotateLog(log);
    assert.equal(existsSync(log), false);
    assert.equal(readFileSync(`${log}.1`, 'utf8'), 'last start\n');
  });
});
