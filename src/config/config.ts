/**
 * Configuration from the environment (every variable is listed in docs/configuration.md).
 *
 * Fails fast with ONE error listing every missing or invalid variable and the rule it broke, so an
 * operator fixes the environment in one go. Values are never echoed: several variables are secrets
 * and a webhook URL usually embeds a token in its path.
 */
import net from 'node:net';
import type { IncidentSettings } from '../contract/incidents';
import { z } from 'zod';
import { parseDuration } from './durations';
import { isSecureOrLoopbackUrl } from '../net/address';
import { resolveSecretFiles } from './secret-files';
import { storageLimitsShape, toDownloadConfig, type DownloadConfig } from './storage-limits';
import { deriveIngestUrl, type M3terClientOptions } from '../m3ter/client';
import {
  loadTemporalConnectionSettings,
  TemporalSettingsError,
  type TemporalConnectionSettings,
} from '../temporal/settings';

export type Env = Record<string, string | undefined>;

/** The m3ter client's options that come from the environment (the client documents each field). */
export type M3terConfig = Pick<
  M3terClientOptions,
  'orgId' | 'accessKeyId' | 'apiSecret' | 'apiUrl' | 'maxRequestsPerSecond' | 'timeoutMs'
> & { ingestUrl: string };

export interface TemporalConfig {
  /** From `connection`, for messages and logs. */
  address: string;
  namespace: string;
  /** Address, namespace, TLS, API key: TEMPORAL_* variables and TOML profiles (src/temporal/settings.ts). */
  connection: TemporalConnectionSettings;
  taskQueue: string;
  /** An existing `temporal` binary for the embedded dev server. */
  cliPath?: string;
  /** Workflow runs kept in the worker's memory between tasks (default 100, see src/worker.ts). */
  maxCachedWorkflows: number;
  /** Worker Versioning (docs/deploying.md#upgrading-the-worker); absent with WORKER_VERSIONING=off. */
  versioning?: VersioningConfig;
}

