/**
 * `--broker kfake`: franz-go's in-memory fake cluster (bench/peers/kfake/main.go) instead of Apache Kafka. It is
 * started once per bench run with every topic the run will use already created, each with its scenario's
 * partition count, and stopped at the end: the bench closes its stdin, and kills it by its own pid if it lingers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { KFAKE_BIN } from './setup.js';

export interface Kfake {
  /** Bootstrap addresses, `127.0.0.1:PORT`. */
  readonly brokers: readonly string[];
  /** The kfake and franz-go module versions compiled in. */
  readonly versions: string;
  /** Its process id, for its CPU time (broker-cpu.ts). */
  readonly pid: number | undefined;
  close(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;

/** Starts the built kfake program with `topics` (name → partitions) seeded and `partitions` as its default. */
export function startKfake(topics: ReadonlyMap<string, number>, partitions: number): Promise<Kfake> {
  const args = ['-partitions', String(partitions), ...[...topics].flatMap(([name, count]) => ['-topic', `${name}:${count}`])];
  const child = spawn(KFAKE_BIN, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      stop(child);
      reject(new Error(`kfake printed no address within ${START_TIMEOUT_MS / 1000} s: ${stderr.slice(-500)}`));
    }, START_TIMEOUT_MS);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-16 * 1024);
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`kfake exited (${code ?? signal}) before it listened: ${stderr.slice(-500)}`));
    });
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const newline = stdout.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      const line = JSON.parse(stdout.slice(0, newline)) as { addresses: string[]; kfake: string; franzGo: string; blackhole: boolean };
      resolve({
        brokers: line.addresses,
        versions: `kfake ${line.kfake} (franz-go ${line.franzGo})${line.blackhole ? ', BlackholeProduce' : ''}`,
        pid: child.pid,
        close: () => stop(child),
      });
    });
  });
}

/** Closes kfake's stdin (it exits on EOF) and kills it by its pid if it has not gone within 5 s. */
function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.stdin!.end();
  });
}
