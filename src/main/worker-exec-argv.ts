/**
 * The Node flags the worker threads start with. A Worker takes the flags it is given (piscina passes ours), and
 * Node refuses every flag that belongs to the whole process rather than to one thread — V8's flags
 * (`--max-old-space-size`, `--expose-gc`, `--stack-size`, `--stack-trace-limit`…) and Node's per-process ones
 * (`--v8-pool-size`, `--secure-heap`, `--title`…) — with ERR_WORKER_INVALID_EXEC_ARGV. Passing the parent's
 * `process.execArgv` on unchanged would make `node --max-old-space-size=512 app.js` unable to start a worker.
 *
 * Which flags a worker accepts is Node's to say, and it changes between versions: Node 20 refuses
 * `--experimental-strip-types` and `--watch`, 22 accepts the first, 24 both; 24 refuses `--experimental-permission`,
 * which 20 and 22 accept; and any V8 flag at all is refused. A list kept here would be wrong on some Node, so each
 * flag is put to Node itself. The Worker constructor checks its flags before it starts a thread and throws at
 * once, naming what it refused; given a flag that can never be valid (the sentinel) first, it always throws, and
 * its message is the sentinel's own message exactly when Node takes the rest. So a probe starts no thread, costs
 * tens of microseconds, and reads no message format: it only compares two messages.
 *
 * Nothing a worker needs is lost by dropping a process-wide flag: it is process-wide, so the worker is already
 * under it (a worker's default heap limit follows `--max-old-space-size`, for one).
 */
import { Worker } from 'node:worker_threads';

/** No Node or V8 flag of this name exists or can be added (`--ringkafka-…`), so Node refuses it in every version. */
const SENTINEL = '--ringkafka-never-a-node-flag';

/** `tsx`, `tsx/esm`, or a path into tsx's package (what the tsx command line passes). */
const TSX = /^tsx(\/|$)|[\\/]node_modules[\\/]tsx[\\/]/;

export interface WorkerExecArgvOptions {
  /**
   * Whether the workers run from TypeScript sources (tests, tsx) and so need the TypeScript loader. From dist/
   * they do not, and a loader inherited from a parent run under tsx (a bench, a test, an app) would re-transform
   * every worker module on the hot path, so it is left out.
   */
  readonly fromSource: boolean;
}

/**
 * The flags from `parentArgv` (the parent's `process.execArgv`) that the worker threads start with.
 *
 * From dist/, without the tsx loader, a TypeScript preload (`--import ./instrumentation.ts` under tsx, the usual
 * OpenTelemetry set-up) loads in a worker only where Node strips types itself (`process.features.typescript`, Node
 * 22.18 on). Elsewhere it stopped every worker from starting, and the loader kept would not help (on Node 20 the
 * hooks a worker's `--import tsx` registers do not reach the preloads after it): there it is left out of the
 * workers' flags. It still runs on the main thread; the workers run only ringkafka's code.
 */
export function workerExecArgv(parentArgv: readonly string[], { fromSource }: WorkerExecArgvOptions): string[] {
  const units = flagUnits(parentArgv).filter(
    (unit) => fromSource || !(isTsxLoader(unit) || (!NODE_STRIPS_TYPES && TYPESCRIPT_FILE.test(preloaded(unit) ?? ''))),
  );
  return acceptedInWorker(units).flat();
}

/** A file a TypeScript loader must transform. */
const TYPESCRIPT_FILE = /\.[cm]?tsx?$/;

/** Whether Node loads TypeScript files itself (type stripping, on by default from Node 22.18). */
export const NODE_STRIPS_TYPES = Boolean((process.features as { typescript?: unknown }).typescript);

/**
 * Splits flags into units: a flag with the values that follow it as separate arguments (`--import tsx`,
 * `-C development`). A unit is kept or dropped whole.
 */
export function flagUnits(argv: readonly string[]): string[][] {
  const units: string[][] = [];
  for (const arg of argv) {
    const last = units.at(-1);
    if (last !== undefined && !arg.startsWith('-')) last.push(arg);
    else units.push([arg]);
  }
  return units;
}

function isTsxLoader(unit: readonly string[]): boolean {
  return TSX.test(preloaded(unit) ?? '');
}

/** What a preload or loader flag names (`--import x`, `--require=x`, `-r x`…); undefined for any other flag. */
function preloaded(unit: readonly string[]): string | undefined {
  const [flag, value] = unit;
  if (flag === '--import' || flag === '--require' || flag === '-r' || flag === '--loader' || flag === '--experimental-loader') {
    return value;
  }
  return /^--(?:import|require|loader|experimental-loader)=(.*)$/.exec(flag ?? '')?.[1];
}

/**
 * The units Node accepts in a Worker, in order. Each is tried together with those already kept, so two flags that
 * Node accepts alone but not together (a conflict it reports as an error) cannot both pass.
 */
export function acceptedInWorker(units: readonly (readonly string[])[]): string[][] {
  const baseline = refusal([]);
  // Node accepted the sentinel (it never has): a probe cannot tell anything, so the flags go as they are and a
  // refused one fails the start with WorkerStartError.
  if (baseline === undefined) return units.map((unit) => [...unit]);
  // Usually every flag is fine: one probe.
  if (refusal(units.flat()) === baseline) return units.map((unit) => [...unit]);
  const kept: string[][] = [];
  for (const unit of units) {
    if (refusal([...kept.flat(), ...unit]) === baseline) kept.push([...unit]);
  }
  return kept;
}

/**
 * The message of the ERR_WORKER_INVALID_EXEC_ARGV that `new Worker` throws for the sentinel followed by `flags`;
 * undefined if it did not throw that (then a thread was started, and is stopped at once).
 */
function refusal(flags: readonly string[]): string | undefined {
  let worker: Worker;
  try {
    worker = new Worker('', { eval: true, execArgv: [SENTINEL, ...flags] });
  } catch (error) {
    return (error as { code?: unknown }).code === 'ERR_WORKER_INVALID_EXEC_ARGV' ? (error as Error).message : undefined;
  }
  worker.unref();
  worker.on('error', () => undefined);
  void worker.terminate();
  return undefined;
}
