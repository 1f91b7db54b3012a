/**
 * The one way this project connects to Temporal. The worker's NativeConnection and the CLI's Connection are
 * built from the same settings (./settings.ts: TEMPORAL_* variables and TOML profiles, as the temporal CLI
 * reads them), so whatever connects one connects the other. A failed connection becomes one line naming
 * the address, where it came from and the cause (./diagnose.ts), never a secret or a stack trace.
 */
import { Connection, type ConnectionOptions, type TLSConfig } from '@temporalio/client';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import { diagnoseConnection, type ConnectionDiagnosis } from './diagnose';
import type { TemporalConnectionSettings } from './settings';

export * from './settings';
export { diagnoseConnection, type ConnectionDiagnosis } from './diagnose';

/** A connection that could not be made or was refused: the CLI exits 1 with this one line. */
export class TemporalConnectionError extends Error {
  constructor(
    readonly address: string,
    /** The cause alone, for /readyz ("not connected: <cause>"). */
    readonly causeText: string,
    readonly unreachable: boolean,
    addressSource: string,
  ) {
    super(
      `Cannot connect to Temporal at ${address} (from ${addressSource}): ${causeText}` +
        (unreachable ? '. For a local Temporal, run `m3ter-exports dev`' : ''),
    );
    this.name = 'TemporalConnectionError';
  }
}

function tlsConfig(s: TemporalConnectionSettings): TLSConfig | undefined {
  if (!s.tls) return undefined;
  return {
    ...(s.tls.serverName ? { serverNameOverride: s.tls.serverName } : {}),
    ...(s.tls.serverCaCert ? { serverRootCACertificate: s.tls.serverCaCert } : {}),
    ...(s.tls.clientCert && s.tls.clientKey
      ? { clientCertPair: { crt: s.tls.clientCert, key: Buffer.from(s.tls.clientKey.reveal()) } }
      : {}),
  };
}

/** The SDK options for both connection kinds, from the same settings. */
export function temporalConnectionOptions(
  s: TemporalConnectionSettings,
  opts: { connectTimeoutMs?: number } = {},
): { client: ConnectionOptions; native: NativeConnectionOptions } {
  const tls = tlsConfig(s);
  const apiKey = s.apiKey;
  return {
    client: {
      address: s.address,
      // Explicitly false without TLS settings: the SDK would otherwise turn TLS on for an API key, and the
      // settings already decided (an API key with TEMPORAL_TLS=false stays plaintext, as in the temporal CLI).
      tls: tls ?? false,
      // A function, so the options object itself holds no key.
      ...(apiKey ? { apiKey: () => apiKey.reveal() } : {}),
      ...(s.metadata ? { metadata: s.metadata } : {}),
      connectTimeout: opts.connectTimeoutMs ?? 10_000,
    },
    native: {
      address: s.address,
      tls: tls ?? false,
      ...(apiKey ? { apiKey: apiKey.reveal() } : {}),
      ...(s.metadata ? { metadata: s.metadata } : {}),
    },
  };
}

/** gRPC status codes that mean "who you are was not accepted". */
const PERMISSION_DENIED = 7;
const UNAUTHENTICATED = 16;

function errorChain(err: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e: unknown = err; e && out.length < 5; e = (e as { cause?: unknown }).cause) out.push(e);
  return out;
}

/** The refusal of credentials, if that is what the error is (client: status code; native: message). */
function refusedCredentials(err: unknown): boolean {
  return errorChain(err).some((e) => {
    const code = (e as { code?: unknown }).code;
    if (code === PERMISSION_DENIED || code === UNAUTHENTICATED) return true;
    const msg = String((e as { message?: unknown }).message ?? '');
    return /PermissionDenied|Unauthenticated|PERMISSION_DENIED|UNAUTHENTICATED|Request unauthorized/.test(
      msg,
    );
  });
}

/**
 * A call refused for lack of rights after the connection was made (no key given to a server that wants
 * one, or a key without a role on the namespace), as one line; undefined for any other error.
 */
export function describeRefusedCall(s: TemporalConnectionSettings, err: unknown): string | undefined {
  if (!refusedCredentials(err)) return undefined;
  const detail = errorChain(err)
    .map((e) => (e as { details?: unknown }).details)
    .find((d) => typeof d === 'string' && d !== '');
  const who = s.apiKey
    ? `the API key (${s.sources.apiKey}) has no role that allows this on namespace "${s.namespace}"`
    : s.tls?.clientCert
      ? `the client certificate (${s.sources.clientCert}) has no role that allows this on namespace "${s.namespace}"`
      : 'it wants credentials: set TEMPORAL_API_KEY, or a client certificate';
  return `Temporal at ${s.address} refused the request${detail ? ` (${sanitize(String(detail), s)})` : ''}: ${who}`;
}

