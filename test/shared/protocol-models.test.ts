/**
 * Model checks of the wait/notify protocols (docs/shared-memory.md): each Promela model in test/shared/models is
 * compiled into a verifier with Spin and gcc and searched exhaustively. The fixed protocol (the code as it is)
 * must verify with no error; the BUGGY variant (a protocol that loses a wake-up) must be rejected with a
 * counterexample, which proves that the property checked can fail at all.
 *
 * Needs `spin` and `gcc` on the PATH: .ci/run installs Debian's `spin` package (CI does). No Kafka broker.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const MODELS = fileURLToPath(new URL('./models/', import.meta.url));
/** Deep enough for every model (their depths are a few hundred steps): a truncated search must not pass. */
const MAX_DEPTH = 100_000;
const MAX_BUFFER = 16 * 1024 * 1024;

interface Model {
  readonly file: string;
  /** Defines of this configuration of the model, for both runs (e.g. ring.pml without the main thread's demand). */
  readonly defines?: readonly string[];
  /** Its negative variants: each must be rejected with a lost wake-up. */
  readonly negatives: readonly Negative[];
}

interface Negative {
  /** The define that makes the variant. */
  readonly define: string;
  /** Steps every counterexample of the variant must pass through (labels in the model). */
  readonly lostWakeUp: readonly string[];
}

const models: readonly Model[] = [
  {
    file: 'completion-signal.pml',
    negatives: [{ define: '-DBUGGY', lostWakeUp: ['count', 'snapshot', 'drain', 'sleepy', 'swap', 'notify', 'sleep'] }],
  },
  {
    file: 'ring.pml',
    negatives: [
      { define: '-DBUGGY', lostWakeUp: ['read', 'seal', 'demand', 'kick', 'idle', 'sleepy', 'recheck', 'sleep'] },
      // A worker lingering with no batch open (records just read) must still heed the demand.
      { define: '-DBUGGY_IDLE', lostWakeUp: ['read', 'seal', 'linger', 'wakeat', 'demand', 'kick', 'sleepy', 'recheck', 'sleep'] },
    ],
  },
  // Without the demand that wakes every worker at the end, a lingering worker must be woken by the records alone.
  {
    file: 'ring.pml', defines: ['-DNODEMAND'],
    negatives: [{ define: '-DBUGGY_LINGER', lostWakeUp: ['read', 'linger', 'wakeat', 'publish', 'look', 'sleepy', 'recheck', 'sleep'] }],
  },
  // A writer waiting for room kicks its lingering reader; a kick before the reader's sleeping word must not be lost.
  {
    file: 'ring-linger-space.pml',
    negatives: [{ define: '-DBUGGY', lostWakeUp: ['idle', 'publish', 'fits', 'kick', 'sleepy', 'recheck', 'sleep'] }],
  },
  {
    file: 'ring-space.pml',
    negatives: [{ define: '-DBUGGY', lostWakeUp: ['publish', 'fits', 'consume', 'free', 'look', 'sleepy', 'sleep'] }],
  },
];

function nameOf(model: Model): string {
  return [model.file, ...(model.defines ?? [])].join(' ');
}

let tools: Promise<void> | undefined;

/** Fails (never skips) when a tool is missing, saying how to get it. */
function requireTools(): Promise<void> {
  tools ??= (async () => {
    for (const [tool, args] of [['spin', ['-V']], ['gcc', ['--version']]] as const) {
      try {
        await exec(tool, [...args]);
      } catch (error) {
        throw new Error(
          `\`${tool}\` is not installed or not on the PATH: the protocol models need Spin and gcc. ` +
            `.ci/run installs Debian's \`spin\` and \`gcc\` packages (CI does); locally: apt-get install spin gcc`,
          { cause: error },
        );
      }
    }
  })();
  return tools;
}

/** Runs a command in `cwd`; returns its output whatever its exit status (pan's does not report errors). */
async function output(command: string, args: readonly string[], cwd: string): Promise<string> {
  try {
    const { stdout, stderr } = await exec(command, [...args], { cwd, maxBuffer: MAX_BUFFER });
    return stdout + stderr;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    if (stdout === '' && stderr === '') throw error;
    return stdout + stderr;
  }
}

interface Verdict {
  readonly report: string;
  readonly errors: number;
  readonly states: number;
  readonly depth: number;
  readonly seconds: number;
  /** The counterexample replayed as "process step" lines, or undefined when pan wrote no trail. */
  readonly trail: readonly string[] | undefined;
}

