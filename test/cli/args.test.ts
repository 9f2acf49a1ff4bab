import { test } from 'node:test';
import assert from 'node:assert/strict';
import { choiceFlag, numberFlag, parseFlags, UsageError } from '../../src/cli/args.js';

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

test('a choice outside the list names the flag and the choices', () => {
  assert.equal(choiceFlag({ acks: 'all' }, 'acks', ['all', '1', '0']), 'all');
  assert.throws(() => choiceFlag({ acks: '2' }, 'acks', ['all', '1', '0']), /--acks must be one of all, 1, 0, got "2"/);
});

test('unknown flags, missing values and stray arguments are usage errors naming them', () => {
  assert.deepEqual({ ...parseFlags(['--records', '5', '--json'], FLAGS) }, { records: '5', json: true });
  assert.throws(() => parseFlags(['--recods', '5'], FLAGS), (e: Error) => e instanceof UsageError && e.message.includes("'--recods'"));
  assert.throws(() => parseFlags(['--records'], FLAGS), (e: Error) => e instanceof UsageError && e.message.includes('--records'));
  assert.throws(() => parseFlags(['stray'], FLAGS), /unexpected argument "stray"/);
});
