import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Unpackr } from 'msgpackr';
import { KafkaProducerError } from '../../src/shared/errors.js';
import { InvalidRecordError, PreparedFields, checkRecord, prepareRecord, type ProducerRecord } from '../../src/main/serialize.js';
import type { Serializer } from '../../src/main/options.js';

const NOW = 1_700_000_000_123;
const text = (value: Uint8Array | string | null): string | null => (value === null || typeof value === 'string' ? value : Buffer.from(value).toString('utf8'));

function rejects(record: unknown, pattern: RegExp, serializer: Serializer | null = null): void {
  assert.throws(
    () => prepareRecord(record as ProducerRecord, serializer, NOW),
    (error: unknown) => {
      assert.ok(error instanceof InvalidRecordError, `expected InvalidRecordError, got ${String(error)}`);
      assert.ok(error instanceof KafkaProducerError);
      assert.equal(error.code, 'ERR_INVALID_RECORD');
      assert.equal(error.retriable, false);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

describe('prepareRecord', () => {
  it('turns strings into UTF-8, passes bytes through uncopied and counts the accounted size', () => {
    const value = Buffer.from([1, 2, 3, 4]);
    const r = prepareRecord({ topic: 'events', key: 'clé', value, headers: { 'trace-id': 'ü1', bin: Buffer.alloc(5) } }, null, NOW);
    assert.equal(r.topic, 'events');
    assert.equal(text(r.key), 'clé');
    assert.equal(r.key?.length, 4); // é is two bytes
    assert.equal(r.value, value, 'bytes are not copied');
    assert.deepEqual(r.headers.map(([k, v]) => [text(k), v?.length]), [['trace-id', 3], ['bin', 5]]);
    // key 4 + value 4 + "trace-id" 8 + "ü1" 3 + "bin" 3 + 5
    assert.equal(r.size, 4 + 4 + 8 + 3 + 3 + 5);
    assert.equal(r.timestamp, NOW);
    assert.equal(r.partition, undefined);
  });

  it('keeps null and absent key and value as null, counting 0 bytes', () => {
    const r = prepareRecord({ topic: 't' }, null, NOW);
    assert.equal(r.key, null);
    assert.equal(r.value, null);
    assert.deepEqual(r.headers, []);
    assert.equal(r.size, 0);
    const n = prepareRecord({ topic: 't', key: null, value: null }, null, NOW);
    assert.equal(n.size, 0);
  });

  it('keeps an empty string as an empty, non-null value', () => {
    const r = prepareRecord({ topic: 't', key: '', value: '' }, null, NOW);
    assert.equal(r.key?.length, 0);
    assert.equal(r.value?.length, 0);
  });

  it('accepts a plain Uint8Array', () => {
    const key = Uint8Array.of(9, 8, 7);
    const r = prepareRecord({ topic: 't', key, value: new Uint8Array(10) }, null, NOW);
    assert.equal(r.key, key);
    assert.equal(r.size, 13);
  });

  it('encodes any string exactly as Buffer.from does (ASCII fast path, non-ASCII, lone surrogates)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), fc.string({ unit: 'grapheme-ascii', maxLength: 70 }), (a, b) => {
        const r = prepareRecord({ topic: 't', key: a, value: b, headers: [[b, a]] }, null, NOW);
        assert.deepEqual(Buffer.from(r.key!), Buffer.from(a, 'utf8'));
        assert.deepEqual(Buffer.from(r.value!), Buffer.from(b, 'utf8'));
        assert.deepEqual(Buffer.from(r.headers[0]![0]), Buffer.from(b, 'utf8'));
        assert.deepEqual(Buffer.from(r.headers[0]![1]!), Buffer.from(a, 'utf8'));
        assert.equal(r.size, 2 * (Buffer.byteLength(a) + Buffer.byteLength(b)));
      }),
    );
  });

  it('keeps a value string longer than 64 characters as it is, counting its UTF-8 bytes; a shorter one becomes bytes', () => {
    const long = 'é'.repeat(40) + 'x'.repeat(30) + '\ud800';
    const r = prepareRecord({ topic: 't', key: 'k', value: long }, null, NOW);
    assert.equal(r.value, long, 'written into the ring as UTF-8 when its entry is (writeRecordEntry)');
    assert.equal(r.size, 1 + Buffer.byteLength(long, 'utf8'));
    assert.equal(Buffer.byteLength(long, 'utf8'), 80 + 30 + 3);
    const short = prepareRecord({ topic: 't', value: 'x'.repeat(64) }, null, NOW);
    assert.ok(short.value instanceof Uint8Array);
    const json = prepareRecord({ topic: 't', value: { text: 'y'.repeat(80) } }, 'json', NOW);
    assert.equal(json.value, JSON.stringify({ text: 'y'.repeat(80) }), 'a serializer\'s long string stays a string too');
    assert.equal(json.size, 91);
  });

  it('keeps earlier string bytes intact while later records are prepared', () => {
    const first = Array.from({ length: 100 }, (_, i) => prepareRecord({ topic: 't', key: `key-${i}` }, null, NOW));
    for (let i = 0; i < 50_000; i++) prepareRecord({ topic: 't', key: `other-${i}`, value: 'v'.repeat(i % 70) }, null, NOW);
    first.forEach((r, i) => assert.equal(text(r.key), `key-${i}`));
  });

  it('takes array headers in order, with repeated keys and null values', () => {
    const r = prepareRecord({ topic: 't', headers: [['a', 'x'], ['a', Buffer.from('yz')], ['n', null]] }, null, NOW);
    assert.deepEqual(r.headers.map(([k, v]) => [text(k), text(v)]), [['a', 'x'], ['a', 'yz'], ['n', null]]);
    assert.equal(r.size, 1 + 1 + 1 + 2 + 1);
  });

  it('takes a timestamp as a number or a Date', () => {
    assert.equal(prepareRecord({ topic: 't', timestamp: 42 }, null, NOW).timestamp, 42);
    assert.equal(prepareRecord({ topic: 't', timestamp: 0 }, null, NOW).timestamp, 0);
    assert.equal(prepareRecord({ topic: 't', timestamp: new Date(1234) }, null, NOW).timestamp, 1234);
  });

  it('passes an explicit partition through', () => {
    assert.equal(prepareRecord({ topic: 't', partition: 0 }, null, NOW).partition, 0);
    assert.equal(prepareRecord({ topic: 't', partition: 17 }, null, NOW).partition, 17);
  });

  it('takes a null partition or timestamp as not set, as Java\'s ProducerRecord does (records parsed from JSON)', () => {
    const prepared = prepareRecord(JSON.parse('{"topic":"t","partition":null,"timestamp":null}') as ProducerRecord, null, NOW);
    assert.equal(prepared.partition, undefined, 'the partitioner decides');
    assert.equal(prepared.timestamp, NOW);
  });

  it('accepts every legal topic name up to 249 characters', () => {
    for (const topic of ['a', 'A.b_c-9', '...', 'x'.repeat(249)]) assert.equal(prepareRecord({ topic }, null, NOW).topic, topic);
  });

  it('never mutates the caller\'s record', () => {
    const headers = { h: 'v' };
    const pairs: Array<[string, string]> = [['p', 'q']];
    const value = { nested: { n: 1 } };
    const record = Object.freeze({ topic: 't', key: 'k', value, headers, partition: 1, timestamp: new Date(5) });
    const snapshot = structuredClone(record);
    prepareRecord(record, 'msgpack', NOW);
    prepareRecord(Object.freeze({ topic: 't', headers: pairs }), null, NOW);
    assert.deepEqual(record, snapshot);
    assert.deepEqual(pairs, [['p', 'q']]);
    assert.deepEqual(Object.keys(record), ['topic', 'key', 'value', 'headers', 'partition', 'timestamp']);
  });
});

