// Why a connection fails, told in one line: the connection builder against loopback stand-ins for a
// misconfigured Temporal frontend (a TLS server requiring client certificates from a test CA, a plaintext
// server, a closed port, a name that does not resolve). The real Temporal server's refusals are covered
// on the Postgres-backed server (test/cluster/mtls.test.ts, api-key.test.ts).
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import {
  connectTemporalClient,
  connectTemporalWorker,
  loadTemporalConnectionSettings,
  TemporalConnectionError,
} from '../../../src/temporal/connection';
import { createTestPki, type TestPki } from '../../support/tls-certs';

describe('a failed Temporal connection', () => {
  let pki: TestPki;
  let mtlsServer: tls.Server;
  let plainServer: net.Server;
  let mtlsAddress: string;
  let plainAddress: string;

  beforeAll(async () => {
    pki = createTestPki();
    mtlsServer = tls.createServer({
      cert: fs.readFileSync(pki.server.cert),
      key: fs.readFileSync(pki.server.key),
      ca: fs.readFileSync(pki.ca.cert),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    });
    mtlsServer.on('tlsClientError', () => undefined);
    mtlsServer.on('secureConnection', (s) => s.destroy());
    // Like a plaintext gRPC server given a TLS ClientHello: not an HTTP/2 preface, so it hangs up.
    plainServer = net.createServer((s) => {
      s.on('error', () => undefined);
      s.once('data', () => s.destroy());
    });
    await Promise.all([
      new Promise<void>((r) => mtlsServer.listen(0, '127.0.0.1', r)),
      new Promise<void>((r) => plainServer.listen(0, '127.0.0.1', r)),
    ]);
    mtlsAddress = `127.0.0.1:${(mtlsServer.address() as net.AddressInfo).port}`;
    plainAddress = `127.0.0.1:${(plainServer.address() as net.AddressInfo).port}`;
  });

  afterAll(async () => {
    await Promise.all([new Promise((r) => mtlsServer?.close(r)), new Promise((r) => plainServer?.close(r))]);
    pki?.remove();
  });

  /** The error both the client and the worker connection give for these settings (they must agree). */
  async function failure(env: Record<string, string>): Promise<TemporalConnectionError> {
    const settings = loadTemporalConnectionSettings({ HOME: '/nonexistent', ...env });
    const errors: TemporalConnectionError[] = [];
    for (const connect of [
      () => connectTemporalClient(settings, { connectTimeoutMs: 3_000 }),
      () => connectTemporalWorker(settings),
    ]) {
      const err = await connect().then(
        (c) => {
          void c.close();
          throw new Error('connected');
        },
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TemporalConnectionError);
      errors.push(err as TemporalConnectionError);
    }
    expect(errors[0].message).toBe(errors[1].message);
    expect(errors[0].message.split('\n')).toHaveLength(1);
    return errors[0];
  }

  it('names the address, where it came from and `m3ter-exports dev` when nothing listens there', async () => {
    const err = await failure({ TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(err.message).toBe(
      'Cannot connect to Temporal at 127.0.0.1:1 (from TEMPORAL_ADDRESS): connection refused: nothing listens ' +
        'at 127.0.0.1:1. For a local Temporal, run `m3ter-exports dev`',
    );
  });

  it('says when the host name does not resolve', async () => {
    const err = await failure({ TEMPORAL_ADDRESS: 'temporal.invalid:7233' });
    expect(err.causeText).toBe('host "temporal.invalid" not found (DNS)');
    expect(err.unreachable).toBe(true);
  });

  it('says a client certificate is required when none is set', async () => {
    const err = await failure({
      TEMPORAL_ADDRESS: mtlsAddress,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.ca.cert,
    });
    expect(err.causeText).toMatch(/requires a client certificate \(mTLS\) and none is set/);
  });

  it('says when the server does not trust the client certificate', async () => {
    const err = await failure({
      TEMPORAL_ADDRESS: mtlsAddress,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.ca.cert,
      TEMPORAL_TLS_CLIENT_CERT_PATH: pki.strangerClient.cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: pki.strangerClient.key,
    });
    expect(err.causeText).toMatch(/refused the client certificate \(TEMPORAL_TLS_CLIENT_CERT_PATH\)/);
  });

  it("says when the server's certificate is not from the CA given, or lacks the server name", async () => {
    const cert = {
      TEMPORAL_ADDRESS: mtlsAddress,
      TEMPORAL_TLS_CLIENT_CERT_PATH: pki.client.cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: pki.client.key,
    };
    expect(
      (await failure({ ...cert, TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.otherCa.cert })).causeText,
    ).toMatch(
      /^the server's certificate failed verification: .*\(CA from TEMPORAL_TLS_SERVER_CA_CERT_PATH\)$/,
    );
    expect(
      (
        await failure({
          ...cert,
          TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.ca.cert,
          TEMPORAL_TLS_SERVER_NAME: 'temporal.example',
        })
      ).causeText,
    ).toMatch(/does not name "temporal.example" \(TEMPORAL_TLS_SERVER_NAME\)/);
  });

  it('says when TLS is off but the server wants it, and when it is on but the server is plaintext', async () => {
    expect((await failure({ TEMPORAL_ADDRESS: mtlsAddress })).causeText).toMatch(
      /^the server requires TLS but TLS is off/,
    );
    expect((await failure({ TEMPORAL_ADDRESS: plainAddress, TEMPORAL_TLS: 'true' })).causeText).toMatch(
      /^the server does not speak TLS, but TLS is on \(TEMPORAL_TLS\)/,
    );
  });
});
