/**
 * The checks every Producer method makes of its options before anything changes: an object, of no option the
 * method does not know, and a `signal` that is an AbortSignal or absent. A bad one is a ConfigError naming the
 * method.
 */
import { ConfigError } from '../shared/errors.js';
import { describeUnknown } from './option-names.js';
import type { SendOptions } from './types.js';

const SIGNAL_ONLY = ['signal'] as const;

/** A call made without options: nothing to check, and no object made per call (send's path). */
export const NO_OPTIONS: Readonly<Record<string, never>> = Object.freeze({});

/** The options each method takes; a method not listed takes `signal` alone. */
const METHOD_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  sendBatch: ['signal', 'results'],
  close: ['timeoutMs', 'signal'],
  writable: ['topic', 'signal'],
};

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

/**
 * Whether a caller's `signal` option is absent or an AbortSignal. Anything else was first used after its record held
 * budget bytes and an id: the call threw with them never given back, and settling it later threw in the settle loop.
 */
export function isSignal(signal: unknown): boolean {
  return signal === undefined || signal instanceof AbortSignal;
}

export function badSignal(method: string): ConfigError {
  return new ConfigError(`${method} options.signal must be an AbortSignal`);
}

/**
 * Throws a ConfigError unless `options` is an object whose `signal`, if any, is an AbortSignal: before anything
 * changes. `abortTransaction({ signal: 'x' })` had cancelled the transaction's sends before the signal threw a
 * TypeError, and `commitTransaction(null)` threw one reading null.
 */
export function checkCallOptions(method: string, options: unknown): asserts options is SendOptions {
  const error = callOptionsError(method, options);
  if (error !== undefined) throw error;
}

/** What checkCallOptions would throw, for the methods that reject their promise with it instead; else undefined. */
export function callOptionsError(method: string, options: unknown): ConfigError | undefined {
  if (options === NO_OPTIONS) return undefined;
  if (!isObject(options)) return new ConfigError(`${method} options must be an object, got ${describe(options)}`);
  if (options instanceof AbortSignal) return new ConfigError(`${method} options must be an object, got an AbortSignal: pass { signal }`);
  const known = METHOD_OPTIONS[method] ?? SIGNAL_ONLY;
  // for-in, not Object.keys: no array per call on send's path. Own names only, as the constructor's check: a name
  // some library made enumerable on Object.prototype refused every send.
  for (const name in options) if (!known.includes(name) && Object.hasOwn(options, name)) return unknownOptions(method, options, known);
  if (!isSignal((options as SendOptions).signal)) return badSignal(method);
  return undefined;
}

function unknownOptions(method: string, options: object, known: readonly string[]): ConfigError {
  const unknown = Object.keys(options).filter((name) => !known.includes(name));
  const expected = known.length === 1 ? `it takes only ${known[0]}` : `it takes ${known.join(', ')}`;
  return new ConfigError(`${method} options: unknown option${unknown.length > 1 ? 's' : ''} ${describeUnknown(unknown, known)}; ${expected}`);
}

/**
 * What close would reject with: its options as every method's, and a `timeoutMs` that is a finite number of ms, 0
 * or more. A NaN deadline is no time at all: each of close's waits read it differently (no timer, or past), and a
 * worker compares it with nothing.
 */
export function closeOptionsError(options: unknown): ConfigError | undefined {
  const error = callOptionsError('close', options);
  if (error !== undefined) return error;
  const { timeoutMs } = options as { timeoutMs?: unknown };
  if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && Number.isFinite(timeoutMs) && timeoutMs >= 0)) {
    return new ConfigError(`close options.timeoutMs must be a finite number of ms, 0 or more, got ${typeof timeoutMs === 'number' ? String(timeoutMs) : describe(timeoutMs)}`);
  }
  return undefined;
}

/** A bad argument as an error message shows it. */
export function describe(value: unknown): string {
  return value === null ? 'null' : typeof value;
}
