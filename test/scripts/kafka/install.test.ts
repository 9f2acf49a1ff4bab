import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mavenArgs, withRetries } from '../../../scripts/kafka/install.js';

describe('the Maven install of the Kafka jars', () => {
  it('gives Maven read and request timeouts, so a stalled download fails instead of waiting for ever', () => {
    const args = mavenArgs('/k/libs');
    assert.ok(args.includes('-Dmaven.wagon.rto=120000'));
    assert.ok(args.includes('-Daether.connector.requestTimeout=120000'));
    assert.ok(args.includes('-DoutputDirectory=/k/libs'));
    assert.ok(args.includes('-B'), 'batch mode: no prompt, no progress bars');
  });

  it('tries again after a pause, and gives the result of the first try that succeeds', async () => {
    const retries: string[] = [];
    const result = await withRetries(
      async (tryNumber) => {
        if (tryNumber < 3) throw new Error(`refused ${tryNumber}`);
        return `jars on try ${tryNumber}`;
      },
      { tries: 3, pausesMs: [1, 2], onRetry: (error, tryNumber, pauseMs) => retries.push(`${(error as Error).message} ${tryNumber} ${pauseMs}`) },
    );
    assert.equal(result, 'jars on try 3');
    assert.deepEqual(retries, ['refused 1 1 1', 'refused 2 2 2']);
  });

  it('gives up after the last try with its error, reporting only the tries before it', async () => {
    let tries = 0;
    const retries: string[] = [];
    await assert.rejects(
      withRetries(async (tryNumber) => {
        tries++;
        throw new Error(`refused ${tryNumber}`);
      }, { tries: 3, pausesMs: [1], onRetry: (_error, tryNumber, pauseMs) => retries.push(`${tryNumber}:${pauseMs}`) }),
      /refused 3/,
    );
    assert.equal(tries, 3);
    assert.deepEqual(retries, ['1:1', '2:1'], 'the last pause is used again when the list is shorter');
  });
});
