/**
 * Temporal connection settings: the same variables and TOML profiles as the `temporal` CLI, loaded with
 * @temporalio/envconfig so both read them alike. Everything that can be checked without the network is
 * checked here (address shape, config file, profile, certificate and key files, that the certificate
 * matches its key), so a bad setting fails before any connection with one line naming the setting.
 *
 * Secrets (the API key, the client's private key) are held in {@link Secret}: logging or serialising the
 * settings prints a placeholder, and no error built here quotes a secret's value.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import util from 'node:util';
import {
  loadClientConfigFromToml,
  loadClientConfigProfile,
  type ClientConfigProfile,
  type ConfigDataSource,
} from '@temporalio/envconfig';

export const DEFAULT_TEMPORAL_ADDRESS = 'localhost:7233';
export const DEFAULT_TEMPORAL_NAMESPACE = 'default';

export type Env = Record<string, string | undefined>;

/** A value that must never be printed: every way of turning it into text yields a placeholder. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[secret]';
  }
  toJSON(): string {
    return '[secret]';
  }
  [util.inspect.custom](): string {
    return '[secret]';
  }
}

/** A bad setting found before connecting: the CLI exits 2 with this one line. */
export class TemporalSettingsError extends Error {
  constructor(
    /** The variable or profile key at fault, e.g. `TEMPORAL_TLS_CLIENT_CERT_PATH`. */
    readonly setting: string,
    readonly problem: string,
  ) {
    super(`Temporal setting ${setting}: ${problem}`);
    this.name = 'TemporalSettingsError';
  }
}

export interface TemporalTlsSettings {
  /** Name checked against the server's certificate (and sent as SNI) instead of the address's host. */
  serverName?: string;
  /** PEM; absent means the system's trusted roots. */
  serverCaCert?: Buffer;
  clientCert?: Buffer;
  clientKey?: Secret;
}

/** Where each setting came from, in words an operator can act on (a variable, or a key of a profile). */
export interface TemporalSettingSources {
  address: string;
  namespace: string;
  apiKey?: string;
  tls?: string;
  serverName?: string;
  serverCaCert?: string;
  clientCert?: string;
  clientKey?: string;
}

export interface TemporalConnectionSettings {
  /** host:port */
  address: string;
  namespace: string;
  apiKey?: Secret;
  /** Absent: plaintext. */
  tls?: TemporalTlsSettings;
  /** Extra gRPC headers (TEMPORAL_GRPC_META_*, a profile's grpc_meta). */
  metadata?: Record<string, string>;
  sources: TemporalSettingSources;
  /** The TOML profile in use, when a config file was read. */
  profile?: { name: string; file: string };
}

const ADDRESS_RE = /^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):(\d{1,5})$/;

/** True for host:port with a port from 1 to 65535 (IPv6 hosts in brackets). */
export function isHostPort(v: string): boolean {
  const m = ADDRESS_RE.exec(v);
  return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 65535;
}

/** Empty or whitespace-only variables count as unset, as everywhere else in this project's config. */
function cleanEnv(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v.trim() !== '') out[k] = v;
  return out;
}

/** The temporal CLI's default config file on Linux and macOS: $XDG_CONFIG_HOME or ~/.config. */
function defaultConfigFile(env: Record<string, string>): string | undefined {
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'temporalio', 'temporal.toml');
  const home = env.HOME ?? os.homedir();
  if (os.platform() === 'darwin')
    return path.join(home, 'Library', 'Application Support', 'temporalio', 'temporal.toml');
  return home ? path.join(home, '.config', 'temporalio', 'temporal.toml') : undefined;
}

function fileProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'file not found';
  if (code === 'EACCES' || code === 'EPERM') return 'file not readable (permission denied)';
  if (code === 'EISDIR') return 'is a directory, not a file';
  return `cannot read the file (${code ?? 'error'})`;
}

