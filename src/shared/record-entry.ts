/**
 * The entries the main thread writes into a worker's record ring, and the worker reads back. Little-endian
 * (both ends are the same process) and written with plain byte stores: no DataView or object per record.
 *
 *   RecordEntry => kind:u8=1 valuePad:u8 topicIndex:u16 recordId:u32 partition:i32 keyLength:i32 valueLength:i32
 *                  headerCount:u32 timestamp:f64 key [valuePad bytes] value
 *                  (headerKeyLength:u32 headerKey headerValueLength:i32 headerValue)*
 *   TopicEntry  => kind:u8=2 pad:u8 topicIndex:u16 nameLength:u32 name
 *
 * A length of -1 means null. `valuePad` (0–7) bytes between key and value put the value at the same address modulo 8
 * as the caller's bytes: V8 copies into (and out of) a SharedArrayBuffer word by word only when source and target
 * share that alignment, byte by byte otherwise, about 3x slower for 1 KiB (`npx tsx bench/micro/shared-copy.ts`).
 * A record's ring space counts the 7 bytes the pad may take. A topic entry always precedes the first record of its topic in the same ring, so the
 * worker learns the name behind an index in order, with no second channel to race against.
 */

export const EntryKind = { record: 1, topic: 2 } as const;

/** Byte offsets of a record entry's fixed fields from the entry's start, each a multiple of 4 (but topicIndex). */
export const RecordEntryOffset = {
  kind: 0,
  valuePad: 1,
  topicIndex: 2,
  recordId: 4,
  partition: 8,
  keyLength: 12,
  valueLength: 16,
  headerCount: 20,
  timestamp: 24,
} as const;

/** Fixed part of a record entry; key, value and headers follow. */
export const RECORD_HEADER_BYTES = 32;

/** The most bytes a record entry skips before its value to align it (see the file comment). */
export const MAX_VALUE_PAD = 7;

/** Each header key and each header value in a record entry is preceded by its length, 4 bytes. */
export const LENGTH_BYTES = 4;

/** Byte offsets of a topic entry's fields; the name follows at TOPIC_HEADER_BYTES. */
const TopicEntryOffset = { kind: 0, topicIndex: 2, nameLength: 4 } as const;
const TOPIC_HEADER_BYTES = 8;

/** Int32 word indices of the record entry's fields, for the little-endian writer: one aligned store per field. */
const RecordEntryWord = {
  kindAndTopicIndex: RecordEntryOffset.kind >> 2,
  recordId: RecordEntryOffset.recordId >> 2,
  partition: RecordEntryOffset.partition >> 2,
  keyLength: RecordEntryOffset.keyLength >> 2,
  valueLength: RecordEntryOffset.valueLength >> 2,
  headerCount: RecordEntryOffset.headerCount >> 2,
  timestamp: RecordEntryOffset.timestamp >> 2,
} as const;

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const f64Words = new Int32Array(f64.buffer);

/**
 * On a little-endian host an Int32Array store writes the same four bytes as writeU32, in one store instead of
 * four: the fixed part of a record entry costs 8 stores instead of 32 (stores into shared memory cost a few ns
 * each). A big-endian host writes byte by byte. Either way the int32 fields are little-endian and the timestamp
 * is a float64 in the host's byte order (readers: readI32, readF64, or a DataView read with LITTLE_ENDIAN).
 */
export const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

function writeU16(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value;
  bytes[offset + 1] = value >>> 8;
}

function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value;
  bytes[offset + 1] = value >>> 8;
  bytes[offset + 2] = value >>> 16;
  bytes[offset + 3] = value >>> 24;
}

export function readI32(bytes: Uint8Array, offset: number): number {
  return bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24);
}

export function readU32(bytes: Uint8Array, offset: number): number {
  return readI32(bytes, offset) >>> 0;
}

export function readU16(bytes: Uint8Array, offset: number): number {
  return bytes[offset]! | (bytes[offset + 1]! << 8);
}

export function readF64(bytes: Uint8Array, offset: number): number {
  for (let i = 0; i < 8; i++) f64Bytes[i] = bytes[offset + i]!;
  return f64[0]!;
}

type Headers = ReadonlyArray<readonly [Uint8Array, Uint8Array | null]>;

