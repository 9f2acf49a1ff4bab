/**
 * The short seeded fuzz campaign `npm test` runs: one run per codec through the hostile proxy in front of the
 * real broker (campaign.ts says what each run checks). A failing run prints its seed; replay it with
 * `npm run fuzz -- --seed <seed> --runs 1`. `npm run fuzz -- --minutes N` runs a longer campaign.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useBroker } from '../helpers/broker.js';
import { CODECS, describeRun, fuzzRun } from './campaign.js';

const SEED = 0x12c0ffee;

test('hostile broker: seeded runs, one per codec, keep every promise, deadline and acknowledgement honest', { timeout: 90_000 }, async () => {
  const [broker] = await useBroker();
  let mutated = 0;
  let delivered = 0;
  for (let i = 0; i < CODECS.length; i++) {
    const run = await fuzzRun({ seed: SEED + i, broker: broker!, codec: CODECS[i]! });
    console.log(`# ${describeRun(run)}`);
    mutated += run.mutated;
    delivered += run.delivered;
    assert.deepEqual(run.violations, [], describeRun(run));
  }
  assert.ok(mutated > 0, 'the proxy mutated answers');
  // A producer that stopped recovering after its first bad answer would fail every send honestly, by its deadline,
  // and pass every check above.
  assert.ok(delivered > 0, 'records were delivered between the bad answers');
});
