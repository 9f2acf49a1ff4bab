/**
 * Installs the Kafka jars with Maven into .kafka/libs, once: a stamp file records the version, so a later start
 * reuses the jars and a change of KAFKA_VERSION installs afresh.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KAFKA_VERSION, LIBS_DIR, POM } from './config.js';

const run = promisify(execFile);
const STAMP = join(LIBS_DIR, '.version');

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
  await rm(LIBS_DIR, { recursive: true, force: true });
  await mkdir(LIBS_DIR, { recursive: true });
  try {
    await run(
      'mvn',
      [
        '-q', '-B', '-f', POM, 'dependency:copy-dependencies',
        `-Dkafka.version=${KAFKA_VERSION}`, '-DincludeScope=runtime', `-DoutputDirectory=${LIBS_DIR}`,
      ],
      { maxBuffer: 64 * 1024 * 1024 },
    );
  } catch (error) {
    const output = error as { stdout?: string; stderr?: string };
    throw new Error(`mvn could not install Kafka ${KAFKA_VERSION}:\n${output.stdout ?? ''}${output.stderr ?? ''}`, {
      cause: error,
    });
  }
  const jars = (await readdir(LIBS_DIR)).filter((name) => name.endsWith('.jar'));
  if (!jars.some((name) => name.startsWith('kafka_2.13-'))) throw new Error('mvn finished but no kafka_2.13 jar arrived');
  await writeFile(STAMP, `${KAFKA_VERSION}\n`);
  log(`installed ${jars.length} jars`);
}