describe('prepareRecord serializers', () => {
  it('msgpack writes standard maps any decoder reads, and earlier values stay intact', () => {
    const value = { id: 7, tags: ['a', 'b'], ok: true };
    const first = prepareRecord({ topic: 't', value }, 'msgpack', NOW).value as Uint8Array;
    const copy = Buffer.from(first);
    for (let i = 0; i < 2000; i++) prepareRecord({ topic: 't', value: { i, pad: 'x'.repeat(i) } }, 'msgpack', NOW);
    assert.deepEqual(Buffer.from(first), copy, 'a later pack must not overwrite an earlier value');
    // A fresh Unpackr with records off knows nothing of our Packr's state: plain MessagePack.
    assert.deepEqual(new Unpackr({ useRecords: false }).unpack(first), value);
    assert.equal(first[0], 0xde, 'a MessagePack map16, not a msgpackr record');
  });

  it('msgpack writes a typed array or DataView as the bytes it spans, nothing else (msgpackr 1.x wrote one byte per element and stale memory)', () => {
    const floats = new Float32Array([1.5, 2.5]);
    const ints = new Int16Array([1, -2, 300]).subarray(1); // a view that starts inside its buffer
    const view = new DataView(new Uint8Array([9, 8, 7, 6]).buffer, 1, 2);
    const packed = prepareRecord({ topic: 't', value: { floats, ints, view } }, 'msgpack', NOW).value as Uint8Array;
    const decoded = new Unpackr({ useRecords: false }).unpack(packed) as Record<string, Uint8Array>;
    const bytesOf = (v: ArrayBufferView): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    assert.deepEqual(Buffer.from(decoded.floats!), bytesOf(floats));
    assert.deepEqual(Buffer.from(decoded.ints!), bytesOf(ints));
    assert.deepEqual(Buffer.from(decoded.view!), Buffer.from([8, 7]));
  });

  it('msgpack writes undefined as nil (standard MessagePack), not as an extension other decoders cannot read', () => {
    const packed = prepareRecord({ topic: 't', value: { a: undefined, list: [1, undefined] } }, 'msgpack', NOW).value as Uint8Array;
    // de 0002 map16 of 2, a1 'a', c0 nil, a4 'list', 92 array of 2, 01, c0 nil
    assert.equal(Buffer.from(packed).toString('hex'), 'de0002a161c0a46c697374' + '9201c0');
  });

  it('json writes UTF-8 JSON', () => {
    const r = prepareRecord({ topic: 't', value: { a: 'é', n: [1, 2] } }, 'json', NOW);
    assert.equal(text(r.value), '{"a":"é","n":[1,2]}');
    assert.equal(r.size, Buffer.byteLength('{"a":"é","n":[1,2]}'));
  });

  it('applies the serializer to strings and bytes too, like a Java Serializer', () => {
    assert.equal(text(prepareRecord({ topic: 't', value: 'hi' }, 'json', NOW).value), '"hi"');
  });

  it('a function may return bytes or a string', () => {
    const bytes = Uint8Array.of(1, 2, 3);
    const value = prepareRecord({ topic: 't', value: 1 }, () => bytes, NOW).value;
    assert.deepEqual(value, bytes);
    assert.notEqual(value, bytes, "copied: the serializer's buffer may be written again before the record is placed");
    assert.equal(text(prepareRecord({ topic: 't', value: 5 }, (v) => `n=${String(v)}`, NOW).value), 'n=5');
  });

  it('leaves null and undefined values null (tombstones), without calling the serializer', () => {
    let calls = 0;
    const fn = () => (calls++, 'x');
    assert.equal(prepareRecord({ topic: 't', value: null }, fn, NOW).value, null);
    assert.equal(prepareRecord({ topic: 't' }, 'msgpack', NOW).value, null);
    assert.equal(prepareRecord({ topic: 't', value: undefined }, 'json', NOW).value, null);
    assert.equal(calls, 0);
  });

  it('never serializes the key', () => {
    const r = prepareRecord({ topic: 't', key: 'k', value: 1 }, 'json', NOW);
    assert.equal(text(r.key), 'k');
  });
});