export interface VersioningConfig {
  /** The Worker Deployment every build of this worker belongs to. */
  deploymentName: string;
  /** This build's id; absent: the package version plus the git commit (src/runtime/build-id.ts). */
  buildId?: string;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface AppConfig {
  m3ter: M3terConfig;
  temporal: TemporalConfig;
  exportDir: string;
  alertWebhookUrl?: string;
  /** Slack's Web API, for slack channels with a bot token (SLACK_API_URL; default https://slack.com/api). */
  slackApiUrl?: string;
  metricsPort?: number;
  /** Interface the metrics listen on (METRICS_HOST, default loopback). */
  metricsHost: string;
  /** `/healthz` and `/readyz` (src/runtime/health.ts); no health server without HEALTH_PORT. */
  healthPort?: number;
  /** Interface the health server listens on (HEALTH_HOST, default loopback). */
  healthHost: string;
  logLevel: LogLevel;
  /** S3-compatible storage for `storage: s3` exports; absent without EXPORT_S3_BUCKET. */
  s3?: S3Config;
  /** The export definitions file whose `alerts` channels (and exports' `alerts` lists) the worker uses. */
  definitionsFile?: string;
  /** Temporal UI base URL for links in alerts. */
  temporalUiUrl?: string;
  monitor: MonitorConfig;
  /** Bounds on downloads: concurrency, size, free space, throughput, S3 timeouts (./storage-limits.ts). */
  downloads: DownloadConfig;
  /** `ingest`: the Ingest API budget and where s3:// files are read from. */
  ingest: IngestConfig;
}

/** Measurement ingest (docs/ingest.md). */
export interface IngestConfig {
  /** The deployment's Ingest API budget: the ingest task queue's rate, shared by all workers. */
  requestsPerSecond: number;
  /** The S3 endpoint s3:// files are read from (EXPORT_S3_ENDPOINT, _REGION, _FORCE_PATH_STYLE). */
  s3: { endpoint?: string; region: string; forcePathStyle: boolean };
}

/** The DataExportJobFailure monitor (workflows/failure-monitor.ts). */
export interface MonitorConfig {
  /** MONITOR=off: the worker does not start it (`monitor start` still can). */
  enabled: boolean;
  intervalMs: number;
  /** How far back a first start looks. */
  lookbackMs: number;
  /** How long an unowned failure event is held for its owner to claim the job (MONITOR_OWNER_WAIT). */
  ownerWaitMs: number;
  /** Failures as incidents (INCIDENTS, INCIDENT_UPDATE_INTERVAL, INCIDENT_DIGEST_INTERVAL); absent: off. */
  incidents?: IncidentSettings;
}

/** Credentials are not here: the AWS SDK's default provider chain finds them (env, profile, role). */
export interface S3Config {
  bucket: string;
  /** Key prefix under which `export=<name>/date=.../` partitions go ('' = bucket root). */
  prefix: string;
  /** For S3-compatible stores (MinIO, R2, ...); AWS when absent. */
  endpoint?: string;
  region: string;
  /** `http://endpoint/bucket/key` instead of `http://bucket.endpoint/key` (most non-AWS stores need it). */
  forcePathStyle: boolean;
}

export interface ConfigIssue {
  variable: string;
  message: string;
}

export class ConfigError extends Error {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super(
      `Invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n` +
        issues.map((i) => `  - ${i.variable}: ${i.message}`).join('\n'),
    );
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export const DEFAULTS = {
  M3TER_API_URL: 'https://api.m3ter.com',
  M3TER_INGEST_URL: 'https://ingest.m3ter.com',
  TEMPORAL_TASK_QUEUE: 'm3ter-exports',
  EXPORT_DIR: './exports',
  TEMPORAL_MAX_CACHED_WORKFLOWS: '100',
  LOG_LEVEL: 'info',
  EXPORT_S3_PREFIX: '',
  EXPORT_S3_REGION: 'us-east-1',
  EXPORT_S3_FORCE_PATH_STYLE: 'false',
  MONITOR: 'on',
  WORKER_VERSIONING: 'on',
  TEMPORAL_DEPLOYMENT_NAME: 'm3ter-exports',
  MONITOR_INTERVAL: '60s',
  MONITOR_LOOKBACK: '24h',
  HEALTH_HOST: '127.0.0.1',
  METRICS_HOST: '127.0.0.1',
  M3TER_INGEST_REQUESTS_PER_SECOND: '50',
  MONITOR_OWNER_WAIT: '3m',
  INCIDENTS: 'on',
  INCIDENT_UPDATE_INTERVAL: '1h',
  INCIDENT_DIGEST_INTERVAL: '24h',
} as const;

// Every rule's message is fixed text: zod's default messages can include the received value.
const required = (rule = 'is required') => z.string({ error: rule }).trim().min(1, { error: rule });

/** Control characters (U+0000-U+001F) or a backslash: never part of an S3 key prefix we write. */
function hasControlOrBackslash(v: string): boolean {
  return [...v].some((c) => c === '\\' || c.charCodeAt(0) < 0x20);
}

function isHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}
const httpUrl = () => z.string().trim().refine(isHttpUrl, { error: 'must be an http(s) URL' });

/** An interface to listen on: an IP literal or a host name. */
const listenHost = () =>
  z
    .string()
    .trim()
    .refine((v) => net.isIP(v) !== 0 || /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})$/.test(v), {
      error: 'must be an IP address or a host name',
    });

const port = () =>
  z
    .string()
    .trim()
    .refine((v) => /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 65535, {
      error: 'must be an integer from 1 to 65535',
    })
    .transform(Number);

const duration = () =>
  z
    .string()
    .trim()
    .refine(
      (v) => {
        try {
          parseDuration(v);
          return true;
        } catch {
          return false;
        }
      },
      { error: 'must be a duration such as 90s, 5m, 30h or 7d' },
    )
    .transform((v) => parseDuration(v));

const monitorShape = {
  MONITOR: z
    .string()
    .trim()
    .toLowerCase()
    .refine((v) => v === 'on' || v === 'off', { error: 'must be on or off' })
    .default(DEFAULTS.MONITOR),
  MONITOR_INTERVAL: duration().default(parseDuration(DEFAULTS.MONITOR_INTERVAL)),
  MONITOR_LOOKBACK: duration().default(parseDuration(DEFAULTS.MONITOR_LOOKBACK)),
  MONITOR_OWNER_WAIT: duration().default(parseDuration(DEFAULTS.MONITOR_OWNER_WAIT)),
  INCIDENTS: z
    .string()
    .trim()
    .toLowerCase()
    .refine((v) => v === 'on' || v === 'off', { error: 'must be on or off' })
    .default(DEFAULTS.INCIDENTS),
  INCIDENT_UPDATE_INTERVAL: duration().default(parseDuration(DEFAULTS.INCIDENT_UPDATE_INTERVAL)),
  INCIDENT_DIGEST_INTERVAL: duration().default(parseDuration(DEFAULTS.INCIDENT_DIGEST_INTERVAL)),
};

