/** How a bad value is shown in an error message, by every check of the producer's input and options. */

/** A bad value as an error message shows it (also the KafkaJS facade's). */
export function describe(value: unknown): string {
  if (typeof value === 'string') {
    return value.length > 60 ? `${JSON.stringify(value.slice(0, 60))}…` : JSON.stringify(value);
  }
  if (value === null) return 'null';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol') return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date' : 'a Date';
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'null prototype'})`;
  return String(value);
}
