/**
 * The entries the main thread writes into a worker's record ring, and the worker reads back. Little-endian
 * (both ends are the same process) and written with plain byte stores: no DataView or object per record.
 *
 *   RecordEntry => kind:u8=1 pad:u8 topicIndex:u16 recordId:u32 partition:i32 keyLength:i32 valueLength:i32
 *                  headerCount:u32 timestamp:f64 key value (headerKeyLength:u32 headerKey headerValueLength:i32 headerValue)*
 *   TopicEntry  => kind:u8=2 pad:u8 topicIndex:u16 nameLength:u32 name
 *
 * A length of -1 means null. A topic entry always precedes the first record of its topic in the same ring, so the
 * worker learns the name behind an index in order, with no second channel to race against.
 */

export const EntryKind = { record: 1, topic: 2 } as const;

/** Fixed part of a record entry; key, value and headers follow. */
export const RECORD_HEADER_BYTES = 32;
const TOPIC_HEADER_BYTES = 8;


const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const f64Words = new Int32Array(f64.buffer);

/**
 * On a little-endian host an Int32Array store writes the same four bytes as writeU32, in one store instead of
 * four: the fixed part of a record entry costs 8 stores instead of 32 (stores into shared memory cost a few ns
 * each). A big-endian host writes byte by byte.
 */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

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

/** Bytes the entry for a record takes in the ring. */
export function recordEntrySize(key: Uint8Array | null, value: Uint8Array | null, headers: Headers): number {
  let size = RECORD_HEADER_BYTES + (key?.length ?? 0) + (value?.length ?? 0);
  for (let i = 0; i < headers.length; i++) {
    const [headerKey, headerValue] = headers[i]!;
    size += 8 + headerKey.length + (headerValue?.length ?? 0);
  }
  return size;
}

/**
 * Writes a record entry at `offset`, a multiple of 4 (ring payloads are 4-aligned); `words` is an Int32Array over
 * the same bytes as `bytes` (from byte 0). The fields are passed one by one so the hot path builds no object.
 */
export function writeRecordEntry(
  bytes: Uint8Array,
  words: Int32Array,
  offset: number,
  recordId: number,
  topicIndex: number,
  partition: number,
  timestamp: number,
  key: Uint8Array | null,
  value: Uint8Array | null,
  headers: Headers,
): void {
  f64[0] = timestamp;
  if (LITTLE_ENDIAN) {
    const w = offset >> 2;
    words[w] = EntryKind.record | (topicIndex << 16);
    words[w + 1] = recordId;
    words[w + 2] = partition;
    words[w + 3] = key === null ? -1 : key.length;
    words[w + 4] = value === null ? -1 : value.length;
    words[w + 5] = headers.length;
    words[w + 6] = f64Words[0]!;
    words[w + 7] = f64Words[1]!;
  } else {
    bytes[offset] = EntryKind.record;
    bytes[offset + 1] = 0;
    bytes[offset + 2] = topicIndex;
    bytes[offset + 3] = topicIndex >>> 8;
    writeU32(bytes, offset + 4, recordId);
    writeU32(bytes, offset + 8, partition);
    writeU32(bytes, offset + 12, key === null ? -1 : key.length);
    writeU32(bytes, offset + 16, value === null ? -1 : value.length);
    writeU32(bytes, offset + 20, headers.length);
    bytes.set(f64Bytes, offset + 24);
  }
  let at = offset + RECORD_HEADER_BYTES;
  if (key !== null) {
    bytes.set(key, at);
    at += key.length;
  }
  if (value !== null) {
    bytes.set(value, at);
    at += value.length;
  }
  for (let i = 0; i < headers.length; i++) {
    const [headerKey, headerValue] = headers[i]!;
    writeU32(bytes, at, headerKey.length);
    bytes.set(headerKey, at + 4);
    at += 4 + headerKey.length;
    writeU32(bytes, at, headerValue === null ? -1 : headerValue.length);
    at += 4;
    if (headerValue !== null) {
      bytes.set(headerValue, at);
      at += headerValue.length;
    }
  }
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export function topicEntry(topicIndex: number, name: string): Uint8Array {
  const nameBytes = textEncoder.encode(name);
  const bytes = new Uint8Array(TOPIC_HEADER_BYTES + nameBytes.length);
  bytes[0] = EntryKind.topic;
  bytes[2] = topicIndex;
  bytes[3] = topicIndex >>> 8;
  writeU32(bytes, 4, nameBytes.length);
  bytes.set(nameBytes, TOPIC_HEADER_BYTES);
  return bytes;
}

export function readTopicEntry(bytes: Uint8Array, offset: number): { topicIndex: number; name: string } {
  const length = readU32(bytes, offset + 4);
  const start = offset + TOPIC_HEADER_BYTES;
  return { topicIndex: readU16(bytes, offset + 2), name: textDecoder.decode(bytes.subarray(start, start + length)) };
}
