import {
  ConfigError,
  loadConfig,
  loadM3terConfig,
  loadTemporalConfig,
  m3terEnv,
} from '../../../src/config/config';
import { loadDownloadConfig } from '../../../src/config/storage-limits';
import { TemporalSettingsError } from '../../../src/temporal/settings';

const creds = {
  M3TER_ORG_ID: 'org-1',
  M3TER_ACCESS_KEY_ID: 'AKID',
  M3TER_API_SECRET: 'top-secret-value-123',
};

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

/** The Temporal settings of an environment that sets none. */
const DEFAULT_TEMPORAL = {
  address: 'localhost:7233',
  namespace: 'default',
  connection: expect.objectContaining({ address: 'localhost:7233', namespace: 'default' }),
  taskQueue: 'm3ter-exports',
  maxCachedWorkflows: 100,
  versioning: { deploymentName: 'm3ter-exports' },
};
describe('loadConfig', () => {
  it('applies every default', () => {
    expect(loadConfig(creds)).toEqual({
      m3ter: {
        orgId: 'org-1',
        accessKeyId: 'AKID',
        apiSecret: 'top-secret-value-123',
        apiUrl: 'https://api.m3ter.com',
        ingestUrl: 'https://ingest.m3ter.com',
      },
      temporal: DEFAULT_TEMPORAL,
      exportDir: './exports',
      ingest: { requestsPerSecond: 50, s3: { region: 'us-east-1', forcePathStyle: false } },
      logLevel: 'info',
      metricsHost: '127.0.0.1',
      healthHost: '127.0.0.1',
      monitor: {
        enabled: true,
        intervalMs: 60_000,
        lookbackMs: 86_400_000,
        ownerWaitMs: 180_000,
        incidents: { updateIntervalMs: 3_600_000, digestIntervalMs: 86_400_000 },
      },
      downloads: {
        maxConcurrent: 8,
        minFreeBytes: 64 * 1024 * 1024,
        minBytesPerSecond: 16 * 1024,
        throughputWindowMs: 120_000,
        s3RequestTimeoutMs: 120_000,
      },
    });
  });

  it('reads every variable', () => {
    const c = loadConfig({
      ...creds,
      M3TER_API_URL: 'http://127.0.0.1:4010/',
      M3TER_INGEST_URL: 'http://127.0.0.1:4011',
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'prod',
      TEMPORAL_TASK_QUEUE: 'q',
      EXPORT_DIR: '/data/exports',
      ALERT_WEBHOOK_URL: 'https://hooks.example.com/T/B/x',
      METRICS_PORT: '9464',
      METRICS_HOST: '0.0.0.0',
      HEALTH_PORT: '8081',
      HEALTH_HOST: '::',
      TEMPORAL_CLI_PATH: '/usr/local/bin/temporal',
      TEMPORAL_MAX_CACHED_WORKFLOWS: '40',
      M3TER_MAX_REQUESTS_PER_SECOND: '10',
      M3TER_INGEST_REQUESTS_PER_SECOND: '20',
      LOG_LEVEL: 'DEBUG',
      EXPORT_DEFINITIONS_FILE: '/etc/m3ter-exports.yaml',
      TEMPORAL_UI_URL: 'http://temporal-ui.internal:8080/',
      MONITOR: 'OFF',
      MONITOR_INTERVAL: '90s',
      MONITOR_LOOKBACK: '2d',
      MAX_CONCURRENT_DOWNLOADS: '3',
      EXPORT_MAX_BYTES: '10GiB',
      EXPORT_DIR_MIN_FREE_BYTES: '0',
      DOWNLOAD_MIN_BYTES_PER_SECOND: '1MiB',
      DOWNLOAD_THROUGHPUT_WINDOW: '30s',
      EXPORT_S3_REQUEST_TIMEOUT: '5m',
      TEMPORAL_DEPLOYMENT_NAME: 'exports-eu',
      TEMPORAL_BUILD_ID: '1.4.0+abc123def456',
    });
    expect(c).toEqual({
      m3ter: {
        ...loadM3terConfig(creds),
        apiUrl: 'http://127.0.0.1:4010',
        ingestUrl: 'http://127.0.0.1:4011',
        maxRequestsPerSecond: 10,
      },
      temporal: {
        address: 'temporal.internal:7233',
        namespace: 'prod',
        connection: expect.objectContaining({ address: 'temporal.internal:7233', namespace: 'prod' }),
        taskQueue: 'q',
        cliPath: '/usr/local/bin/temporal',
        maxCachedWorkflows: 40,
        versioning: { deploymentName: 'exports-eu', buildId: '1.4.0+abc123def456' },
      },
      exportDir: '/data/exports',
      ingest: { requestsPerSecond: 20, s3: { region: 'us-east-1', forcePathStyle: false } },
      alertWebhookUrl: 'https://hooks.example.com/T/B/x',
      metricsPort: 9464,
      metricsHost: '0.0.0.0',
      healthPort: 8081,
      healthHost: '::',
      logLevel: 'debug',
      definitionsFile: '/etc/m3ter-exports.yaml',
      temporalUiUrl: 'http://temporal-ui.internal:8080',
      monitor: {
        enabled: false,
        intervalMs: 90_000,
        lookbackMs: 172_800_000,
        ownerWaitMs: 180_000,
        incidents: { updateIntervalMs: 3_600_000, digestIntervalMs: 86_400_000 },
      },
      downloads: {
        maxConcurrent: 3,
        maxBytes: 10 * 1024 ** 3,
        minFreeBytes: 0,
        minBytesPerSecond: 1024 * 1024,
        throughputWindowMs: 30_000,
        s3RequestTimeoutMs: 300_000,
      },
    });
  });

  it('derives the ingest URL from a non-default API URL so a sandbox never sends to production', () => {
    expect(loadM3terConfig({ ...creds, M3TER_API_URL: 'http://localhost:4010' }).ingestUrl).toBe(
      'http://localhost:4010',
    );
    expect(loadM3terConfig({ ...creds, M3TER_API_URL: 'https://api.eu.m3ter.com' }).ingestUrl).toBe(
      'https://ingest.eu.m3ter.com',
    );
  });

  it('lists every missing and invalid variable in one error, in documented order', () => {
    const e = configError(() =>
      loadConfig({
        M3TER_API_URL: 'ftp://example.com',
        M3TER_INGEST_URL: 'not a url',
        TEMPORAL_ADDRESS: 'localhost',
        ALERT_WEBHOOK_URL: 'mailto:ops@example.com',
        METRICS_PORT: '70000',
        LOG_LEVEL: 'loud',
        MONITOR: 'maybe',
        MONITOR_INTERVAL: '60',
      }),
    );
    expect(e.issues).toEqual([
      { variable: 'M3TER_ORG_ID', message: 'is required' },
      { variable: 'M3TER_ACCESS_KEY_ID', message: 'is required' },
      { variable: 'M3TER_API_SECRET', message: 'is required' },
      { variable: 'M3TER_API_URL', message: 'must be an http(s) URL' },
      { variable: 'M3TER_INGEST_URL', message: 'must be an http(s) URL' },
      { variable: 'TEMPORAL_ADDRESS', message: 'must be host:port (e.g. localhost:7233)' },
      { variable: 'ALERT_WEBHOOK_URL', message: 'must be an http(s) URL' },
      { variable: 'METRICS_PORT', message: 'must be an integer from 1 to 65535' },
      { variable: 'LOG_LEVEL', message: 'must be one of fatal, error, warn, info, debug, trace, silent' },
      { variable: 'MONITOR', message: 'must be on or off' },
      { variable: 'MONITOR_INTERVAL', message: 'must be a duration such as 90s, 5m, 30h or 7d' },
    ]);
    for (const i of e.issues) expect(e.message).toContain(`${i.variable}: ${i.message}`);
  });

  it.each(['0', '-5', 'fast', '1001', '1e3'])('refuses M3TER_MAX_REQUESTS_PER_SECOND=%s', (rps) => {
    expect(configError(() => loadConfig({ ...creds, M3TER_MAX_REQUESTS_PER_SECOND: rps })).issues).toEqual([
      {
        variable: 'M3TER_MAX_REQUESTS_PER_SECOND',
        message: 'must be a number greater than 0 and at most 1000',
      },
    ]);
  });

  it.each(['1', '-2', 'many', '2.5'])('refuses TEMPORAL_MAX_CACHED_WORKFLOWS=%s', (n) => {
    expect(configError(() => loadConfig({ ...creds, TEMPORAL_MAX_CACHED_WORKFLOWS: n })).issues).toEqual([
      { variable: 'TEMPORAL_MAX_CACHED_WORKFLOWS', message: 'must be 0 or an integer from 2 to 100000' },
    ]);
  });

  it('caches 100 workflow runs by default; 0 turns the cache off', () => {
    expect(loadConfig(creds).temporal.maxCachedWorkflows).toBe(100);
    expect(loadConfig({ ...creds, TEMPORAL_MAX_CACHED_WORKFLOWS: '0' }).temporal.maxCachedWorkflows).toBe(0);
  });

  it('reads M3TER_MAX_REQUESTS_PER_SECOND, and leaves it unset by default', () => {
    expect(loadConfig({ ...creds, M3TER_MAX_REQUESTS_PER_SECOND: '12.5' }).m3ter.maxRequestsPerSecond).toBe(
      12.5,
    );
    expect(loadConfig(creds).m3ter.maxRequestsPerSecond).toBeUndefined();
  });

  it("reads M3TER_REQUEST_TIMEOUT into the m3ter client's timeout, and leaves the client's default otherwise", () => {
    const config = loadConfig({ ...creds, M3TER_REQUEST_TIMEOUT: '90s' });
    expect(config.m3ter.timeoutMs).toBe(90_000);
    // What a child process (the CLI's worker, a test's) is given reads back the same.
    expect(loadConfig({ ...creds, ...m3terEnv(config.m3ter) }).m3ter.timeoutMs).toBe(90_000);
    expect(loadConfig(creds).m3ter.timeoutMs).toBeUndefined();
  });

  it.each(['3m', '1500ms'])('refuses M3TER_REQUEST_TIMEOUT=%s', (timeout) => {
    expect(configError(() => loadConfig({ ...creds, M3TER_REQUEST_TIMEOUT: timeout })).issues).toEqual([
      { variable: 'M3TER_REQUEST_TIMEOUT', message: 'must be whole seconds from 1s to 2m' },
    ]);
  });

  it('refuses download limits it cannot use, naming each variable and never its value', () => {
    const e = configError(() =>
      loadConfig({
        ...creds,
        MAX_CONCURRENT_DOWNLOADS: '0',
        EXPORT_MAX_BYTES: '1.5GiB',
        EXPORT_DIR_MIN_FREE_BYTES: '64 MB',
        DOWNLOAD_THROUGHPUT_WINDOW: '120',
      }),
    );
    expect(e.issues.map((i) => i.variable)).toEqual([
      'MAX_CONCURRENT_DOWNLOADS',
      'EXPORT_MAX_BYTES',
      'EXPORT_DIR_MIN_FREE_BYTES',
      'DOWNLOAD_THROUGHPUT_WINDOW',
    ]);
    expect(e.message).not.toMatch(/1\.5GiB|64 MB/);
  });

  it('reads the download limits alone with the same rules', () => {
    expect(loadDownloadConfig({ EXPORT_MAX_BYTES: '512KiB', DOWNLOAD_MIN_BYTES_PER_SECOND: '0' })).toEqual({
      maxConcurrent: 8,
      maxBytes: 512 * 1024,
      minFreeBytes: 64 * 1024 * 1024,
      minBytesPerSecond: 0,
      throughputWindowMs: 120_000,
      s3RequestTimeoutMs: 120_000,
    });
  });

  it.each(['0', '65536', '12.5', 'abc', '-1'])('refuses METRICS_PORT=%s', (port) => {
    expect(configError(() => loadConfig({ ...creds, METRICS_PORT: port })).issues).toEqual([
      { variable: 'METRICS_PORT', message: 'must be an integer from 1 to 65535' },
    ]);
  });

  it('treats empty and whitespace-only values as missing', () => {
    const e = configError(() => loadConfig({ ...creds, M3TER_API_SECRET: '   ', M3TER_ORG_ID: '' }));
    expect(e.issues.map((i) => i.variable)).toEqual(['M3TER_ORG_ID', 'M3TER_API_SECRET']);
  });

  it('never echoes a value, even an invalid one', () => {
    const secretish = 'https://hooks.example.com/services/T000/B000/XXXXSECRETXXXX';
    const values = {
      M3TER_ORG_ID: 'bad org/secret-org-value',
      M3TER_ACCESS_KEY_ID: 'AKIDVALUE',
      M3TER_API_SECRET: 'top-secret-value-123',
      M3TER_API_URL: 'ftp://user:hunter2hunter2@example.com',
      ALERT_WEBHOOK_URL: secretish.replace('https', 'gopher'),
      METRICS_PORT: 'port-hunter2',
    };
    const e = configError(() => loadConfig(values));
    expect(e.issues).toHaveLength(4);
    const text = [e.message, String(e), JSON.stringify(e), e.stack ?? ''].join('\n');
    for (const v of [
      ...Object.values(values),
      'hunter2',
      'XXXXSECRETXXXX',
      'secret-org-value',
      'AKIDVALUE',
    ]) {
      expect(text).not.toContain(v);
    }
  });
});