const m3terShape = {
  M3TER_ORG_ID: required().refine((v) => !/[\s/?#]/.test(v), {
    error: "must not contain whitespace, '/', '?' or '#'",
  }),
  M3TER_ACCESS_KEY_ID: required(),
  M3TER_API_SECRET: required(),
  M3TER_API_URL: httpUrl().default(DEFAULTS.M3TER_API_URL),
  M3TER_INGEST_URL: httpUrl().optional(),
  M3TER_ALLOW_HTTP: z.enum(['true', 'false'], { error: 'must be true or false' }).default('false'),
  // At most 2 minutes: a trigger's lost-response recovery waits about this long plus 6 s for a job's owner,
  // and the monitor's MONITOR_OWNER_WAIT (default 3 minutes) must outlast that.
  M3TER_REQUEST_TIMEOUT: duration()
    .refine((ms) => ms >= 1_000 && ms <= 120_000 && ms % 1_000 === 0, {
      error: 'must be whole seconds from 1s to 2m',
    })
    .optional(),
  M3TER_MAX_REQUESTS_PER_SECOND: z
    .string()
    .trim()
    .refine((v) => /^\d+(\.\d+)?$/.test(v) && Number(v) > 0 && Number(v) <= 1000, {
      error: 'must be a number greater than 0 and at most 1000',
    })
    .transform(Number)
    .optional(),
};

const temporalShape = {
  // TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and the TLS and API key settings are read with the connection
  // (src/temporal/settings.ts): they may come from a TOML profile too.
  TEMPORAL_TASK_QUEUE: z.string().trim().min(1).default(DEFAULTS.TEMPORAL_TASK_QUEUE),
  TEMPORAL_CLI_PATH: z.string().trim().min(1).optional(),
  TEMPORAL_MAX_CACHED_WORKFLOWS: z
    .string()
    .trim()
    // The SDK takes 0 (no cache) or at least 2.
    .refine((v) => /^\d+$/.test(v) && Number(v) !== 1 && Number(v) <= 100_000, {
      error: 'must be 0 or an integer from 2 to 100000',
    })
    .default(DEFAULTS.TEMPORAL_MAX_CACHED_WORKFLOWS)
    .transform(Number),
  WORKER_VERSIONING: z
    .string()
    .trim()
    .toLowerCase()
    .refine((v) => v === 'on' || v === 'off', { error: 'must be on or off' })
    .default(DEFAULTS.WORKER_VERSIONING),
  // The server joins the two as `<deployment>.<buildId>` in places, so a dot may only be in the build id.
  TEMPORAL_DEPLOYMENT_NAME: z
    .string()
    .trim()
    .refine((v) => /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/.test(v), {
      error: 'must be 1-100 letters, digits, - or _, starting with a letter or digit',
    })
    .default(DEFAULTS.TEMPORAL_DEPLOYMENT_NAME),
  TEMPORAL_BUILD_ID: z
    .string()
    .trim()
    .refine((v) => /^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$/.test(v), {
      error: 'must be 1-200 letters, digits, ., _, + or -, starting with a letter or digit',
    })
    .optional(),
};

const s3ConnectionShape = {
  EXPORT_S3_ENDPOINT: httpUrl().optional(),
  EXPORT_S3_REGION: z.string().trim().min(1).default(DEFAULTS.EXPORT_S3_REGION),
  EXPORT_S3_FORCE_PATH_STYLE: z
    .string()
    .trim()
    .toLowerCase()
    .refine((v) => v === 'true' || v === 'false', { error: 'must be true or false' })
    .default(DEFAULTS.EXPORT_S3_FORCE_PATH_STYLE)
    .transform((v) => v === 'true'),
};

const ingestShape = {
  M3TER_INGEST_REQUESTS_PER_SECOND: z
    .string()
    .trim()
    .refine((v) => /^\d+(\.\d+)?$/.test(v) && Number(v) > 0 && Number(v) <= 1000, {
      error: 'must be a number greater than 0 and at most 1000',
    })
    .default(DEFAULTS.M3TER_INGEST_REQUESTS_PER_SECOND)
    .transform(Number),
};

