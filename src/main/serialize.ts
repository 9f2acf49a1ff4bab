/**
 * One user record → the bytes the producer buffers. Runs on the main thread for every record, so it checks each
 * field once, allocates only what the output needs, and never touches the caller's object (docs/style.md). Bad input is
 * rejected with an InvalidRecordError that names the field; it never leaves the producer broken for other records.
 */
// msgpackr's packing half: its main entry also loads msgpackr-extract, a native addon that only speeds up unpacking
// and costs the process about 5 MB of resident memory.
import { Packr } from 'msgpackr/pack';
import type { Serializer } from './options.js';
import type { PartitionerRecord } from './partitioner-function.js';
import { valueByteLength, type EntryValue } from '../shared/record-entry.js';
import { describe } from './describe-value.js';
import { InvalidRecordError, unreadableHeaders, unreadableRecord } from './invalid-record.js';

export { describe, InvalidRecordError };


export type HeaderValue = Uint8Array | string | null;

/**
 * Either an object of header values, sent in the object's property order (JavaScript's: integer-like names such as
 * `'2'` first, in ascending order, then the others as they were added), or `[key, value]` pairs (sent as given,
 * repeated keys allowed).
 */
export type RecordHeaders =
  | Readonly<Record<string, HeaderValue>>
  | ReadonlyArray<readonly [string, HeaderValue]>;

/**
 * What a caller passes to `send`. `key` and `value` are bytes or strings (sent as UTF-8); with a serializer,
 * `value` may be anything. Bytes are not copied here: do not change them until `send` settles.
 */
export interface ProducerRecord<V = unknown> {
  readonly topic: string;
  readonly key?: Uint8Array | string | null | undefined;
  readonly value?: V | null | undefined;
  readonly headers?: RecordHeaders | undefined;
  /** Explicit partition; else (undefined or null, as Java's ProducerRecord) the configured partitioner decides. */
  readonly partition?: number | null | undefined;
  /** Create time in ms since the epoch (0 to 2^51), or a Date. Default (undefined or null): when `send` was called. */
  readonly timestamp?: number | Date | null | undefined;
}

/**
 * A checked record with its bytes, ready to be placed on a partition and buffered. Its value may still be a string
 * (one longer than SHORT_STRING, given or returned by a serializer): it is encoded as UTF-8 straight into the ring
 * when its entry is written (writeRecordEntry). A partitioner function is given it as bytes (choosePartition).
 */
export interface PreparedRecord extends Omit<PartitionerRecord, 'value'> {
  readonly value: EntryValue;
  readonly partition: number | undefined;
  /** Accounted bytes (docs/architecture.md): key + value + header keys + header values; what the byte budget counts. */
  readonly size: number;
  /**
   * The value's bytes at the check: its length, or a string's UTF-8 length; -1 for null. The ring writer takes a
   * string's from here (measuring a string is a native call, 35–80 ns for 100 characters on Node 20) and reads a
   * byte value's length from the live buffer, as it copies it.
   */
  readonly valueBytes: number;
}

/**
 * Every PreparedRecord is an instance of this class, never an object literal: V8 decides per literal site to
 * allocate straight into the old generation ("pretenuring") once most of a site's objects survive a scavenge, and
 * once the records that waited had made it decide so, every record from that site was born old and died there, for
 * the full collections (and their background threads) to clean up. Instances of a class are never pretenured. One
 * class is also one shape for every reader of records.
 */
export class PreparedFields implements PreparedRecord {
  // Declared, not defined: a defined field would first be set to undefined, then to its value, per instance.
  declare readonly topic: string;
  declare readonly partition: number | undefined;
  declare readonly key: Uint8Array | null;
  declare readonly value: EntryValue;
  declare readonly headers: PreparedRecord['headers'];
  declare readonly timestamp: number;
  declare readonly size: number;
  declare readonly valueBytes: number;

