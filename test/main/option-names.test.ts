/** option-names: an unknown option is said with the known name it most likely meant, and only a near one. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeUnknown, nearestName } from '../../src/main/option-names.js';

const NAMES = ['signal', 'results', 'timeoutMs', 'lingerMs', 'batchMaxBytes'];

test('a name in another case, or one or two edits away, is taken for the known one; a far one for none', () => {
  assert.equal(nearestName('lingerMS', NAMES), 'lingerMs');
  assert.equal(nearestName('result', NAMES), 'results');
  assert.equal(nearestName('timeout', NAMES), 'timeoutMs');
  assert.equal(nearestName('sigal', NAMES), 'signal');
  assert.equal(nearestName('singal', NAMES), 'signal');
  assert.equal(nearestName('lnigerMs', NAMES), 'lingerMs');
  assert.equal(nearestName('batchSize', NAMES), undefined);
  assert.equal(nearestName('acks', NAMES), undefined);
  assert.equal(nearestName('', NAMES), undefined);
});

test('a short name is a typo only in another case: two edits took any two-letter name for a known one', () => {
  const tls = ['ca', 'crl', 'fd', 'key', 'pfx', 'servername'];
  assert.equal(nearestName('CA', tls), 'ca');
  for (const name of ['ip', 'id', 'ech', 'psk', 'ttl']) assert.equal(nearestName(name, tls), undefined, name);
  assert.equal(nearestName('kye', tls), undefined, 'three letters: no edit taken');
  assert.equal(nearestName('servrname', tls), 'servername');
});

test('the nearest of several near names wins', () => {
  assert.equal(nearestName('topics', ['topic', 'topicss']), 'topic');
  assert.equal(nearestName('abcd', ['abxy', 'abcx']), 'abcx');
});

test('each unknown name is quoted, with its near miss when it has one', () => {
  assert.equal(describeUnknown(['result', 'acks'], NAMES), '"result" (did you mean "results"?), "acks"');
});

test('two neighbouring letters swapped are one edit: a 5-letter name with a swap is a near miss', () => {
  // Counted as two edits, `topci` was too far from `topic` for a 5-letter name, and was said with no suggestion.
  assert.equal(nearestName('topci', ['topic', 'signal']), 'topic');
  assert.equal(nearestName('tpoci', ['topic', 'signal']), undefined, 'two swaps are two edits');
  assert.equal(nearestName('rseults', NAMES), 'results');
});
