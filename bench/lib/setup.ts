/**
 * Gets each client ready before the runs: bundles the Node drivers into plain JavaScript (client-bundles.ts),
 * installs the Node peers from their lock file, builds the franz-go program
 * and the librdkafka C loop (installing Debian's gcc and librdkafka-dev first when it runs as root with apt-get),
 * and checks Java and Kafka's tools jar. Each step resolves to ready or to the reason
 * the peer cannot run, which the bench reports as "skipped" (never dropped silently). Build outputs go to
 * bench/bin/ and bench/peers/node/node_modules/, both ignored by git. A step is skipped when its outputs are
 * newer than its inputs, but for the bundling, which takes about 0.1 s and is always redone.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LIBS_DIR } from '../../scripts/kafka/config.js';
import { bundleNodeClients } from './client-bundles.js';

export type Readiness = { readonly ready: true; readonly note?: string } | { readonly ready: false; readonly reason: string };

export const BENCH_DIR = fileURLToPath(new URL('../', import.meta.url));
export const BIN_DIR = join(BENCH_DIR, 'bin');
export const NODE_PEERS = join(BENCH_DIR, 'peers', 'node');
/** @platformatic/kafka 2.x, installed apart from 1.x (bench/peers/node) because it needs a newer Node. */
export const PLATFORMATIC_2_PEERS = join(BENCH_DIR, 'peers', 'platformatic-2');
/** The oldest Node @platformatic/kafka 2.x runs on (its `engines`). */
export const PLATFORMATIC_2_NODE = '22.22.0';
export const FRANZ_GO_DIR = join(BENCH_DIR, 'peers', 'franz-go');
export const FRANZ_GO_BIN = join(BIN_DIR, 'franz-go-peer');
export const KFAKE_DIR = join(BENCH_DIR, 'peers', 'kfake');
export const KFAKE_BIN = join(BIN_DIR, 'kfake');
export const LIBRDKAFKA_SOURCE = join(BENCH_DIR, 'peers', 'librdkafka', 'producer.c');
export const LIBRDKAFKA_BIN = join(BIN_DIR, 'librdkafka-peer');
/**
 * The Java driver of the saturation and transactional scenarios (KafkaProducer directly; ProducerPerformance runs the
 * fixed-rate ones): its source, and where javac puts its class.
 */
export const JAVA_DRIVER_SOURCE = join(BENCH_DIR, 'peers', 'java', 'ProducerPeer.java');
export const JAVA_DRIVER_DIR = join(BIN_DIR, 'java');

interface StepResult {
  readonly ok: boolean;
  readonly output: string;
}

function step(command: string, args: readonly string[], cwd: string, timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<StepResult> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim();
      resolve({ ok: error === null, output: error === null ? output : `${error.message.split('\n')[0]}\n${output}` });
    });
  });
}