  constructor(
    topic: string,
    partition: number | undefined,
    key: Uint8Array | null,
    value: EntryValue,
    headers: PreparedRecord['headers'],
    timestamp: number,
    size: number,
    valueBytes: number,
  ) {
    this.topic = topic;
    this.partition = partition;
    this.key = key;
    this.value = value;
    this.headers = headers;
    this.timestamp = timestamp;
    this.size = size;
    this.valueBytes = valueBytes;
  }
}

/**
 * A checked record's fields, written by checkRecord into one reused object (`checked`): the caller copies them
 * out before the next check. A sendBatch keeps them in columns this way (call-records.ts), with no object per record.
 */
export interface CheckedRecord {
  topic: string;
  partition: number | undefined;
  key: Uint8Array | null;
  value: EntryValue;
  headers: PreparedRecord['headers'];
  timestamp: number;
  size: number;
  valueBytes: number;
}

/** Kafka's topic rule (clients/.../common/internals/Topic.java): legal characters, at most 249, not "." or "..". */
const TOPIC_CHARS = /^[a-zA-Z0-9._-]+$/;
const MAX_TOPIC_LENGTH = 249;
const EMPTY_HEADERS: PreparedRecord['headers'] = Object.freeze([]);

/**
 * Plain MessagePack maps (`useRecords: false`): the record extension would need every consumer to be msgpackr
 * sharing our structures. `undefined` (a property, an array slot, a function) is written as nil, not as msgpackr's
 * own extension, which other decoders read as an unknown ext type; an invalid Date is refused, not written as a
 * one-byte timestamp extension that other decoders refuse to read. One instance for the process, since building
 * one is not free.
 */
let packr: Packr | undefined;

function newPackr(): Packr {
  return new Packr({
    useRecords: false,
    encodeUndefinedAsNil: true,
    onInvalidDate: () => {
      throw new RangeError('an invalid Date (its time is NaN)');
    },
  });
}

/**
 * The last topic that passed the check: most producers write to a handful of topics, so skip the regex. A symbol
 * until one has, which no record's topic can equal: starting as '' let the empty topic skip its check, and as
 * undefined a missing topic (which then waited for metadata of "undefined" and failed as an unknown topic).
 */
let checkedTopic: string | symbol = Symbol('no topic checked yet');

/**
 * Header names repeat on nearly every record (trace ids, content types): encode each once. The bytes are shared
 * between records, which is safe because nothing downstream writes into record bytes (the ring writer copies).
 * Cleared when full so a stream of unique names cannot grow it without bound.
 */
const headerNames = new Map<string, Uint8Array>();
const MAX_HEADER_NAMES = 256;

/**
 * Short ASCII strings (ids, keys, header values) are copied into a shared slab and returned as views: about half
 * the cost of Buffer.from, which goes through the UTF-8 encoder and its own pool for every string. A slab is
 * dropped when full; views keep it alive only as long as their records.
 */
const SLAB_BYTES = 64 * 1024;
const SHORT_STRING = 64;
let slab = new Uint8Array(SLAB_BYTES);
let slabUsed = 0;

/**
 * The latest timestamp a record may carry (about the year 73,000). A batch stores each record's timestamp as a
 * zig-zag varlong delta from its first, computed in doubles: twice a delta must stay within 2^53 to be exact, or the
 * broker (and every reader) sees another time than the one sent.
 */
export const MAX_TIMESTAMP_MS = 2 ** 51;

/** The one CheckedRecord that checkRecord fills (timestamp a number from the start: its field stays a double). */
const checked: CheckedRecord = { topic: '', partition: undefined, key: null, value: null, headers: [], timestamp: 0.5, size: 0, valueBytes: -1 };

/**
 * Checks `record` and serialises it. `serializer` is the resolved option (null: none), `now` the time of `send`
 * in ms, used when the record has no timestamp. Throws InvalidRecordError naming the bad field.
 */
