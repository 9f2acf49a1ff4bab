/**
 * Runs one client process and watches it from outside through /proc: CPU seconds (utime + stime, all threads)
 * and peak RSS (VmHWM), sampled every 50 ms. Clients that can measure themselves (all but Kafka's Java
 * ProducerPerformance) report exact figures for their measured window; for Java the bench reads the window's CPU
 * off these samples (see cpuBetween).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

const SAMPLE_MS = 50;
/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks; 100 on every mainstream build. */
const CLOCK_TICKS = 100;

export interface CpuSample {
  /** performance.now() of the sample. */
  readonly at: number;
  /** CPU seconds so far. */
  readonly cpuSec: number;
}

export interface WatchedRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly cpu: readonly CpuSample[];
  /** Highest VmHWM seen, MiB; undefined when /proc could not be read. */
  readonly peakRssMB: number | undefined;
  /** performance.now() at which each stdout line arrived. */
  readonly lineTimes: readonly { readonly at: number; readonly line: string }[];
}

export interface WatchOptions {
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
}

/** The clients watch() started that have not exited yet: what an interrupted bench must not leave running. */
const running = new Set<ChildProcess>();

/**
 * Kills (SIGKILL, by its own pid) every client process watch() started that is still running: the bench was
 * interrupted and will not read its result. Each run's promise then settles as a killed run would.
 */
export function killRunning(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** Starts `command`, samples it until it exits, and kills it (by its own pid) if it outlives `timeoutMs`. */
export function watch(command: string, args: readonly string[], options: WatchOptions): Promise<WatchedRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const pid = child.pid;
    if (pid === undefined) {
      child.once('error', reject);
      return;
    }
    running.add(child);
    let stdout = '';
    let stderr = '';
    let pending = '';
    const lineTimes: { at: number; line: string }[] = [];
    const cpu: CpuSample[] = [];
    let peakRssMB: number | undefined;
    let timedOut = false;

    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const at = performance.now();
      stdout += chunk;
      pending += chunk;
      let newline;
      while ((newline = pending.indexOf('\n')) >= 0) {
        lineTimes.push({ at, line: pending.slice(0, newline) });
        pending = pending.slice(newline + 1);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      // Keep the tail only: a chatty client must not grow the bench's memory.
      stderr = (stderr + chunk).slice(-64 * 1024);
    });

    const sample = (): void => {
      const reading = readProc(pid);
      if (reading === undefined) return;
      cpu.push({ at: performance.now(), cpuSec: reading.cpuSec });
      if (reading.hwmMB !== undefined) peakRssMB = Math.max(peakRssMB ?? 0, reading.hwmMB);
    };
    sample();
    const sampler = setInterval(sample, SAMPLE_MS);
    const killer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);

    child.once('error', (error) => {
      running.delete(child);
      clearInterval(sampler);
      clearTimeout(killer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      running.delete(child);
      clearInterval(sampler);
      clearTimeout(killer);
      // stdout may still hold data after 'exit'; 'close' follows once the pipes are drained.
      child.once('close', () => {
        if (pending.length > 0) lineTimes.push({ at: performance.now(), line: pending });
        resolve({ code, signal, stdout, stderr, timedOut, cpu, peakRssMB, lineTimes });
      });
    });
  });
}

/** CPU seconds and VmHWM of a live process; undefined once it is gone. */
export function readProc(pid: number): { cpuSec: number; hwmMB: number | undefined } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return { cpuSec: parseStatCpu(stat), hwmMB: parseVmHwmMB(status) };
  } catch {
    return undefined;
  }
}

/** utime + stime (fields 14 and 15) of a /proc/<pid>/stat line, in seconds. The command name may hold spaces. */
export function parseStatCpu(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so field n is fields[n - 3]
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLOCK_TICKS;
}

/**
 * This process's peak resident set in MiB: VmHWM from /proc/self/status, never getrusage's maxrss (Node's
 * `process.resourceUsage().maxRSS`). Linux hands a parent's resident set over to the maxrss of a child it spawns: a
 * client started by a bench process of 342 MB reported a maxRSS of 304 MB and a VmHWM of 39, so every client
 * reported at least the bench's own size. VmHWM belongs to the memory of the program itself, set up afresh by exec.
 * Falls back to maxRSS only where /proc cannot be read (not Linux).
 */
export function ownPeakRssMB(): number {
  try {
    const hwm = parseVmHwmMB(readFileSync('/proc/self/status', 'utf8'));
    if (hwm !== undefined) return hwm;
  } catch {
    // no /proc: below
  }
  return process.resourceUsage().maxRSS / 1024; // KiB
}

/** VmHWM (peak resident set) from /proc/<pid>/status, in MiB. */
export function parseVmHwmMB(status: string): number | undefined {
  const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) / 1024 : undefined;
}

/**
 * CPU seconds spent between `from` and `to` (performance.now() times), interpolating linearly between samples;
 * undefined when the samples do not cover the window.
 */
export function cpuBetween(samples: readonly CpuSample[], from: number, to: number): number | undefined {
  const a = interpolate(samples, from);
  const b = interpolate(samples, to);
  return a === undefined || b === undefined ? undefined : Math.max(0, b - a);
}

function interpolate(samples: readonly CpuSample[], at: number): number | undefined {
  const first = samples[0];
  const last = samples.at(-1);
  if (first === undefined || last === undefined || at < first.at) return undefined;
  if (at >= last.at) return last.cpuSec;
  let i = 1;
  while (samples[i]!.at < at) i++;
  const before = samples[i - 1]!;
  const after = samples[i]!;
  const span = after.at - before.at;
  return span <= 0 ? after.cpuSec : before.cpuSec + ((after.cpuSec - before.cpuSec) * (at - before.at)) / span;
}

/** Field `index` of a schedstat line (nanoseconds), in seconds. */
function schedstatSec(schedstat: string, index: number): number {
  const ns = Number(schedstat.trim().split(/\s+/)[index]);
  if (!Number.isFinite(ns)) throw new Error(`not a schedstat line: ${schedstat.slice(0, 80)}`);
  return ns / 1e9;
}

/** First field of /proc/<pid>/task/<tid>/schedstat: nanoseconds the thread has spent on a CPU. */
export function parseSchedstatSec(schedstat: string): number {
  return schedstatSec(schedstat, 0);
}

/**
 * Second field of schedstat: nanoseconds the thread was runnable but waited for a CPU (on a run queue), in
 * seconds. A thread that waited was not running although it had work: on a loaded machine this, not the thread's
 * own work, is part of its event-loop delay.
 */
export function parseSchedstatWaitSec(schedstat: string): number {
  return schedstatSec(schedstat, 1);
}

/**
 * CPU seconds of one thread of this process: from schedstat (nanoseconds) where the kernel has it, else from
 * stat (utime + stime, 10 ms ticks). Undefined when the thread is gone or /proc is not there (not Linux).
 * `waitSec` (schedstat only): seconds it was runnable and waited for a CPU.
 */
export function readThreadCpu(tid: number, pid = process.pid): { sec: number; waitSec?: number; source: 'schedstat' | 'stat' } | undefined {
  try {
    const schedstat = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8');
    return { sec: parseSchedstatSec(schedstat), waitSec: parseSchedstatWaitSec(schedstat), source: 'schedstat' };
  } catch {
    try {
      return { sec: parseStatCpu(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')), source: 'stat' };
    } catch {
      return undefined;
    }
  }
}
