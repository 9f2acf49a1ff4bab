/**
 * Installs the Kafka jars with Maven into .kafka/libs, once: a stamp file records the version, so a later start
 * reuses the jars and a change of KAFKA_VERSION installs afresh.
 *
 * The download depends on the network: a repository that stops answering mid-transfer would otherwise hold the run
 * until CI's own limit, and one dropped connection fail it. Each try is given a time limit
 * (Maven's own read and request timeouts first, so a stalled transfer fails with Maven's error rather than our
 * kill), and a failed try is made again after a pause, up to MAVEN_TRIES in all.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KAFKA_VERSION, LIBS_DIR, POM } from './config.js';

const run = promisify(execFile);
const STAMP = join(LIBS_DIR, '.version');

export const MAVEN_TRIES = 3;
/** One try's limit, far above what downloading the jars takes: after it the try is killed and counted as failed. */
const MAVEN_TRY_TIMEOUT_MS = 10 * 60_000;
/** Pause before the second and third tries. */
const MAVEN_PAUSES_MS = [15_000, 45_000] as const;

/** Maven's arguments for one install: the jars of KAFKA_VERSION with their runtime dependencies into `outputDirectory`. */
export function mavenArgs(outputDirectory: string): string[] {
  return [
    '-q', '-B', '-f', POM, 'dependency:copy-dependencies',
    `-Dkafka.version=${KAFKA_VERSION}`, '-DincludeScope=runtime', `-DoutputDirectory=${outputDirectory}`,
    // Read timeout of the HTTP transport Maven 3.8 uses (wagon), and request timeout of the one Maven 3.9 uses
    // (the resolver's connector), 2 minutes each: a stalled download fails instead of waiting for ever.
    '-Dmaven.wagon.rto=120000', '-Daether.connector.requestTimeout=120000',
  ];
}

/**
 * Runs `attempt` up to `tries` times; before a retry, reports the failure and waits `pauses[i]` (the last pause
 * again when there are fewer). Rejects with the last failure.
 */
export async function withRetries<T>(
  attempt: (tryNumber: number) => Promise<T>,
  options: { tries: number; pausesMs: readonly number[]; onRetry: (error: unknown, tryNumber: number, pauseMs: number) => void },
): Promise<T> {
  for (let tryNumber = 1; ; tryNumber++) {
    try {
      return await attempt(tryNumber);
    } catch (error) {
      if (tryNumber >= options.tries) throw error;
      const pauseMs = options.pausesMs[Math.min(tryNumber - 1, options.pausesMs.length - 1)] ?? 0;
      options.onRetry(error, tryNumber, pauseMs);
      await sleep(pauseMs);
    }
  }
}

export async function installedVersion(): Promise<string | null> {
  try {
    return (await readFile(STAMP, 'utf8')).trim();
  } catch {
    return null;
  }
}

export async function ensureInstalled(log: (line: string) => void = console.log): Promise<void> {
  if ((await installedVersion()) === KAFKA_VERSION) return;
  log(`installing Apache Kafka ${KAFKA_VERSION} jars with Maven into ${LIBS_DIR}`);
  await withRetries(
    async (tryNumber) => {
      // Afresh each try: a killed try may have left part of a jar behind.
      await rm(LIBS_DIR, { recursive: true, force: true });
      await mkdir(LIBS_DIR, { recursive: true });
      try {
        await run('mvn', mavenArgs(LIBS_DIR), { maxBuffer: 64 * 1024 * 1024, timeout: MAVEN_TRY_TIMEOUT_MS, killSignal: 'SIGKILL' });
      } catch (error) {
        const output = error as { stdout?: string; stderr?: string; killed?: boolean };
        const why = output.killed === true ? ` (killed after ${MAVEN_TRY_TIMEOUT_MS / 60_000} minutes)` : '';
        throw new Error(
          `mvn could not install Kafka ${KAFKA_VERSION}, try ${tryNumber} of ${MAVEN_TRIES}${why}:\n${output.stdout ?? ''}${output.stderr ?? ''}`,
          { cause: error },
        );
      }
    },
    {
      tries: MAVEN_TRIES,
      pausesMs: MAVEN_PAUSES_MS,
      onRetry: (error, tryNumber, pauseMs) =>
        log(`${(error as Error).message.trimEnd()}\ntrying again in ${pauseMs / 1000} s (try ${tryNumber + 1} of ${MAVEN_TRIES})`),
    },
  );
  const jars = (await readdir(LIBS_DIR)).filter((name) => name.endsWith('.jar'));
  if (!jars.some((name) => name.startsWith('kafka_2.13-'))) throw new Error('mvn finished but no kafka_2.13 jar arrived');
  await writeFile(STAMP, `${KAFKA_VERSION}\n`);
  log(`installed ${jars.length} jars`);
}