export function prepareRecord(record: ProducerRecord, serializer: Serializer | null, now: number): PreparedRecord {
  const c = checkRecord(record, serializer, now);
  return new PreparedFields(c.topic, c.partition, c.key, c.value, c.headers, c.timestamp, c.size, c.valueBytes);
}

/**
 * prepareRecord without the record: the fields go into a reused object, valid until the next call (copy them out
 * at once). Throws as prepareRecord does.
 */
export function checkRecord(record: ProducerRecord, serializer: Serializer | null, now: number): Readonly<CheckedRecord> {
  if (typeof record !== 'object' || record === null) {
    throw new InvalidRecordError(`record must be an object with a topic, got ${describe(record)}`);
  }
  let topic, keyIn, valueIn, headersIn, partitionIn, timestampIn;
  try {
    ({ topic, key: keyIn, value: valueIn, headers: headersIn, partition: partitionIn, timestamp: timestampIn } = record);
  } catch (error) {
    throw unreadableRecord(record, error);
  }
  // null is "not set", as for key and value: records parsed from JSON carry `"partition": null`.
  const partition = partitionIn ?? undefined;

  if (topic !== checkedTopic) {
    checkTopic(topic);
    checkedTopic = topic;
  }

  if (partition !== undefined && !(Number.isInteger(partition) && partition >= 0 && partition <= 0x7fffffff)) {
    throw new InvalidRecordError(`record.partition must be an integer from 0 to 2147483647, got ${describe(partition)}`);
  }

  let timestamp = now;
  if (timestampIn !== undefined && timestampIn !== null) {
    timestamp = timestampIn instanceof Date ? timestampIn.getTime() : timestampIn;
    if (!(Number.isInteger(timestamp) && timestamp >= 0 && timestamp <= MAX_TIMESTAMP_MS)) {
      throw new InvalidRecordError(
        `record.timestamp must be an integer of ms since the epoch from 0 to ${MAX_TIMESTAMP_MS} (2^51), or a valid ` +
          `Date, got ${describe(timestampIn)}`,
      );
    }
  }

  const key = toKey(keyIn);
  const value = serializer === null ? toValue(valueIn) : serialize(valueIn, serializer);
  const valueBytes = value === null ? -1 : valueByteLength(value);
  const keyBytes = key === null ? -1 : key.length;
  // Only an empty one can be a view of a detached buffer (refuseDetached): looked at then, not in toKey and toValue,
  // where the check cost the sendBatch path about 25 ns a record (bench:micro, sendBatch-100B-failures).
  if (keyBytes === 0) refuseDetached(key!, 'record.key');
  if (valueBytes === 0 && typeof value !== 'string') refuseDetached(value as Uint8Array, 'record.value');
  let size = (keyBytes < 0 ? 0 : keyBytes) + (valueBytes < 0 ? 0 : valueBytes);

  let headers = EMPTY_HEADERS;
  // A header object's getter, or a Proxy's trap, may throw too: said as the record's fields are (unreadableRecord).
  try {
    if (headersIn !== undefined && headersIn !== null) {
      const out: Array<[Uint8Array, Uint8Array | null]> = [];
      if (Array.isArray(headersIn)) {
        for (let i = 0; i < headersIn.length; i++) {
          const pair: unknown = headersIn[i];
          if (!Array.isArray(pair) || pair.length !== 2) {
            throw new InvalidRecordError(`record.headers[${i}] must be a [key, value] pair, got ${describe(pair)}`);
          }
          const name: unknown = pair[0];
          if (typeof name !== 'string') {
            throw new InvalidRecordError(`record.headers[${i}][0] must be a string header key, got ${describe(name)}`);
          }
          const bytes = pushHeader(out, name, pair[1]);
          if (bytes < 0) throw badHeader(`record.headers[${i}][1]`, pair[1]);
          size += bytes;
        }
      } else if (isPlainObject(headersIn)) {
        const object = headersIn as Readonly<Record<string, unknown>>;
        for (const name of Object.keys(object)) {
          const bytes = pushHeader(out, name, object[name]);
          if (bytes < 0) throw badHeader(`record.headers[${JSON.stringify(name)}]`, object[name]);
          size += bytes;
        }
      } else {
        throw new InvalidRecordError(
          'record.headers must be an object of header values or an array of [key, value] pairs, ' +
            `got ${describe(headersIn)}`,
        );
      }
      if (out.length > 0) headers = out;
    }
  } catch (error) {
    throw error instanceof InvalidRecordError ? error : unreadableHeaders(error);
  }

  const out = checked;
  out.topic = topic;
  out.partition = partition;
  out.key = key;
  out.value = value;
  out.headers = headers;
  out.timestamp = timestamp;
  out.size = size;
  out.valueBytes = valueBytes;
  return out;
}

