/**
 * SCRAM against the RFCs' own example exchanges: RFC 7677 §3 (SCRAM-SHA-256) and RFC 5802 §5 (SCRAM-SHA-1, run
 * through the same code with the SHA-1 digest). With the client nonce fixed, every byte of our messages is given.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScramClient } from '../../src/net/scram.js';
import { AuthenticationError } from '../../src/shared/producer-errors.js';

const RFC7677 = {
  nonce: 'rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

const RFC5802 = {
  nonce: 'fyko+d2lbbFgONRv9qkxdawL',
  serverFirst: 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096',
  clientFinal: 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
  serverFinal: 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=',
};

test('RFC 7677 SCRAM-SHA-256 example: client-first, client-final and the server signature', async () => {
  const scram = new ScramClient('sha256', 'user', 'pencil', RFC7677.nonce);
  assert.equal(scram.clientFirst(), `n,,n=user,r=${RFC7677.nonce}`);
  assert.equal(await scram.clientFinal(RFC7677.serverFirst), RFC7677.clientFinal);
  scram.verifyServerFinal(RFC7677.serverFinal);
});

test('RFC 5802 SCRAM-SHA-1 example through the same code', async () => {
  const scram = new ScramClient('sha1', 'user', 'pencil', RFC5802.nonce);
  assert.equal(await scram.clientFinal(RFC5802.serverFirst), RFC5802.clientFinal);
  scram.verifyServerFinal(RFC5802.serverFinal);
});

test('a server signature that does not verify is an authentication failure', async () => {
  const scram = new ScramClient('sha256', 'user', 'pencil', RFC7677.nonce);
  await scram.clientFinal(RFC7677.serverFirst);
  assert.throws(() => scram.verifyServerFinal('v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='), AuthenticationError);
  assert.throws(() => scram.verifyServerFinal('e=invalid-proof'), /invalid-proof/);
  // The wrong password gives another proof, and the real server signature no longer verifies either.
  const wrong = new ScramClient('sha256', 'user', 'pencil2', RFC7677.nonce);
  assert.notEqual(await wrong.clientFinal(RFC7677.serverFirst), RFC7677.clientFinal);
  assert.throws(() => wrong.verifyServerFinal(RFC7677.serverFinal), /does not verify/);
});

test('a server-first message that breaks the rules is refused before any proof is sent', async () => {
  const scram = new ScramClient('sha256', 'user', 'pencil', RFC7677.nonce);
  await assert.rejects(scram.clientFinal('r=someoneElse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'), /nonce/);
  await assert.rejects(scram.clientFinal(`r=${RFC7677.nonce}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1000`), /iterations/);
  await assert.rejects(scram.clientFinal(`r=${RFC7677.nonce}x,i=4096`), /salt/);
});

test('user names escape = and , (RFC 5802 §5.1)', () => {
  assert.equal(new ScramClient('sha256', 'a=b,c', 'p', 'n').clientFirst(), 'n,,n=a=3Db=2Cc,r=n');
});
