/**
 * The record-batch codecs: their option names and their values in RecordBatch v2 attributes bits 0-2. Written once
 * here, below every layer that names a codec (options, the worker settings, the protocol's compression).
 */

/** In value order: CODEC_NAMES below reads the names off this object. */
export const Codec = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CodecName = keyof typeof Codec;
export type CodecValue = (typeof Codec)[CodecName];

/** Codec names indexed by their attribute value. */
export const CODEC_NAMES = Object.keys(Codec) as readonly CodecName[];

export function isCodecValue(value: number): value is CodecValue {
  return Number.isInteger(value) && value >= 0 && value < CODEC_NAMES.length;
}
