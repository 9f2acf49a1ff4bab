import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compressSync as rawSnappyCompress } from 'snappy';
import { Codec, CODEC_NAMES, COMPRESS_NOW_MAX_BYTES, compress, compressNow, decompress, type CodecValue } from '../../src/protocol/compression.js';
import { ConfigError, ProtocolError } from '../../src/shared/errors.js';
import { noise, text } from './section-fixtures.js';

const CODECS = [Codec.none, Codec.gzip, Codec.snappy, Codec.lz4, Codec.zstd] as const;
const COMPRESSING = [Codec.gzip, Codec.snappy, Codec.lz4, Codec.zstd] as const;

/** Succeeds, or fails with a ProtocolError: anything else (RangeError, TypeError, a library Error) fails the test. */
async function decompressOrProtocolError(codec: CodecValue, bytes: Uint8Array, maxBytes?: number): Promise<void> {
  try {
    await decompress(codec, bytes, maxBytes === undefined ? {} : { maxBytes });
  } catch (err) {
    assert.ok(err instanceof ProtocolError, `${CODEC_NAMES[codec]}: expected ProtocolError, got ${String(err)}`);
  }
}

describe('Codec', () => {
  it('has the attribute values of RecordBatch v2', () => {
    assert.deepEqual(Codec, { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 });
    for (const [name, value] of Object.entries(Codec)) assert.equal(CODEC_NAMES[value], name);
  });
});

describe('compress/decompress round trip', () => {
  const sizes = [0, 1, 100, 32 * 1024, 32 * 1024 + 1, 100_000, 1024 * 1024 + 3];
  for (const codec of CODECS) {
    it(`${CODEC_NAMES[codec]}: text and noise of ${sizes.length} sizes`, async () => {
      for (const size of sizes) {
        for (const input of [text(size), noise(size, size)]) {
          const packed = await compress(codec, input);
          const unpacked = await decompress(codec, packed);
          assert.ok(unpacked.equals(input), `${CODEC_NAMES[codec]} size ${size}`);
        }
      }
    });
  }

  it('accepts codec names and Uint8Array views that do not start at offset 0', async () => {
    const backing = new Uint8Array(5000).fill(7);
    const view = backing.subarray(123, 4123);
    view.set(text(4000));
    for (const codec of CODECS) {
      const name = CODEC_NAMES[codec]!;
      const packed = await compress(name, view);
      assert.ok((await decompress(name, packed)).equals(view), name);
    }
  });

  it('rejects an unknown codec', async () => {
    await assert.rejects(compress(5 as CodecValue, new Uint8Array(1)), ConfigError);
    await assert.rejects(compress('brotli' as 'gzip', new Uint8Array(1)), ConfigError);
    await assert.rejects(decompress(5 as CodecValue, new Uint8Array(1)), ConfigError);
  });

  it('round-trips arbitrary bytes with every codec', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...CODECS), fc.uint8Array({ maxLength: 3000 }), async (codec, bytes) => {
        const unpacked = await decompress(codec, await compress(codec, bytes));
        assert.deepEqual(new Uint8Array(unpacked), bytes);
      }),
      { numRuns: 200 },
    );
  });
});

describe('compressNow (small sections, on the calling thread)', () => {
  it('gives what compress gives, in the framing Kafka expects, for every codec with a synchronous binding; zstd has none', async () => {
    for (const size of [0, 1, 1000, COMPRESS_NOW_MAX_BYTES]) {
      const input = text(size);
      for (const codec of [Codec.none, Codec.gzip, Codec.snappy, Codec.lz4]) {
        const packed = compressNow(codec, input);
        assert.ok(packed instanceof Buffer, `${CODEC_NAMES[codec]} at ${size} bytes`);
        assert.deepEqual(await decompress(codec, packed), input);
        // The same frame (or stream) as the threadpool's: lz4's FLG/BD and gzip's header are what the broker reads.
        assert.deepEqual([...packed.subarray(0, 6)], [...(await compress(codec, input)).subarray(0, 6)], `${CODEC_NAMES[codec]} header`);
      }
      assert.equal(compressNow(Codec.zstd, input), undefined);
    }
  });
});

