/**
 * A growable big-endian writer for Kafka request frames. Record batches are encoded by their own one-pass encoder
 * and handed to a Produce frame by reference (BY_REFERENCE_MIN_BYTES), not copied into it.
 *
 * Grammar reminders (docs/kafka-protocol.md): fixed-width integers are big-endian; classic strings carry an int16 length
 * (-1 = null) and bytes an int32 length; compact forms carry an unsigned varint of N+1 (0 = null); record fields use
 * zig-zag varints; a tagged-field section is an unsigned varint count, then tag, size and bytes per field.
 */
const textEncoder = new TextEncoder();

/**
 * The longest string the protocol carries, in UTF-8 bytes: a classic string's length is an int16, and Kafka holds
 * compact strings to the same bound (its schema types refuse to write a longer one). Without the check a longer
 * string's length wrapped (65,539 bytes went out as 3), and the broker read the string's bytes as the next fields.
 */
export const MAX_STRING_BYTES = 0x7fff;

function stringBytes(value: string): Uint8Array {
  const bytes = textEncoder.encode(value);
  if (bytes.length > MAX_STRING_BYTES) {
    throw new RangeError(`a protocol string of ${bytes.length} UTF-8 bytes is over the limit of ${MAX_STRING_BYTES}`);
  }
  return bytes;
}

/**
 * Byte arrays at least this long (record batches) are not copied into the writer's buffer: `chunks()` hands them to
 * the socket as they are, between the buffer's pieces. Copying every batch into its Produce frame was 14 % of a
 * worker's time at 1 KiB records (a fresh frame of up to 1 MiB per request, then a copy of the batch into it;
 * `node --cpu-prof` of `bench/micro/main-thread.ts --only 1KiB`). Smaller arrays are copied: a chunk costs a write.
 */
export const BY_REFERENCE_MIN_BYTES = 8 * 1024;

/** A byte array kept by reference: it goes between the buffer's bytes before `at` and those from `at` on. */
interface Reference {
  readonly at: number;
  readonly bytes: Uint8Array;
}

export type TaggedField = readonly [tag: number, bytes: Uint8Array];

export class Writer {
  #buffer: Buffer;
  #view: DataView;
  #offset = 0;
  /** Large byte arrays written by reference, in order (see BY_REFERENCE_MIN_BYTES). */
  #references: Reference[] | undefined;
  #referencedBytes = 0;

  constructor(initialCapacity = 256) {
    this.#buffer = Buffer.allocUnsafe(initialCapacity);
    this.#view = new DataView(this.#buffer.buffer, this.#buffer.byteOffset, this.#buffer.byteLength);
  }

  /** Bytes written so far, those kept by reference included. */
  get length(): number {
    return this.#offset + this.#referencedBytes;
  }

