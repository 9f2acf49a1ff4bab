/**
 * KafkaJS's logger: levels, `logCreator`, namespaces. The facade logs what the producer reports outside any call
 * (a crashed worker, a late outcome), so services that route KafkaJS logs somewhere keep seeing those problems.
 */
import { refuse } from './refuse.js';
import type { logCreator } from './types.js';

/** KafkaJS's log levels (their numbers are KafkaJS's). */
export const logLevel = { NOTHING: 0, ERROR: 1, WARN: 2, INFO: 4, DEBUG: 5 } as const;
/** One of the {@link logLevel} values. */
export type logLevel = (typeof logLevel)[keyof typeof logLevel];

/** What a log creator's function receives. */
export interface LogEntry {
  namespace: string;
  level: logLevel;
  label: string;
  log: LoggerEntryContent;
}

/** The entry's message, its time (ISO 8601) and any extra fields. */
export interface LoggerEntryContent {
  readonly timestamp: string;
  readonly message: string;
  [key: string]: unknown;
}

/** A KafkaJS-shaped logger. */
export interface Logger {
  info: (message: string, extra?: object) => void;
  error: (message: string, extra?: object) => void;
  warn: (message: string, extra?: object) => void;
  debug: (message: string, extra?: object) => void;
  namespace: (namespace: string, level?: logLevel) => Logger;
  setLogLevel: (level: logLevel) => void;
}

const LABELS: Readonly<Record<number, string>> = { 1: 'ERROR', 2: 'WARN', 4: 'INFO', 5: 'DEBUG' };
const LEVELS: ReadonlySet<unknown> = new Set(Object.values(logLevel));

/**
 * `level`, refused unless it is one of logLevel's values: any other ('nothing', 99) failed every level comparison
 * and so turned on every level, DEBUG included. `field` names where it was given.
 */
export function checkedLevel(level: unknown, field: string): logLevel {
  if (!LEVELS.has(level)) {
    const got = typeof level === 'string' ? `'${level}'` : String(level);
    refuse(field, `must be one of logLevel's values (${[...LEVELS].join(', ')}), got ${got}`);
  }
  return level as logLevel;
}

/** Without a `logCreator`: one JSON line per entry on the console, errors and warnings on stderr. */
export const consoleLogCreator: logCreator = () => ({ namespace, level, label, log }) => {
  const line = JSON.stringify({ level: label, ...log, logger: 'ringkafka/kafkajs', namespace });
  if (level <= logLevel.WARN) console.error(line);
  else console.log(line);
};

/**
 * `write`, made safe to call from anywhere: the log function is user code, and the facade logs from places where a
 * throw does harm (a listener's error reported inside connect() made it reject though connected; a worker crash
 * reported on process.nextTick became an uncaught exception, which ends the process). What it throws, or an async
 * one rejects with, is caught. The first failure goes once to console.error, so a broken log sink is seen rather
 * than every entry vanishing unnoticed; later ones are dropped, as a sink that fails once usually fails for every
 * entry and repeating would flood stderr.
 */
function guardedWrite(write: (entry: LogEntry) => void): (entry: LogEntry) => void {
  let reported = false;
  const fail = (error: unknown, entry: LogEntry): void => {
    if (reported) return;
    reported = true;
    try {
      const reason = error instanceof Error ? error.message : String(error);
      console.error(
        `ringkafka/kafkajs: the logCreator's log function failed (${reason}); lost ${entry.label} entry "${entry.log.message}". ` +
          'Later failures of it are dropped without notice.',
      );
    } catch {
      // Not even the console can take it: nothing is left to tell.
    }
  };
  return (entry) => {
    try {
      const result: unknown = write(entry);
      if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
        Promise.resolve(result).catch((error: unknown) => fail(error, entry));
      }
    } catch (error) {
      fail(error, entry);
    }
  };
}

/** The client's root logger; `namespace()` loggers share its level unless given their own. Writing never throws. */
export function createLogger(creator: logCreator, initial: logLevel): Logger {
  const shared = { level: initial };
  const write = guardedWrite(creator(initial));
  const make = (namespace: string, own?: { level: logLevel }): Logger => {
    const levelOf = (): logLevel => (own ?? shared).level;
    const at = (level: logLevel) => (message: string, extra: object = {}): void => {
      if (level > levelOf()) return;
      // As KafkaJS builds it: its `logger` field, and the caller's extra fields over the entry's own (log shippers
      // route on `log.logger`, and an `extra.timestamp` of the caller's was lost).
      write({ namespace, level, label: LABELS[level]!, log: { timestamp: new Date().toISOString(), logger: 'kafkajs', message, ...extra } });
    };
    return {
      error: at(logLevel.ERROR),
      warn: at(logLevel.WARN),
      info: at(logLevel.INFO),
      debug: at(logLevel.DEBUG),
      namespace: (name, level) => make(name, level === undefined ? own : { level: checkedLevel(level, 'logger.namespace(name, logLevel)') }),
      setLogLevel: (level) => {
        (own ?? shared).level = checkedLevel(level, 'logger.setLogLevel(logLevel)');
      },
    };
  };
  return make('');
}