/** Last lines of a failed step's output, for the skip reason. */
function tail(output: string, lines = 4): string {
  return output.split('\n').filter(Boolean).slice(-lines).join(' | ');
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function newerThanAll(output: string, inputs: readonly string[]): boolean {
  const built = mtime(output);
  return built > 0 && inputs.every((input) => mtime(input) <= built);
}

async function onPath(command: string): Promise<boolean> {
  return (await step('sh', ['-c', `command -v ${command}`], BENCH_DIR, 10_000)).ok;
}

/** The Node drivers as plain JavaScript (client-bundles.ts); every Node client's step begins with it. */
async function prepareNodeClients(): Promise<Readiness> {
  try {
    await bundleNodeClients();
    return { ready: true };
  } catch (error) {
    return { ready: false, reason: `bundling the Node drivers failed: ${tail(String(error))}` };
  }
}

/** `npm ci --prefix <dir>`, unless its node_modules already matches the lock file; the drivers bundled first. */
async function prepareNodePeers(dir: string): Promise<Readiness> {
  const clients = await prepare('node-clients');
  if (!clients.ready) return clients;
  const lock = join(dir, 'package-lock.json');
  const installed = join(dir, 'node_modules', '.package-lock.json');
  if (newerThanAll(installed, [lock, join(dir, 'package.json')])) return { ready: true };
  const result = await step('npm', ['ci', '--prefix', dir, '--no-audit', '--no-fund'], BENCH_DIR, 300_000);
  const shown = relative(join(BENCH_DIR, '..'), dir);
  if (!result.ok) return { ready: false, reason: `npm ci --prefix ${shown} failed (run it to see why, then rerun): ${tail(result.output)}` };
  return { ready: true };
}

/** Whether Node `version` (`v22.22.0` or `22.22.0`) is at least `minimum`, comparing major, minor and patch. */
export function nodeAtLeast(version: string, minimum: string): boolean {
  const parts = (text: string): number[] => text.replace(/^v/, '').split('.').map(Number);
  const have = parts(version);
  const need = parts(minimum);
  for (let i = 0; i < 3; i++) {
    if ((have[i] ?? 0) !== (need[i] ?? 0)) return (have[i] ?? 0) > (need[i] ?? 0);
  }
  return true;
}

/** @platformatic/kafka 2.x: only on a Node it runs on; elsewhere skipped with the Node to use. */
async function preparePlatformatic2(): Promise<Readiness> {
  if (!nodeAtLeast(process.version, PLATFORMATIC_2_NODE)) {
    return { ready: false, reason: `@platformatic/kafka 2.x needs Node >= ${PLATFORMATIC_2_NODE} and this is ${process.version}: run the bench with Node 22.22+ or 24 to include it` };
  }
  return prepareNodePeers(PLATFORMATIC_2_PEERS);
}

/** The `go` directive of `dir`'s go.mod: the oldest Go that builds it. */
export function goVersionOf(goMod: string): string | undefined {
  return /^go (\d+\.\d+(?:\.\d+)?)\s*$/m.exec(goMod)?.[1];
}

/** What a user without Go is told: which Go, and how it gets onto PATH. */
export function noGoReason(goMod: string): string {
  const version = goVersionOf(goMod) ?? 'recent';
  return `go is not on PATH: install Go ${version} or later from the Go project's downloads and add its bin directory to PATH (Debian's golang-go works only if it is that new), then rerun`;
}

/** `go build` of the Go program in `dir` into `bin`, unless `bin` is newer than its .go files, go.mod and go.sum. */
async function buildGo(dir: string, bin: string): Promise<Readiness> {
  if (!(await onPath('go'))) return { ready: false, reason: noGoReason(readFileSync(join(dir, 'go.mod'), 'utf8')) };
  const inputs = [...readdirSync(dir).filter((name) => name.endsWith('.go')), 'go.mod', 'go.sum'].map((name) => join(dir, name));
  if (newerThanAll(bin, inputs)) return { ready: true };
  await mkdir(BIN_DIR, { recursive: true });
  // -mod=mod lets go fetch the modules go.sum pins on a machine that has not got them yet.
  const env = { ...process.env, GOFLAGS: '-mod=mod' };
  const result = await step('go', ['build', '-o', bin, '.'], dir, 600_000, env);
  if (!result.ok) return { ready: false, reason: `go build failed: ${tail(result.output)}` };
  return { ready: true };
}

const prepareFranzGo = (): Promise<Readiness> => buildGo(FRANZ_GO_DIR, FRANZ_GO_BIN);

/** The in-memory broker for `--broker kfake` (bench/peers/kfake/main.go). */
export const prepareKfake = (): Promise<Readiness> => buildGo(KFAKE_DIR, KFAKE_BIN);

export interface BuildTools {
  readonly gcc: boolean;
  /** `#include <librdkafka/rdkafka.h>` compiles (false when there is no gcc to ask). */
  readonly headers: boolean;
  /** Root with apt-get on PATH: the bench may install Debian packages itself. */
  readonly apt: boolean;
  readonly root: boolean;
}

/**
 * What the librdkafka peer still needs, and whether the bench installs it (root with apt-get: a fresh container or
 * CI image) or tells the user the command to run.
 */
export function librdkafkaNeeds(tools: BuildTools): { readonly install: readonly string[] } | { readonly reason: string } | undefined {
  const packages = [...(tools.gcc ? [] : ['gcc']), ...(tools.headers ? [] : ['librdkafka-dev'])];
  if (packages.length === 0) return undefined;
  if (tools.apt && tools.root) return { install: packages };
  const missing = [...(tools.gcc ? [] : ['gcc is not on PATH']), ...(tools.headers ? [] : ['librdkafka headers are missing'])].join(' and ');
  const command = `${tools.root ? '' : 'sudo '}apt-get install -y ${packages.join(' ')}`;
  const how = tools.apt
    ? `run \`${command}\` and rerun`
    : `install ${packages.join(' and ')} (librdkafka's development files, 2.0 or later) with the system's package manager and rerun`;
  return { reason: `${missing}: ${how}` };
}

/**
 * `apt-get install -y` of Debian packages, said on stdout first; on failure once more after `apt-get update`, since
 * a fresh image often has no package lists.
 */
async function aptInstall(packages: readonly string[], why: string): Promise<StepResult> {
  process.stdout.write(`installing Debian's ${packages.join(', ')} with apt-get (${why})…\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = (): Promise<StepResult> => step('apt-get', ['install', '-y', ...packages], BENCH_DIR, 600_000, env);
  const first = await install();
  if (first.ok) return first;
  const update = await step('apt-get', ['update'], BENCH_DIR, 300_000, env);
  return update.ok ? install() : update;
}

async function buildTools(): Promise<BuildTools> {
  const gcc = await onPath('gcc');
  const probe = "printf '#include <librdkafka/rdkafka.h>\\n' | gcc -E -x c - -o /dev/null";
  const headers = gcc && (await step('sh', ['-c', probe], BENCH_DIR, 30_000)).ok;
  return { gcc, headers, apt: await onPath('apt-get'), root: process.getuid?.() === 0 };
}

async function prepareLibrdkafka(): Promise<Readiness> {
  const needs = librdkafkaNeeds(await buildTools());
  if (needs !== undefined && 'reason' in needs) return { ready: false, reason: needs.reason };
  if (needs !== undefined) {
    const installed = await aptInstall(needs.install, 'the librdkafka peer is built with gcc against its headers');
    if (!installed.ok) return { ready: false, reason: `apt-get install -y ${needs.install.join(' ')} failed: ${tail(installed.output)}` };
  }
  if (newerThanAll(LIBRDKAFKA_BIN, [LIBRDKAFKA_SOURCE])) return { ready: true };
  await mkdir(BIN_DIR, { recursive: true });
  const result = await step('gcc', ['-O2', '-Wall', '-o', LIBRDKAFKA_BIN, LIBRDKAFKA_SOURCE, '-lrdkafka'], BENCH_DIR, 120_000);
  if (result.ok) return { ready: true };
  return { ready: false, reason: `gcc failed: ${tail(result.output)}` };
}

async function prepareJava(): Promise<Readiness> {
  if (!(await onPath('java'))) {
    return { ready: false, reason: 'java is not on PATH: install a Java 17+ runtime (Debian: apt-get install -y default-jre-headless) and rerun' };
  }
  const jars = existsSync(LIBS_DIR) ? readdirSync(LIBS_DIR) : [];
  if (!jars.some((name) => name.startsWith('kafka-tools-') && name.endsWith('.jar'))) {
    return { ready: false, reason: `no kafka-tools jar in ${LIBS_DIR} (npm run kafka -- install)` };
  }
  return { ready: true };
}

/** javac of the Java driver against the broker's jars, unless its class is newer than its source. */
async function prepareJavaDriver(): Promise<Readiness> {
  const java = await prepare('java');
  if (!java.ready) return java;
  if (!(await onPath('javac'))) {
    return { ready: false, reason: 'javac is not on PATH: the Java driver (bench/peers/java/ProducerPeer.java) is compiled at bench time; install a JDK 17+ (Debian: apt-get install -y default-jdk-headless) and rerun' };
  }
  if (newerThanAll(join(JAVA_DRIVER_DIR, 'ProducerPeer.class'), [JAVA_DRIVER_SOURCE])) return { ready: true };
  await mkdir(JAVA_DRIVER_DIR, { recursive: true });
  const result = await step('javac', ['-cp', join(LIBS_DIR, '*'), '-d', JAVA_DRIVER_DIR, JAVA_DRIVER_SOURCE], BENCH_DIR, 120_000);
  if (!result.ok) return { ready: false, reason: `javac failed: ${tail(result.output)}` };
  return { ready: true };
}

const steps = {
  'node-clients': prepareNodeClients,
  'node-peers': () => prepareNodePeers(NODE_PEERS),
  'platformatic-2': preparePlatformatic2,
  'franz-go': prepareFranzGo,
  librdkafka: prepareLibrdkafka,
  java: prepareJava,
  'java-driver': prepareJavaDriver,
  none: async (): Promise<Readiness> => ({ ready: true }),
} as const;
export type SetupStep = keyof typeof steps;

const done = new Map<SetupStep, Promise<Readiness>>();

/** Runs a setup step once per process; later calls share its outcome. */
export function prepare(name: SetupStep): Promise<Readiness> {
  let outcome = done.get(name);
  if (outcome === undefined) {
    outcome = steps[name]().catch((error: unknown) => ({ ready: false as const, reason: `setup failed: ${String(error)}` }));
    done.set(name, outcome);
  }
  return outcome;
}
