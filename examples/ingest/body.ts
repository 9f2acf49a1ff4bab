/**
 * A produce request's body, from the wire to records: read within `maxBodyBytes`, counted within
 * `maxLinesPerRequest`, decoded as strict UTF-8, parsed line by line. Every check is made before anything is sent,
 * so a refused request sends nothing.
 */
import type http from 'node:http';
import type { ProducerRecord } from '../../src/main/index.js';

export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

/** A 413 for a body over the limit; the connection is closed, as the rest of the body is never read. */
export const tooLarge = (limit: number): HttpError => new HttpError(413, `the body is over ${limit} bytes`, { connection: 'close' });

/**
 * The body, or a 413 once it is over `limit`. Read by events, not `for await`: leaving that loop by throwing destroyed
 * the request, and with it the socket, before the 413 was written, so the client saw a reset instead. Past the limit
 * the rest is read and dropped (nothing more is kept) until the answer is written and the connection closed.
 */
export function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      stop();
      chunks.length = 0;
      // Still flowing, to no listener: the rest is dropped, and the client, still sending, is not stuck.
      req.on('error', () => undefined);
      req.resume();
      reject(tooLarge(limit));
    };
    const onEnd = (): void => {
      stop();
      resolve(Buffer.concat(chunks, size));
    };
    // The client went away mid-upload.
    const onError = (error: Error): void => {
      stop();
      reject(error);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/**
 * The body's lines (`\n`-separated, blank ones included, a last empty one after a final newline not), counted on its
 * bytes before anything else: parsing costs per line, not per byte, and one 8 MiB body of 4,000,000 lines `1` held
 * about 1.7 GB and blocked the event loop for seconds. Over `max`: a 413, nothing parsed.
 */
export function checkLineCount(body: Buffer, max: number): void {
  let lines = body.length > 0 && body[body.length - 1] !== 0x0a ? 1 : 0;
  for (let at = body.indexOf(0x0a); at !== -1; at = body.indexOf(0x0a, at + 1)) {
    if (++lines > max) break;
  }
  if (lines > max) throw new HttpError(413, `the body has more than ${max} lines (maxLinesPerRequest): split it into smaller requests`);
}

// `ignoreBOM`: a byte-order mark stays in the text, as before, and line 1 is not JSON then.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The body as text. Strict: `toString('utf8')` turned each invalid byte into U+FFFD, answered 200, and a client's
 * bytes `ff fe` reached Kafka as `ef bf bd ef bf bd`. Invalid UTF-8 is a 400 naming the first line with it (a `\n`
 * byte is never part of a multi-byte sequence, so each line decodes alone).
 */
export function decodeBody(body: Buffer): string {
  try {
    return strictUtf8.decode(body);
  } catch {
    let line = 1;
    for (let start = 0; start <= body.length; line++) {
      const end = body.indexOf(0x0a, start);
      const stop = end === -1 ? body.length : end;
      try {
        strictUtf8.decode(body.subarray(start, stop));
      } catch {
        throw new HttpError(400, `line ${line}: not valid UTF-8 (at byte ${start} of the body or after)`);
      }
      start = stop + 1;
    }
    throw new HttpError(400, 'the body is not valid UTF-8');
  }
}

/**
 * A key field's value as the record key: a string as it is, a safe integer as its decimal digits. Anything else is
 * refused: a number beyond 2^53 was rounded by JSON.parse, so `12345678901234567891` and `…92` both got the key
 * `12345678901234567000` and went to the same partition as one entity; a fraction, boolean or object has no one text.
 */
function keyOf(field: unknown, keyField: string, line: number): string {
  if (typeof field === 'string') return field;
  if (typeof field === 'number' && Number.isSafeInteger(field)) return String(field);
  const what = typeof field === 'number' ? `the number ${String(field)} as parsed, not a safe integer` : `a ${Array.isArray(field) ? 'array' : typeof field}`;
  throw new HttpError(400, `line ${line}: the "${keyField}" field is not a string or a safe integer (${what}): send large or fractional ids as strings`);
}

/** NDJSON lines → records, all or nothing: the first bad line is a 400 that names it. */
export function toRecords(topic: string, body: string, keyField: string | null): ProducerRecord[] {
  const records: ProducerRecord[] = [];
  const lines = body.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      throw new HttpError(400, `line ${i + 1}: not JSON (${(error as Error).message})`);
    }
    let key: string | null = null;
    if (keyField !== null) {
      // Own fields only: `?key=toString` found Object's method, and the record went out with no key.
      const field = typeof parsed === 'object' && parsed !== null && Object.hasOwn(parsed, keyField) ? (parsed as Record<string, unknown>)[keyField] : undefined;
      if (field === undefined || field === null) throw new HttpError(400, `line ${i + 1}: no "${keyField}" field for the key`);
      key = keyOf(field, keyField, i + 1);
    }
    records.push({ topic, key, value: line });
  }
  return records;
}
