/**
 * A small, generic, schema-driven codec for Kafka messages, used only by tests to cross-check the hand-written
 * API modules. The schemas in the tests are transcribed field by field from Kafka's JSON message specs
 * (clients/src/main/resources/common/message/*.json in apache/kafka), with the modules' camelCase names.
 *
 * It shares no code with src/protocol (its own byte cursor and builder), so a slip in Writer/Reader or in a module
 * cannot hide behind the same slip here.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ApiDefinition } from '../../../src/protocol/api.js';
import { Reader } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';
import { ProtocolError } from '../../../src/shared/errors.js';

export type ScalarType =
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'bool'
  | 'uuid'
  | 'string'
  | 'bytes'
  | 'records'
  | '[]int32'
  | '[]string';

export interface FieldSpec {
  readonly name: string;
  /** A scalar, or the fields of a struct (an array of structs unless `struct` is set). */
  readonly type: ScalarType | readonly FieldSpec[];
  /** A single struct rather than an array of them. */
  readonly struct?: boolean;
  /** Kafka's notation: "3+", "0-12", "5". */
  readonly versions: string;
  readonly nullable?: string;
  /** A tagged field (flexible versions only). */
  readonly tag?: number;
  /** A tagged field equal to this is not written (as Kafka does with defaults). */
  readonly default?: unknown;
}

export interface MessageSpec {
  readonly flexibleFrom: number;
  readonly fields: readonly FieldSpec[];
}

type Value = Record<string, unknown>;

export function inVersions(range: string | undefined, version: number): boolean {
  if (range === undefined || range === 'none') return false;
  if (range.endsWith('+')) return version >= Number(range.slice(0, -1));
  const [low, high] = range.split('-');
  return version >= Number(low) && version <= Number(high ?? low);
}

// ───────────────────────────── decoding ─────────────────────────────

class Cursor {
  #view: DataView;
  offset = 0;
  constructor(readonly bytes: Uint8Array) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  take(n: number): Uint8Array {
    if (n < 0 || this.offset + n > this.bytes.length) throw new Error(`schema decoder: truncated at ${this.offset}`);
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
  int(size: 1 | 2 | 4): number {
    const at = this.offset;
    this.take(size);
    return size === 1 ? this.#view.getInt8(at) : size === 2 ? this.#view.getInt16(at) : this.#view.getInt32(at);
  }
  int64(): bigint {
    const at = this.offset;
    this.take(8);
    return this.#view.getBigInt64(at);
  }
  uvarint(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.take(1)[0]!;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
    }
    throw new Error('schema decoder: varint too long');
  }
}

function decodeLength(c: Cursor, flexible: boolean, classicSize: 2 | 4): number {
  return flexible ? c.uvarint() - 1 : c.int(classicSize);
}

function decodeScalar(c: Cursor, type: ScalarType, flexible: boolean): unknown {
  switch (type) {
    case 'int8':
      return c.int(1);
    case 'int16':
      return c.int(2);
    case 'int32':
      return c.int(4);
    case 'int64':
      return c.int64();
    case 'bool':
      return c.int(1) !== 0;
    case 'uuid':
      return c.take(16).slice();
    case 'string': {
      const n = decodeLength(c, flexible, 2);
      return n === -1 ? null : new TextDecoder().decode(c.take(n));
    }
    case 'bytes':
    case 'records': {
      const n = decodeLength(c, flexible, 4);
      return n === -1 ? null : c.take(n).slice();
    }
    case '[]int32':
    case '[]string': {
      const n = decodeLength(c, flexible, 4);
      if (n === -1) return null;
      const items: unknown[] = [];
      for (let i = 0; i < n; i++) items.push(decodeScalar(c, type === '[]int32' ? 'int32' : 'string', flexible));
      return items;
    }
  }
}

function decodeStruct(c: Cursor, fields: readonly FieldSpec[], version: number, flexible: boolean): Value {
  const out: Value = {};
  for (const field of fields) {
    if (!inVersions(field.versions, version) || field.tag !== undefined) continue;
    out[field.name] = decodeField(c, field, version, flexible);
  }
  if (flexible) {
    const count = c.uvarint();
    for (let i = 0; i < count; i++) {
      const tag = c.uvarint();
      const body = c.take(c.uvarint());
      const field = fields.find((f) => f.tag === tag && inVersions(f.versions, version));
      if (field !== undefined) out[field.name] = decodeField(new Cursor(body), field, version, flexible);
    }
  }
  return out;
}

