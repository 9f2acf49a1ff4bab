/**
 * The certificates of the local secured broker, made once with openssl under .kafka/tls/ (git-ignored) and reused
 * until that folder is removed: a test CA, the broker's certificate for 127.0.0.1 and localhost, a client
 * certificate for mutual TLS, and a certificate for a host name nothing uses (wrong-host.invalid), for the test
 * that host-name verification is on. Test material only: every key is unencrypted and the keystore password is
 * written in the broker's properties.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TLS_DIR } from './config.js';

const run = promisify(execFile);

/** The files a client needs, by fixed name (documented in the README). */
export const TLS_FILES = {
  ca: join(TLS_DIR, 'ca.pem'),
  /** The broker's certificate (for 127.0.0.1 and localhost) and key, for a test's own TLS front to a fake broker. */
  brokerCert: join(TLS_DIR, 'broker.pem'),
  brokerKey: join(TLS_DIR, 'broker.key'),
  clientCert: join(TLS_DIR, 'client.pem'),
  clientKey: join(TLS_DIR, 'client.key'),
  wrongHostCert: join(TLS_DIR, 'wrong-host.pem'),
  wrongHostKey: join(TLS_DIR, 'wrong-host.key'),
  /** The broker's key and certificate as PKCS#12, the keystore format the JVM reads without extra tooling. */
  brokerKeystore: join(TLS_DIR, 'broker.p12'),
} as const;

export const KEYSTORE_PASSWORD = 'ringkafka-test';

const DAYS = '3650';

async function openssl(args: readonly string[]): Promise<void> {
  await run('openssl', args, { cwd: TLS_DIR });
}

/** A key pair and a certificate signed by the test CA, with the given subject alternative names and usages. */
async function issue(name: string, subject: string, extensions: readonly string[]): Promise<void> {
  await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
  await writeFile(join(TLS_DIR, `${name}.ext`), extensions.join('\n') + '\n');
  await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-days', DAYS, '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.pem`]);
  await rm(join(TLS_DIR, `${name}.csr`));
  await rm(join(TLS_DIR, `${name}.ext`));
}

/** Makes the certificates unless they are all there already. */
export async function ensureCertificates(log: (line: string) => void): Promise<void> {
  if (Object.values(TLS_FILES).every((file) => existsSync(file))) return;
  log(`making a test CA and certificates under ${TLS_DIR}`);
  await rm(TLS_DIR, { recursive: true, force: true });
  await mkdir(TLS_DIR, { recursive: true });
  // The CA's extensions stated here, not left to the system's openssl.cnf (where `req -x509` takes them from): under
  // a minimal or different config the CA had no CA:TRUE at all. Node and the JVM trust such a root anyway, but a
  // strict verifier (OpenSSL's X509_STRICT) refuses it and every certificate it signed.
  await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'ca.key', '-out', 'ca.pem', '-days', DAYS, '-sha256', '-subj', '/CN=ringkafka test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await issue('broker', '/CN=localhost', [
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    'extendedKeyUsage=serverAuth,clientAuth',
  ]);
  await issue('client', '/CN=alice', ['extendedKeyUsage=clientAuth']);
  await issue('wrong-host', '/CN=wrong-host.invalid', [
    'subjectAltName=DNS:wrong-host.invalid',
    'extendedKeyUsage=serverAuth',
  ]);
  await openssl(['pkcs12', '-export', '-in', 'broker.pem', '-inkey', 'broker.key', '-name', 'broker',
    '-out', 'broker.p12', '-passout', `pass:${KEYSTORE_PASSWORD}`]);
}
