/** The line reader of `ringkafka produce`: where lines end, what is dropped, and what a too-long line becomes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBlank, readLines, type Line } from '../../src/cli/lines.js';

async function linesOf(chunks: (Buffer | string)[], maxBytes = 100): Promise<Line[]> {
  const lines: Line[] = [];
  for await (const line of readLines(chunks, maxBytes)) lines.push(line);
  return lines;
}

const texts = (lines: Line[]): string[] => lines.map((l) => (l.tooLong ? `<${l.bytes} bytes>` : l.data.toString()));

test('a line ends at \\n alone: a \\r before it is dropped, a lone \\r is part of the line', async () => {
  assert.deepEqual(texts(await linesOf(['a\r\nb\rc\n\r\nd'])), ['a', 'b\rc', '', 'd']);
});

test('lines are numbered from 1, blank ones included, and the last one needs no \\n', async () => {
  const lines = await linesOf(['x\n\ny']);
  assert.deepEqual(lines.map((l) => [l.number, l.data.toString()]), [[1, 'x'], [2, ''], [3, 'y']]);
  assert.deepEqual(texts(await linesOf(['x\n'])), ['x'], 'a final \\n ends the last line; no empty line after it');
  assert.deepEqual(texts(await linesOf([])), []);
});

test('a UTF-8 byte order mark at the start of the input is dropped; one later is kept', async () => {
  const bom = '\uFEFF';
  assert.deepEqual(texts(await linesOf([`${bom}{"a":1}\n${bom}b\n`])), ['{"a":1}', `${bom}b`]);
  assert.deepEqual(texts(await linesOf([Buffer.alloc(0), Buffer.from(`${bom}x`)])), ['x'], 'an empty first chunk is not the start');
});

test('a byte order mark split over the first chunks is dropped; bytes that only start like one are kept', async () => {
  const b = (...bytes: (number | string)[]): Buffer => Buffer.concat(bytes.map((x) => (typeof x === 'string' ? Buffer.from(x) : Buffer.from([x]))));
  assert.deepEqual(texts(await linesOf([b(0xef), b(0xbb, 0xbf, 'a\n')])), ['a']);
  assert.deepEqual(texts(await linesOf([b(0xef), b(0xbb), b(0xbf, 'b')])), ['b']);
  assert.deepEqual(texts(await linesOf([b(0xef, 0xbb), Buffer.alloc(0), b(0xbf)])), [], 'the mark alone is no line');
  const kept = await linesOf([b(0xef), b(0xbb), b('c\n')]);
  assert.deepEqual(kept.map((l) => [l.data, l.bytes]), [[b(0xef, 0xbb, 'c'), 3]], '0xEF 0xBB then no 0xBF: all three bytes are the line');
  assert.deepEqual((await linesOf([b(0xef), b('d')])).map((l) => l.bytes), [2]);
  assert.deepEqual((await linesOf([b(0xef, 0xbb)])).map((l) => l.bytes), [2], 'input that ends within a mark keeps its bytes');
});

test('a line and a character split over chunks are put back together', async () => {
  const euro = Buffer.from('€'); // three bytes
  const lines = await linesOf([Buffer.from('ab'), Buffer.concat([Buffer.from('c'), euro.subarray(0, 1)]), euro.subarray(1), Buffer.from('\r'), Buffer.from('\nz')]);
  assert.deepEqual(texts(lines), ['abc€', 'z']);
  assert.equal(lines[0]!.bytes, 6);
});

test('a line longer than maxBytes is reported once with its length and skipped to its end; the next line is read', async () => {
  const lines = await linesOf(['ok\n', 'x'.repeat(60), 'x'.repeat(60), 'x'.repeat(60), '\nnext\n'], 100);
  assert.deepEqual(texts(lines), ['ok', '<180 bytes>', 'next']);
  assert.deepEqual(lines.map((l) => l.number), [1, 2, 3]);
  assert.deepEqual(texts(await linesOf(['y'.repeat(101)], 100)), ['<101 bytes>'], 'one byte too many, at the end of the input');
  assert.deepEqual(texts(await linesOf([`${'y'.repeat(100)}\r\n`], 100)), ['y'.repeat(100)], 'the \\r of CRLF is not counted');
});

test('a too-long line ended by CRLF is reported with its length without the \\r, as a line that is kept is', async () => {
  assert.deepEqual(texts(await linesOf([`${'y'.repeat(101)}\r\nok\n`], 100)), ['<101 bytes>', 'ok']);
  assert.deepEqual(texts(await linesOf(['y'.repeat(150), '\r', '\nok\r\n'], 100)), ['<150 bytes>', 'ok'], 'the \\r in a chunk of its own');
  assert.deepEqual(texts(await linesOf([`${'y'.repeat(150)}\r`], 100)), ['<150 bytes>'], 'at the end of the input, as a kept line drops it there');
  assert.deepEqual(texts(await linesOf([`${'y'.repeat(150)}\rz\n`], 100)), ['<152 bytes>'], 'a \\r inside the line counts');
});

test('a line is given as its bytes, invalid UTF-8 included (decoded, each invalid byte became U+FFFD)', async () => {
  const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "café" in Latin-1
  const split = Buffer.from('€'); // a character split over chunks stays whole in the bytes
  const lines = await linesOf([Buffer.concat([latin1, Buffer.from('\r\n'), split.subarray(0, 2)]), Buffer.concat([split.subarray(2), Buffer.from([0xff])])]);
  assert.deepEqual(lines.map((l) => l.data), [latin1, Buffer.concat([split, Buffer.from([0xff])])]);
  assert.deepEqual(lines.map((l) => l.bytes), [4, 4]);
});

test('isBlank: white space as String.trim() sees it, ASCII\'s and Unicode\'s, without decoding other lines', () => {
  for (const blank of ['', ' ', '\t \r\v\f', '\u00a0', '\u3000 ', '\u2028\u2029', '\ufeff', ' \u1680\u205f']) {
    assert.equal(isBlank(Buffer.from(blank)), true, JSON.stringify(blank));
  }
  for (const text of ['a', ' a', '\u00a0x', '\u00e9', '\u3001', '\u200b', '\u0085']) {
    assert.equal(isBlank(Buffer.from(text)), false, JSON.stringify(text));
  }
  assert.equal(isBlank(Buffer.from([0x20, 0xe3, 0x80])), false, 'a truncated character is no space');
  assert.equal(isBlank(Buffer.from([0xff])), false);
});
