/**
 * `ringkafka produce`: one record per line of stdin. `--format lines` sends each line's bytes as they are; `--format
 * ndjson` checks each line is JSON (in UTF-8) and sends it unchanged, keyed by `--key-field` when given. A line that
 * cannot be sent as asked (bad JSON, no key field) is reported with its line number and skipped; the others still go,
 * and the exit status is 1 if anything failed. Blank lines are skipped. Lines go out in groups, each sent at most
 * GROUP_LINGER_MS after its first line arrived; SIGINT or SIGTERM, or an input that fails, stops reading, and what
 * was read is still sent.
 */
import { addAbortSignal, Readable } from 'node:stream';
import { InvalidRecordError, Producer } from '../main/index.js';
import { resolveOptions } from '../main/options.js';
import { CODEC_NAMES } from '../shared/codecs.js';
import { choiceFlag, numberFlag, parseFlags, stringFlag, topicFlag, UsageError } from './args.js';
import { CONNECTION_FLAGS, CONNECTION_USAGE, checkedProducerOptions, connectionOptions } from './connection-flags.js';
import { connectSaying } from './connect-notice.js';
import { DELIVERY_FLAGS, DELIVERY_USAGE, deliveryOptions } from './delivery-flags.js';
import { InFlight } from './in-flight.js';
import { isBlank, isDirectoryInput, readLines } from './lines.js';
import { isPermanent } from './permanent-failure.js';
import type { Writer } from './output.js';
import { Progress } from './progress.js';

export const PRODUCE_USAGE = `Usage: ringkafka produce --topic TOPIC [options] < records

Sends one record per line of stdin and waits until every one is acknowledged. Lines end at \\n (a \\r before it is
dropped); blank lines and a UTF-8 byte order mark at the start are skipped. A line that cannot be sent (bad JSON or
not UTF-8 with ndjson, missing key field, longer than the producer's maxRequestBytes) is reported on stderr with its
number; the rest still go, and the exit status is 1. Lines are sent as they arrive. SIGINT or SIGTERM stops reading:
what was read is still sent, and the exit status is 1; so does an input that fails (said with the last line read).
A failure every later line would meet too (a topic that does not exist or is not allowed, refused credentials, a
--partition it does not have) is reported once and stops the reading; the exit status is 1. At the end of the input
what lingers is sent at once. A stderr or stdout whose reader has gone (2>&1 | head) is written no more: every line
is still sent, with the same exit status (1 if stdout fails otherwise: a full disk).

  --topic TOPIC             the topic
  --format F                lines (default): each line's bytes are a value, sent unchanged (any encoding);
                            ndjson: each line must be JSON in UTF-8, sent unchanged
  --key-field NAME          ndjson only: the record key is this top-level field of each object (as text; a
                            number must be an integer JSON holds exactly, up to 2^53 - 1, else the line fails)
  --partition N             send every record to partition N (default: murmur2 of the key, sticky without one)
  --compression C           none, gzip, snappy, lz4, zstd (default none)
${DELIVERY_USAGE}
  --linger-ms MS            producer lingerMs (default the producer's, 5)
  -h, --help                this help

${CONNECTION_USAGE}`;

/** How long close waits for what was read, at the end or after a signal. */
const CLOSE_TIMEOUT_MS = 30_000;

