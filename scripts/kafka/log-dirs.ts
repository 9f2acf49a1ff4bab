/**
 * Where each node keeps its partitions' logs (`log.dirs`): on disk under .kafka/node-<id>/data, the default, or in
 * memory under /dev/shm (`npm run kafka -- start --log-dirs memory`), for the bench.
 *
 * Why memory for the bench: the broker does not fsync, so what it writes sits in the page cache as dirty pages until
 * the kernel writes them back, and once they pass its dirty thresholds (vm.dirty_background_ratio and
 * vm.dirty_ratio) the kernel throttles the broker's writes to the disk's pace. On the 2-core VM the bench numbers in
 * the README come from, the disk takes about 190 MB/s, while a 1 KiB run writes 200 MB (warm-up and measured
 * records) at 350-700 MB/s: runs then measured where the writeback stood when they began, not the client.
 * A tmpfs log dir takes the disk out of the bench; the records still go through the real broker's append path.
 *
 * Either way is a formatting choice (the storage format writes meta.properties into each log dir), so asking for the
 * other one formats the cluster afresh; unset, a formatted cluster keeps where it is.
 */
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';

export const LOG_DIR_PLACES = ['disk', 'memory'] as const;
export type LogDirPlace = (typeof LOG_DIR_PLACES)[number];

/** The flag's text as a place, or an error naming what is accepted. */
export function parseLogDirPlace(text: string): LogDirPlace {
  const place = LOG_DIR_PLACES.find((p) => p === text);
  if (place === undefined) throw new Error(`--log-dirs must be one of ${LOG_DIR_PLACES.join(', ')}, got ${text}`);
  return place;
}

/**
 * The tmpfs folder of this checkout's in-memory logs: one per checkout (named by a hash of its path), so two clones
 * on one machine do not share a cluster's data.
 */
export function memoryRoot(checkout: string, shm = '/dev/shm'): string {
  const tag = createHash('sha256').update(checkout).digest('hex').slice(0, 12);
  return join(shm, `ringkafka-kafka-${tag}`);
}

/** A node's `log.dirs`. */
export function nodeLogDir(place: LogDirPlace, nodeId: number, nodeDir: string, memory: string): string {
  return place === 'memory' ? join(memory, `node-${nodeId}`) : join(nodeDir, 'data');
}

/**
 * Why the logs cannot be kept in memory here, or undefined: the place is a tmpfs folder under `shm`, which Linux has
 * and macOS, for one, does not. Checked before a format, so the flag fails with its name rather than with a mkdir.
 */
export function memoryPlaceProblem(shm = '/dev/shm'): string | undefined {
  try {
    if (statSync(shm).isDirectory()) return undefined;
  } catch {
    // missing: said below
  }
  return `--log-dirs memory keeps the logs under ${shm}, which this machine does not have (a tmpfs there, as on Linux)`;
}