describe('prepareRecord rejects bad input, naming the field', () => {
  it('the record itself', () => {
    rejects(null, /^record must be an object with a topic, got null$/);
    rejects('t', /record must be an object/);
  });

  it('topic', () => {
    rejects({}, /record\.topic must be a non-empty string, got undefined/);
    rejects({ topic: '' }, /record\.topic must be a non-empty string, got ""/);
    rejects({ topic: 5 }, /record\.topic must be a non-empty string, got 5/);
    rejects({ topic: 'bad topic' }, /record\.topic must be at most 249 letters, digits.*got "bad topic"/);
    rejects({ topic: 'x'.repeat(250) }, /record\.topic must be at most 249/);
    rejects({ topic: '.' }, /record\.topic .*not "\." or "\.\."/);
    rejects({ topic: '..' }, /record\.topic/);
    rejects({ topic: 'ünï' }, /record\.topic/);
  });

  it('key', () => {
    rejects({ topic: 't', key: 5 }, /^record\.key must be a Buffer, Uint8Array, string or null, got 5$/);
    rejects({ topic: 't', key: { a: 1 } }, /record\.key .*got an object \(Object\)/, 'msgpack');
    rejects({ topic: 't', key: new ArrayBuffer(4) }, /record\.key .*got an object \(ArrayBuffer\)/);
  });

  it('value without a serializer', () => {
    rejects({ topic: 't', value: { a: 1 } }, /record\.value must be a Buffer, Uint8Array, string or null \(set options\.serializer to send other values\), got an object/);
    rejects({ topic: 't', value: 12 }, /record\.value .*got 12/);
  });

  it('value the serializer cannot handle', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    rejects({ topic: 't', value: cyclic }, /record\.value could not be serialized with json: TypeError/, 'json');
    rejects({ topic: 't', value: 1n }, /record\.value could not be serialized with json/, 'json');
    rejects({ topic: 't', value: { at: new Date(Number.NaN) } }, /record\.value could not be serialized with msgpack: RangeError: an invalid Date/, 'msgpack');
    rejects({ topic: 't', value: () => 1 }, /record\.value: json produced undefined instead of a Uint8Array or string, for a value of type function/, 'json');
    rejects({ topic: 't', value: 1 }, /record\.value: the serializer function produced 42 instead of a Uint8Array or string/, () => 42 as unknown as string);
    rejects({ topic: 't', value: 1 }, /record\.value could not be serialized with the serializer function: Error: nope/, () => {
      throw new Error('nope');
    });
  });

  it('headers', () => {
    rejects({ topic: 't', headers: { x: 5 } }, /^record\.headers\["x"\] must be a Buffer, Uint8Array, string or null, got 5$/);
    rejects({ topic: 't', headers: { x: undefined } }, /record\.headers\["x"\] .*got undefined/);
    rejects({ topic: 't', headers: [['a', 'b'], ['c']] }, /record\.headers\[1\] must be a \[key, value\] pair, got an array of length 1/);
    rejects({ topic: 't', headers: ['ab'] }, /record\.headers\[0\] must be a \[key, value\] pair, got "ab"/);
    rejects({ topic: 't', headers: [[1, 'b']] }, /record\.headers\[0\]\[0\] must be a string header key, got 1/);
    rejects({ topic: 't', headers: [['a', 2]] }, /record\.headers\[0\]\[1\] must be a Buffer, Uint8Array, string or null, got 2/);
    rejects({ topic: 't', headers: 'a=b' }, /record\.headers must be an object of header values or an array of \[key, value\] pairs, got "a=b"/);
    rejects({ topic: 't', headers: new Map([['a', 'b']]) }, /record\.headers must be .*got an object \(Map\)/);
  });

  it('timestamp', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 51 + 1, 2 ** 53, '123']) {
      rejects({ topic: 't', timestamp: bad }, /^record\.timestamp must be an integer of ms since the epoch from 0 to 2251799813685248 \(2\^51\), or a valid Date, got /);
    }
    // Date reaches 8.64e15 ms; beyond 2^51 its deltas within a batch would no longer be written exactly.
    rejects({ topic: 't', timestamp: new Date(8.64e15) }, /^record\.timestamp must be .* got /);
    assert.equal(prepareRecord({ topic: 't', timestamp: 2 ** 51 }, null, NOW).timestamp, 2 ** 51);
    rejects({ topic: 't', timestamp: new Date('nope') }, /record\.timestamp .*got an invalid Date/);
  });

  it('partition', () => {
    for (const bad of [-1, 0.5, '1', Number.NaN, 2 ** 31]) {
      rejects({ topic: 't', partition: bad }, /^record\.partition must be an integer from 0 to 2147483647, got /);
    }
    // Kafka's partitions are int32: the largest is taken.
    assert.equal(prepareRecord({ topic: 't', partition: 2 ** 31 - 1 }, null, NOW).partition, 2 ** 31 - 1);
  });

  it('and a rejected record leaves the next one unaffected', () => {
    rejects({ topic: 'bad topic' }, /record\.topic/);
    assert.equal(prepareRecord({ topic: 'good', value: 'v' }, null, NOW).topic, 'good');
    rejects({ topic: 'bad topic' }, /record\.topic/, null);
  });
});

