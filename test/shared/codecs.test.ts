import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CODEC_NAMES, Codec, isCodecValue } from '../../src/shared/codecs.js';

describe('codecs', () => {
  it('names each codec at the index of its attribute value', () => {
    assert.deepEqual(CODEC_NAMES, ['none', 'gzip', 'snappy', 'lz4', 'zstd']);
    for (const name of CODEC_NAMES) assert.equal(CODEC_NAMES[Codec[name]], name);
  });

  it('accepts exactly the attribute values 0 to 4', () => {
    assert.deepEqual([0, 1, 2, 3, 4].map(isCodecValue), [true, true, true, true, true]);
    for (const bad of [-1, 5, 7, 1.5, Number.NaN, Infinity]) assert.equal(isCodecValue(bad), false, String(bad));
  });
});