function decodeField(c: Cursor, field: FieldSpec, version: number, flexible: boolean): unknown {
  if (typeof field.type === 'string') return decodeScalar(c, field.type, flexible);
  if (field.struct) return decodeStruct(c, field.type, version, flexible);
  const n = decodeLength(c, flexible, 4);
  if (n === -1) return null;
  const items: Value[] = [];
  for (let i = 0; i < n; i++) items.push(decodeStruct(c, field.type, version, flexible));
  return items;
}

/** Decodes a whole message; throws unless every byte is accounted for. */
export function schemaDecode(spec: MessageSpec, bytes: Uint8Array, version: number): Value {
  const c = new Cursor(bytes);
  const value = decodeStruct(c, spec.fields, version, version >= spec.flexibleFrom);
  if (c.offset !== bytes.length) throw new Error(`schema decoder: ${bytes.length - c.offset} bytes left over`);
  return value;
}

// ───────────────────────────── encoding ─────────────────────────────

class Builder {
  readonly bytes: number[] = [];
  int(value: number, size: 1 | 2 | 4): void {
    for (let i = size - 1; i >= 0; i--) this.bytes.push((value >> (8 * i)) & 0xff);
  }
  int64(value: bigint): void {
    const v = BigInt.asUintN(64, value);
    for (let i = 7n; i >= 0n; i--) this.bytes.push(Number((v >> (8n * i)) & 0xffn));
  }
  uvarint(value: number): void {
    let v = value;
    while (v >= 0x80) {
      this.bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.bytes.push(v);
  }
  raw(data: Uint8Array): void {
    for (const b of data) this.bytes.push(b);
  }
}

export interface EncodeOptions {
  /** Add an unknown tagged field (tag 77) to every tag section, to check that decoders skip it. */
  readonly unknownTags?: boolean;
}

function encodeLength(b: Builder, n: number, flexible: boolean, classicSize: 2 | 4): void {
  if (flexible) b.uvarint(n + 1);
  else b.int(n, classicSize);
}

function encodeScalar(b: Builder, type: ScalarType, value: unknown, flexible: boolean): void {
  switch (type) {
    case 'int8':
      return b.int(value as number, 1);
    case 'int16':
      return b.int(value as number, 2);
    case 'int32':
      return b.int(value as number, 4);
    case 'int64':
      return b.int64(value as bigint);
    case 'bool':
      return b.int(value ? 1 : 0, 1);
    case 'uuid':
      assert.equal((value as Uint8Array).length, 16);
      return b.raw(value as Uint8Array);
    case 'string': {
      if (value === null) return encodeLength(b, -1, flexible, 2);
      const utf8 = new TextEncoder().encode(value as string);
      encodeLength(b, utf8.length, flexible, 2);
      return b.raw(utf8);
    }
    case 'bytes':
    case 'records':
      if (value === null) return encodeLength(b, -1, flexible, 4);
      encodeLength(b, (value as Uint8Array).length, flexible, 4);
      return b.raw(value as Uint8Array);
    case '[]int32':
    case '[]string': {
      if (value === null) return encodeLength(b, -1, flexible, 4);
      const items = value as unknown[];
      encodeLength(b, items.length, flexible, 4);
      for (const item of items) encodeScalar(b, type === '[]int32' ? 'int32' : 'string', item, flexible);
    }
  }
}

function isDefault(field: FieldSpec, value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (Array.isArray(value) && value.length === 0) return true;
  return field.default !== undefined && value === field.default;
}

function encodeStruct(b: Builder, fields: readonly FieldSpec[], value: Value, version: number, flexible: boolean, o: EncodeOptions): void {
  for (const field of fields) {
    if (!inVersions(field.versions, version) || field.tag !== undefined) continue;
    encodeField(b, field, value[field.name], version, flexible, o);
  }
  if (!flexible) return;
  const tagged = fields
    .filter((f) => f.tag !== undefined && inVersions(f.versions, version) && !isDefault(f, value[f.name]))
    .sort((x, y) => x.tag! - y.tag!);
  b.uvarint(tagged.length + (o.unknownTags ? 1 : 0));
  for (const field of tagged) {
    const inner = new Builder();
    encodeField(inner, field, value[field.name], version, flexible, o);
    b.uvarint(field.tag!);
    b.uvarint(inner.bytes.length);
    b.raw(Uint8Array.from(inner.bytes));
  }
  if (o.unknownTags) {
    b.uvarint(77);
    b.uvarint(3);
    b.raw(Uint8Array.of(1, 2, 3));
  }
}

function encodeField(b: Builder, field: FieldSpec, value: unknown, version: number, flexible: boolean, o: EncodeOptions): void {
  if (typeof field.type === 'string') return encodeScalar(b, field.type, value, flexible);
  if (field.struct) return encodeStruct(b, field.type, value as Value, version, flexible, o);
  if (value === null) return encodeLength(b, -1, flexible, 4);
  const items = value as Value[];
  encodeLength(b, items.length, flexible, 4);
  for (const item of items) encodeStruct(b, field.type, item, version, flexible, o);
}

export function schemaEncode(spec: MessageSpec, value: object, version: number, options: EncodeOptions = {}): Uint8Array {
  const b = new Builder();
  encodeStruct(b, spec.fields, value as Value, version, version >= spec.flexibleFrom, options);
  return Uint8Array.from(b.bytes);
}

// ───────────────────────────── random values ─────────────────────────────

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function scalarArbitrary(type: ScalarType): fc.Arbitrary<unknown> {
  switch (type) {
    case 'int8':
      return fc.integer({ min: -128, max: 127 });
    case 'int16':
      return fc.integer({ min: -32768, max: 32767 });
    case 'int32':
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case 'int64':
      return fc.bigInt({ min: INT64_MIN, max: INT64_MAX });
    case 'bool':
      return fc.boolean();
    case 'uuid':
      return fc.uint8Array({ minLength: 16, maxLength: 16 });
    case 'string':
      return fc.string({ unit: 'grapheme', maxLength: 6 });
    case 'bytes':
    case 'records':
      return fc.uint8Array({ maxLength: 140 }); // crosses the 127-byte boundary of a 1-byte uvarint length
    case '[]int32':
      return fc.array(scalarArbitrary('int32'), { maxLength: 3 });
    case '[]string':
      return fc.array(scalarArbitrary('string'), { maxLength: 3 });
  }
}

function structArbitrary(fields: readonly FieldSpec[], version: number, flexible: boolean): fc.Arbitrary<Value> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of fields) {
    if (!inVersions(field.versions, version)) continue;
    if (field.tag !== undefined && !flexible) continue;
    let arb =
      typeof field.type === 'string'
        ? scalarArbitrary(field.type)
        : field.struct
          ? structArbitrary(field.type, version, flexible)
          : fc.array(structArbitrary(field.type, version, flexible), { maxLength: 2 });
    if (inVersions(field.nullable, version) || (field.tag !== undefined && field.struct)) {
      arb = fc.option(arb, { nil: null });
    }
    model[field.name] = arb;
  }
  return fc.record(model) as fc.Arbitrary<Value>;
}

