/**
 * A growable big-endian writer for Kafka request bodies. Used for the many small, cold requests (Metadata,
 * ApiVersions, …); the produce hot path encodes record batches with its own one-pass encoder.
 *
 * Grammar reminders (docs/kafka-protocol.md): fixed-width integers are big-endian; classic strings carry an int16 length
 * (-1 = null) and bytes an int32 length; compact forms carry an unsigned varint of N+1 (0 = null); record fields use
 * zig-zag varints; a tagged-field section is an unsigned varint count, then tag, size and bytes per field.
 */
const textEncoder = new TextEncoder();

export type TaggedField = readonly [tag: number, bytes: Uint8Array];

export class Writer {
  #buffer: Buffer;
  #view: DataView;
  #offset = 0;

  constructor(initialCapacity = 256) {
    this.#buffer = Buffer.allocUnsafe(initialCapacity);
    this.#view = new DataView(this.#buffer.buffer, this.#buffer.byteOffset, this.#buffer.byteLength);
  }

  get length(): number {
    return this.#offset;
  }

  #ensure(extra: number): void {
    const needed = this.#offset + extra;
    if (needed <= this.#buffer.length) return;
    let capacity = this.#buffer.length * 2;
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

  raw(bytes: Uint8Array): this {
    this.#ensure(bytes.length);
    this.#buffer.set(bytes, this.#offset);
    this.#offset += bytes.length;
    return this;
  }

  uuid(bytes: Uint8Array): this {
    if (bytes.length !== 16) throw new RangeError(`uuid must be 16 bytes, got ${bytes.length}`);
    return this.raw(bytes);
  }

  /** Classic nullable string: int16 length (-1 = null), UTF-8 bytes. */
  string(value: string | null): this {
    if (value === null) return this.int16(-1);
    const bytes = textEncoder.encode(value);
    return this.int16(bytes.length).raw(bytes);
  }

  /** Compact nullable string: uvarint N+1 (0 = null), UTF-8 bytes. */
  compactString(value: string | null): this {
    if (value === null) return this.uvarint(0);
    const bytes = textEncoder.encode(value);
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

  /** Overwrite an int32 written earlier (size prefixes). */
  patchInt32(offset: number, value: number): this {
    this.#view.setInt32(offset, value);
    return this;
  }

  /** The bytes written so far. The writer must not be used afterwards. */
  finish(): Buffer {
    return this.#buffer.subarray(0, this.#offset);
  }
}
