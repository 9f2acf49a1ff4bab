/**
 * The arithmetic of `npm run bench:ingest`, apart from its processes so it can be tested: the request body, a
 * client's row from the load generator's result and its server's report, and the table's cells.
 */
import { cell } from '../lib/report.js';

/** What a server measured in its own process over the measured window. */
export interface ServerReport {
  readonly eventLoopDelayP99Ms: number;
  readonly eventLoopDelayMaxMs: number;
  readonly cpuSec: number;
  readonly peakRssMB: number;
}

/** The parts of autocannon's result a row needs. */
export interface LoadResult {
  /** Seconds the load ran. */
  readonly duration: number;
  readonly '2xx': number;
  readonly non2xx: number;
  /** Connection errors, timeouts included. */
  readonly errors: number;
  /** Request latency percentiles, ms, over every response. */
  readonly latency: { readonly p50: number; readonly p99: number };
}

export interface IngestRow {
  readonly client: string;
  /** `max` (every connection busy) or the offered rate, `N req/s`. */
  readonly load: string;
  readonly requestsPerSec: number | null;
  readonly recordsPerSec: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly non2xx: number | null;
  readonly errors: number | null;
  readonly eventLoopDelayP99Ms: number | null;
  readonly eventLoopDelayMaxMs: number | null;
  readonly cpuSec: number | null;
  /** Server CPU per acknowledged record, µs. */
  readonly cpuUsPerRecord: number | null;
  readonly peakRssMB: number | null;
  readonly note: string;
}

/**
 * An event-loop delay in ms from a `monitorEventLoopDelay` figure (ns): each sample is the time between two of
 * its timer's runs, so the sampling interval (`resolutionMs`) is taken off to leave the delay alone.
 */
export function loopDelayMs(nanoseconds: number, resolutionMs: number): number {
  return Math.max(0, nanoseconds / 1e6 - resolutionMs);
}

/**
 * `records` NDJSON lines of exactly `recordBytes` bytes each (before the newline), numbered so no two are alike:
 * `{"n":7,"pad":"xxx…"}`. Throws when `recordBytes` cannot hold the smallest such line.
 */
export function ndjsonBody(records: number, recordBytes: number): string {
  const lines: string[] = [];
  for (let n = 0; n < records; n++) {
    const bare = `{"n":${n},"pad":""}`;
    if (bare.length > recordBytes) throw new RangeError(`a record of ${recordBytes} B cannot hold ${bare}`);
    lines.push(`{"n":${n},"pad":"${'x'.repeat(recordBytes - bare.length)}"}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Only answered requests count: a 2xx carried `recordsPerRequest` acknowledged records; a 503 carried none. */
export function summarize(client: string, offered: string, load: LoadResult, recordsPerRequest: number, server: ServerReport): IngestRow {
  const ok = load['2xx'];
  const perSec = (n: number): number | null => (load.duration > 0 ? n / load.duration : null);
  const records = ok * recordsPerRequest;
  return {
    client,
    load: offered,
    requestsPerSec: perSec(ok),
    recordsPerSec: perSec(records),
    p50Ms: load.latency.p50,
    p99Ms: load.latency.p99,
    non2xx: load.non2xx,
    errors: load.errors,
    eventLoopDelayP99Ms: server.eventLoopDelayP99Ms,
    eventLoopDelayMaxMs: server.eventLoopDelayMaxMs,
    cpuSec: server.cpuSec,
    cpuUsPerRecord: records > 0 ? (server.cpuSec * 1e6) / records : null,
    peakRssMB: server.peakRssMB,
    note: load.non2xx + load.errors > 0 ? `${load.non2xx} non-2xx, ${load.errors} errors` : '',
  };
}

/** The server with no load at all: the floor its event-loop delay and CPU stand on, on this machine, now. */
export function idleRow(client: string, server: ServerReport): IngestRow {
  return {
    ...skippedRow(client, 'idle', ''), note: '', eventLoopDelayP99Ms: server.eventLoopDelayP99Ms, eventLoopDelayMaxMs: server.eventLoopDelayMaxMs,
    cpuSec: server.cpuSec, peakRssMB: server.peakRssMB,
  };
}

/** A client that could not run, with the reason a user can act on. */
export function skippedRow(client: string, offered: string, reason: string): IngestRow {
  return {
    client, load: offered, requestsPerSec: null, recordsPerSec: null, p50Ms: null, p99Ms: null, non2xx: null, errors: null, eventLoopDelayP99Ms: null,
    eventLoopDelayMaxMs: null, cpuSec: null, cpuUsPerRecord: null, peakRssMB: null, note: `skipped: ${reason}`,
  };
}

export const HEADERS = [
  'client', 'load', 'requests/s', 'records/s', 'p50 ms', 'p99 ms', 'ELD p99 ms', 'ELD max ms', 'CPU s', 'CPU µs/rec', 'RSS MiB', 'note',
] as const;

export function cells(row: IngestRow): string[] {
  return [
    row.client, row.load, cell(row.requestsPerSec), cell(row.recordsPerSec), cell(row.p50Ms), cell(row.p99Ms), cell(row.eventLoopDelayP99Ms),
    cell(row.eventLoopDelayMaxMs), cell(row.cpuSec), cell(row.cpuUsPerRecord), cell(row.peakRssMB), row.note,
  ];
}
