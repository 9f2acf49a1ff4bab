/**
 * `npm run fuzz -- --minutes N --seed S [--runs R]`: a longer hostile-broker campaign than the one `npm test`
 * runs (test/fuzz/campaign.ts says what each run checks). Run k uses seed S + k, so any run replays alone with
 * `--seed <its seed> --runs 1`. Prints each failing run, then one summary line; exits 1 if any run failed.
 * Uses KAFKA_BROKERS when set, else the local broker (started if needed).
 */
import { parseArgs } from 'node:util';
import { useBroker } from '../test/helpers/broker.js';
import { FuzzSetupError, describeRun, fuzzRun } from '../test/fuzz/campaign.js';

const { values } = parseArgs({
  options: { minutes: { type: 'string', default: '1' }, seed: { type: 'string' }, runs: { type: 'string' } },
});
const minutes = Number(values.minutes);
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
const maxRuns = values.runs === undefined ? Infinity : Number(values.runs);
if (!(minutes > 0) || !Number.isInteger(seed) || !(maxRuns > 0)) {
  console.error('usage: npm run fuzz -- [--minutes N] [--seed S] [--runs R]');
  process.exit(2);
}

// A throw out of the event loop is a crash of the process under test: counted, reported, and the campaign goes on.
let crashes = 0;
const crash = (error: unknown): void => {
  crashes++;
  console.error(`crash: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
};
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);

const [broker] = await useBroker();
const until = Date.now() + minutes * 60_000;
let runs = 0;
let frames = 0;
let mutated = 0;
let hangs = 0;
let workerDeaths = 0;
let failed = 0;
let setupErrors = 0;
/** Answers mutated over the campaign, by kind: which mutations a campaign really made. */
const byKind = new Map<string, number>();
while (runs < maxRuns && Date.now() < until) {
  const crashesBefore = crashes;
  let run;
  try {
    run = await fuzzRun({ seed: seed + runs, broker: broker! });
  } catch (error) {
    // Setting a run up (its topic, the proxy) needs the real broker; one being restarted is not a finding. Any
    // other throw is: it came from the run's own checks or from the producer (counted as a failed run before, as a
    // setup error, which left the exit status 0).
    if (!(error instanceof FuzzSetupError)) {
      runs++;
      failed++;
      console.log(`FAILED run ${seed + runs - 1}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      continue;
    }
    setupErrors++;
    console.error(error.message);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    continue;
  }
  runs++;
  for (const [kind, count] of run.byKind) byKind.set(kind, (byKind.get(kind) ?? 0) + count);
  frames += run.frames;
  mutated += run.mutated;
  hangs += run.hangs;
  workerDeaths += run.workerDeaths;
  if (run.violations.length > 0 || crashes > crashesBefore) {
    failed++;
    console.log(`FAILED ${describeRun(run)}`);
  }
}
console.log(
  `fuzz: runs=${runs} frames=${frames} mutated=${mutated} crashes=${crashes} hangs=${hangs} workerDeaths=${workerDeaths} ` +
    `failedRuns=${failed} setupErrors=${setupErrors} seed=${seed}`,
);
console.log(`mutations: ${[...byKind].map(([kind, count]) => `${kind}=${count}`).join(' ')}`);
// A campaign that ran nothing (the broker away the whole time) found nothing either: that is no pass.
if (runs === 0) console.error('no run started: is the broker up?');
process.exit(failed > 0 || crashes > 0 || runs === 0 ? 1 : 0);