/** The config file's text: TEMPORAL_CONFIG_FILE must exist; the default location may be absent. */
function readConfigFile(env: Record<string, string>): { file: string; text: string } | undefined {
  const explicit = env.TEMPORAL_CONFIG_FILE;
  const file = explicit ?? defaultConfigFile(env);
  if (!file) return undefined;
  try {
    return { file, text: fs.readFileSync(file, 'utf8') };
  } catch (err) {
    if (!explicit && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TemporalSettingsError(explicit ? 'TEMPORAL_CONFIG_FILE' : file, `${file}: ${fileProblem(err)}`);
  }
}

/** The first line of a TOML parser message, with its position: the excerpt after it may quote a secret. */
function tomlProblem(err: unknown): string {
  const e = err as { message?: string; line?: number; column?: number };
  const first = String(e.message ?? err).split('\n')[0];
  return e.line ? `${first} (line ${e.line}, column ${e.column ?? '?'})` : first;
}

type TlsField = 'client_cert' | 'client_key' | 'server_ca_cert';
const TLS_ENV: Record<TlsField, string> = {
  client_cert: 'TEMPORAL_TLS_CLIENT_CERT',
  client_key: 'TEMPORAL_TLS_CLIENT_KEY',
  server_ca_cert: 'TEMPORAL_TLS_SERVER_CA_CERT',
};

/**
 * Loads and checks the connection settings from the environment and, when present, the TOML config file
 * (TEMPORAL_CONFIG_FILE, else the temporal CLI's default location) and its profile (TEMPORAL_PROFILE, else
 * `default`). Variables override the profile, as in the temporal CLI. Throws {@link TemporalSettingsError}.
 */
export function loadTemporalConnectionSettings(rawEnv: Env = process.env): TemporalConnectionSettings {
  const env = cleanEnv(rawEnv);
  const config = readConfigFile(env);
  const profileName = env.TEMPORAL_PROFILE;
  let fileProfile: ClientConfigProfile | undefined;
  if (config) {
    let profiles: Record<string, ClientConfigProfile>;
    try {
      profiles = loadClientConfigFromToml(Buffer.from(config.text), { strict: false }).profiles;
    } catch (err) {
      throw new TemporalSettingsError(
        env.TEMPORAL_CONFIG_FILE ? 'TEMPORAL_CONFIG_FILE' : config.file,
        `${config.file} is not a valid config file: ${tomlProblem(err)}`,
      );
    }
    fileProfile = profiles[profileName ?? 'default'];
    if (profileName && !fileProfile) {
      const names = Object.keys(profiles);
      throw new TemporalSettingsError(
        'TEMPORAL_PROFILE',
        `profile "${profileName}" not found in ${config.file} (${names.length ? `it has ${names.map((n) => `"${n}"`).join(', ')}` : 'it has no profiles'})`,
      );
    }
  } else if (profileName) {
    throw new TemporalSettingsError(
      'TEMPORAL_PROFILE',
      `profile "${profileName}" selected but there is no config file (set TEMPORAL_CONFIG_FILE)`,
    );
  }
  const usedProfile = config ? { name: profileName ?? 'default', file: config.file } : undefined;
  const inProfile = (key: string) => `${key} in profile "${usedProfile?.name}" of ${usedProfile?.file}`;

  let merged: ClientConfigProfile;
  try {
    merged = loadClientConfigProfile({
      ...(config ? { configSource: { data: config.text } } : { disableFile: true }),
      ...(profileName ? { profile: profileName } : {}),
      overrideEnvVars: env,
    });
  } catch (err) {
    // "Cannot specify both client_cert_path and client_cert_data" and the like: no value in the message.
    const msg = tomlProblem(err);
    const field = (Object.keys(TLS_ENV) as TlsField[]).find((f) => msg.includes(f));
    throw new TemporalSettingsError(
      field ? `${TLS_ENV[field]}_PATH / ${TLS_ENV[field]}_DATA` : 'TEMPORAL_*',
      msg,
    );
  }

  // The variables envconfig reads (besides TEMPORAL_GRPC_META_*), named here so that a message can say
  // which one a value came from: variables win over the profile.
  const setInEnv: Record<string, boolean> = {
    TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS !== undefined,
    TEMPORAL_NAMESPACE: env.TEMPORAL_NAMESPACE !== undefined,
    TEMPORAL_API_KEY: env.TEMPORAL_API_KEY !== undefined,
    TEMPORAL_TLS: env.TEMPORAL_TLS !== undefined,
    TEMPORAL_TLS_SERVER_NAME: env.TEMPORAL_TLS_SERVER_NAME !== undefined,
    TEMPORAL_TLS_CLIENT_CERT_PATH: env.TEMPORAL_TLS_CLIENT_CERT_PATH !== undefined,
    TEMPORAL_TLS_CLIENT_CERT_DATA: env.TEMPORAL_TLS_CLIENT_CERT_DATA !== undefined,
    TEMPORAL_TLS_CLIENT_KEY_PATH: env.TEMPORAL_TLS_CLIENT_KEY_PATH !== undefined,
    TEMPORAL_TLS_CLIENT_KEY_DATA: env.TEMPORAL_TLS_CLIENT_KEY_DATA !== undefined,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: env.TEMPORAL_TLS_SERVER_CA_CERT_PATH !== undefined,
    TEMPORAL_TLS_SERVER_CA_CERT_DATA: env.TEMPORAL_TLS_SERVER_CA_CERT_DATA !== undefined,
  };
  const sourceOf = (envName: string, tomlKey: string, present: boolean): string | undefined => {
    if (!present) return undefined;
    return setInEnv[envName] ? envName : inProfile(tomlKey);
  };
  const dataSourceOf = (field: TlsField, src: ConfigDataSource | undefined) => {
    if (!src) return undefined;
    const kind = 'path' in src ? 'PATH' : 'DATA';
    const envName = `${TLS_ENV[field]}_${kind}`;
    return setInEnv[envName] ? envName : inProfile(`tls.${field}_${kind.toLowerCase()}`);
  };

  const address = merged.address ?? DEFAULT_TEMPORAL_ADDRESS;
  const sources: TemporalSettingSources = {
    address:
      sourceOf('TEMPORAL_ADDRESS', 'address', merged.address !== undefined) ??
      `the default (TEMPORAL_ADDRESS unset)`,
    namespace: sourceOf('TEMPORAL_NAMESPACE', 'namespace', merged.namespace !== undefined) ?? 'the default',
  };
  if (!isHostPort(address))
    throw new TemporalSettingsError(sources.address, 'must be host:port (e.g. localhost:7233)');

  const settings: TemporalConnectionSettings = {
    address,
    namespace: merged.namespace ?? DEFAULT_TEMPORAL_NAMESPACE,
    sources,
    ...(usedProfile ? { profile: usedProfile } : {}),
  };

  if (merged.apiKey !== undefined) {
    sources.apiKey = sourceOf('TEMPORAL_API_KEY', 'api_key', true);
    const key = merged.apiKey.trim();
    // Sent as an HTTP/2 header value: whitespace inside means a pasted line break or a wrong variable.
    if (key === '' || /\s/.test(key))
      throw new TemporalSettingsError(sources.apiKey!, 'the API key is empty or contains whitespace');
    settings.apiKey = new Secret(key);
  }
  if (merged.grpcMeta && Object.keys(merged.grpcMeta).length > 0) settings.metadata = merged.grpcMeta;

  // envconfig reads this variable but the SDK has nothing to pass it to: refuse rather than ignore it.
  const hostVerificationOff = ['true', '1'].includes(env.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION ?? '');
  if (hostVerificationOff)
    throw new TemporalSettingsError(
      'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION',
      "turning host verification off is not supported by the Temporal TypeScript SDK; set TEMPORAL_TLS_SERVER_NAME to a name on the server's certificate instead",
    );

  // TLS as envconfig decides it: explicit TLS settings, or an API key, turn it on; TEMPORAL_TLS=false or
  // tls.disabled turns it off.
  const tls = merged.tls;
  if (tls?.disabled === true) {
    sources.tls = sourceOf('TEMPORAL_TLS', 'tls.disabled', true);
    return settings;
  }
  if (!tls && !settings.apiKey) return settings;
  sources.tls = tls
    ? (sourceOf('TEMPORAL_TLS', 'tls', tls.disabled === false) ?? 'the TLS settings given')
    : `${sources.apiKey} (an API key turns TLS on)`;
  const t: TemporalTlsSettings = {};
  if (tls?.serverName) {
    t.serverName = tls.serverName;
    sources.serverName = sourceOf('TEMPORAL_TLS_SERVER_NAME', 'tls.server_name', true);
  }
  sources.serverCaCert = dataSourceOf('server_ca_cert', tls?.serverCACert);
  sources.clientCert = dataSourceOf('client_cert', tls?.clientCert);
  sources.clientKey = dataSourceOf('client_key', tls?.clientKey);

  if (tls?.serverCACert) {
    t.serverCaCert = readPem(tls.serverCACert, sources.serverCaCert!);
    parseCertificate(t.serverCaCert, sources.serverCaCert!, 'CA certificate');
  }
  if (tls?.clientCert || tls?.clientKey) {
    if (!tls.clientKey)
      throw new TemporalSettingsError(
        sources.clientCert!,
        'a client certificate needs its private key too (TEMPORAL_TLS_CLIENT_KEY_PATH)',
      );
    if (!tls.clientCert)
      throw new TemporalSettingsError(
        sources.clientKey!,
        'a client private key needs its certificate too (TEMPORAL_TLS_CLIENT_CERT_PATH)',
      );
    const certPem = readPem(tls.clientCert, sources.clientCert!);
    const keyPem = readPem(tls.clientKey, sources.clientKey!);
    const cert = parseCertificate(certPem, sources.clientCert!, 'client certificate');
    let key: KeyObject;
    try {
      key = createPrivateKey(keyPem);
    } catch {
      // The parser's message is not quoted: it could echo part of the key.
      throw new TemporalSettingsError(
        sources.clientKey!,
        'not a PEM private key (or it is encrypted with a passphrase, which is not supported)',
      );
    }
    if (!cert.checkPrivateKey(key))
      throw new TemporalSettingsError(
        `${sources.clientCert} / ${sources.clientKey}`,
        'the client certificate does not match the private key',
      );
    t.clientCert = certPem;
    t.clientKey = new Secret(keyPem.toString('utf8'));
  }
  settings.tls = t;
  return settings;
}

function readPem(src: ConfigDataSource, setting: string): Buffer {
  if ('data' in src) return Buffer.from(src.data);
  try {
    return fs.readFileSync(src.path);
  } catch (err) {
    throw new TemporalSettingsError(setting, `${src.path}: ${fileProblem(err)}`);
  }
}

function parseCertificate(pem: Buffer, setting: string, what: string): X509Certificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    throw new TemporalSettingsError(setting, `not a PEM ${what}`);
  }
  const now = Date.now();
  if (Date.parse(cert.validTo) < now)
    throw new TemporalSettingsError(
      setting,
      `the ${what} expired on ${new Date(cert.validTo).toISOString()}`,
    );
  if (Date.parse(cert.validFrom) > now)
    throw new TemporalSettingsError(
      setting,
      `the ${what} is not valid before ${new Date(cert.validFrom).toISOString()}`,
    );
  return cert;
}

