/**
 * Whether a process or a port is this checkout's broker. A PID file outlives its process: after a reboot, or a
 * broker killed without `stop`, the PID it names may belong to an unrelated process, which must be neither taken
 * for the broker nor signalled. And a broker started elsewhere (another checkout, a container, a system service)
 * may hold the local ports: the tests would then run against it, with its settings and its data, while the PID
 * file says ours runs or ours dies unnoticed on a port it cannot bind.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { TOOLS } from './config.js';

/** The arguments of /proc/<pid>/cmdline: NUL-separated, with a NUL at the end (empty for a zombie). */
export function parseCommandLine(raw: string): string[] {
  return raw.split('\0').filter((arg) => arg !== '');
}

/** True when the arguments are those of a Kafka broker: `java … kafka.Kafka <properties>`. */
export function isBrokerCommandLine(args: readonly string[]): boolean {
  return args.includes(TOOLS.broker);
}

/**
 * The arguments `pid` runs with, or null when no such process is readable. From /proc on Linux; elsewhere from
 * `ps`, which gives them joined by spaces (enough to find the main class, which has none).
 */
export function commandLineOf(pid: number): string[] | null {
  if (existsSync('/proc/self/cmdline')) {
    try {
      return parseCommandLine(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
    } catch {
      return null;
    }
  }
  try {
    return execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .trim().split(/\s+/).filter((arg) => arg !== '');
  } catch {
    return null;
  }
}

/** True when `pid` is alive and runs a Kafka broker (a zombie has no arguments, so it is not). */
export function isBrokerProcess(pid: number): boolean {
  const args = commandLineOf(pid);
  return args !== null && isBrokerCommandLine(args);
}

/** True when a TCP connection to host:port opens within `timeoutMs`. */
export function accepts(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The first of `ports` on `host` that already accepts connections, or undefined when none does. */
export async function firstAcceptingPort(host: string, ports: readonly number[]): Promise<number | undefined> {
  for (const port of ports) {
    if (await accepts(host, port)) return port;
  }
  return undefined;
}

/** Why node `nodeId` is not started: a process this checkout did not start listens on one of its ports. */
export function portHeldMessage(nodeId: number, host: string, port: number): string {
  return (
    `node ${nodeId} not started: ${host}:${port} already accepts connections, and no broker this checkout started ` +
    `runs (its PID file names none), so a broker from elsewhere holds the port. The tests would run against that ` +
    `one. Stop it first: with \`npm run kafka -- stop\` in the checkout that started it, or by its PID, which ` +
    `\`ss -ltnp 'sport = :${port}'\` shows; or point the tests at it on purpose with KAFKA_BROKERS.`
  );
}