describe('checkRecord', () => {
  it('checks as prepareRecord does and gives the same fields, in one reused object', () => {
    const record = { topic: 'events', key: 'k', value: 'v', partition: 2, timestamp: 5, headers: { a: 'b' } };
    const first = checkRecord(record, null, NOW);
    assert.deepEqual({ ...first }, { ...prepareRecord(record, null, NOW) });
    const second = checkRecord({ topic: 't', value: null }, null, NOW);
    assert.equal(second, first, 'the same object, refilled');
    assert.deepEqual({ ...second }, { ...prepareRecord({ topic: 't', value: null }, null, NOW) });
    assert.throws(() => checkRecord({ topic: '' } as ProducerRecord, null, NOW), /record\.topic/);
  });

  it("refuses the empty topic when it is the first topic the process checks (the last-checked cache starts empty-handed)", async () => {
    // A module instance of its own, as in a fresh process: no topic has passed its check yet.
    const url = new URL('../../src/main/serialize.js?first-topic-empty', import.meta.url).href;
    const fresh = (await import(url)) as typeof import('../../src/main/serialize.js');
    assert.throws(() => fresh.checkRecord({ topic: '', value: 'v' }, null, NOW), /record\.topic must be a non-empty string, got ""/);
    assert.throws(() => fresh.prepareRecord({ topic: '', value: 'v' }, null, NOW), /record\.topic/);
  });

  it('refuses a missing topic when it is the first record the process checks', async () => {
    const url = new URL('../../src/main/serialize.js?first-topic-missing', import.meta.url).href;
    const fresh = (await import(url)) as typeof import('../../src/main/serialize.js');
    const noTopic = { value: 'v' } as unknown as ProducerRecord;
    assert.throws(() => fresh.checkRecord(noTopic, null, NOW), /record\.topic must be a non-empty string, got undefined/);
  });

  it('prepareRecord makes every record an instance of one class (V8 never pretenures those)', () => {
    assert.ok(prepareRecord({ topic: 't', value: 'v' }, null, NOW) instanceof PreparedFields);
  });
});

