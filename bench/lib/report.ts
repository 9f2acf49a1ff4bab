/**
 * What the benchmarks print and write: the machine they ran on, plain-text tables, and a progress bar on stderr.
 */
import { execFileSync } from 'node:child_process';
import { cpus, release, totalmem, type } from 'node:os';
import { KAFKA_VERSION } from '../../scripts/kafka/config.js';
import { round } from './stats.js';

export interface Machine {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGB: number;
  readonly os: string;
  readonly node: string;
  readonly java: string | null;
  readonly go: string | null;
  readonly kafka: string;
}

function firstLine(command: string, args: readonly string[]): string | null {
  try {
    // java -version prints on stderr
    const out = execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
    return out.trim().split('\n')[0] ?? null;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr;
    return stderr?.trim().split('\n')[0] ?? null;
  }
}

/**
 * The machine, as far as a reader needs it to compare numbers. `external` when KAFKA_BROKERS pointed elsewhere;
 * `logDir`: the local broker's log dirs, when the bench ran against it (on disk or in memory).
 */
export function describeMachine(externalBroker: boolean, broker?: string, logDir?: string): Machine {
  const list = cpus();
  const javaVersion = (() => {
    try {
      execFileSync('java', ['-version'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
    } catch {
      return null;
    }
    const text = execFileSync('sh', ['-c', 'java -version 2>&1'], { encoding: 'utf8', timeout: 20_000 });
    return text.trim().split('\n')[0] ?? null;
  })();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${type()} ${release()}`,
    node: process.version,
    java: javaVersion,
    go: firstLine('go', ['version']),
    kafka: (broker !== undefined ? broker : externalBroker ? `external (KAFKA_BROKERS=${process.env.KAFKA_BROKERS})` : `Apache Kafka ${KAFKA_VERSION}, 1 KRaft node on this machine`) +
      (logDir !== undefined ? `, its logs in ${logDir}` : ''),
  };
}

/** A number for a table cell: '—' for none, thousands separated above 1000. */
export function cell(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const r = round(value)!;
  return Math.abs(r) >= 1000 ? r.toLocaleString('en-US') : String(r);
}

/** Formats rows as an aligned text table; numeric-looking columns are right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.every((row) => /^[-\d.,—]*$/.test(row[i] ?? '')));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The same rows as a Markdown table, for the README. */
export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const escape = (text: string): string => text.replace(/\|/g, '\\|');
  return [
    `| ${headers.join(' | ')} |`,
    `|${headers.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ].join('\n');
}

/**
 * A progress bar on stderr: redrawn in place on a terminal (and ticking the elapsed time), one line per step
 * otherwise, so a log file still shows where a run was.
 */
export class Progress {
  readonly #total: number;
  readonly #started = Date.now();
  readonly #tty = process.stderr.isTTY === true;
  #done = 0;
  #label = '';
  #timer: NodeJS.Timeout | undefined;

  constructor(total: number) {
    this.#total = total;
    if (this.#tty) this.#timer = setInterval(() => this.#draw(), 1000).unref();
  }

  /** A step begins. */
  start(label: string): void {
    this.#label = label;
    if (this.#tty) this.#draw();
    else process.stderr.write(`[${this.#done + 1}/${this.#total}] ${label} (${this.#elapsed()})\n`);
  }

  /** The current step ended. */
  step(): void {
    this.#done++;
    if (this.#tty) this.#draw();
  }

  /** A message above the bar. */
  note(text: string): void {
    if (this.#tty) process.stderr.write('\r\x1b[2K');
    process.stderr.write(`${text}\n`);
    if (this.#tty) this.#draw();
  }

  finish(): void {
    clearInterval(this.#timer);
    if (this.#tty) process.stderr.write('\r\x1b[2K');
    process.stderr.write(`done: ${this.#done}/${this.#total} in ${this.#elapsed()}\n`);
  }

  #elapsed(): string {
    const s = Math.round((Date.now() - this.#started) / 1000);
    return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  }

  #draw(): void {
    const width = 30;
    const filled = Math.round((this.#done / Math.max(1, this.#total)) * width);
    const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
    const columns = process.stderr.columns ?? 100;
    const text = `[${bar}] ${this.#done}/${this.#total} ${this.#elapsed()} ${this.#label}`;
    process.stderr.write(`\r\x1b[2K${text.slice(0, columns - 1)}`);
  }
}