/** Random messages of `spec` at `version`. */
export function messageArbitrary(spec: MessageSpec, version: number): fc.Arbitrary<Value> {
  return structArbitrary(spec.fields, version, version >= spec.flexibleFrom);
}

// ───────────────────────────── checks shared by the API tests ─────────────────────────────

export function versions(api: ApiDefinition<unknown, unknown>): number[] {
  const out: number[] = [];
  for (let v = api.minVersion; v <= api.maxVersion; v++) out.push(v);
  return out;
}

/** Decodes a whole response body with the module; fails the test unless every byte is consumed. */
export function decodeAll<Res>(api: ApiDefinition<unknown, Res>, bytes: Uint8Array, version: number): Res {
  const reader = new Reader(bytes);
  const response = api.decodeResponse(reader, version);
  assert.equal(reader.remaining, 0, `${api.name} v${version}: ${reader.remaining} bytes not consumed`);
  return response;
}

export function encodeWith<Req>(api: ApiDefinition<Req, unknown>, version: number, request: Req): Uint8Array {
  const writer = new Writer(8);
  api.encodeRequest(writer, version, request);
  return Uint8Array.from(writer.finish());
}

/**
 * Random responses built by the schema decode with the module and re-encode (by the schema) to the same bytes:
 * every field of the version lands where Kafka's spec puts it. With `unknownTags`, every tag section also carries
 * an unknown tag the module must skip.
 */
