/**
 * The independent readers the producer integration tests check with — Kafka's console consumer, GetOffsetShell,
 * DumpLogSegments and the consumer-group tool from the same jars as the broker — with their output parsed, and a
 * polling wait.
 */
import { TOOLS, localSegment, runKafkaTool } from './broker.js';
import { groupToolError, parseControlRecords, parseGroupOffsets, type ControlMarker } from './tool-output.js';

export type { ControlMarker };

/** End offset of each partition, from Kafka's GetOffsetShell (`topic:partition:offset` lines). */
export async function endOffsets(brokers: readonly string[], topic: string): Promise<Map<number, number>> {
  const { stdout } = await runKafkaTool(TOOLS.getOffsetShell, ['--bootstrap-server', brokers.join(','), '--topic', topic]);
  const offsets = new Map<number, number>();
  for (const line of stdout.split('\n')) {
    const match = /^(.+):(\d+):(\d+)$/.exec(line.trim());
    if (match !== null && match[1] === topic) offsets.set(Number(match[2]), Number(match[3]));
  }
  return offsets;
}

export interface ConsumedRecord {
  readonly partition: number;
  readonly offset: number;
  /** `key:value` pairs as the formatter prints them, or 'NO_HEADERS'. */
  readonly headers: string;
  /** The key as text; the formatter prints a null key as "null" (so tests never use the key "null"). */
  readonly key: string;
  readonly value: string;
}

export interface ConsumeOptions {
  /** Give up after this long without a new record (default 20 s). */
  readonly idleMs?: number;
  /**
   * `read_committed` hides the records of aborted and still open transactions, and stops at the first open one
   * (the last stable offset); `read_uncommitted`, the tool's default, returns every record. Unset: the default.
   */
  readonly isolationLevel?: 'read_committed' | 'read_uncommitted';
}

/**
 * Reads `expected` records from the beginning of the topics matching `include` (a topic name is a regex matching
 * itself when it has no special characters) with Kafka's console consumer, in the order it delivers them (per
 * partition, that is offset order). Stops after `expected` records or after `idleMs` without a new one, so a
 * missing record makes the test fail on the count, not hang. Values and keys must not contain tabs or newlines.
 * The fourth argument is the idle limit in ms, or options with the isolation level as well.
 */
export async function consume(
  brokers: readonly string[],
  include: string,
  expected: number,
  options: number | ConsumeOptions = {},
): Promise<ConsumedRecord[]> {
  const { idleMs = 20_000, isolationLevel } = typeof options === 'number' ? { idleMs: options } : options;
  const { stdout } = await runKafkaTool(TOOLS.consoleConsumer, [
    ...(isolationLevel !== undefined ? ['--isolation-level', isolationLevel] : []),
    '--bootstrap-server', brokers.join(','),
    '--include', include,
    '--from-beginning',
    '--max-messages', String(expected),
    '--timeout-ms', String(idleMs),
    '--formatter-property', 'print.partition=true',
    '--formatter-property', 'print.offset=true',
    '--formatter-property', 'print.headers=true',
    '--formatter-property', 'print.key=true',
  ], 300_000);
  const records: ConsumedRecord[] = [];
  // The tool logs to stdout too (a timeout, for one): only formatter lines start with "Partition:".
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('Partition:')) continue;
    const [partition, offset, headers, key, ...value] = line.split('\t');
    records.push({
      partition: Number(partition!.slice('Partition:'.length)),
      offset: Number(offset!.slice('Offset:'.length)),
      headers: headers!,
      key: key!,
      value: value.join('\t'),
    });
  }
  return records;
}

/**
 * The first log segment of each partition on the local broker, for DumpLogSegments; or, when the broker's files
 * are not on this machine (KAFKA_BROKERS pointing at another cluster), the reason the check is skipped.
 */
export function localSegments(topic: string, partitions: number): { files: string[] } | { skip: string } {
  const files: string[] = [];
  for (let p = 0; p < partitions; p++) {
    const file = localSegment(topic, p);
    if (file === null) return { skip: `no local log file for ${topic}-${p}: the broker's files are not on this machine` };
    files.push(file);
  }
  return { files };
}

export interface DumpedBatch {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly count: number;
  readonly baseSequence: number;
  readonly lastSequence: number;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly codec: string;
  readonly valid: boolean;
}

/** The batches of each segment file, in file order, from DumpLogSegments (batch headers only: no deep iteration). */
export async function dumpBatches(files: readonly string[]): Promise<Map<string, DumpedBatch[]>> {
  const { stdout } = await runKafkaTool(TOOLS.dumpLogSegments, ['--files', files.join(',')], 300_000);
  const byFile = new Map<string, DumpedBatch[]>();
  let current: DumpedBatch[] | undefined;
  for (const line of stdout.split('\n')) {
    const dumping = /^Dumping (.+)$/.exec(line);
    if (dumping !== null) {
      current = [];
      byFile.set(dumping[1]!.trim(), current);
      continue;
    }
    if (!line.startsWith('baseOffset:') || current === undefined) continue;
    const field = (name: string): string => {
      const match = new RegExp(`(?:^| )${name}: (\\S+)`).exec(line);
      if (match === null) throw new Error(`DumpLogSegments line without ${name}: ${line}`);
      return match[1]!;
    };
    current.push({
      baseOffset: Number(field('baseOffset')),
      lastOffset: Number(field('lastOffset')),
      count: Number(field('count')),
      baseSequence: Number(field('baseSequence')),
      lastSequence: Number(field('lastSequence')),
      producerId: BigInt(field('producerId')),
      producerEpoch: Number(field('producerEpoch')),
      codec: field('compresscodec'),
      valid: field('isvalid') === 'true',
    });
  }
  return byFile;
}

/**
 * The offsets group `groupId` has committed (a consumer's commit, or a transaction's sendOffsets once committed),
 * by `topic:partition`, from Kafka's consumer-group tool. A group that does not exist yet has none.
 */
export async function groupOffsets(brokers: readonly string[], groupId: string): Promise<Map<string, number>> {
  const { stdout, stderr } = await runKafkaTool(TOOLS.consumerGroups, ['--bootstrap-server', brokers.join(','), '--describe', '--group', groupId]);
  const error = groupToolError(`${stdout}\n${stderr}`);
  if (error?.missing === true) return new Map();
  if (error !== undefined) throw new Error(`${TOOLS.consumerGroups} --describe --group ${groupId}: ${error.message}`);
  return parseGroupOffsets(stdout);
}

/**
 * The transaction markers (COMMIT, ABORT) in each segment file, in file order, from DumpLogSegments with deep
 * iteration: the proof that a transaction ended as the test expects, on the partitions it wrote to. The files come
 * from `localSegments` (which says when the broker's files are not on this machine).
 */
export async function dumpControlRecords(files: readonly string[]): Promise<Map<string, ControlMarker[]>> {
  const { stdout } = await runKafkaTool(TOOLS.dumpLogSegments, ['--deep-iteration', '--files', files.join(',')], 300_000);
  return parseControlRecords(stdout);
}

/** Polls `condition` until it holds; a wait, not an assertion on time: it throws only past a generous limit. */
export async function until(condition: () => boolean, what: string, limitMs = 30_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
