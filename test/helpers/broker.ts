/**
 * The real broker for integration tests, and Kafka's own tools as the independent reader of what we wrote.
 *
 * `npm test` starts the local broker once and passes KAFKA_BROKERS; a test file run on its own starts it here
 * (a no-op when it already runs) and stops it when the process exits, if it was this process that started it.
 */
import { execFile } from 'node:child_process';
import { CLASSPATH, TOOLS } from '../../scripts/kafka/config.js';
import { runningPid, start } from '../../scripts/kafka/cluster.js';

export { TOOLS };

let brokers: Promise<string[]> | undefined;

/** Bootstrap addresses: KAFKA_BROKERS when set, else the local single node, started if needed. */
export function useBroker(): Promise<string[]> {
  brokers ??= (async () => {
    const fromEnv = process.env.KAFKA_BROKERS;
    if (fromEnv) return fromEnv.split(',').map((address) => address.trim()).filter(Boolean);
    const wasRunning = runningPid(1) !== null;
    const addresses = await start({ nodes: 1, log: () => {} });
    if (!wasRunning) {
      // process.kill is synchronous, so it still works inside an 'exit' handler.
      process.once('exit', () => {
        const pid = runningPid(1);
        if (pid !== null) process.kill(pid, 'SIGTERM');
      });
    }
    return addresses;
  })();
  return brokers;
}

export interface ToolResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs one of Kafka's Java tools from .kafka/libs and resolves with its output; rejects on a non-zero exit. */
export function runKafkaTool(mainClass: string, args: readonly string[], timeoutMs = 120_000): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'java',
      ['-Xmx512m', '-cp', CLASSPATH, mainClass, ...args],
      { timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${mainClass} failed: ${error.message}\n${stderr}`, { cause: error }));
        else resolve({ stdout, stderr });
      },
    );
  });
}

/** A topic name no other test or run uses. */
export function uniqueTopic(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
