/**
 * `npm test`: every test/**\/*.test.ts under Node's test runner (with tsx, so worker threads load TypeScript
 * sources too). When KAFKA_BROKERS is not set it starts the local single-node broker first, with its TLS and SASL
 * listeners (`--secure`), hands its addresses to the tests through KAFKA_BROKERS, KAFKA_SSL_BROKERS and
 * KAFKA_SASL_SSL_BROKERS, and stops it afterwards if it was this run that started it. With KAFKA_BROKERS set, the
 * secured addresses are those of the local broker when it runs secured, unless already set. Interrupted (SIGINT,
 * SIGTERM), it stops the broker if this run started it, and exits with the signal's status.
 *
 *   npm test                      all tests
 *   npm test -- test/protocol     only files under a folder (or name single files)
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import { constants } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './kafka/config.js';
import { runningPid, secureAddresses, start, stop } from './kafka/cluster.js';

async function findTests(path: string): Promise<string[]> {
  const info = await stat(path);
  if (info.isFile()) return [path];
  const found: string[] = [];
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) found.push(...(await findTests(full)));
    else if (entry.name.endsWith('.test.ts')) found.push(full);
  }
  return found.sort();
}

const targets = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
const runnerFlags = process.argv.slice(2).filter((arg) => arg.startsWith('-'));
const files = (await Promise.all((targets.length > 0 ? targets : [join(ROOT, 'test')]).map(findTests))).flat();

const kafkaLog = (line: string): void => console.log(`# kafka: ${line}`);
/** Set before start, not after: a signal while the broker starts must stop it too. Never set for a broker that ran already. */
let startedHere = false;
let child: ReturnType<typeof spawn> | undefined;
let interrupted = false;
/** After a signal: waits (keeping the process alive) while its handler stops the broker and exits. */
const untilHandlerExits = (): Promise<never> => new Promise(() => setInterval(() => {}, 60_000));

// A Ctrl-C or CI's own time limit (TERM) must not leave behind a broker this run started: stopped here, then the
// run exits as the signal would have ended it. The test runner, in the same process group, usually has the signal
// already; it is passed on in case it was sent to this process alone. A second signal exits at once.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    const status = 128 + constants.signals[signal];
    if (interrupted) process.exit(status);
    interrupted = true;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill(signal);
    if (!startedHere) process.exit(status);
    console.log(`# ${signal}: stopping the broker this run started (${signal} again to leave it running)`);
    stop({ log: kafkaLog }).then(
      () => process.exit(status),
      (error: unknown) => {
        console.error(`# could not stop the broker: ${String(error)}`);
        process.exit(status);
      },
    );
  });
}

if (!process.env.KAFKA_BROKERS) {
  startedHere = runningPid(1) === null;
  try {
    const addresses = await start({ nodes: 1, secure: true, log: kafkaLog });
    // A signal during the start: its handler's stop() waits for the start's lock (start-lock.ts), so the start ends
    // first, and the tests must not begin against a broker the handler is stopping (their runner outlived this run).
    if (interrupted) await untilHandlerExits();
    process.env.KAFKA_BROKERS = addresses.join(',');
  } catch (error) {
    if (interrupted) await untilHandlerExits();
    // A broker spawned but never answering is not left running either (stop signals only a PID this checkout wrote).
    if (startedHere) await stop({ log: kafkaLog });
    throw error;
  }
}
const secured = await secureAddresses();
if (!process.env.KAFKA_SSL_BROKERS && secured.ssl.length > 0) process.env.KAFKA_SSL_BROKERS = secured.ssl.join(',');
if (!process.env.KAFKA_SASL_SSL_BROKERS && secured.saslSsl.length > 0) {
  process.env.KAFKA_SASL_SSL_BROKERS = secured.saslSsl.join(',');
}
console.log(`# brokers: ${process.env.KAFKA_BROKERS}`);
if (process.env.KAFKA_SSL_BROKERS) console.log(`# SSL: ${process.env.KAFKA_SSL_BROKERS}`);
if (process.env.KAFKA_SASL_SSL_BROKERS) console.log(`# SASL_SSL: ${process.env.KAFKA_SASL_SSL_BROKERS}`);

// dist/ once for the whole run when more than one selected file uses the built package: each would otherwise
// rebuild it while another reads it (test/helpers/build-dist.ts).
const usingDist = (await Promise.all(files.map(async (file) => (await readFile(file, 'utf8')).includes('helpers/build-dist.js')))).filter(Boolean);
if (usingDist.length > 1) {
  const build = spawn(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
  const built = await new Promise<boolean>((resolve) => build.on('exit', (exitCode) => resolve(exitCode === 0)));
  if (built) process.env.DIST_BUILT_BY_TEST_RUN = '1';
  else console.log('# build of dist/ failed: the tests that use it build it again and report the error');
}

const started = spawn(
  process.execPath,
  // A hang must end as a failure that names its test, not as a CI run cut off at its limit: no test here needs
  // anywhere near 5 minutes.
  [
    // No --test-force-exit: on Node 24 it ended files before all their tests had reported (44 of 1,684 tests went
    // missing from a passing run), and on every line it would let a file that leaks a timer or a socket pass. A file
    // that keeps its process alive after its last test fails instead, naming what it left running: the leak guard
    // (test/helpers/leak-guard.mjs), without which Node 24's runner waited for it with no limit.
    '--import', 'tsx', '--import', pathToFileURL(join(ROOT, 'test/helpers/leak-guard.mjs')).href,
    '--test', '--test-reporter=spec', '--test-timeout=300000',
    ...runnerFlags, ...files.map((file) => relative(ROOT, file)),
  ],
  { cwd: ROOT, stdio: 'inherit', env: process.env },
);
child = started;
const code = await new Promise<number>((resolve) => started.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0))));

if (interrupted) await untilHandlerExits();
if (startedHere) await stop({ log: kafkaLog });
process.exit(code);
