// Certificates for TLS tests, made at test time with the system's openssl: a CA, a server certificate
// for localhost / 127.0.0.1, a client certificate from the same CA, and a client certificate from a
// second, unrelated CA. Leaf keys are EC P-256 in PKCS#8, which rustls (the worker's connection), grpc-js
// (the client's) and Go (the server) all accept.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface CertPair {
  cert: string;
  key: string;
}

export interface TestPki {
  dir: string;
  /** The CA that signed the server and the trusted client certificate. */
  ca: CertPair;
  server: CertPair;
  client: CertPair;
  /** A second CA the server does not trust, and a client certificate it signed. */
  otherCa: CertPair;
  strangerClient: CertPair;
  /** Removes the directory. */
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** `openssl req` arguments for a new, unencrypted P-256 key. */
const NEW_EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function makeCa(dir: string, name: string): CertPair {
  const pair = { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
  openssl(
    [
      'req',
      '-x509',
      ...NEW_EC_KEY,
      '-keyout',
      pair.key,
      '-out',
      pair.cert,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  return pair;
}

function makeLeaf(
  dir: string,
  name: string,
  ca: CertPair,
  usage: 'serverAuth' | 'clientAuth',
  san: string,
): CertPair {
  const pair = { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
  const csr = path.join(dir, `${name}.csr`);
  const ext = path.join(dir, `${name}.ext`);
  fs.writeFileSync(
    ext,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      `extendedKeyUsage=${usage}`,
      `subjectAltName=${san}`,
    ].join('\n'),
  );
  openssl(['req', '-new', ...NEW_EC_KEY, '-keyout', pair.key, '-out', csr, '-subj', `/CN=${name}`], dir);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.cert,
      '-CAkey',
      ca.key,
      '-CAcreateserial',
      '-out',
      pair.cert,
      '-days',
      '1',
      '-extfile',
      ext,
    ],
    dir,
  );
  fs.chmodSync(pair.key, 0o600);
  return pair;
}

export function createTestPki(): TestPki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm3ter-pki-'));
  try {
    const ca = makeCa(dir, 'test-ca');
    const otherCa = makeCa(dir, 'other-ca');
    return {
      dir,
      ca,
      server: makeLeaf(dir, 'server', ca, 'serverAuth', 'DNS:localhost,IP:127.0.0.1'),
      client: makeLeaf(dir, 'worker-client', ca, 'clientAuth', 'DNS:m3ter-export-worker'),
      otherCa,
      strangerClient: makeLeaf(dir, 'stranger-client', otherCa, 'clientAuth', 'DNS:stranger'),
      remove: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