describe('input that was once taken silently', () => {
  it('a serializer that returns a view of one scratch buffer: each record keeps its own bytes', () => {
    // Records of a sendBatch are all checked before any reaches a ring: every one carried the last value.
    const scratch = new Uint8Array(8);
    const serializer: Serializer = (value) => {
      const n = (value as { n: number }).n;
      scratch[0] = n;
      return scratch.subarray(0, 1);
    };
    const first = prepareRecord({ topic: 't', value: { n: 1 } }, serializer, NOW);
    const second = prepareRecord({ topic: 't', value: { n: 2 } }, serializer, NOW);
    assert.deepEqual([...(first.value as Uint8Array)], [1]);
    assert.deepEqual([...(second.value as Uint8Array)], [2]);
  });

  it('headers that are not a plain object or an array (a fetch Headers, a Set, a class instance) are refused, naming the field', () => {
    // Object.keys found nothing in them: the record went out without its headers.
    class Traced {
      get traceId(): string {
        return 'abc';
      }
    }
    for (const headers of [new Headers({ a: 'b' }), new Set(['a']), new Traced()]) {
      assert.throws(
        () => prepareRecord({ topic: 't', value: 'v', headers } as unknown as ProducerRecord, null, NOW),
        (e: unknown) => e instanceof InvalidRecordError && /record\.headers must be an object of header values or an array of \[key, value\] pairs/.test(e.message),
      );
    }
    const nullPrototype = Object.assign(Object.create(null) as Record<string, string>, { a: 'b' });
    assert.equal(prepareRecord({ topic: 't', value: 'v', headers: nullPrototype }, null, NOW).headers.length, 1);
  });

  it('a key, value or header value whose ArrayBuffer was transferred away is refused, naming the field', () => {
    // Its length reads 0: it was sent as an empty value.
    const detached = (): Uint8Array => {
      const bytes = new Uint8Array(8);
      structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
      return bytes;
    };
    const refused = (record: ProducerRecord, field: RegExp, serializer: Serializer | null = null): void => {
      assert.throws(() => prepareRecord(record, serializer, NOW), (e: unknown) => e instanceof InvalidRecordError && field.test(e.message) && /detached ArrayBuffer/.test(e.message));
    };
    refused({ topic: 't', key: detached(), value: 'v' }, /^record\.key /);
    refused({ topic: 't', value: detached() }, /^record\.value /);
    refused({ topic: 't', value: 'v', headers: { h: detached() } }, /^record\.headers\["h"\] /);
    refused({ topic: 't', value: { any: 1 } }, /^record\.value \(the serializer's output\)/, () => detached());
    assert.equal(prepareRecord({ topic: 't', value: new Uint8Array(0) }, null, NOW).value?.length, 0, 'an empty value is still one');
  });

  it('a field whose getter or Proxy trap throws is refused, naming the field (the caller\'s own error was passed on)', () => {
    const cause = new RangeError('no value here');
    const getter = { topic: 't', get value(): string { throw cause; } };
    assert.throws(() => prepareRecord(getter as ProducerRecord, null, NOW), (e: unknown) =>
      e instanceof InvalidRecordError && e.message === 'record.value could not be read: RangeError: no value here' && e.cause === cause);
    const proxy = new Proxy({ topic: 't', value: 'v' }, {
      get(target, field) {
        if (field === 'topic') throw 'a thrown string';
        return Reflect.get(target, field);
      },
    });
    rejects(proxy, /^record\.topic could not be read: a thrown string$/);
    rejects({ topic: 't', value: 'v', headers: { get h(): string { throw new TypeError('header broke'); } } }, /^record\.headers could not be read: TypeError: header broke$/);
    rejects({ topic: 't', value: 'v', headers: [['h', 'ok'], new Proxy(['h', 'v'], { get: () => { throw new Error('pair broke'); } })] }, /^record\.headers could not be read: Error: pair broke$/);
    // And the record after it is checked as usual.
    assert.equal(prepareRecord({ topic: 't', value: 'v' }, null, NOW).topic, 't');
  });

  it('an async serializer is refused for its promise, and a rejection of that promise goes unhandled by no one', async () => {
    // The promise was dropped: its rejection was unhandled, and Node's default ended the process.
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      rejects({ topic: 't', value: { any: 1 } }, /the serializer function produced an object \(Promise\)/, (async () => {
        throw new Error('async serializer failed');
      }) as unknown as Serializer);
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