/** One line describing the settings for a start-up log: no secrets, only whether they are set. */
export function describeTemporalSettings(s: TemporalConnectionSettings): Record<string, unknown> {
  return {
    address: s.address,
    namespace: s.namespace,
    tls: s.tls ? (s.tls.clientCert ? 'mTLS' : 'TLS') : 'off',
    apiKey: s.apiKey ? 'set' : 'unset',
    ...(s.profile ? { profile: s.profile.name, configFile: s.profile.file } : {}),
  };
}

/** The address's host part (brackets removed from IPv6). */
export function hostOf(address: string): string {
  const host = address.slice(0, address.lastIndexOf(':'));
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

export function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

export const isIpAddress = (host: string): boolean => net.isIP(host) !== 0;

/** Every variable that shapes the connection, besides TEMPORAL_GRPC_META_*. */
export const TEMPORAL_CONNECTION_VARIABLES = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_CERT_DATA',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION',
  'TEMPORAL_PROFILE',
  'TEMPORAL_CONFIG_FILE',
] as const;

/** A plaintext connection to a server this process started itself (the dev server of `dev` and `demo`). */
export function localTemporalSettings(
  address: string,
  namespace: string,
  source: string,
): TemporalConnectionSettings {
  return { address, namespace, sources: { address: source, namespace: source } };
}
