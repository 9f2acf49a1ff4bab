/**
 * `ringkafka produce`: one record per line of stdin. `--format lines` sends each line as it is; `--format ndjson`
 * checks each line is JSON and sends it unchanged, keyed by `--key-field` when given. A line that cannot be sent as
 * asked (bad JSON, no key field) is reported with its line number and skipped; the others still go, and the exit
 * status is 1 if anything failed. Blank lines are skipped.
 */
import { createInterface } from 'node:readline';
import { Producer } from '../main/index.js';
import { CODEC_NAMES } from '../shared/codecs.js';
import { choiceFlag, numberFlag, parseFlags, stringFlag, UsageError } from './args.js';
import { CONNECTION_FLAGS, CONNECTION_USAGE, connectionOptions } from './connection-flags.js';
import { InFlight } from './in-flight.js';
import { Progress } from './progress.js';

export const PRODUCE_USAGE = `Usage: ringkafka produce --topic TOPIC [options] < records

Sends one record per line of stdin and waits until every one is acknowledged. Blank lines are skipped. A line that
cannot be sent (bad JSON, missing key field) is reported on stderr with its number; the rest still go, and the exit
status is 1.

  --topic TOPIC             the topic
  --format F                lines (default): each line is a value; ndjson: each line must be JSON, sent unchanged
  --key-field NAME          ndjson only: the record key is this top-level field of each object (as text)
  --partition N             send every record to partition N (default: murmur2 of the key, sticky without one)
  --compression C           none, gzip, snappy, lz4, zstd (default none)
  --linger-ms MS            producer lingerMs (default the producer's, 5)
  -h, --help                this help

${CONNECTION_USAGE}`;

const FLAGS = {
  ...CONNECTION_FLAGS,
  topic: { type: 'string' },
  format: { type: 'string' },
  'key-field': { type: 'string' },
  partition: { type: 'string' },
  compression: { type: 'string' },
  'linger-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Records per sendBatch and sendBatch calls outstanding: stdin is read no faster than the producer takes it. */
const GROUP_RECORDS = 1000;
const MAX_OUTSTANDING = 8;
const MAX_REPORTED_ERRORS = 10;

interface OutRecord {
  readonly topic: string;
  readonly key: string | null;
  readonly value: string;
  readonly partition?: number;
}

export async function runProduce(
  argv: readonly string[],
  input: NodeJS.ReadableStream = process.stdin,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WriteStream = process.stderr,
): Promise<number> {
  const values = parseFlags(argv, FLAGS);
  if (values.help === true) {
    out.write(`${PRODUCE_USAGE}\n`);
    return 0;
  }
  const topic = stringFlag(values, 'topic');
  if (topic === undefined || topic === '') throw new UsageError('--topic is required');
  const format = choiceFlag(values, 'format', ['lines', 'ndjson'] as const) ?? 'lines';
  const keyField = stringFlag(values, 'key-field');
  if (keyField !== undefined && format !== 'ndjson') throw new UsageError('--key-field needs --format ndjson');
  const partition = numberFlag(values, 'partition', { min: 0, integer: true });
  const compression = choiceFlag(values, 'compression', CODEC_NAMES);
  const lingerMs = numberFlag(values, 'linger-ms', { min: 0, integer: true });
  const producer = new Producer({
    ...connectionOptions(values),
    ...(compression !== undefined && { compression }),
    ...(lingerMs !== undefined && { lingerMs }),
  });

  let failed = 0;
  let reported = 0;
  let delivered = 0;
  const report = (line: number, message: string): void => {
    failed++;
    if (reported++ < MAX_REPORTED_ERRORS) err.write(`line ${line}: ${message}\n`);
  };
  const toRecord = (text: string, line: number): OutRecord | undefined => {
    let key: string | null = null;
    if (format === 'ndjson') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        report(line, `not JSON (${(error as Error).message})`);
        return undefined;
      }
      if (keyField !== undefined) {
        const field = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>)[keyField] : undefined;
        if (field === undefined || field === null) {
          report(line, `no ${JSON.stringify(keyField)} field for the key (--key-field)`);
          return undefined;
        }
        key = typeof field === 'string' ? field : JSON.stringify(field);
      }
    }
    return { topic, key, value: text, ...(partition !== undefined && { partition }) };
  };

  const progress = new Progress(err, err.isTTY === true ? 1000 : 60_000);
  const inFlight = new InFlight(MAX_OUTSTANDING);
  const send = (group: OutRecord[], lines: number[]): Promise<void> =>
    // Only failures are reported, so no result object is made per delivered line.
    producer.sendBatch(group, { results: 'failures' }).then(({ failures }) => {
      delivered += group.length - failures.length;
      for (const { index, reason } of failures) report(lines[index]!, `${reason.name}: ${reason.message}`);
      progress.tick(0, group.length, 0);
    });
  try {
    await producer.connect();
    progress.start(() => `${delivered.toLocaleString('en')} records acknowledged, ${failed} failed`);
    let group: OutRecord[] = [];
    let lines: number[] = [];
    let line = 0;
    for await (const text of createInterface({ input, crlfDelay: Infinity })) {
      line++;
      if (text.trim() === '') continue;
      const record = toRecord(text, line);
      if (record === undefined) continue;
      group.push(record);
      lines.push(line);
      if (group.length < GROUP_RECORDS) continue;
      const full = send(group, lines);
      group = [];
      lines = [];
      await inFlight.add(full);
    }
    if (group.length > 0) await inFlight.add(send(group, lines));
    await inFlight.settled();
  } finally {
    progress.stop();
    await producer.close({ timeoutMs: 30_000 });
  }
  if (reported > MAX_REPORTED_ERRORS) err.write(`… and ${reported - MAX_REPORTED_ERRORS} more\n`);
  err.write(`${delivered.toLocaleString('en')} records delivered to ${topic}, ${failed} failed\n`);
  return failed > 0 ? 1 : 0;
}
