// The Temporal server on Postgres, secured the two ways the connection tests need: frontend TLS that
// requires client certificates (mTLS), or TLS with the JWT authorizer checking API keys against a JWKS
// served on loopback. Each starts the server and a sandbox process together; `stop()` stops both.
import fs from 'node:fs';
import { spawnSandboxProcess, type SandboxProcess } from '../../tooling/sandbox-process';
import type { JwtIssuer } from './jwks';
import { startPostgresTemporal, type PostgresTemporal } from './temporal-postgres';
import type { TestPki } from './tls-certs';

export interface SecuredStack {
  temporal?: PostgresTemporal;
  sandbox?: SandboxProcess;
  stop(): Promise<void>;
}

const logTo = (name: string) => (m: string) => process.stderr.write(`[temporal-pg ${name}] ${m}\n`);

async function withSandbox(
  name: string,
  startTemporal: () => Promise<PostgresTemporal>,
): Promise<SecuredStack> {
  const stack: SecuredStack = {
    stop: async () => {
      await Promise.allSettled([stack.sandbox?.stop(), stack.temporal?.stop()]);
    },
  };
  // Assigned one by one, so stop() stops whichever started even when the other fails.
  const started = await Promise.allSettled([
    startTemporal().then((t) => (stack.temporal = t)),
    spawnSandboxProcess().then((s) => (stack.sandbox = s)),
  ]);
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    await stack.stop();
    throw (failed as PromiseRejectedResult).reason;
  }
  return stack;
}

/** Frontend TLS with client certificates required, signed by the test PKI's CA. */
export function startMtlsStack(name: string, pki: TestPki): Promise<SecuredStack> {
  return withSandbox(name, () =>
    startPostgresTemporal({
      log: logTo(name),
      tls: {
        certFile: pki.server.cert,
        keyFile: pki.server.key,
        clientCaFile: pki.ca.cert,
        requireClientAuth: true,
      },
      adminConnection: {
        tls: {
          serverRootCACertificate: fs.readFileSync(pki.ca.cert),
          clientCertPair: { crt: fs.readFileSync(pki.client.cert), key: fs.readFileSync(pki.client.key) },
        },
      },
    }),
  );
}

/** Frontend TLS and the JWT authorizer with the default claim mapper; `adminKey` sets the server up. */
export function startApiKeyStack(
  name: string,
  pki: TestPki,
  issuer: JwtIssuer,
  adminKey: string,
): Promise<SecuredStack> {
  return withSandbox(name, () =>
    startPostgresTemporal({
      log: logTo(name),
      tls: { certFile: pki.server.cert, keyFile: pki.server.key },
      authorization: { jwksUrl: issuer.jwksUrl },
      adminConnection: { tls: { serverRootCACertificate: fs.readFileSync(pki.ca.cert) }, apiKey: adminKey },
    }),
  );
}