/**
 * A record's value as the main thread keeps it until its entry is written: bytes, or a string that the entry writer
 * encodes as UTF-8 straight into the ring (no Buffer of its own in between; see writeRecordEntry).
 */
export type EntryValue = Uint8Array | string | null;

/**
 * The UTF-8 length of a value: its bytes, or its string encoded (lone surrogates as U+FFFD, as Buffer.from does).
 * A string is measured once, when its record is checked, and the length travels with the record (valueBytes) to
 * the ring writer: strings cannot change. Not derived from the record's size: that would take the key's and
 * headers' lengths again, which are the caller's bytes and may have changed (a detached buffer), and an entry must
 * agree with itself whatever the caller did.
 */
export function valueByteLength(value: Uint8Array | string): number {
  return typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length;
}

/** Bytes the entry for a record takes in the ring; `valueBytes` is the value's (valueByteLength), -1 for null. */
export function recordEntrySize(
  key: Uint8Array | null, value: EntryValue, headers: Headers, valueBytes = value === null ? -1 : valueByteLength(value),
): number {
  let size = RECORD_HEADER_BYTES + (key?.length ?? 0) + (valueBytes < 0 ? 0 : MAX_VALUE_PAD + valueBytes);
  for (let i = 0; i < headers.length; i++) {
    // Not `const [headerKey, headerValue]`: that local would be the third, as `headers` is the third parameter, and V8
    // would give `headers.length` and `headerKey.length` one feedback slot (see Deliveries.accept).
    const header = headers[i]!;
    size += 2 * LENGTH_BYTES + header[0].length + (header[1]?.length ?? 0);
  }
  return size;
}

/** The fields of a record that its entry carries (the main thread's PreparedRecord has them). */
export interface EntryFields {
  readonly timestamp: number;
  readonly key: Uint8Array | null;
  readonly value: EntryValue;
  readonly headers: Headers;
  /** The value's bytes when known (PreparedRecord.valueBytes: a string measured at its check); else measured here. */
  readonly valueBytes?: number | undefined;
}

/**
 * Writes a record entry at `offset`, a multiple of 4 (ring payloads are 4-aligned); `words` is an Int32Array over
 * the same bytes as `bytes` (from byte 0). The record comes as the object it already is, not as a `timestamp`
 * argument: a millisecond timestamp is no small integer, and passing it out of the object's field boxed it in a
 * fresh 16-byte heap number per record (an allocation profile of the bench showed it); read here, it goes from the
 * field into `f64` unboxed. `bytesByteOffset` is `bytes.byteOffset`, which a caller writing many entries into one
 * array passes once known: on Node 20 each read of a typed array's byteOffset costs about 15 ns (this function
 * for a 100 B record: 84 ns reading it, 68 passed in). The value's own byteOffset, which its alignment needs, is
 * read once per record.
 *
 * A string value is encoded as UTF-8 into its place through `text`, a Buffer over the same memory as `bytes` (made
 * here when not given). Encoded at check time instead, into a Buffer of its own that lived until this copy, a 100-char
 * value cost the main thread 200–450 ns more than the same value given as bytes under load (`npx tsx
 * bench/handover.ts --modes bytes,string`: a Buffer and pool slice per record, and their collection); this way it
 * costs one native write, its UTF-8 length having been measured at the check.
 */
