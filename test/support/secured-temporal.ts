// The Temporal server on Postgres, secured the two ways the connection tests need: frontend TLS that
// requires client certificates (mTLS), or TLS with the JWT authorizer checking API keys against a JWKS
// served on loopback. Each makes a test PKI and a temporary folder, starts the server and a sandbox
// process together, and `stop()` undoes all of it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSandboxProcess, type SandboxProcess } from '../../tooling/sandbox-process';
import type { CliResult } from './cli-process';
import { startJwtIssuer, type JwtIssuer } from './jwks';
import { temporalEnv } from './temporal-env';
import { startPostgresTemporal, type PostgresTemporal } from './temporal-postgres';
import { createTestPki, type TestPki } from './tls-certs';

export interface SecuredStack {
  /** The test CA and the certificates it signed for this stack. */
  pki: TestPki;
  /** A temporary folder for exports and config files. */
  dir: string;
  temporal: PostgresTemporal;
  sandbox: SandboxProcess;
  /** The TEMPORAL_* settings of a process reaching this server over TLS on `taskQueue`, plus `extra`. */
  settings(taskQueue: string, extra?: Record<string, string>): Record<string, string>;
  stop(): Promise<void>;
}

export interface ApiKeyStack extends SecuredStack {
  /** Signs the keys the server accepts (and, with `mintForeign`, keys it must refuse). */
  issuer: JwtIssuer;
  /** A key with the server's admin permission, the one that set the server up. */
  adminKey: string;
}

const logTo = (name: string) => (m: string) => process.stderr.write(`[temporal-pg ${name}] ${m}\n`);

async function withSandbox(
  name: string,
  startTemporal: (pki: TestPki) => Promise<PostgresTemporal>,
): Promise<SecuredStack> {
  const pki = createTestPki();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `m3ter-${name}-`));
  let temporal: PostgresTemporal | undefined;
  let sandbox: SandboxProcess | undefined;
  const stop = async () => {
    await Promise.allSettled([sandbox?.stop(), temporal?.stop()]);
    pki.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  // Assigned one by one, so stop() stops whichever started even when the other fails.
  const started = await Promise.allSettled([
    startTemporal(pki).then((t) => (temporal = t)),
    spawnSandboxProcess().then((s) => (sandbox = s)),
  ]);
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    await stop();
    throw (failed as PromiseRejectedResult).reason;
  }
  const { address, namespace } = temporal!;
  const settings = (taskQueue: string, extra: Record<string, string> = {}) =>
    temporalEnv({
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: namespace,
      TEMPORAL_TASK_QUEUE: taskQueue,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.ca.cert,
      ...extra,
    });
  return { pki, dir, temporal: temporal!, sandbox: sandbox!, settings, stop };
}

/** Frontend TLS with client certificates required, signed by the test PKI's CA. */
export function startMtlsStack(name: string): Promise<SecuredStack> {
  return withSandbox(name, (pki) =>
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

/** Frontend TLS and the JWT authorizer with the default claim mapper, checking keys of its own issuer. */
export async function startApiKeyStack(name: string): Promise<ApiKeyStack> {
  const issuer = await startJwtIssuer();
  const adminKey = issuer.mint({ permissions: ['temporal-system:admin'], subject: 'test-harness' });
  try {
    const stack = await withSandbox(name, (pki) =>
      startPostgresTemporal({
        log: logTo(name),
        tls: { certFile: pki.server.cert, keyFile: pki.server.key },
        authorization: { jwksUrl: issuer.jwksUrl },
        adminConnection: { tls: { serverRootCACertificate: fs.readFileSync(pki.ca.cert) }, apiKey: adminKey },
      }),
    );
    return {
      ...stack,
      issuer,
      adminKey,
      stop: async () => {
        await stack.stop();
        await issuer.close();
      },
    };
  } catch (err) {
    await issuer.close();
    throw err;
  }
}

type Exported = { manifest: { path: string; bytes: number } };

/** Checks that a CLI `export --wait` succeeded and stored the file its manifest describes; its result. */
export function expectExported<T extends Exported = Exported>(run: CliResult): T {
  expect(run).toMatchObject({ code: 0 });
  const result = JSON.parse(run.stdout) as T;
  expect(fs.statSync(result.manifest.path).size).toBe(result.manifest.bytes);
  return result;
}