const appShape = {
  ...m3terShape,
  ...ingestShape,
  ...temporalShape,
  EXPORT_DIR: z.string().trim().min(1).default(DEFAULTS.EXPORT_DIR),
  ALERT_WEBHOOK_URL: httpUrl().optional(),
  SLACK_API_URL: httpUrl().optional(),
  EXPORT_S3_BUCKET: z
    .string()
    .trim()
    .refine((v) => /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(v), {
      error: 'must be an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)',
    })
    .optional(),
  EXPORT_S3_PREFIX: z
    .string()
    .trim()
    .refine((v) => !hasControlOrBackslash(v) && !v.split('/').some((p) => p === '..'), {
      error: 'must be a key prefix without control characters, backslashes or ".."',
    })
    .default(DEFAULTS.EXPORT_S3_PREFIX),
  ...s3ConnectionShape,
  METRICS_PORT: port().optional(),
  METRICS_HOST: listenHost().default(DEFAULTS.METRICS_HOST),
  HEALTH_PORT: port().optional(),
  HEALTH_HOST: listenHost().default(DEFAULTS.HEALTH_HOST),
  LOG_LEVEL: z
    .string()
    .trim()
    .toLowerCase()
    .refine((v): v is LogLevel => (LOG_LEVELS as readonly string[]).includes(v), {
      error: `must be one of ${LOG_LEVELS.join(', ')}`,
    })
    .default(DEFAULTS.LOG_LEVEL),
  EXPORT_DEFINITIONS_FILE: z.string().trim().min(1).optional(),
  TEMPORAL_UI_URL: httpUrl().optional(),
  ...monitorShape,
  ...storageLimitsShape,
};

/** Empty or whitespace-only variables count as unset, as in most shells' `VAR= cmd` usage. */
function pick(env: Env, keys: string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const k of keys) {
    const v = env[k];
    out[k] = v === undefined || v.trim() === '' ? undefined : v;
  }
  return out;
}

// URLs that carry credentials (Basic and bearer for m3ter, tokens in alert webhook URLs): https, or http to
// loopback. M3TER_ALLOW_HTTP=true lifts the rule for the m3ter URLs only, for a sandbox trial on a private
// network (docker compose --profile sandbox).
const CREDENTIAL_URLS = ['M3TER_API_URL', 'M3TER_INGEST_URL', 'ALERT_WEBHOOK_URL', 'SLACK_API_URL'] as const;
const HTTPS_RULE = 'must be an https URL (http only to localhost/127.0.0.1/::1)';

function transportIssues(shape: z.ZodRawShape, env: Env): Array<{ variable: string; message: string }> {
  const allowHttp = String(env.M3TER_ALLOW_HTTP ?? '').trim() === 'true';
  return CREDENTIAL_URLS.flatMap((name) => {
    const v = env[name]?.trim();
    if (!(name in shape) || !v || !isHttpUrl(v) || isSecureOrLoopbackUrl(v)) return [];
    if (allowHttp && name.startsWith('M3TER_')) return [];
    const message = name.startsWith('M3TER_')
      ? `${HTTPS_RULE}; M3TER_ALLOW_HTTP=true allows http for a sandbox trial on a private network`
      : HTTPS_RULE;
    return [{ variable: name, message }];
  });
}

function parseEnv<T extends z.ZodRawShape>(
  shape: T,
  env: Env,
  /** Problems found outside the shape (the Temporal connection settings), reported with its own. */
  more: ConfigIssue[] = [],
): z.output<z.ZodObject<T>> {
  const schema = z.object(shape);
  const r = schema.safeParse(pick(env, Object.keys(shape)), {
    // Fallback for rules without their own message; never includes the value.
    error: (iss) => (iss.code === 'invalid_type' && iss.input === undefined ? 'is required' : 'is invalid'),
  });
  const transport = transportIssues(shape, env);
  if (r.success && transport.length === 0 && more.length === 0) return r.data;
  const issues = [
    ...(r.success ? [] : r.error.issues).map((i) => ({
      variable: String(i.path[0] ?? '(environment)'),
      message: i.message,
    })),
    ...transport,
  ];
  // Order follows the shape, i.e. the documented variable order, so the message is stable; the connection
  // settings sit where the docs list them, before TEMPORAL_TASK_QUEUE.
  const order = Object.keys(shape);
  const rank = (v: string) =>
    order.includes(v) ? order.indexOf(v) : order.indexOf('TEMPORAL_TASK_QUEUE') - 0.5;
  // A variable whose `_FILE` could not be read is reported there only.
  const fromBadFile = (v: string) => more.some((m) => m.variable === `${v}_FILE`);
  const all = [...issues.filter((i) => !fromBadFile(i.variable)), ...more];
  all.sort((a, b) => rank(a.variable) - rank(b.variable));
  throw new ConfigError(all);
}

