/**
 * What the broker spent on a client's traffic: the broker process's CPU time (user and system, from /proc) from
 * just before the client started to just after it exited, over every record the client sent in that time, its
 * warm-up included (every client sends the same warm-up and measured records, bench/lib/run-plan.ts). On a machine
 * the broker shares with the client, a client whose requests cost the broker more leaves less of the cores to
 * itself, and the client's own CPU per record does not show it (bench/README.md, the broker µs/rec column).
 *
 * Coarse by design: a client's whole run, not its measured window (the broker's CPU cannot be read at a window's
 * edges from outside the client), with the broker's own background work (metadata, log housekeeping, the JIT
 * compiling its hot paths) in it too. Linux only, and only for a broker process on this machine: the local cluster
 * the bench uses (scripts/kafka) or kfake; undefined elsewhere.
 */
import { readProc } from './process-watch.js';

/** The process's CPU seconds so far, or undefined without a pid or when /proc cannot say (gone, not Linux). */
export function processCpuSec(pid: number | undefined): number | undefined {
  return pid === undefined ? undefined : readProc(pid)?.cpuSec;
}

/** Broker CPU µs per record from its CPU seconds before and after a client's run of `records` records. */
export function brokerUsPerRecord(before: number | undefined, after: number | undefined, records: number): number | undefined {
  if (before === undefined || after === undefined || !(records > 0) || after < before) return undefined;
  return ((after - before) * 1e6) / records;
}
