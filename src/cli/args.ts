/**
 * Command-line parsing for `ringkafka`: Node's own `util.parseArgs` in strict mode, with every mistake reported as a
 * UsageError that names the flag, and numbers read the way people write them on a command line (`1e6`, `100000`).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { nearestName } from '../main/option-names.js';
import { checkRecord, InvalidRecordError } from '../main/serialize.js';

/** A mistake on the command line: the message names the flag; the command exits with status 2 after its usage. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * A usage mistake as stderr says it: the mistake, the command's synopsis (the first line of `usage`) and where its
 * options are described. The whole help (30 lines and more) after a one-line mistake pushed the mistake off the
 * screen.
 */
export function usageMistake(command: string, mistake: string, usage: string): string {
  const end = usage.indexOf('\n');
  const synopsis = end < 0 ? usage : usage.slice(0, end);
  return `ringkafka ${command}: ${mistake}\n${synopsis}\n'ringkafka ${command} --help' lists the options.\n`;
}

export type FlagSpec = NonNullable<ParseArgsConfig['options']>;

export type FlagValues = Record<string, string | boolean | undefined>;

export function parseFlags(argv: readonly string[], flags: FlagSpec): FlagValues {
  try {
    const { values, positionals } = parseArgs({ args: withNegativeValues(argv, flags), options: flags, strict: true, allowPositionals: true });
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    return values as FlagValues;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // parseArgs names the flag in its message ("Unknown option '--x'", "Option '--topic <value>' argument missing"),
    // and ends an unknown option's with advice on positional arguments, which no command here takes: an unknown
    // flag is said with the flag it most likely meant instead.
    const message = (error as Error).message.replace(/\. To specify a positional argument[^]*$/, '');
    const unknown = /^Unknown option '--([^'=]+)'/.exec(message)?.[1];
    const near = unknown === undefined ? undefined : nearestName(unknown, Object.keys(flags));
    throw new UsageError(near === undefined ? message : `${message} (did you mean --${near}?)`);
  }
}

/**
 * `--flag -1` as `--flag=-1` for a flag that takes a value: parseArgs takes a value that starts with '-' for another
 * flag and refused `--acks -1` as ambiguous, though `--help` offers -1 (and Kafka's own tools take it so).
 */
function withNegativeValues(argv: readonly string[], flags: FlagSpec): string[] {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    const takesValue = arg.startsWith('--') && flags[arg.slice(2)]?.type === 'string';
    if (takesValue && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      args.push(`${arg}=${next}`);
      i++;
    } else args.push(arg);
  }
  return args;
}

export interface NumberRule {
  readonly min?: number;
  readonly max?: number;
  readonly integer?: boolean;
}

/**
 * A decimal number, plain or with an exponent. Number() alone also took `0x10`, `0b1` and `0o7`, so `--partition 0x10`
 * wrote to partition 16; no Kafka tool reads a flag that way.
 */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** A numeric flag: `1e6` and `1000000` alike; undefined when absent; a UsageError naming the flag when malformed. */
export function numberFlag(values: FlagValues, name: string, rule: NumberRule = {}): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const value = typeof raw === 'string' && DECIMAL.test(raw.trim()) ? Number(raw) : Number.NaN;
  const { min = -Infinity, max = Infinity, integer = false } = rule;
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    const kind = integer ? 'an integer' : 'a number';
    const range = min > -Infinity && max < Infinity ? ` from ${min} to ${max}` : min > -Infinity ? ` ≥ ${min}` : '';
    throw new UsageError(`--${name} must be ${kind}${range}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** A flag that must be one of `choices`. */
export function choiceFlag<T extends string>(values: FlagValues, name: string, choices: readonly T[]): T | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !(choices as readonly string[]).includes(raw)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return raw as T;
}

export function stringFlag(values: FlagValues, name: string): string | undefined {
  const raw = values[name];
  return typeof raw === 'string' ? raw : undefined;
}

/**
 * The required `--topic`, checked by the producer's own rule for a record's topic (checkRecord, which the producer
 * runs on every record): a name it refuses (`bad topic!`, longer than 249 characters, `.`) was taken, and every
 * line or record then failed with an InvalidRecordError after the connection, `produce` reading all of its input
 * to fail it (with `tail -f`, forever) and exiting 1, not 2.
 */
export function topicFlag(values: FlagValues): string {
  const topic = stringFlag(values, 'topic');
  if (topic === undefined || topic === '') throw new UsageError('--topic is required');
  try {
    checkRecord({ topic }, null, 0);
  } catch (error) {
    if (!(error instanceof InvalidRecordError)) throw error;
    // The producer's message shows at most 60 characters of the name: a name too long is told by its length too.
    const length = topic.length > 60 ? ` (${topic.length} characters)` : '';
    throw new UsageError(`${error.message.replace(/^record\.topic/, '--topic')}${length}`);
  }
  return topic;
}