  #ensure(extra: number): void {
    const needed = this.#offset + extra;
    if (needed <= this.#buffer.length) return;
    // Never 0, which doubling would keep at 0 for ever (a writer made with no initial capacity).
    let capacity = Math.max(this.#buffer.length * 2, 64);
    while (capacity < needed) capacity *= 2;
    const next = Buffer.allocUnsafe(capacity);
    this.#buffer.copy(next, 0, 0, this.#offset);
    this.#buffer = next;
    this.#view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  int8(value: number): this {
    this.#ensure(1);
    this.#view.setInt8(this.#offset, value);
    this.#offset += 1;
    return this;
  }

  bool(value: boolean): this {
    return this.int8(value ? 1 : 0);
  }

  int16(value: number): this {
    this.#ensure(2);
    this.#view.setInt16(this.#offset, value);
    this.#offset += 2;
    return this;
  }

  int32(value: number): this {
    this.#ensure(4);
    this.#view.setInt32(this.#offset, value);
    this.#offset += 4;
    return this;
  }

  uint32(value: number): this {
    this.#ensure(4);
    this.#view.setUint32(this.#offset, value);
    this.#offset += 4;
    return this;
  }

  int64(value: bigint): this {
    this.#ensure(8);
    this.#view.setBigInt64(this.#offset, value);
    this.#offset += 8;
    return this;
  }

  float64(value: number): this {
    this.#ensure(8);
    this.#view.setFloat64(this.#offset, value);
    this.#offset += 8;
    return this;
  }

  /** Unsigned varint (flexible-protocol lengths and counts): 7 bits a byte, low group first. */
  uvarint(value: number): this {
    this.#ensure(5);
    let v = value >>> 0;
    while (v >= 0x80) {
      this.#buffer[this.#offset++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.#buffer[this.#offset++] = v;
    return this;
  }

  /** Zig-zag signed 32-bit varint (record fields). */
  varint(value: number): this {
    return this.uvarint((value << 1) ^ (value >> 31));
  }

  /** Zig-zag signed 64-bit varint (record timestamp deltas). */
  varlong(value: bigint): this {
    this.#ensure(10);
    let v = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
    while (v >= 0x80n) {
      this.#buffer[this.#offset++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.#buffer[this.#offset++] = Number(v);
    return this;
  }

  /**
   * Appends `bytes`. From BY_REFERENCE_MIN_BYTES on they are kept by reference, not copied: the caller must not
   * change them until the frame is written.
   */
  raw(bytes: Uint8Array): this {
    if (bytes.length >= BY_REFERENCE_MIN_BYTES) {
      (this.#references ??= []).push({ at: this.#offset, bytes });
      this.#referencedBytes += bytes.length;
      return this;
    }
    this.#ensure(bytes.length);
    this.#buffer.set(bytes, this.#offset);
    this.#offset += bytes.length;
    return this;
  }

  uuid(bytes: Uint8Array): this {
    if (bytes.length !== 16) throw new RangeError(`uuid must be 16 bytes, got ${bytes.length}`);
    return this.raw(bytes);
  }

  /** Classic nullable string: int16 length (-1 = null), UTF-8 bytes; at most MAX_STRING_BYTES of them. */
  string(value: string | null): this {
    if (value === null) return this.int16(-1);
    const bytes = stringBytes(value);
    return this.int16(bytes.length).raw(bytes);
  }

  /** Compact nullable string: uvarint N+1 (0 = null), UTF-8 bytes; at most MAX_STRING_BYTES of them. */
  compactString(value: string | null): this {
    if (value === null) return this.uvarint(0);
    const bytes = stringBytes(value);
    return this.uvarint(bytes.length + 1).raw(bytes);
  }

  /** Classic nullable bytes: int32 length (-1 = null). */
  bytes(value: Uint8Array | null): this {
    if (value === null) return this.int32(-1);
    return this.int32(value.length).raw(value);
  }

  /** Compact nullable bytes: uvarint N+1 (0 = null). */
  compactBytes(value: Uint8Array | null): this {
    if (value === null) return this.uvarint(0);
    return this.uvarint(value.length + 1).raw(value);
  }

  /** Classic array: int32 count (-1 = null), then each item. */
  array<T>(items: readonly T[] | null, writeItem: (writer: this, item: T) => void): this {
    if (items === null) return this.int32(-1);
    this.int32(items.length);
    for (const item of items) writeItem(this, item);
    return this;
  }

  /** Compact array: uvarint N+1 (0 = null), then each item. */
  compactArray<T>(items: readonly T[] | null, writeItem: (writer: this, item: T) => void): this {
    if (items === null) return this.uvarint(0);
    this.uvarint(items.length + 1);
    for (const item of items) writeItem(this, item);
    return this;
  }

  /** A tagged-field section; an empty one is the single byte 0x00. */
  taggedFields(fields: readonly TaggedField[] = []): this {
    this.uvarint(fields.length);
    for (const [tag, bytes] of fields) this.uvarint(tag).uvarint(bytes.length).raw(bytes);
    return this;
  }

  /**
   * Overwrite an int32 written earlier (size prefixes). `offset` counts the bytes before it, and none of them may
   * have been kept by reference (a frame's size prefix at 0 is the use).
   */
  patchInt32(offset: number, value: number): this {
    if (this.#references !== undefined && offset + 4 > this.#references[0]!.at) {
      throw new RangeError(`patchInt32 at ${offset} reaches past a byte array kept by reference`);
    }
    this.#view.setInt32(offset, value);
    return this;
  }

  /** The bytes written so far, in one buffer (copying what was kept by reference). The writer must not be used afterwards. */
  finish(): Buffer {
    if (this.#references === undefined) return this.#buffer.subarray(0, this.#offset);
    return Buffer.concat(this.chunks(), this.length);
  }

  /** The bytes written so far as pieces to write in order: the buffer's, and the byte arrays kept by reference. */
  chunks(): Uint8Array[] {
    const references = this.#references;
    if (references === undefined) return [this.#buffer.subarray(0, this.#offset)];
    const chunks: Uint8Array[] = [];
    let from = 0;
    for (const { at, bytes } of references) {
      if (at > from) chunks.push(this.#buffer.subarray(from, at));
      chunks.push(bytes);
      from = at;
    }
    if (this.#offset > from) chunks.push(this.#buffer.subarray(from, this.#offset));
    return chunks;
  }
}