describe('framing Kafka expects', () => {
  it('gzip is a gzip stream', async () => {
    const packed = await compress(Codec.gzip, text(1000));
    assert.deepEqual([...packed.subarray(0, 3)], [0x1f, 0x8b, 0x08]);
  });

  it('lz4 is one LZ4 frame with independent blocks (FLG 0x60) and a 64 KiB..4 MiB block size', async () => {
    for (const size of [0, 10, 100_000, 300_000, 5 * 1024 * 1024]) {
      const packed = await compress(Codec.lz4, text(size));
      assert.deepEqual([...packed.subarray(0, 4)], [0x04, 0x22, 0x4d, 0x18], 'magic');
      assert.equal(packed[4], 0x60, `FLG for ${size} bytes: version 01, B.Indep, no checksums, no content size`);
      assert.ok([0x40, 0x50, 0x60, 0x70].includes(packed[5]!), `BD 0x${packed[5]!.toString(16)}`);
      assert.deepEqual([...packed.subarray(packed.length - 4)], [0, 0, 0, 0], 'EndMark, no content checksum');
    }
  });

  it('zstd is a zstd frame', async () => {
    const packed = await compress(Codec.zstd, text(1000));
    assert.deepEqual([...packed.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd]);
  });

  it('snappy uses the xerial header and int32-prefixed blocks of at most 32 KiB input', async () => {
    const input = text(100_000);
    const packed = await compress(Codec.snappy, input);
    // 0x82 'SNAPPY' 0x00, version 1, minimum compatible version 1 (both int32 big-endian).
    assert.deepEqual(
      [...packed.subarray(0, 16)],
      [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1],
    );
    const blockInputs: number[] = [];
    let pos = 16;
    while (pos < packed.length) {
      const length = packed.readInt32BE(pos);
      const block = packed.subarray(pos + 4, pos + 4 + length);
      // Each block is raw snappy, whose varint preamble is its uncompressed length.
      let declared = 0;
      for (let i = 0, shift = 0; ; i++, shift += 7) {
        declared |= (block[i]! & 0x7f) << shift;
        if (block[i]! < 0x80) break;
      }
      blockInputs.push(declared);
      pos += 4 + length;
    }
    assert.equal(pos, packed.length);
    assert.deepEqual(blockInputs, [32768, 32768, 32768, 100_000 - 3 * 32768]);
  });

  it('snappy decompression accepts plain raw snappy and concatenated xerial streams', async () => {
    const input = text(50_000);
    assert.ok((await decompress(Codec.snappy, rawSnappyCompress(input))).equals(input));
    const a = await compress(Codec.snappy, input.subarray(0, 40_000));
    const b = await compress(Codec.snappy, input.subarray(40_000));
    assert.ok((await decompress(Codec.snappy, Buffer.concat([a, b]))).equals(input));
    assert.equal((await decompress(Codec.snappy, a.subarray(0, 16))).length, 0, 'a header alone is an empty stream');
  });

  /**
   * Produced by Kafka 4.3.1's own codec streams (kafka-clients `Compression.of(type).build().wrapForOutput(...)`,
   * magic v2) for the 60-byte input below: what a Java producer sends.
   */
  it('decompresses what Kafka itself writes', async () => {
    const input = 'ringkafka ringkafka ringkafka ringkafka ringkafka ringkafka!';
    const fromKafka: Array<[CodecValue, string]> = [
      [Codec.gzip, '1f8b08000000000000ff2bcacc4bcf4e4ccb4e54282295a508006b3e288d3c000000'],
      [Codec.snappy, '82534e41505059000000000100000001000000113c2472696e676b61666b6120c20a000021'],
      [Codec.lz4, '04224d1860408214000000af72696e676b61666b61200a001a5061666b612100000000'],
      [Codec.zstd, '28b52ffd00588c00005872696e676b61666b6120210100362a48010000'],
    ];
    for (const [codec, hex] of fromKafka) {
      assert.equal((await decompress(codec, Buffer.from(hex, 'hex'))).toString(), input, CODEC_NAMES[codec]);
    }
    // Same library, same block size, same framing: our snappy output is byte-identical to Kafka's.
    assert.equal((await compress(Codec.snappy, Buffer.from(input))).toString('hex'), fromKafka[1]![1]);
  });
});