export function checkResponseRoundTrip(api: ApiDefinition<unknown, unknown>, spec: MessageSpec, version: number): void {
  const flexible = version >= spec.flexibleFrom;
  fc.assert(
    fc.property(messageArbitrary(spec, version), fc.boolean(), (message, unknownTags) => {
      const options = { unknownTags: unknownTags && flexible };
      const bytes = schemaEncode(spec, message, version, options);
      const decoded = decodeAll(api, bytes, version);
      assert.deepEqual(schemaEncode(spec, decoded as object, version, options), bytes);
    }),
    { numRuns: 60 },
  );
}

function expectOnlyProtocolError(run: () => void, what: string): boolean {
  try {
    run();
    return true;
  } catch (error) {
    if (!(error instanceof ProtocolError)) {
      assert.fail(`${what}: threw ${(error as Error)?.name}: ${(error as Error)?.message}, not a ProtocolError`);
    }
    return false;
  }
}

/**
 * Garbage in: random bytes, every strict prefix of valid messages (which must fail: the modules read to the
 * end) and valid messages with a byte changed. Only ProtocolError may escape.
 */
export function checkDecoderFuzz(api: ApiDefinition<unknown, unknown>, spec: MessageSpec, version: number): void {
  const label = `${api.name} v${version}`;
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      expectOnlyProtocolError(() => api.decodeResponse(new Reader(bytes), version), `${label} random bytes`);
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(messageArbitrary(spec, version), (message) => {
      const bytes = schemaEncode(spec, message, version, { unknownTags: version >= spec.flexibleFrom });
      for (let cut = 0; cut < bytes.length; cut++) {
        const ok = expectOnlyProtocolError(
          () => api.decodeResponse(new Reader(bytes.subarray(0, cut)), version),
          `${label} truncated to ${cut}/${bytes.length}`,
        );
        assert.equal(ok, false, `${label} decoded a message truncated to ${cut} of ${bytes.length} bytes`);
      }
    }),
    { numRuns: 25 },
  );
  fc.assert(
    fc.property(messageArbitrary(spec, version), fc.nat(), fc.integer({ min: 0, max: 255 }), (message, at, byte) => {
      const bytes = schemaEncode(spec, message, version);
      if (bytes.length === 0) return;
      bytes[at % bytes.length] = byte;
      expectOnlyProtocolError(() => api.decodeResponse(new Reader(bytes), version), `${label} mutated`);
    }),
    { numRuns: 200 },
  );
}

/**
 * `throttle_time_ms topics:[name partitions:[partition_index error_code]]`: the response of AddPartitionsToTxn
 * v0–v3 (ResultsByTopicV3AndBelow) and of TxnOffsetCommit, field for field.
 */
/**
 * A topic-partition-errors answer (AddPartitionsToTxn, TxnOffsetCommit) of throttle_time_ms then `count` empty topics
 * (an empty name and no partitions), built as one fill: the smallest frame that claims that many topics.
 */
export function emptyTopicsAnswer(flexible: boolean, count: number): Uint8Array {
  const topic = flexible ? hex('01 01 00') : hex('0000 00000000');
  const w = new Writer().int32(0);
  if (flexible) w.uvarint(count + 1);
  else w.int32(count);
  w.raw(Buffer.alloc(count * topic.length, topic));
  return (flexible ? w.taggedFields() : w).finish();
}

export function topicPartitionErrorsSpec(flexibleFrom: number): MessageSpec {
  const partition: FieldSpec[] = [
    { name: 'partitionIndex', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
  ];
  const topic: FieldSpec[] = [
    { name: 'name', type: 'string', versions: '0+' },
    { name: 'partitions', type: partition, versions: '0+' },
  ];
  return {
    flexibleFrom,
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
      { name: 'topics', type: topic, versions: '0+' },
    ],
  };
}

/** Hex with spaces and `//` comments allowed, for golden byte fixtures. */
export function hex(text: string): Uint8Array {
  const digits = text.replace(/\/\/[^\n]*/g, '').replace(/\s+/g, '');
  assert.equal(digits.length % 2, 0, 'odd number of hex digits');
  return Uint8Array.from(Buffer.from(digits, 'hex'));
}
