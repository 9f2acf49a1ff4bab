/**
 * The checks every Producer method makes of its options before anything changes: an object, and a `signal` that is
 * an AbortSignal or absent. A bad one is a ConfigError naming the method.
 */
import { ConfigError } from '../shared/errors.js';
import type { SendOptions } from './types.js';

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
  if (!isObject(options)) return new ConfigError(`${method} options must be an object, got ${describe(options)}`);
  if (!isSignal((options as SendOptions).signal)) return badSignal(method);
  return undefined;
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
