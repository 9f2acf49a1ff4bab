#!/usr/bin/env node
/**
 * The `ringkafka` command (the package's `bin`): `ringkafka perf` measures how fast this machine produces to a
 * cluster, `ringkafka produce` sends stdin's lines. `ringkafka <command> --help` describes each. Exit status: 0 done,
 * 1 some records failed (or interrupted), 2 a usage mistake, named on stderr. A stdout or stderr that can no longer be
 * written does not end the run (output.ts): stderr's failure leaves the status as it was, and so does stdout's reader
 * going away (EPIPE); any other failure to write stdout (a full disk) makes it 1, as the output asked for is lost.
 */
import { readFileSync } from 'node:fs';
import { nearestName } from '../main/option-names.js';
import { UsageError, usageMistake } from './args.js';
import { isClosedPipe, Output, type Writer } from './output.js';
import { PERF_USAGE, runPerf } from './perf.js';
import { PRODUCE_USAGE, runProduce } from './produce.js';

const USAGE = `Usage: ringkafka <command> [options]

Commands:
  perf      how fast this machine produces to a cluster (records/s, MB/s, latency percentiles)
  produce   send stdin's lines (plain or NDJSON) as records

ringkafka <command> --help   the options of a command
ringkafka --version          the package version

Exit status: 0 done, 1 some records failed (or interrupted), 2 a usage mistake. A closed stderr or stdout (| head)
does not stop a run: nothing more is written to it, and the status is the same; a stdout that fails otherwise (a
full disk) makes it 1.`;

type Command = (argv: readonly string[], out: Writer, err: Writer) => Promise<number>;

const COMMANDS: Record<string, { readonly run: Command; readonly usage: string }> = {
  perf: { run: (argv, out, err) => runPerf(argv, out, err), usage: PERF_USAGE },
  produce: { run: (argv, out, err) => runProduce(argv, process.stdin, out, err), usage: PRODUCE_USAGE },
};

// Every write of the command goes through these, from the start: a write to a closed pipe raised an 'error' event
// no one handled, and the process died with the producer not closed (the records read and not yet sent lost).
const stdout = new Output(process.stdout);
const stderr = new Output(process.stderr);

/** An unknown command, with the command it most likely meant. */
function unknownCommand(name: string): string {
  const near = nearestName(name, Object.keys(COMMANDS));
  return `unknown command ${JSON.stringify(name)}${near === undefined ? '' : ` (did you mean ${near}?)`}`;
}

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

async function main(argv: readonly string[], out: Writer, err: Writer): Promise<number> {
  const [name, ...rest] = argv;
  // No command is a usage mistake (status 2, the usage on stderr), as the usage says; asking for help is not.
  if (name === undefined) {
    err.write(`ringkafka: no command given\n\n${USAGE}\n`);
    return 2;
  }
  if (name === '-h' || name === '--help' || name === 'help') {
    const asked = name === 'help' ? rest[0] : undefined;
    // `help nope` printed the general usage with status 0, as if there were such a command.
    if (asked !== undefined && COMMANDS[asked] === undefined) {
      err.write(`ringkafka: ${unknownCommand(asked)}\n\n${USAGE}\n`);
      return 2;
    }
    out.write(`${asked === undefined ? USAGE : COMMANDS[asked]!.usage}\n`);
    return 0;
  }
  if (name === '--version' || name === '-v') {
    out.write(`${version()}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    err.write(`ringkafka: ${unknownCommand(name)}\n\n${USAGE}\n`);
    return 2;
  }
  try {
    return await command.run(rest, out, err);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    err.write(usageMistake(name, error.message, command.usage));
    return 2;
  }
}

/** The exit status once stdout's writes are done: `code`, or 1 when stdout failed other than by its reader leaving. */
async function settled(code: number): Promise<number> {
  await stdout.flushed();
  const failure = stdout.failure;
  if (failure === undefined || isClosedPipe(failure)) return code;
  // A summary lost to a full disk (`perf --json > file`) is not a success a script can take for one.
  stderr.write(`ringkafka: could not write stdout: ${failure.message}\n`);
  return Math.max(code, 1);
}

main(process.argv.slice(2), stdout, stderr).then(
  async (code) => {
    process.exitCode = await settled(code);
  },
  async (error: unknown) => {
    // Not a usage mistake: a configuration the producer refused, an unreachable cluster… named, not a stack dump.
    stderr.write(`ringkafka: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
    process.exitCode = await settled(1);
  },
);
