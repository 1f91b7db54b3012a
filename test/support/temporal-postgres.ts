// A production-style Temporal for tests: the real server (go.temporal.io/server v1.29.1, built with
// `go install` into the same cache as the Temporal CLI) on a throwaway PostgreSQL 15 cluster, everything on
// loopback with free ports. Schemas are set up with the server's own sql tool from the module's schema
// files, the config starts from the module's development-postgres12.yaml, and the namespace gets the search
// attributes through `m3ter-exports setup`'s registerSearchAttributes. stop() removes everything; the
// server and Postgres can be restarted in place (their state survives) for chaos tests.
//
// Optionally secured as production clusters are: frontend TLS (`global.tls`, with requireClientAuth for
// mTLS) and API keys (`global.authorization`: the default JWT claim mapper and authorizer, keys fetched
// from a JWKS URL). Then the server's own system workers reach the history through an internal-frontend,
// which skips both, as the server's docs advise for an authorizer.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { parse, stringify } from 'yaml';
import { registerSearchAttributes } from '../../src/cli/setup-command';
import { openClientConnection } from '../../src/temporal/connection';
import { cacheDir } from '../../tooling/devserver/find-cli';
import { stopChild } from '../../tooling/devserver';
import { shellQuote, startReaper } from './reaper';

export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
const SERVER_MODULE = 'go.temporal.io/server';
const PG_BIN = process.env.M3TER_PG_BIN ?? '/usr/lib/postgresql/15/bin';

type Log = (msg: string) => void;

function run(
  file: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { ...opts, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err)
        reject(
          new Error(`${path.basename(file)} ${args.join(' ')} failed: ${stderr.slice(-3000) || err.message}`),
        );
      else resolve({ stdout, stderr });
    });
  });
}

const taken = new Set<number>();

/**
 * A free loopback port below 32768: the server stores membership ports in a Postgres smallint, so the
 * kernel's ephemeral range (32768 and up) is refused.
 */
async function freePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port)) continue;
    const ok = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (ok) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('no free port below 32768');
}

export interface TemporalServerBinaries {
  server: string;
  sql: string;
  /** The module's source tree (schema files, sample configs). */
  moduleDir: string;
}

/** The server and its sql tool: cached builds, else `go install ...@v1.29.1` (about 2.5 min cold). */
export async function findTemporalServer(log: Log = () => undefined): Promise<TemporalServerBinaries> {
  const gobin = path.join(cacheDir(), 'temporal-server', TEMPORAL_SERVER_VERSION);
  const server = path.join(gobin, 'server');
  const sql = path.join(gobin, 'sql');
  if (!fs.existsSync(server) || !fs.existsSync(sql)) {
    if (spawnSync('go', ['version'], { stdio: 'ignore' }).status !== 0)
      throw new Error('Go is needed to build the Temporal server for the Postgres-backed tests');
    log(`building the Temporal server ${TEMPORAL_SERVER_VERSION} and its sql tool with go install ...`);
    const started = Date.now();
    fs.mkdirSync(gobin, { recursive: true });
    await run(
      'go',
      [
        'install',
        `${SERVER_MODULE}/cmd/server@${TEMPORAL_SERVER_VERSION}`,
        `${SERVER_MODULE}/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`,
      ],
      { env: { ...process.env, GOBIN: gobin, CGO_ENABLED: '0', GOFLAGS: '-trimpath' } },
    );
    log(`built in ${Math.round((Date.now() - started) / 1000)} s`);
  }
  // The module's files (schemas, configs): in the module cache once installed; `go mod download` names it.
  const { stdout } = await run('go', [
    'mod',
    'download',
    '-json',
    `${SERVER_MODULE}@${TEMPORAL_SERVER_VERSION}`,
  ]);
  const moduleDir = (JSON.parse(stdout) as { Dir: string }).Dir;
  return { server, sql, moduleDir };
}

/** A throwaway PostgreSQL cluster on a loopback port (trust auth, fsync off: test data only). */
class Postgres {
  readonly data: string;
  private readonly asPostgres: boolean;
  constructor(
    readonly dir: string,
    readonly port: number,
  ) {
    this.data = path.join(dir, 'data');
    // initdb refuses to run as root: run the cluster as the `postgres` user then.
    this.asPostgres = process.getuid?.() === 0;
  }

  private cmd(bin: string, args: string[]): [string, string[]] {
    const exe = path.join(PG_BIN, bin);
    return this.asPostgres ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
  }

