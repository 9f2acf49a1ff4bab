/**
 * The Node clients run as plain JavaScript, the way a service runs its compiled code, not through tsx. tsx compiles
 * TypeScript as modules load, from a loader thread of its own that stays for the life of the process: 34 MiB of
 * resident memory in a producer process connected to kfake (VmRSS 121 MiB with `--import tsx`, 87 MiB without),
 * and part of every Node client's peak RSS in this bench, though no service in production carries it.
 *
 * So each driver (bench/clients/<name>.ts) is bundled with its helpers into one file, bench/bin/client-<name>.mjs,
 * before the runs. Packages stay imports: the peers from their own installs, and ringkafka by its package name, so
 * the driver loads the built package (dist/) as a user's code does, and its worker threads start from there. The
 * bundles sit one folder below bench/, as the drivers do, so the paths they resolve from their own location
 * (peer-modules.ts: `../peers/…`) name the same folders.
 */
import { build } from 'esbuild';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The same folders as setup.ts names; computed here too, since setup.ts runs the bundling step.
const BENCH_DIR = fileURLToPath(new URL('../', import.meta.url));
const BIN_DIR = join(BENCH_DIR, 'bin');

/** The drivers that run as Node processes (bench/clients/). */
export const NODE_DRIVERS = ['ringkafka', 'kafkajs', 'platformatic'] as const;
export type NodeDriver = (typeof NODE_DRIVERS)[number];

/** Where a driver's bundle is written. */
export function clientBundle(driver: NodeDriver, dir: string = BIN_DIR): string {
  return join(dir, `client-${driver}.mjs`);
}

/** Bundles every Node driver into `dir` (about 0.1 s, so it is redone before every bench run). */
export async function bundleNodeClients(dir: string = BIN_DIR): Promise<void> {
  await build({
    entryPoints: NODE_DRIVERS.map((driver) => join(BENCH_DIR, 'clients', `${driver}.ts`)),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Every package stays an import: the peers resolve from their installs, ringkafka from the built dist/.
    packages: 'external',
    outdir: dir,
    entryNames: 'client-[name]',
    outExtension: { '.js': '.mjs' },
    logLevel: 'silent',
  });
}
