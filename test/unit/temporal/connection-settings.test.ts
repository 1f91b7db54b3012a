// Temporal connection settings: TEMPORAL_* variables and TOML profiles read as the temporal CLI reads them,
// every file and key checked before connecting, one line per problem naming the setting, no secret shown.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import util from 'node:util';
import {
  loadTemporalConnectionSettings,
  temporalConnectionOptions,
  TemporalSettingsError,
  type Env,
} from '../../../src/temporal/connection';
import { createTestPki, type TestPki } from '../../support/tls-certs';

const API_KEY = 'test-api-key-7f3a9c1d5e';

describe('Temporal connection settings', () => {
  let pki: TestPki;
  let home: string;
  beforeAll(() => {
    pki = createTestPki();
  });
  afterAll(() => pki.remove());
  beforeEach(() => {
    // An empty home: no default config file from the machine running the tests.
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'm3ter-home-'));
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  const load = (env: Env) => loadTemporalConnectionSettings({ HOME: home, ...env });
  const problem = (env: Env): TemporalSettingsError => {
    try {
      load(env);
    } catch (err) {
      if (err instanceof TemporalSettingsError) return err;
      throw err;
    }
    throw new Error('expected a TemporalSettingsError');
  };
  const writeToml = (text: string) => {
    const file = path.join(home, 'temporal.toml');
    fs.writeFileSync(file, text);
    return file;
  };

  it('keeps a plain TEMPORAL_ADDRESS working, without TLS', () => {
    const s = load({ TEMPORAL_ADDRESS: 'temporal.internal:7233', TEMPORAL_NAMESPACE: 'exports' });
    expect(s).toMatchObject({ address: 'temporal.internal:7233', namespace: 'exports' });
    expect(s.tls).toBeUndefined();
    expect(s.apiKey).toBeUndefined();
    expect(s.sources.address).toBe('TEMPORAL_ADDRESS');
    const { client, native } = temporalConnectionOptions(s);
    expect(client).toMatchObject({ address: 'temporal.internal:7233', tls: false });
    expect(native).toMatchObject({ address: 'temporal.internal:7233', tls: false });
  });

  it('defaults to localhost:7233 and the default namespace when nothing is set', () => {
    const s = load({});
    expect(s).toMatchObject({ address: 'localhost:7233', namespace: 'default' });
    expect(s.sources.address).toMatch(/default/);
  });

  it('treats empty variables as unset', () => {
    expect(load({ TEMPORAL_ADDRESS: ' ', TEMPORAL_API_KEY: '' })).toMatchObject({
      address: 'localhost:7233',
    });
  });

  it('refuses an address that is not host:port, naming the variable', () => {
    const err = problem({ TEMPORAL_ADDRESS: 'http://temporal:7233' });
    expect(err.setting).toBe('TEMPORAL_ADDRESS');
    expect(err.message).toBe('Temporal setting TEMPORAL_ADDRESS: must be host:port (e.g. localhost:7233)');
  });

  it('builds mTLS options for the client and the worker from the same files', () => {
    const s = load({
      TEMPORAL_ADDRESS: '127.0.0.1:7233',
      TEMPORAL_TLS_CLIENT_CERT_PATH: pki.client.cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: pki.client.key,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.ca.cert,
      TEMPORAL_TLS_SERVER_NAME: 'localhost',
    });
    const { client, native } = temporalConnectionOptions(s);
    for (const o of [client, native]) {
      expect(o.tls).toMatchObject({
        serverNameOverride: 'localhost',
        serverRootCACertificate: fs.readFileSync(pki.ca.cert),
        clientCertPair: { crt: fs.readFileSync(pki.client.cert), key: fs.readFileSync(pki.client.key) },
      });
    }
    expect(s.sources).toMatchObject({
      clientCert: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
      clientKey: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
      serverCaCert: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
    });
  });

  it('takes certificates inline from the _DATA variables', () => {
    const s = load({
      TEMPORAL_TLS_CLIENT_CERT_DATA: fs.readFileSync(pki.client.cert, 'utf8'),
      TEMPORAL_TLS_CLIENT_KEY_DATA: fs.readFileSync(pki.client.key, 'utf8'),
    });
    expect(s.tls?.clientCert?.toString()).toContain('BEGIN CERTIFICATE');
    expect(s.sources.clientKey).toBe('TEMPORAL_TLS_CLIENT_KEY_DATA');
  });

  it('names a missing certificate file', () => {
    const missing = path.join(home, 'nope.pem');
    const err = problem({
      TEMPORAL_TLS_CLIENT_CERT_PATH: missing,
      TEMPORAL_TLS_CLIENT_KEY_PATH: pki.client.key,
    });
    expect(err.message).toBe(`Temporal setting TEMPORAL_TLS_CLIENT_CERT_PATH: ${missing}: file not found`);
  });

  it('names a key path that cannot be read as a file', () => {
    const err = problem({
      TEMPORAL_TLS_CLIENT_CERT_PATH: pki.client.cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: home,
    });
    expect(err.setting).toBe('TEMPORAL_TLS_CLIENT_KEY_PATH');
    expect(err.message).toMatch(/is a directory/);
  });

  it('refuses a certificate that does not match its key, without quoting the key', () => {
    const err = problem({
      TEMPORAL_TLS_CLIENT_CERT_PATH: pki.client.cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: pki.strangerClient.key,
    });
    expect(err.message).toBe(
      'Temporal setting TEMPORAL_TLS_CLIENT_CERT_PATH / TEMPORAL_TLS_CLIENT_KEY_PATH: the client certificate does not match the private key',
    );
    expect(err.message).not.toContain('PRIVATE KEY');
  });

  it('refuses a certificate without its key, and a file that is not a certificate', () => {
    expect(problem({ TEMPORAL_TLS_CLIENT_CERT_PATH: pki.client.cert }).message).toMatch(
      /TEMPORAL_TLS_CLIENT_CERT_PATH: a client certificate needs its private key/,
    );
    expect(
      problem({ TEMPORAL_TLS_CLIENT_CERT_PATH: pki.client.key, TEMPORAL_TLS_CLIENT_KEY_PATH: pki.client.key })
        .message,
    ).toBe('Temporal setting TEMPORAL_TLS_CLIENT_CERT_PATH: not a PEM client certificate');
    expect(problem({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.ca.key }).setting).toBe(
      'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
    );
  });

  it('refuses turning host verification off, which the SDK cannot do', () => {
    expect(problem({ TEMPORAL_TLS: 'true', TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' }).setting).toBe(
      'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION',
    );
  });

  it('turns TLS on for an API key and never prints the key', () => {
    const s = load({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY: API_KEY });
    expect(s.tls).toEqual({});
    expect(s.apiKey?.reveal()).toBe(API_KEY);
    expect(JSON.stringify(s)).not.toContain(API_KEY);
    expect(util.inspect(s, { depth: 10 })).not.toContain(API_KEY);
    expect(`${s.apiKey}`).not.toContain(API_KEY);
    const { client, native } = temporalConnectionOptions(s);
    expect(native.apiKey).toBe(API_KEY);
    expect(typeof client.apiKey).toBe('function');
    expect(JSON.stringify(client)).not.toContain(API_KEY);
  });

  it('keeps an API key plaintext when TEMPORAL_TLS=false says so', () => {
    const s = load({ TEMPORAL_API_KEY: API_KEY, TEMPORAL_TLS: 'false' });
    expect(s.tls).toBeUndefined();
    expect(temporalConnectionOptions(s).native.tls).toBe(false);
  });

  it('refuses an API key with whitespace without echoing it', () => {
    const err = problem({ TEMPORAL_API_KEY: `${API_KEY}\nsecond-line` });
    expect(err.setting).toBe('TEMPORAL_API_KEY');
    expect(err.message).not.toContain(API_KEY);
  });

  it('reads the profile TEMPORAL_PROFILE selects, with variables overriding it', () => {
    const file = writeToml(
      [
        '[profile.default]',
        'address = "localhost:7233"',
        '[profile.prod]',
        'address = "prod.example:7233"',
        'namespace = "billing"',
        `api_key = "${API_KEY}"`,
        '[profile.prod.tls]',
        `server_ca_cert_path = "${pki.ca.cert}"`,
        `client_cert_path = "${pki.client.cert}"`,
        `client_key_path = "${pki.client.key}"`,
      ].join('\n'),
    );
    const s = load({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' });
    expect(s).toMatchObject({
      address: 'prod.example:7233',
      namespace: 'billing',
      profile: { name: 'prod', file },
    });
    expect(s.apiKey?.reveal()).toBe(API_KEY);
    expect(s.tls?.clientCert).toEqual(fs.readFileSync(pki.client.cert));
    expect(s.sources.address).toBe(`address in profile "prod" of ${file}`);
    expect(s.sources.clientCert).toBe(`tls.client_cert_path in profile "prod" of ${file}`);

    const overridden = load({
      TEMPORAL_CONFIG_FILE: file,
      TEMPORAL_PROFILE: 'prod',
      TEMPORAL_ADDRESS: 'other:7233',
    });
    expect(overridden).toMatchObject({ address: 'other:7233', namespace: 'billing' });
    expect(overridden.sources.address).toBe('TEMPORAL_ADDRESS');
  });

  it("reads the default profile from the temporal CLI's default config file", () => {
    fs.mkdirSync(path.join(home, '.config', 'temporalio'), { recursive: true });
    fs.writeFileSync(
      path.join(home, '.config', 'temporalio', 'temporal.toml'),
      '[profile.default]\naddress = "from-file:7233"\n',
    );
    expect(load({}).address).toBe('from-file:7233');
  });

  it('names a missing profile, a missing config file and a broken one without quoting it', () => {
    const file = writeToml('[profile.default]\naddress = "a:1"\n');
    expect(problem({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' }).message).toBe(
      `Temporal setting TEMPORAL_PROFILE: profile "prod" not found in ${file} (it has "default")`,
    );
    expect(problem({ TEMPORAL_PROFILE: 'prod' }).setting).toBe('TEMPORAL_PROFILE');
    const missing = path.join(home, 'missing.toml');
    expect(problem({ TEMPORAL_CONFIG_FILE: missing }).message).toBe(
      `Temporal setting TEMPORAL_CONFIG_FILE: ${missing}: file not found`,
    );
    const broken = writeToml(`[profile.default]\napi_key = "${API_KEY}" trailing\n`);
    const err = problem({ TEMPORAL_CONFIG_FILE: broken });
    expect(err.message).toMatch(
      /^Temporal setting TEMPORAL_CONFIG_FILE: .* is not a valid config file: .*line 2/,
    );
    expect(err.message).not.toContain(API_KEY);
    expect(err.message.split('\n')).toHaveLength(1);
  });
});