const FLAGS = {
  ...CONNECTION_FLAGS,
  ...DELIVERY_FLAGS,
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
/**
 * The longest a line waits for its group to fill before the group is sent as it is: input that trickles in (`tail
 * -f app.log | ringkafka produce`) is sent as it comes, not once a thousand lines have arrived or stdin closed.
 */
const GROUP_LINGER_MS = 10;
const MAX_OUTSTANDING = 8;
const MAX_REPORTED_ERRORS = 10;
/** Kafka's partition numbers are int32: a larger --partition (1e20 was taken) failed every line instead. */
const MAX_PARTITION = 2_147_483_647;
/** NDJSON's lines are decoded with `fatal`; `ignoreBOM` keeps a byte order mark after line 1 in the line (not JSON). */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

interface OutRecord {
  readonly topic: string;
  readonly key: string | null;
  /** The line's bytes as they were read (lines.ts): decoded to a string, an invalid UTF-8 byte went out as U+FFFD. */
  readonly value: Buffer;
  readonly partition?: number;
}

export async function runProduce(
  argv: readonly string[],
  input: NodeJS.ReadableStream = process.stdin,
  out: Writer = process.stdout,
  err: Writer = process.stderr,
): Promise<number> {
  const values = parseFlags(argv, FLAGS);
  if (values.help === true) {
    out.write(`${PRODUCE_USAGE}\n`);
    return 0;
  }
  const topic = topicFlag(values);
  if (isDirectoryInput(input)) throw new UsageError('stdin is a directory: give the records as a file or through a pipe');
  const format = choiceFlag(values, 'format', ['lines', 'ndjson'] as const) ?? 'lines';
  const keyField = stringFlag(values, 'key-field');
  if (keyField !== undefined && format !== 'ndjson') throw new UsageError('--key-field needs --format ndjson');
  const partition = numberFlag(values, 'partition', { min: 0, max: MAX_PARTITION, integer: true });
  const compression = choiceFlag(values, 'compression', CODEC_NAMES);
  const lingerMs = numberFlag(values, 'linger-ms', { min: 0, integer: true });
  const options = checkedProducerOptions({
    ...connectionOptions(values),
    ...(compression !== undefined && { compression }),
    ...deliveryOptions(values),
    ...(lingerMs !== undefined && { lingerMs }),
  }, process.env, values);
  const resolved = resolveOptions(options);
  // A longer line could never be sent (its record is larger still), so it is not even kept while it is read.
  const maxLineBytes = resolved.maxRequestBytes;
  const producer = new Producer(options);

  const progress = new Progress(err, err.isTTY === true ? 1000 : 60_000);
  let failed = 0;
  let reported = 0;
  let delivered = 0;
  const report = (line: number, message: string): void => {
    failed++;
    if (reported++ < MAX_REPORTED_ERRORS) progress.print(`line ${line}: ${message}`);
  };
  /** The first failure every later line would meet too (see permanent-failure.ts): it ends the reading. */
  let permanent: Error | undefined;
  /** The number of the last line taken from the input. */
  let lastLine = 0;
  /** Set by SIGINT or SIGTERM (not by a permanent failure, which stops the reading too). */
  let interrupted = false;
  /** Set when the input fails (EIO from a terminal, say): the reading ends, what was read is still sent. */
  let inputFailed = false;
  /** The record of a line; undefined for a blank line, or a bad one (reported). */
  const toRecord = (data: Buffer, line: number): OutRecord | undefined => {
    let key: string | null = null;
    if (format === 'lines') {
      if (isBlank(data)) return undefined;
    } else {
      // Decoded with `fatal`: NDJSON is UTF-8, and an invalid byte became U+FFFD in a record said to be unchanged.
      let text: string;
      try {
        text = utf8.decode(data);
      } catch {
        report(line, 'not valid UTF-8');
        return undefined;
      }
      if (text.trim() === '') return undefined;
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        report(line, `not JSON (${(error as Error).message})`);
        return undefined;
      }
      if (keyField !== undefined) {
        // Own fields only: `--key-field constructor` found Object's constructor, and the record went out with no key.
        const field = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && Object.hasOwn(parsed, keyField)
          ? (parsed as Record<string, unknown>)[keyField] : undefined;
        if (field === undefined || field === null) {
          report(line, `no ${JSON.stringify(keyField)} field for the key (--key-field)`);
          return undefined;
        }
        // A number JSON cannot hold exactly read as another: two ids past 2^53 became one key, 1e400 the key "null".
        if (typeof field === 'number' && !Number.isSafeInteger(field)) {
          report(line, `the ${JSON.stringify(keyField)} field is a number JSON cannot hold exactly (read as ${String(field)}): send it as a string`);
          return undefined;
        }
        key = typeof field === 'string' ? field : JSON.stringify(field);
      }
    }
    // The bytes read, not the text decoded from them: unchanged, and not encoded again by the producer.
    return { topic, key, value: data, ...(partition !== undefined && { partition }) };
  };

  const inFlight = new InFlight(MAX_OUTSTANDING);
  const send = (group: OutRecord[], lines: number[], bytes: number): Promise<void> => {
    const calledAt = performance.now();
    // Only failures are reported, so no result object is made per delivered line.
    return producer.sendBatch(group, { results: 'failures' }).then(({ failures }) => {
      const ok = group.length - failures.length;
      delivered += ok;
      let deliveredBytes = bytes;
      for (const { index, reason } of failures) {
        deliveredBytes -= group[index]!.value.length;
        // After a signal, close fails what is left (ProducerClosedError): each line is reported, as it was. A
        // --partition the topic does not have is refused for every line alike.
        const badPartition = partition !== undefined && reason instanceof InvalidRecordError && reason.message.startsWith('record.partition ');
        if (interrupted || !(isPermanent(reason) || badPartition)) {
          report(lines[index]!, `${reason.name}: ${reason.message}`);
          continue;
        }
        // Said once, not for every line of every group: all of them would say the same.
        failed++;
        if (permanent !== undefined) continue;
        permanent = reason;
        progress.print(`line ${lines[index]!}: ${reason.name}: ${reason.message}; every later line would fail the same way: stopping`);
        stop.abort();
      }
      progress.tick(deliveredBytes, ok, performance.now() - calledAt);
    });
  };
  let group: OutRecord[] = [];
  let lines: number[] = [];
  let groupBytes = 0;
  let lingerTimer: NodeJS.Timeout | undefined;
  /** The timer's sendGroup, awaited by the read loop before its next line. */
  let lingerSend: Promise<void> | undefined;
  /** Sends the group read so far; resolves once fewer than MAX_OUTSTANDING calls are under way. */
  const sendGroup = (): Promise<void> => {
    clearTimeout(lingerTimer);
    lingerTimer = undefined;
    const [records, numbers, bytes] = [group, lines, groupBytes];
    group = [];
    lines = [];
    groupBytes = 0;
    // After a permanent failure the lines read are not sent only to fail the same way (each after its own wait):
    // they count as failed.
    if (permanent !== undefined) {
      failed += records.length;
      return Promise.resolve();
    }
    return inFlight.add(send(records, numbers, bytes));
  };
  // SIGINT or SIGTERM stops reading: what was read is still sent and waited for, within close's timeout, the
  // summary is printed and the status is 1. The handlers are `once`: a second signal ends the process at once.
  // The wait for the calls under way stops at the signal too, and close bounds it: waiting for them to settle on
  // their own held a stalled broker's records for their whole delivery timeout, past close's, with nothing said.
  // A permanent failure stops the reading through the same controller, without the signal's message.
  const stop = new AbortController();
  /** Ends the wait under way in untilStopped (the read loop waits on one call at a time) when the stop comes. */
  let wake: (() => void) | undefined;
  stop.signal.addEventListener('abort', () => wake?.(), { once: true });
  const onSignal = (): void => {
    if (stop.signal.aborted) return; // a permanent failure stopped it already: close is not waited for
    interrupted = true;
    stop.abort();
    progress.print(`stopping: the lines read are sent and waited for up to ${CLOSE_TIMEOUT_MS / 1000} s (a second signal quits at once)`);
  };
  /**
   * Waits for `call`, or for the stop (a signal, a permanent failure): then close (below) settles it. Through the
   * `wake` slot, not a Promise.race against a promise of the stop: that promise never settles in a run that is not
   * stopped, and each race left a reaction on it for the life of the process (one per group: `tail -f app.log |
   * ringkafka produce` grew by about 2 GB a day). As InFlight's waits, nothing stays attached once a wait is over.
   */
  const untilStopped = async (call: Promise<void>): Promise<void> => {
    // After the stop, close settles the call: its records' failures reach the summary through its results; a
    // rejection of the whole call then is not reported (before the stop it still ends the command, as before).
    call.catch(() => undefined);
    if (stop.signal.aborted) return;
    try {
      await new Promise<void>((resolve, reject) => {
        wake = resolve;
        call.then(resolve, reject);
      });
    } finally {
      wake = undefined;
    }
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    // A signal during the connection (an unreachable cluster is waited for up to bufferTimeoutMs) ends it too.
    await connectSaying(producer, options.brokers, resolved.bufferTimeoutMs, stop.signal, (line) => progress.print(line));
    progress.start(() => `${delivered.toLocaleString('en')} records acknowledged, ${failed.toLocaleString('en')} failed`);
    // The signal ends the reading (a pending read of stdin would hold the process open); the lines read before it
    // are still sent.
    const lineReader = readLines(stop.signal.aborted ? [] : untilSignal(input, stop.signal), maxLineBytes);
    const onInputError = (error: unknown): void => {
      inputFailed = true;
      progress.print(`input error after line ${lastLine}: ${error instanceof Error ? error.message : String(error)}`);
    };
    // An input that fails ends the reading as its end would: the lines read were dropped (the group being collected
    // never sent), and the command ended with the error alone, no summary.
    for await (const { number: line, data, bytes, tooLong } of endOfInput(lineReader, stop.signal, onInputError)) {
      // The lines still held from the input's last chunk are not taken: they would only fail the same way.
      if (permanent !== undefined) break;
      lastLine = line;
      // A group the timer sent counts against MAX_OUTSTANDING as any other: nothing more is read until the calls
      // under way are fewer (without this wait, input slower than a full group per linger was read unbounded).
      if (lingerSend !== undefined) {
        const waiting = lingerSend;
        lingerSend = undefined;
        await untilStopped(waiting);
      }
      if (tooLong) {
        report(line, `longer than maxRequestBytes (${bytes.toLocaleString('en')} bytes, at most ${maxLineBytes.toLocaleString('en')}): not sent`);
        continue;
      }
      const record = toRecord(data, line);
      if (record === undefined) continue;
      group.push(record);
      lines.push(line);
      // The bytes of the value sent, as failures subtract them.
      groupBytes += bytes;
      if (group.length >= GROUP_RECORDS) await untilStopped(sendGroup());
      // The timer's call is waited for with every other (settled() below), and its wait for a place by the loop:
      // that wait may reject with another call's failure, which a catch here dropped (the command then said
      // "0 failed" with that call's lines unaccounted for). The catch only keeps an unawaited rejection from ending
      // the process before the loop awaits it.
      else {
        lingerTimer ??= setTimeout(() => {
          lingerSend = sendGroup();
          lingerSend.catch(() => undefined);
        }, GROUP_LINGER_MS);
      }
    }
    // The timer may have sent the last group after the last line came: its wait is not left behind.
    if (lingerSend !== undefined) await untilStopped(lingerSend);
    if (group.length > 0) await untilStopped(sendGroup());
    // The input has ended: what lingers in the producer goes now, not lingerMs later (the command waited it out).
    producer.flush().catch(() => undefined);
    await untilStopped(inFlight.settled());
  } finally {
    clearTimeout(lingerTimer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    progress.stop();
    // After a permanent failure what is still under way meets it too (a missing topic's records wait out their own
    // bufferTimeoutMs): closing at once fails them now, and the command ends promptly.
    await producer.close({ timeoutMs: permanent !== undefined && !interrupted ? 0 : CLOSE_TIMEOUT_MS });
    // Close settled every call still under way (failing what it could not deliver): the summary counts them all.
    await inFlight.settled().catch(() => undefined);
  }
  if (reported > MAX_REPORTED_ERRORS) err.write(`… and ${reported - MAX_REPORTED_ERRORS} more\n`);
  const why = interrupted ? ' (interrupted: stopped reading)' : permanent !== undefined || inputFailed
    ? ` (stopped reading after line ${lastLine})` : '';
  err.write(`${delivered.toLocaleString('en')} record${delivered === 1 ? '' : 's'} delivered to ${topic}, ${failed.toLocaleString('en')} failed${why}\n`);
  return failed > 0 || interrupted || permanent !== undefined || inputFailed ? 1 : 0;
}

/**
 * The chunks of `input` until `signal` aborts. A Node Readable is destroyed then, as stdin must be. Any other
 * NodeJS.ReadableStream (the type asks only for its methods, not for a Readable; addAbortSignal failed on such an
 * input at the signal, calling the destroy() it need not have) is read through its async iterator, ended by return().
 */
function untilSignal(input: NodeJS.ReadableStream, signal: AbortSignal): AsyncIterable<Buffer | string> {
  return input instanceof Readable ? addAbortSignal(signal, input) : iterateUntil(input, signal);
}

/**
 * The items of `iterable` until `signal` aborts, when its iterator's return() is called but not waited for: an async
 * generator's return() waits behind its pending next(), which may never settle.
 */
async function* iterateUntil<T>(iterable: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const iterator = iterable[Symbol.asyncIterator]();
  let stopWaiting = (): void => undefined;
  const onAbort = (): void => stopWaiting();
  signal.addEventListener('abort', onAbort, { once: true });
  let ended = false;
  try {
    while (!signal.aborted) {
      const next = await new Promise<IteratorResult<T> | undefined>((resolve, reject) => {
        stopWaiting = () => resolve(undefined);
        iterator.next().then(resolve, reject);
      });
      if (next === undefined) break;
      if (next.done === true) {
        ended = true;
        break;
      }
      yield next.value;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    // Through Promise.resolve, in a try: an iterator's return() may answer synchronously, or throw.
    try {
      if (!ended) void Promise.resolve(iterator.return?.()).catch(() => undefined);
    } catch {
      // It cannot stop: nothing more is read from it either way.
    }
  }
}

/**
 * The lines, until the input ends, `signal` aborts (the abort's destruction of the input ends them, as the input's
 * end would), or the input fails: `failed` is told why, and the lines end. Only the input's errors are caught: one
 * thrown by the loop that reads the lines (a call that failed whole) still ends the command.
 */
async function* endOfInput<T>(lines: AsyncIterable<T>, signal: AbortSignal, failed: (error: unknown) => void): AsyncGenerator<T> {
  try {
    yield* lines;
  } catch (error) {
    if (!signal.aborted) failed(error);
  }
}