/** spin -a, gcc, pan in a fresh directory; then, if pan wrote a trail, spin -t -p to replay it. */
async function verify(model: Model, negative?: Negative): Promise<Verdict> {
  await requireTools();
  const buggy = negative !== undefined;
  const dir = await mkdtemp(join(tmpdir(), 'ringkafka-spin-'));
  try {
    const defines = [...(model.defines ?? []), ...(buggy ? [negative.define] : [])];
    await copyFile(join(MODELS, model.file), join(dir, model.file));
    const generated = await output('spin', [...defines, '-a', model.file], dir);
    await access(join(dir, 'pan.c')).catch(() => assert.fail(`spin -a ${model.file} generated no verifier:\n${generated}`));
    // -O1 compiles in a third less time than -O2 and the verifier runs as fast; a BUGGY search stops within a
    // few hundred states, so it gets the fastest compile, -O0. SAFETY: the properties are assertions and
    // invalid end states (a process blocked for good), no cycles or LTL.
    await exec('gcc', [buggy ? '-O0' : '-O1', '-DSAFETY', '-o', 'pan', 'pan.c'], { cwd: dir, maxBuffer: MAX_BUFFER });
    const report = await output('./pan', [`-m${MAX_DEPTH}`], dir);
    const number = (pattern: RegExp): number => {
      const match = pattern.exec(report);
      assert.ok(match, `pan's report lacks ${pattern}:\n${report}`);
      return Number(match[1]);
    };
    const errors = number(/errors: (\d+)/);
    const states = number(/(\d+) states, stored/);
    const depth = number(/depth reached (\d+)/);
    const seconds = number(/elapsed time ([\d.e+-]+)/);
    const trailFile = join(dir, `${model.file}.trail`);
    let trail: string[] | undefined;
    if (await access(trailFile).then(() => true, () => false)) {
      const replay = await output('spin', [...defines, '-t', '-p', model.file], dir);
      trail = steps(replay, await readFile(join(dir, model.file), 'utf8'));
    }
    return { report, errors, states, depth, seconds, trail };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Labels that only structure a model's control flow; they name no step of the protocol. */
const JUMP_TARGETS = new Set(['next', 'done', 'finished', 'end_worker']);

/**
 * The labelled steps of a replayed trail, one entry per step ("Worker[2] count"). spin -p names the source line
 * of every step it replays; a label stands for its statement: the lines after it up to the first statement,
 * with the guards of an `if` or `do` that opens it, and never past the next label or the end of its block.
 */
function steps(replay: string, source: string): string[] {
  const lines = source.split('\n');
  const labelOf = new Map<number, string>();
  for (let i = 0; i < lines.length; i++) {
    const label = /^\s*([A-Za-z_]\w*):\s*$/.exec(lines[i]!)?.[1];
    if (label === undefined || JUMP_TARGETS.has(label)) continue;
    let statement = false;
    for (let j = i + 1; j < lines.length; j++) {
      const text = lines[j]!.trim();
      if (/^[A-Za-z_]\w*:\s*$/.test(text) || /^(fi|od)\b/.test(text) || text.startsWith('}')) break;
      if (text.startsWith('::') && statement) break;
      if (!text.startsWith('::') && !/^(if|do|d_step\s*\{|atomic\s*\{)$/.test(text)) statement = true;
      labelOf.set(j + 1, label); // spin numbers lines from 1
    }
  }
  const out: string[] = [];
  for (const match of replay.matchAll(/proc\s+(\d+)\s+\((\w+):\d+\)\s+\S+?\.pml:(\d+)/g)) {
    const label = labelOf.get(Number(match[3]));
    if (label === undefined) continue;
    const step = `${match[2]}[${match[1]}] ${label}`;
    if (out.at(-1) !== step) out.push(step);
  }
  return out;
}

function summary(verdict: Verdict): string {
  return `${verdict.states} states stored, depth ${verdict.depth}, errors: ${verdict.errors}, ${verdict.seconds} s`;
}

describe('Spin models of the wait/notify protocols', { concurrency: true }, () => {
  for (const model of models) {
    it(`${nameOf(model)}: the protocol as coded loses no wake-up (exhaustive search, 0 errors)`, async (t: TestContext) => {
      const verdict = await verify(model);
      t.diagnostic(summary(verdict));
      assert.doesNotMatch(verdict.report, /max search depth too small/, `search truncated by depth:\n${verdict.report}`);
      assert.doesNotMatch(verdict.report, /out of memory|search not completed/i, `search incomplete:\n${verdict.report}`);
      assert.match(verdict.report, /Full statespace search/, verdict.report);
      assert.ok(verdict.depth < MAX_DEPTH, `depth ${verdict.depth} reached the -m limit`);
      assert.equal(
        verdict.errors,
        0,
        `pan found an error in ${nameOf(model)}; counterexample:\n${(verdict.trail ?? []).join('\n')}\n${verdict.report}`,
      );
      assert.equal(verdict.trail, undefined, 'pan wrote a trail although it reported no error');
    });

    for (const negative of model.negatives) {
      it(`${nameOf(model)} ${negative.define}: the negative variant is rejected with a lost wake-up counterexample`, async (t: TestContext) => {
        const verdict = await verify(model, negative);
        t.diagnostic(summary(verdict));
        assert.ok(verdict.errors >= 1, `the BUGGY variant verified, so the model checks nothing:\n${verdict.report}`);
        assert.match(verdict.report, /invalid end state/, `expected a process blocked for good:\n${verdict.report}`);
        assert.ok(verdict.trail !== undefined, `pan wrote no trail file:\n${verdict.report}`);
        const trail = verdict.trail;
        t.diagnostic(`counterexample: ${trail.join(' → ')}`);
        const taken = new Set(trail.map((step) => step.split(' ')[1]));
        for (const step of negative.lostWakeUp) {
          assert.ok(taken.has(step), `counterexample lacks step \`${step}\`:\n${trail.join('\n')}`);
        }
      });
    }
  }
});