function checkTopic(topic: unknown): asserts topic is string {
  if (typeof topic !== 'string' || topic.length === 0) {
    throw new InvalidRecordError(`record.topic must be a non-empty string, got ${describe(topic)}`);
  }
  if (topic.length > MAX_TOPIC_LENGTH || !TOPIC_CHARS.test(topic) || topic === '.' || topic === '..') {
    throw new InvalidRecordError(
      `record.topic must be at most ${MAX_TOPIC_LENGTH} letters, digits, '.', '_' or '-' (and not "." or ".."), ` +
        `got ${describe(topic)}`,
    );
  }
}

/**
 * Appends one header and returns its accounted bytes (key + value), or -1 for a bad value: the caller names the
 * field, so no field string is built for good headers.
 */
function pushHeader(out: Array<[Uint8Array, Uint8Array | null]>, name: string, valueIn: unknown): number {
  if (valueIn !== null && typeof valueIn !== 'string' && !(valueIn instanceof Uint8Array)) return -1;
  if (valueIn instanceof Uint8Array && valueIn.byteLength === 0) refuseDetached(valueIn, `record.headers[${JSON.stringify(name)}]`);
  let nameBytes = headerNames.get(name);
  if (nameBytes === undefined) {
    if (headerNames.size >= MAX_HEADER_NAMES) headerNames.clear();
    nameBytes = Buffer.from(name, 'utf8');
    headerNames.set(name, nameBytes);
  }
  const value = valueIn === null ? null : typeof valueIn === 'string' ? utf8(valueIn) : valueIn;
  out.push([nameBytes, value]);
  return nameBytes.length + (value === null ? 0 : value.length);
}

/**
 * Headers given as an object: a plain one only. A fetch `Headers`, a Set or a class instance with getters has no own
 * enumerable keys, and its headers were dropped without a word.
 */
export function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * A view of an ArrayBuffer transferred away (to a worker, a port) has length 0, and was sent as an empty value without
 * a word: refused, naming the field. Called for empty views only (the hot path pays one comparison), and
 * constructing a view of the buffer is what tells (Node 20 has no ArrayBuffer.prototype.detached).
 */
function refuseDetached(bytes: Uint8Array, field: string): void {
  if (isDetached(bytes)) {
    throw new InvalidRecordError(`${field} is a view of a detached ArrayBuffer (transferred to another thread or port): its bytes are gone`);
  }
}

function isDetached(bytes: Uint8Array): boolean {
  if (bytes.byteLength > 0 || bytes.buffer instanceof SharedArrayBuffer) return false;
  try {
    new Uint8Array(bytes.buffer);
    return false;
  } catch {
    return true;
  }
}

/**
 * Whether `pushHeader` takes this header value (a string, null, or bytes not of a detached buffer), for code that
 * must know without a throw: the OpenTelemetry instrumentation hands headers the producer refuses on unchanged.
 */
export function isHeaderValue(value: unknown): boolean {
  return value === null || typeof value === 'string' || (value instanceof Uint8Array && !isDetached(value));
}