describe('hostile input', () => {
  it('random bytes: success or ProtocolError, for every codec', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...COMPRESSING), fc.uint8Array({ maxLength: 400 }), async (codec, bytes) => {
        await decompressOrProtocolError(codec, bytes);
      }),
      { numRuns: 600 },
    );
  });

  it('random bytes behind a valid magic: success or ProtocolError', async () => {
    const magics: Record<number, number[]> = {
      [Codec.gzip]: [0x1f, 0x8b, 0x08, 0x00],
      [Codec.snappy]: [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1],
      [Codec.lz4]: [0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82],
      [Codec.zstd]: [0x28, 0xb5, 0x2f, 0xfd],
    };
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...COMPRESSING), fc.uint8Array({ maxLength: 300 }), async (codec, tail) => {
        await decompressOrProtocolError(codec, Buffer.concat([Buffer.from(magics[codec]!), tail]));
      }),
      { numRuns: 600 },
    );
  });

  it('every truncation of valid output: success or ProtocolError', async () => {
    for (const codec of COMPRESSING) {
      const packed = await compress(codec, Buffer.concat([text(3000), noise(200, 9)]));
      for (let length = 0; length < packed.length; length++) {
        await decompressOrProtocolError(codec, packed.subarray(0, length));
      }
    }
  });

  it('corrupted valid output: success or ProtocolError', async () => {
    const samples = new Map<CodecValue, Buffer>();
    for (const codec of COMPRESSING) samples.set(codec, await compress(codec, Buffer.concat([text(70_000), noise(500, 3)])));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...COMPRESSING),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
        async (codec, flips) => {
          const bytes = Buffer.from(samples.get(codec)!);
          for (const [at, mask] of flips) bytes[at % bytes.length]! ^= mask;
          await decompressOrProtocolError(codec, bytes);
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('decompressed size limit', () => {
  it('each codec refuses output beyond maxBytes and accepts output at it', async () => {
    const input = Buffer.alloc(1024 * 1024);
    for (const codec of COMPRESSING) {
      const packed = await compress(codec, input);
      await assert.rejects(decompress(codec, packed, { maxBytes: 64 * 1024 }), ProtocolError, CODEC_NAMES[codec]);
      assert.equal((await decompress(codec, packed, { maxBytes: input.length })).length, input.length);
    }
  });

  it('zstd: a frame of RLE blocks claiming 5 GiB is refused from its headers alone', async () => {
    // Frame header: magic, FHD 0 (no content size, not single segment), window descriptor 0x38 (2^17).
    const blocks = 40_000;
    const bomb = Buffer.alloc(6 + blocks * 4);
    bomb.set([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38]);
    for (let i = 0; i < blocks; i++) {
      // Block header (little-endian 24 bits): size 128 KiB << 3 | RLE (1) << 1 | last; then the repeated byte.
      const header = ((128 * 1024) << 3) | (1 << 1) | (i === blocks - 1 ? 1 : 0);
      bomb.writeUIntLE(header, 6 + i * 4, 3);
      bomb[6 + i * 4 + 3] = 0x41;
    }
    const frame = bomb.subarray(0, 6 + blocks * 4);
    await assert.rejects(decompress(Codec.zstd, frame), (err: Error) => {
      assert.ok(err instanceof ProtocolError);
      assert.match(err.message, /may decompress to \d+ bytes/);
      return true;
    });
  });

  it('lz4: a frame whose blocks could exceed the limit is refused before decoding', async () => {
    const packed = await compress(Codec.lz4, Buffer.alloc(8 * 1024 * 1024));
    await assert.rejects(decompress(Codec.lz4, packed, { maxBytes: 1024 * 1024 }), /may decompress to \d+ bytes/);
  });

  it('snappy: a preamble claiming more than the input can hold is refused', async () => {
    // Raw snappy claiming 0xFFFFFFFF bytes from 8 bytes of input.
    await assert.rejects(decompress(Codec.snappy, Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0, 1, 2])), ProtocolError);
    const many = await compress(Codec.snappy, Buffer.alloc(4 * 1024 * 1024));
    await assert.rejects(decompress(Codec.snappy, many, { maxBytes: 1024 * 1024 }), /exceeds the limit/);
  });

  it('gzip: a 16 MiB bomb is cut at the limit', async () => {
    const packed = await compress(Codec.gzip, Buffer.alloc(16 * 1024 * 1024));
    await assert.rejects(decompress(Codec.gzip, packed, { maxBytes: 1024 * 1024 }), ProtocolError);
  });
});