/** First line of an SDK message, the API key cut out should a server ever echo it. */
function sanitize(text: string, s: TemporalConnectionSettings): string {
  let line = text.split('\n')[0].slice(0, 300);
  const key = s.apiKey?.reveal();
  if (key) line = line.split(key).join('[secret]');
  return line;
}

/** Why `err` happened, as one line: credentials refused, else what a TCP/TLS probe finds, else the SDK's words. */
export async function explainConnectionFailure(
  s: TemporalConnectionSettings,
  err: unknown,
  /** A diagnosis already made for this failure; made here when absent. */
  probed?: ConnectionDiagnosis,
): Promise<ConnectionDiagnosis> {
  if (refusedCredentials(err)) {
    return {
      cause: s.apiKey
        ? `the server refused the API key (${s.sources.apiKey}): permission denied; check that it is current and valid for this namespace`
        : 'the server refused the request: permission denied; it wants credentials (TEMPORAL_API_KEY or a client certificate)',
      unreachable: false,
    };
  }
  const diagnosis = probed ?? (await diagnoseConnection(s).catch(() => undefined));
  if (diagnosis) return diagnosis;
  const message = err instanceof Error ? err.message : String(err);
  const inner = errorChain(err)
    .slice(1)
    .map((e) => (e instanceof Error ? e.message : ''))
    .find((m) => m);
  return { cause: sanitize(inner ? `${message}: ${inner}` : message, s), unreachable: false, fromSdk: true };
}

/** How long a connection waits for the probe before starting the SDK's attempt beside it. */
const PROBE_HEAD_START_MS = 50;

/** `p`'s value if it settles within `ms`, else undefined. */
async function settledWithin<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function connectWithDiagnosis<T>(
  s: TemporalConnectionSettings,
  connect: () => Promise<T>,
  close: (c: T) => Promise<void>,
): Promise<T> {
  // The SDK retries a failing connection until its deadline; the probe (node:net / node:tls with the same
  // settings) knows within milliseconds when the failure is certain. The probe goes first for a moment: a
  // failure it makes certain by then (nothing listens at a local address) needs no SDK attempt, which,
  // once started, cannot be stopped before its deadline (closing its channel while it waits revives it).
  // Otherwise both run at once; a certain failure ends the wait, anything else waits for the SDK.
  const diagnosis = diagnoseConnection(s).catch(() => undefined);
  const early = await settledWithin(diagnosis, PROBE_HEAD_START_MS);
  if (early?.definitive)
    throw new TemporalConnectionError(s.address, early.cause, early.unreachable, s.sources.address);
  let abandoned = false;
  const attempt = connect().then(
    (conn) => {
      if (abandoned) void close(conn).catch(() => undefined);
      return { conn };
    },
    (err: unknown) => ({ err }),
  );
  const certain = diagnosis.then((d) => (d?.definitive ? { d } : new Promise<never>(() => undefined)));
  const first = await Promise.race([attempt, certain]);
  if ('d' in first) {
    abandoned = true;
    throw new TemporalConnectionError(s.address, first.d.cause, first.d.unreachable, s.sources.address);
  }
  if ('conn' in first) return first.conn;
  const why = await explainConnectionFailure(s, first.err, await diagnosis);
  throw new TemporalConnectionError(s.address, why.cause, why.unreachable, s.sources.address);
}

/**
 * A client Connection to `options`, checked with one call. The SDK's `Connection.connect` leaves the gRPC
 * channel of a failed attempt open, with its timers; this closes it.
 */
export async function openClientConnection(options: ConnectionOptions): Promise<Connection> {
  const connection = Connection.lazy(options);
  try {
    await connection.ensureConnected();
    return connection;
  } catch (err) {
    await connection.close().catch(() => undefined);
    throw err;
  }
}

/** A client Connection (CLI, schedules, the worker's own client calls). */
export function connectTemporalClient(
  s: TemporalConnectionSettings,
  opts: { connectTimeoutMs?: number } = {},
): Promise<Connection> {
  return connectWithDiagnosis(
    s,
    () => openClientConnection(temporalConnectionOptions(s, opts).client),
    (c) => c.close(),
  );
}

/** The worker's NativeConnection. */
export function connectTemporalWorker(s: TemporalConnectionSettings): Promise<NativeConnection> {
  return connectWithDiagnosis(
    s,
    () => NativeConnection.connect(temporalConnectionOptions(s).native),
    (c) => c.close(),
  );
}