/**
 * The shape's variables and the Temporal connection settings together. A bad connection setting alone
 * is its own one-line error; with other problems, it joins their list.
 */
function parseWithConnection<T extends z.ZodRawShape>(
  shape: T,
  rawEnv: Env,
): [z.output<z.ZodObject<T>>, TemporalConnectionSettings] {
  const { env, issues: fileIssues } = resolveSecretFiles(rawEnv);
  let connection: TemporalConnectionSettings | undefined;
  let problem: TemporalSettingsError | undefined;
  try {
    connection = loadTemporalConnectionSettings(env);
  } catch (err) {
    if (!(err instanceof TemporalSettingsError)) throw err;
    problem = err;
  }
  try {
    const v = parseEnv(shape, env, [
      ...fileIssues,
      ...(problem ? [{ variable: problem.setting, message: problem.problem }] : []),
    ]);
    return [v, connection!];
  } catch (err) {
    if (problem && err instanceof ConfigError && err.issues.length === 1) throw problem;
    throw err;
  }
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function toM3ter(v: z.output<z.ZodObject<typeof m3terShape>>): M3terConfig {
  const apiUrl = trimSlash(v.M3TER_API_URL);
  return {
    orgId: v.M3TER_ORG_ID,
    accessKeyId: v.M3TER_ACCESS_KEY_ID,
    apiSecret: v.M3TER_API_SECRET,
    apiUrl,
    // With no M3TER_INGEST_URL the ingest host follows the API host, so pointing M3TER_API_URL at a
    // sandbox never sends measurements to production.
    ingestUrl: v.M3TER_INGEST_URL ? trimSlash(v.M3TER_INGEST_URL) : deriveIngestUrl(apiUrl),
    ...(v.M3TER_MAX_REQUESTS_PER_SECOND === undefined
      ? {}
      : { maxRequestsPerSecond: v.M3TER_MAX_REQUESTS_PER_SECOND }),
    ...(v.M3TER_REQUEST_TIMEOUT === undefined ? {} : { timeoutMs: v.M3TER_REQUEST_TIMEOUT }),
  };
}

function toTemporal(
  v: z.output<z.ZodObject<typeof temporalShape>>,
  connection: TemporalConnectionSettings,
): TemporalConfig {
  const t: TemporalConfig = {
    address: connection.address,
    namespace: connection.namespace,
    connection,
    taskQueue: v.TEMPORAL_TASK_QUEUE,
    maxCachedWorkflows: v.TEMPORAL_MAX_CACHED_WORKFLOWS,
  };
  if (v.TEMPORAL_CLI_PATH !== undefined) t.cliPath = v.TEMPORAL_CLI_PATH;
  if (v.WORKER_VERSIONING === 'on') {
    t.versioning = {
      deploymentName: v.TEMPORAL_DEPLOYMENT_NAME,
      ...(v.TEMPORAL_BUILD_ID === undefined ? {} : { buildId: v.TEMPORAL_BUILD_ID }),
    };
  }
  return t;
}

/** The environment variables that load back into `m3ter` (for stacks that point a worker at a sandbox). */
export function m3terEnv(m3ter: M3terConfig): Env {
  return {
    M3TER_ORG_ID: m3ter.orgId,
    M3TER_ACCESS_KEY_ID: m3ter.accessKeyId,
    M3TER_API_SECRET: m3ter.apiSecret,
    M3TER_API_URL: m3ter.apiUrl,
    M3TER_INGEST_URL: m3ter.ingestUrl,
    M3TER_MAX_REQUESTS_PER_SECOND:
      m3ter.maxRequestsPerSecond === undefined ? undefined : String(m3ter.maxRequestsPerSecond),
    M3TER_REQUEST_TIMEOUT: m3ter.timeoutMs === undefined ? undefined : `${m3ter.timeoutMs / 1000}s`,
  };
}

export function loadM3terConfig(env: Env = process.env): M3terConfig {
  const resolved = resolveSecretFiles(env);
  return toM3ter(parseEnv(m3terShape, resolved.env, resolved.issues));
}

/** Temporal settings only: commands such as `status` must work without m3ter credentials. */
export function loadTemporalConfig(env: Env = process.env): TemporalConfig {
  return toTemporal(...parseWithConnection(temporalShape, env));
}

function toMonitor(v: z.output<z.ZodObject<typeof monitorShape>>): MonitorConfig {
  return {
    enabled: v.MONITOR === 'on',
    intervalMs: v.MONITOR_INTERVAL,
    lookbackMs: v.MONITOR_LOOKBACK,
    ownerWaitMs: v.MONITOR_OWNER_WAIT,
    ...(v.INCIDENTS === 'on'
      ? {
          incidents: {
            updateIntervalMs: v.INCIDENT_UPDATE_INTERVAL,
            digestIntervalMs: v.INCIDENT_DIGEST_INTERVAL,
          },
        }
      : {}),
  };
}

/** Temporal and monitor settings: `monitor start` needs no m3ter credentials (the worker polls m3ter). */
export function loadMonitorCommandConfig(
  env: Env = process.env,
): TemporalConfig & { monitor: MonitorConfig } {
  const [v, connection] = parseWithConnection({ ...temporalShape, ...monitorShape }, env);
  return { ...toTemporal(v, connection), monitor: toMonitor(v) };
}

function toIngest(v: z.output<z.ZodObject<typeof ingestShape & typeof s3ConnectionShape>>): IngestConfig {
  return {
    requestsPerSecond: v.M3TER_INGEST_REQUESTS_PER_SECOND,
    s3: {
      region: v.EXPORT_S3_REGION,
      forcePathStyle: v.EXPORT_S3_FORCE_PATH_STYLE,
      ...(v.EXPORT_S3_ENDPOINT !== undefined ? { endpoint: v.EXPORT_S3_ENDPOINT } : {}),
    },
  };
}

/** Temporal settings and the S3 endpoint: `ingest` reads s3:// files to check them before it starts. */
export function loadIngestCommandConfig(env: Env = process.env): TemporalConfig & { ingest: IngestConfig } {
  const [v, connection] = parseWithConnection(
    { ...temporalShape, ...ingestShape, ...s3ConnectionShape },
    env,
  );
  return { ...toTemporal(v, connection), ingest: toIngest(v) };
}

export function loadConfig(env: Env = process.env): AppConfig {
  const [v, connection] = parseWithConnection(appShape, env);
  const config: AppConfig = {
    m3ter: toM3ter(v),
    temporal: toTemporal(v, connection),
    exportDir: v.EXPORT_DIR,
    logLevel: v.LOG_LEVEL as LogLevel,
    monitor: toMonitor(v),
    downloads: toDownloadConfig(v),
    metricsHost: v.METRICS_HOST,
    healthHost: v.HEALTH_HOST,
    ingest: toIngest(v),
  };
  if (v.EXPORT_DEFINITIONS_FILE !== undefined) config.definitionsFile = v.EXPORT_DEFINITIONS_FILE;
  if (v.TEMPORAL_UI_URL !== undefined) config.temporalUiUrl = v.TEMPORAL_UI_URL.replace(/\/+$/, '');
  if (v.ALERT_WEBHOOK_URL !== undefined) config.alertWebhookUrl = v.ALERT_WEBHOOK_URL;
  if (v.SLACK_API_URL !== undefined) config.slackApiUrl = v.SLACK_API_URL;
  if (v.METRICS_PORT !== undefined) config.metricsPort = v.METRICS_PORT;
  if (v.HEALTH_PORT !== undefined) config.healthPort = v.HEALTH_PORT;
  if (v.EXPORT_S3_BUCKET !== undefined) {
    config.s3 = {
      bucket: v.EXPORT_S3_BUCKET,
      prefix: v.EXPORT_S3_PREFIX.replace(/^\/+|\/+$/g, ''),
      region: v.EXPORT_S3_REGION,
      forcePathStyle: v.EXPORT_S3_FORCE_PATH_STYLE,
      ...(v.EXPORT_S3_ENDPOINT !== undefined ? { endpoint: v.EXPORT_S3_ENDPOINT } : {}),
    };
  }
  return config;
}