export function writeRecordEntry(
  bytes: Uint8Array,
  words: Int32Array,
  offset: number,
  recordId: number,
  topicIndex: number,
  partition: number,
  record: EntryFields,
  bytesByteOffset = bytes.byteOffset,
  text?: Buffer,
  valueBytes = record.value === null ? -1 : valueByteLength(record.value),
): void {
  const { key, value, headers } = record;
  f64[0] = record.timestamp;
  let at = offset + RECORD_HEADER_BYTES + (key === null ? 0 : key.length);
  let valueLength = -1;
  let valuePad = 0;
  if (typeof value === 'string') valueLength = valueBytes;
  else if (value !== null) {
    valueLength = value.length;
    valuePad = (value.byteOffset - bytesByteOffset - at) & MAX_VALUE_PAD;
  }
  if (LITTLE_ENDIAN) {
    const w = offset >> 2;
    // kind in byte 0, valuePad in byte 1, topicIndex in bytes 2-3: one little-endian word.
    words[w + RecordEntryWord.kindAndTopicIndex] = EntryKind.record | (valuePad << 8) | (topicIndex << 16);
    words[w + RecordEntryWord.recordId] = recordId;
    words[w + RecordEntryWord.partition] = partition;
    words[w + RecordEntryWord.keyLength] = key === null ? -1 : key.length;
    words[w + RecordEntryWord.valueLength] = valueLength;
    words[w + RecordEntryWord.headerCount] = headers.length;
    words[w + RecordEntryWord.timestamp] = f64Words[0]!;
    words[w + RecordEntryWord.timestamp + 1] = f64Words[1]!;
  } else {
    bytes[offset + RecordEntryOffset.kind] = EntryKind.record;
    bytes[offset + RecordEntryOffset.valuePad] = valuePad;
    writeU16(bytes, offset + RecordEntryOffset.topicIndex, topicIndex);
    writeU32(bytes, offset + RecordEntryOffset.recordId, recordId);
    writeU32(bytes, offset + RecordEntryOffset.partition, partition);
    writeU32(bytes, offset + RecordEntryOffset.keyLength, key === null ? -1 : key.length);
    writeU32(bytes, offset + RecordEntryOffset.valueLength, valueLength);
    writeU32(bytes, offset + RecordEntryOffset.headerCount, headers.length);
    bytes.set(f64Bytes, offset + RecordEntryOffset.timestamp);
  }
  // Caller bytes (key, value, header values) are copied only when not empty: a view whose buffer the caller detached
  // after the check (misuse: they must not change until the send settles) reads as empty, was sized as empty, and
  // `set` from it would throw halfway through an entry whose room is reserved, leaving the ring to publish a torn
  // entry and the record's caller unsettled. Written as empty, the entry agrees with itself.
  if (key !== null && key.length > 0) bytes.set(key, offset + RECORD_HEADER_BYTES);
  if (typeof value === 'string') {
    writeText(text ?? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), value, at, valueLength);
    at += valueLength;
  } else if (value !== null) {
    at += valuePad;
    if (valueLength > 0) bytes.set(value, at);
    at += valueLength;
  }
  for (let i = 0; i < headers.length; i++) {
    const [headerKey, headerValue] = headers[i]!;
    writeU32(bytes, at, headerKey.length);
    bytes.set(headerKey, at + LENGTH_BYTES);
    at += LENGTH_BYTES + headerKey.length;
    writeU32(bytes, at, headerValue === null ? -1 : headerValue.length);
    at += LENGTH_BYTES;
    if (headerValue !== null && headerValue.length > 0) {
      bytes.set(headerValue, at);
      at += headerValue.length;
    }
  }
}

/**
 * Encodes `value` as exactly `length` bytes of UTF-8 at `at`, `length` being its UTF-8 length (valueByteLength of
 * the same string, which cannot change), and never more: `write` stops at `length`. Buffer.byteLength and write encode
 * alike (lone surrogates as U+FFFD), so a short write cannot happen; were a caller to pass a wrong length, the entry's
 * length field would lie to the worker, so it throws instead.
 */
function writeText(target: Buffer, value: string, at: number, length: number): void {
  const written = target.write(value, at, length, 'utf8');
  if (written !== length) throw new Error(`a value of ${length} UTF-8 bytes was written as ${written}`);
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export function topicEntry(topicIndex: number, name: string): Uint8Array {
  const nameBytes = textEncoder.encode(name);
  const bytes = new Uint8Array(TOPIC_HEADER_BYTES + nameBytes.length);
  bytes[TopicEntryOffset.kind] = EntryKind.topic;
  writeU16(bytes, TopicEntryOffset.topicIndex, topicIndex);
  writeU32(bytes, TopicEntryOffset.nameLength, nameBytes.length);
  bytes.set(nameBytes, TOPIC_HEADER_BYTES);
  return bytes;
}

export function readTopicEntry(bytes: Uint8Array, offset: number): { topicIndex: number; name: string } {
  const length = readU32(bytes, offset + TopicEntryOffset.nameLength);
  const start = offset + TOPIC_HEADER_BYTES;
  return { topicIndex: readU16(bytes, offset + TopicEntryOffset.topicIndex), name: textDecoder.decode(bytes.subarray(start, start + length)) };
}
