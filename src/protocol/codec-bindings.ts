/**
 * The native codec bindings (lz4, snappy, zstd), each loaded the first time a codec needs it, never on import.
 *
 * A native addon is mapped into the process when it is first required, and stays: lz4-napi, snappy and
 * @mongodb-js/zstd together took about 10 MB of resident memory in a process that never compressed with any of them
 * (a bare `node` at 41 MB rose to 51 MB on requiring the three). A producer writes with one codec, its `compression`
 * option, so its workers load that codec's binding when they start (loadCodecBinding: a binding that cannot load
 * fails the start, not the first batch) and no other. Decompression, which only reading code needs, loads its codec's
 * binding on first use. gzip is node:zlib, part of Node itself.
 */
import { createRequire } from 'node:module';
import { Codec, type CodecValue } from '../shared/codecs.js';
import { ConfigError } from '../shared/errors.js';
import { ownUrl } from '../shared/own-files.js';

type Lz4Binding = typeof import('lz4-napi');
type SnappyBinding = typeof import('snappy');
type ZstdBinding = typeof import('@mongodb-js/zstd');

const requireBinding = createRequire(ownUrl(import.meta.url));

let lz4: Lz4Binding | undefined;
let snappy: SnappyBinding | undefined;
let zstd: ZstdBinding | undefined;

function load<T>(codec: string, packageName: string): T {
  try {
    return requireBinding(packageName) as T;
  } catch (cause) {
    throw new ConfigError(`compression ${codec} needs the ${packageName} package, which did not load: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

export function lz4Binding(): Lz4Binding {
  return (lz4 ??= load<Lz4Binding>('lz4', 'lz4-napi'));
}

export function snappyBinding(): SnappyBinding {
  return (snappy ??= load<SnappyBinding>('snappy', 'snappy'));
}

export function zstdBinding(): ZstdBinding {
  return (zstd ??= load<ZstdBinding>('zstd', '@mongodb-js/zstd'));
}

/** Loads the binding `codec` compresses with now (none and gzip have none to load). Throws ConfigError if it cannot. */
export function loadCodecBinding(codec: CodecValue): void {
  if (codec === Codec.lz4) lz4Binding();
  else if (codec === Codec.snappy) snappyBinding();
  else if (codec === Codec.zstd) zstdBinding();
}