describe('loadTemporalConfig', () => {
  it('does not need m3ter credentials', () => {
    expect(loadTemporalConfig({})).toEqual(DEFAULT_TEMPORAL);
  });
  it('turns Worker Versioning off, and refuses a deployment name with a dot or a build id with a space', () => {
    expect(
      loadTemporalConfig({ WORKER_VERSIONING: 'OFF', TEMPORAL_BUILD_ID: 'b1' }).versioning,
    ).toBeUndefined();
    const e = configError(() =>
      loadTemporalConfig({
        WORKER_VERSIONING: 'no',
        TEMPORAL_DEPLOYMENT_NAME: 'a.b',
        TEMPORAL_BUILD_ID: 'v 1',
      }),
    );
    expect(e.issues.map((i) => i.variable)).toEqual([
      'WORKER_VERSIONING',
      'TEMPORAL_DEPLOYMENT_NAME',
      'TEMPORAL_BUILD_ID',
    ]);
  });
  it('accepts IPv6 and refuses a bad port with one line naming the variable', () => {
    expect(loadTemporalConfig({ TEMPORAL_ADDRESS: '[::1]:7233' }).address).toBe('[::1]:7233');
    expect(() => loadTemporalConfig({ TEMPORAL_ADDRESS: 'h:99999' })).toThrow(
      new TemporalSettingsError('TEMPORAL_ADDRESS', 'must be host:port (e.g. localhost:7233)'),
    );
    expect(() => loadTemporalConfig({ TEMPORAL_ADDRESS: 'h:99999' })).toThrow(
      'Temporal setting TEMPORAL_ADDRESS: must be host:port (e.g. localhost:7233)',
    );
  });
});

describe('loadM3terConfig', () => {
  it('needs only m3ter variables and names each missing one', () => {
    expect(
      configError(() => loadM3terConfig({ TEMPORAL_ADDRESS: 'nope' })).issues.map((i) => i.variable),
    ).toEqual(['M3TER_ORG_ID', 'M3TER_ACCESS_KEY_ID', 'M3TER_API_SECRET']);
  });
});
