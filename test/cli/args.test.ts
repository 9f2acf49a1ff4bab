import { test } from 'node:test';
import assert from 'node:assert/strict';
import { choiceFlag, numberFlag, parseFlags, UsageError, usageMistake } from '../../src/cli/args.js';

const FLAGS = { records: { type: 'string' }, json: { type: 'boolean' } } as const;

test('numbers as people write them: 1e6 and 1000000 alike', () => {
  assert.equal(numberFlag({ records: '1e6' }, 'records', { integer: true }), 1_000_000);
  assert.equal(numberFlag({ records: '1000000' }, 'records', { integer: true }), 1_000_000);
  assert.equal(numberFlag({}, 'records'), undefined);
});

test('a bad number names the flag and the rule', () => {
  assert.throws(() => numberFlag({ records: 'x' }, 'records', { min: 1, max: 10, integer: true }), (e: Error) => e instanceof UsageError && e.message === '--records must be an integer from 1 to 10, got "x"');
  assert.throws(() => numberFlag({ records: '1.5' }, 'records', { integer: true }), /--records must be an integer, got "1.5"/);
  assert.throws(() => numberFlag({ records: '0' }, 'records', { min: 1 }), /--records must be a number ≥ 1, got "0"/);
  assert.throws(() => numberFlag({ records: '' }, 'records'), /--records/);
});

test('only decimal numbers: 0x10, 0b1, 0o7 and Infinity are refused (Number() read 0x10 as 16)', () => {
  for (const raw of ['0x10', '0b1', '0o7', 'Infinity', '1_000', '1e', '.']) {
    assert.throws(() => numberFlag({ partition: raw }, 'partition', { min: 0, integer: true }), (e: Error) => e instanceof UsageError && e.message === `--partition must be an integer ≥ 0, got ${JSON.stringify(raw)}`);
  }
  for (const [raw, value] of [[' 16 ', 16], ['+3', 3], ['1.5e3', 1500], ['.5', 0.5], ['5.', 5], ['2E2', 200]] as const) {
    assert.equal(numberFlag({ n: raw }, 'n'), value);
  }
});

test('a choice outside the list names the flag and the choices', () => {
  assert.equal(choiceFlag({ acks: 'all' }, 'acks', ['all', '1', '0']), 'all');
  assert.throws(() => choiceFlag({ acks: '2' }, 'acks', ['all', '1', '0']), /--acks must be one of all, 1, 0, got "2"/);
});

test('unknown flags, missing values and stray arguments are usage errors naming them', () => {
  assert.deepEqual({ ...parseFlags(['--records', '5', '--json'], FLAGS) }, { records: '5', json: true });
  // Without Node's advice on positional arguments, which no command takes.
  assert.throws(() => parseFlags(['--nothing', '5'], FLAGS), (e: Error) => e instanceof UsageError && e.message === "Unknown option '--nothing'");
  // With the flag it most likely meant, as the producer's options say theirs.
  assert.throws(() => parseFlags(['--recods', '5'], FLAGS), (e: Error) => e instanceof UsageError && e.message === "Unknown option '--recods' (did you mean --records?)");
  assert.throws(() => parseFlags(['--jsno'], FLAGS), (e: Error) => e instanceof UsageError && e.message === "Unknown option '--jsno' (did you mean --json?)");
  assert.throws(() => parseFlags(['--records'], FLAGS), (e: Error) => e instanceof UsageError && e.message.includes('--records'));
  assert.throws(() => parseFlags(['stray'], FLAGS), /unexpected argument "stray"/);
});

test('a usage mistake is said with the command\'s synopsis and where its options are, not the whole help', () => {
  const usage = 'Usage: ringkafka perf --topic TOPIC [options]\n\nSends records.\n\nOptions:\n  --records N  how many\n';
  assert.equal(usageMistake('perf', '--topic is required', usage),
    "ringkafka perf: --topic is required\nUsage: ringkafka perf --topic TOPIC [options]\n'ringkafka perf --help' lists the options.\n");
  assert.equal(usageMistake('perf', 'bad', 'Usage: ringkafka perf'), "ringkafka perf: bad\nUsage: ringkafka perf\n'ringkafka perf --help' lists the options.\n");
});

test('a negative value after its flag is the flag\'s value, as Kafka\'s tools take `--acks -1`', () => {
  const flags = { acks: { type: 'string' }, json: { type: 'boolean' } } as const;
  // parseArgs refused it as ambiguous (a value that looks like a flag).
  assert.deepEqual({ ...parseFlags(['--acks', '-1', '--json'], flags) }, { acks: '-1', json: true });
  assert.deepEqual({ ...parseFlags(['--acks=-1'], flags) }, { acks: '-1' });
  // Not for a flag that takes no value, nor for a word: '--acks -x' is still a missing value and an unknown flag.
  assert.throws(() => parseFlags(['--json', '-1'], flags), UsageError);
  assert.throws(() => parseFlags(['--acks', '-x'], flags), UsageError);
});