  async init(): Promise<void> {
    if (!fs.existsSync(path.join(PG_BIN, 'initdb')))
      throw new Error(
        `PostgreSQL 15 not found in ${PG_BIN} (apt-get install postgresql-15, or set M3TER_PG_BIN)`,
      );
    if (this.asPostgres) await run('chown', ['postgres:', this.dir]);
    await run(
      ...this.cmd('initdb', ['-D', this.data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale']),
    );
  }

  /** Runs one statement as the superuser. */
  async psql(statement: string): Promise<void> {
    await run(
      ...this.cmd('psql', [
        '-h',
        this.dir,
        '-p',
        String(this.port),
        '-U',
        'postgres',
        '-d',
        'postgres',
        '-v',
        'ON_ERROR_STOP=1',
        '-c',
        statement,
      ]),
    );
  }

  async start(): Promise<void> {
    const opts = `-c listen_addresses=127.0.0.1 -p ${this.port} -k ${this.dir} -c fsync=off -c max_connections=200`;
    await run(
      ...this.cmd('pg_ctl', [
        '-D',
        this.data,
        '-l',
        path.join(this.dir, 'pg.log'),
        '-w',
        '-t',
        '60',
        '-o',
        opts,
        'start',
      ]),
    );
  }

  /** The shell command that stops the cluster at once, for a reaper (no-op when it is not running). */
  immediateStopCommand(): string {
    const [file, args] = this.cmd('pg_ctl', ['-D', this.data, '-m', 'immediate', '-w', '-t', '30', 'stop']);
    return [file, ...args].map(shellQuote).join(' ');
  }

  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    if (!fs.existsSync(path.join(this.data, 'postmaster.pid'))) return;
    await run(...this.cmd('pg_ctl', ['-D', this.data, '-m', mode, '-w', '-t', '60', 'stop']));
  }
}

/** The role the Temporal server and its SQL tool connect as. */
const TEMPORAL_DB_ROLE = 'temporal';

export interface PostgresTemporal {
  address: string;
  namespace: string;
  postgresPort: number;
  /** Stops the server (SIGTERM) and starts it again on the same ports and database. */
  restartServer(downMs?: number): Promise<void>;
  /** Stops the server alone (Postgres keeps running); startServer() brings it back on the same ports. */
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
  /** Stops Postgres (fast shutdown, connections cut) and starts it again with its data. */
  restartPostgres(downMs?: number): Promise<void>;
  /** Stops everything and removes the temporary directory. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartPostgresTemporalOptions {
  namespace?: string;
  log?: Log;
  readyTimeoutMs?: number;
  /** Frontend TLS: the server's certificate, and for mTLS the CA its clients' certificates must chain to. */
  tls?: { certFile: string; keyFile: string; clientCaFile?: string; requireClientAuth?: boolean };
  /** API keys: JWTs checked against the keys at this JWKS URL (default claim mapper and authorizer). */
  authorization?: { jwksUrl: string };
  /** How the harness itself connects (readiness, namespace set-up) when the server wants TLS or a key. */
  adminConnection?: Pick<ConnectionOptions, 'tls' | 'apiKey'>;
  /**
   * Dynamic config settings added to the server's development defaults, each for every namespace. Default:
   * the settings docker-compose.yml gives its server (`shippedDynamicConfig()`); `{}` for none.
   */
  dynamicConfig?: Record<string, unknown>;
}

/** The dynamic config file docker-compose.yml mounts into its Temporal server, relative to the repository. */
export const SHIPPED_DYNAMIC_CONFIG = 'deploy/temporal/dynamicconfig.yaml';

/** That file's settings, each key with the value of its one unconstrained entry. */
export function shippedDynamicConfig(): Record<string, unknown> {
  const file = path.join(__dirname, '..', '..', SHIPPED_DYNAMIC_CONFIG);
  const settings = parse(fs.readFileSync(file, 'utf8')) as Record<string, { value: unknown }[]>;
  return Object.fromEntries(Object.entries(settings).map(([key, [entry]]) => [key, entry.value]));
}

export async function startPostgresTemporal(
  opts: StartPostgresTemporalOptions = {},
): Promise<PostgresTemporal> {
  const log = opts.log ?? (() => undefined);
  const namespace = opts.namespace ?? 'default';
  const bins = await findTemporalServer(log);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm3ter-temporal-pg-'));
  const pg = new Postgres(dir, await freePort());
  let server: ChildProcess | undefined;
  let serverLog: fs.WriteStream | undefined;
  let stopped = false;

  const ports = {
    grpc: await freePort(),
    http: await freePort(),
    history: await freePort(),
    matching: await freePort(),
    worker: await freePort(),
    mFrontend: await freePort(),
    mHistory: await freePort(),
    mMatching: await freePort(),
    mWorker: await freePort(),
  };
  const secured = opts.tls !== undefined || opts.authorization !== undefined;
  const internalPorts = secured
    ? { grpc: await freePort(), http: await freePort(), membership: await freePort() }
    : undefined;
  const address = `127.0.0.1:${ports.grpc}`;
  const admin: ConnectionOptions = { address, ...opts.adminConnection };

  const stopServer = async () => {
    if (server) await stopChild(server, 15_000);
    server = undefined;
    fs.rmSync(serverPidFile, { force: true });
  };
  const stopAll = async () => {
    if (stopped) return;
    stopped = true;
    await stopServer().catch(() => undefined);
    serverLog?.end();
    await pg.stop('immediate').catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
    reaper.cancel();
  };
  const killOnExit = () => server?.kill('SIGKILL');
  process.once('exit', killOnExit);
  // When this process dies without cleaning up (SIGKILL, a CI timeout), the daemonised postmaster and the
  // server would outlive it: a reaper stops both and removes the directory.
  const serverPidFile = path.join(dir, 'server.pid');
  const reaper = startReaper(
    `[ -f ${shellQuote(serverPidFile)} ] && kill -9 "$(cat ${shellQuote(serverPidFile)})" 2>/dev/null\n` +
      `${pg.immediateStopCommand()} >/dev/null 2>&1\n` +
      `rm -rf ${shellQuote(dir)}`,
  );

  try {
    await pg.init();
    await pg.start();
    // As in docker-compose.yml: Temporal connects as a role that may create its databases, not a superuser.
    await pg.psql(`CREATE ROLE ${TEMPORAL_DB_ROLE} LOGIN CREATEDB NOSUPERUSER NOCREATEROLE`);

    // Schemas, with the server's own tool and files (the steps its docs give for postgres12).
    const sqlArgs = [
      '--plugin',
      'postgres12',
      '--ep',
      '127.0.0.1',
      '-p',
      String(pg.port),
      '-u',
      TEMPORAL_DB_ROLE,
    ];
    const schemaDir = path.join(bins.moduleDir, 'schema', 'postgresql', 'v12');
    for (const [db, schema] of [
      ['temporal', 'temporal'],
      ['temporal_visibility', 'visibility'],
    ]) {
      await run(bins.sql, [...sqlArgs, '--db', db, 'create-database']);
      await run(bins.sql, [...sqlArgs, '--db', db, 'setup-schema', '-v', '0.0']);
      await run(bins.sql, [
        ...sqlArgs,
        '--db',
        db,
        'update-schema',
        '-d',
        path.join(schemaDir, schema, 'versioned'),
      ]);
    }

    // Config: the module's development-postgres12.yaml with our ports, loopback only, no pprof/metrics ports.
    const config = parse(
      fs.readFileSync(path.join(bins.moduleDir, 'config', 'development-postgres12.yaml'), 'utf8'),
    ) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const store of Object.values(config.persistence.datastores) as { sql: Record<string, unknown> }[]) {
      store.sql.connectAddr = `127.0.0.1:${pg.port}`;
      store.sql.user = TEMPORAL_DB_ROLE;
      store.sql.password = '';
    }
    delete config.global.pprof;
    delete config.global.metrics;
    const svc = config.services;
    svc.frontend.rpc = {
      grpcPort: ports.grpc,
      httpPort: ports.http,
      membershipPort: ports.mFrontend,
      bindOnLocalHost: true,
    };
    svc.history.rpc = { grpcPort: ports.history, membershipPort: ports.mHistory, bindOnLocalHost: true };
    svc.matching.rpc = { grpcPort: ports.matching, membershipPort: ports.mMatching, bindOnLocalHost: true };
    svc.worker.rpc = { grpcPort: ports.worker, membershipPort: ports.mWorker, bindOnLocalHost: true };
    config.clusterMetadata.clusterInformation.active.rpcAddress = address;
    if (internalPorts) {
      svc['internal-frontend'] = {
        rpc: {
          grpcPort: internalPorts.grpc,
          httpPort: internalPorts.http,
          membershipPort: internalPorts.membership,
          bindOnLocalHost: true,
        },
      };
    }
    if (opts.tls) {
      config.global.tls = {
        frontend: {
          server: {
            certFile: opts.tls.certFile,
            keyFile: opts.tls.keyFile,
            requireClientAuth: opts.tls.requireClientAuth ?? false,
            ...(opts.tls.clientCaFile ? { clientCaFiles: [opts.tls.clientCaFile] } : {}),
          },
        },
      };
    }
    if (opts.authorization) {
      config.global.authorization = {
        jwtKeyProvider: { keySourceURIs: [opts.authorization.jwksUrl], refreshInterval: '1m' },
        permissionsClaimName: 'permissions',
        authorizer: 'default',
        claimMapper: 'default',
      };
    }
    config.log = { stdout: true, level: 'warn' };
    fs.mkdirSync(path.join(dir, 'config', 'dynamicconfig'), { recursive: true });
    const dynamicConfig = path.join(dir, 'config', 'dynamicconfig', 'test.yaml');
    fs.copyFileSync(
      path.join(bins.moduleDir, 'config', 'dynamicconfig', 'development-sql.yaml'),
      dynamicConfig,
    );
    const added = opts.dynamicConfig ?? shippedDynamicConfig();
    if (Object.keys(added).length > 0) {
      const settings = parse(fs.readFileSync(dynamicConfig, 'utf8')) as Record<string, unknown>;
      for (const [key, value] of Object.entries(added)) settings[key] = [{ value, constraints: {} }];
      fs.writeFileSync(dynamicConfig, stringify(settings));
    }
    config.dynamicConfigClient = { filepath: dynamicConfig, pollInterval: '10s' };
    fs.writeFileSync(path.join(dir, 'config', 'test.yaml'), stringify(config));
    serverLog = fs.createWriteStream(path.join(dir, 'server.log'));

    const startServer = async () => {
      const services = internalPorts
        ? ['frontend', 'internal-frontend', 'history', 'matching', 'worker'].flatMap((v) => ['--service', v])
        : [];
      const child = spawn(
        bins.server,
        [
          '--root',
          dir,
          '--config',
          'config',
          '--env',
          'test',
          ...(opts.authorization ? [] : ['--allow-no-auth']),
          'start',
          ...services,
        ],
        {
          cwd: dir,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      child.stdout!.pipe(serverLog!, { end: false });
      child.stderr!.pipe(serverLog!, { end: false });
      server = child;
      fs.writeFileSync(serverPidFile, String(child.pid));
      await waitReady(admin, opts.readyTimeoutMs ?? 120_000, () => {
        if (child.exitCode !== null)
          throw new Error(
            `temporal server exited with ${child.exitCode}:\n${tail(path.join(dir, 'server.log'))}`,
          );
      });
    };

    const started = Date.now();
    await startServer();
    await setUpNamespace(admin, namespace);
    log(
      `temporal server ${TEMPORAL_SERVER_VERSION} on postgres :${pg.port} at ${address}, ready in ${Date.now() - started} ms`,
    );

    return {
      address,
      namespace,
      postgresPort: pg.port,
      async restartServer(downMs = 0) {
        await stopServer();
        await sleep(downMs);
        await startServer();
      },
      stopServer,
      startServer,
      async restartPostgres(downMs = 0) {
        await pg.stop('fast');
        await sleep(downMs);
        await pg.start();
      },
      async stop() {
        await stopAll();
        process.removeListener('exit', killOnExit);
      },
    };
  } catch (err) {
    await stopAll();
    process.removeListener('exit', killOnExit);
    throw err;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').slice(-4000);
  } catch {
    return '';
  }
}

async function waitReady(admin: ConnectionOptions, timeoutMs: number, check: () => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    check();
    try {
      const connection = await openClientConnection({ ...admin, connectTimeout: 2_000 });
      try {
        await connection.withDeadline(Date.now() + 2_000, () => connection.workflowService.getSystemInfo({}));
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`temporal server at ${admin.address} not ready: ${(err as Error).message}`);
      await sleep(500);
    }
  }
}

/** Registers the namespace (retention 1 day), waits until it serves requests, then its search attributes. */
async function setUpNamespace(admin: ConnectionOptions, namespace: string): Promise<void> {
  const connection = await Connection.connect(admin);
  try {
    try {
      await connection.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs('1 day'),
      });
    } catch (err) {
      if (!/already exists/i.test((err as Error).message)) throw err;
    }
    const client = new Client({ connection, namespace });
    const deadline = Date.now() + 60_000;
    // A new namespace reaches every service's namespace cache within ~10 s.
    for (;;) {
      try {
        await registerSearchAttributes(client, namespace);
        await connection.workflowService.listWorkflowExecutions({ namespace, pageSize: 1 });
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(1_000);
      }
    }
  } finally {
    await connection.close();
  }
}
