#!/usr/bin/env node
/**
 * The `ringkafka` command (the package's `bin`): `ringkafka perf` measures how fast this machine produces to a
 * cluster, `ringkafka produce` sends stdin's lines. `ringkafka <command> --help` describes each. Exit status: 0 done,
 * 1 some records failed (or interrupted), 2 a usage mistake, named on stderr.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from './args.js';
import { PERF_USAGE, runPerf } from './perf.js';
import { PRODUCE_USAGE, runProduce } from './produce.js';

const USAGE = `Usage: ringkafka <command> [options]

Commands:
  perf      how fast this machine produces to a cluster (records/s, MB/s, latency percentiles)
  produce   send stdin's lines (plain or NDJSON) as records

ringkafka <command> --help   the options of a command
ringkafka --version          the package version`;

const COMMANDS: Record<string, { readonly run: (argv: readonly string[]) => Promise<number>; readonly usage: string }> = {
  perf: { run: (argv) => runPerf(argv), usage: PERF_USAGE },
  produce: { run: (argv) => runProduce(argv), usage: PRODUCE_USAGE },
};

/** The package's version: package.json is two folders up from src/cli and three from dist/src/cli. */
function version(): string {
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'ringkafka') return pkg.version ?? 'unknown';
    } catch {
      // not at this depth
    }
  }
  return 'unknown';
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    const topic = name === 'help' ? COMMANDS[rest[0] ?? ''] : undefined;
    process.stdout.write(`${topic?.usage ?? USAGE}\n`);
    return 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    process.stderr.write(`ringkafka: unknown command ${JSON.stringify(name)}\n\n${USAGE}\n`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`ringkafka ${name}: ${error.message}\n\n${command.usage}\n`);
    return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Not a usage mistake: a configuration the producer refused, an unreachable cluster… named, not a stack dump.
    process.stderr.write(`ringkafka: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
    process.exitCode = 1;
  },
);