function badHeader(field: string, value: unknown): InvalidRecordError {
  return new InvalidRecordError(`${field} must be a Buffer, Uint8Array, string or null, got ${describe(value)}`);
}

/** A key: bytes pass through uncopied, strings become UTF-8, null stays null. */
function toKey(input: unknown): Uint8Array | null {
  if (input === undefined || input === null) return null;
  if (input instanceof Uint8Array) return input;
  if (typeof input === 'string') return utf8(input);
  throw new InvalidRecordError(`record.key must be a Buffer, Uint8Array, string or null, got ${describe(input)}`);
}

/** A value without a serializer: as a key (toKey), but a string longer than SHORT_STRING stays a string (textValue). */
function toValue(input: unknown): EntryValue {
  if (input === undefined || input === null) return null;
  if (input instanceof Uint8Array) return input;
  if (typeof input === 'string') return textValue(input);
  throw new InvalidRecordError(
    `record.value must be a Buffer, Uint8Array, string or null (set options.serializer to send other values), got ${describe(input)}`,
  );
}

/**
 * A string value: a short one into the slab like a key (cheaper than measuring it twice and a native write), a longer
 * one kept as it is, for writeRecordEntry to encode into the ring.
 */
function textValue(text: string): EntryValue {
  return text.length > SHORT_STRING ? text : utf8(text);
}

/**
 * With a serializer every value goes through it, bytes and strings included, as with a Java Serializer; only null
 * and undefined stay null, so tombstones for compacted topics remain possible.
 */
function serialize(input: unknown, serializer: Serializer): EntryValue {
  if (input === undefined || input === null) return null;
  let out: unknown;
  try {
    if (serializer === 'msgpack') out = (packr ??= newPackr()).pack(input);
    else if (serializer === 'json') out = JSON.stringify(input);
    else out = serializer(input);
  } catch (error) {
    const name = typeof serializer === 'string' ? serializer : 'the serializer function';
    throw new InvalidRecordError(`record.value could not be serialized with ${name}: ${String(error)}`, {
      cause: error,
    });
  }
  if (typeof out === 'string') return textValue(out);
  // An async serializer's promise is refused below; a rejection of it that nobody handled ended the process.
  if (typeof (out as { then?: unknown } | null)?.then === 'function') (out as PromiseLike<unknown>).then(undefined, () => undefined);
  if (out instanceof Uint8Array) {
    if (out.byteLength === 0) refuseDetached(out, 'record.value (the serializer\'s output)');
    // Copied: a serializer that writes into one scratch buffer and returns a view of it (a common encoder pattern)
    // gave every record of a sendBatch the last value, since records are checked before any is written to a ring.
    // msgpack's output is its own per call.
    return typeof serializer === 'function' ? new Uint8Array(out) : out;
  }
  // JSON.stringify gives undefined for functions and symbols; a custom function may return anything.
  const name = typeof serializer === 'string' ? serializer : 'the serializer function';
  throw new InvalidRecordError(
    `record.value: ${name} produced ${describe(out)} instead of a Uint8Array or string, ` +
      `for a value of type ${typeof input}`,
  );
}

/**
 * UTF-8 bytes of `text`. Short ASCII goes to the slab; anything else to Buffer.from (which beats TextEncoder.encode
 * several times over, since it slices a pool instead of allocating an ArrayBuffer per call).
 */
function utf8(text: string): Uint8Array {
  const length = text.length;
  if (length > SHORT_STRING) return Buffer.from(text, 'utf8');
  if (slabUsed + length > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    slabUsed = 0;
  }
  const start = slabUsed;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    // Non-ASCII needs the real encoder; the bytes written so far are simply left unused.
    if (code >= 0x80) return Buffer.from(text, 'utf8');
    slab[start + i] = code;
  }
  slabUsed = start + length;
  return slab.subarray(start, slabUsed);
}
