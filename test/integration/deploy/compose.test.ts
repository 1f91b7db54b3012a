// The compose files, loaded by compose-go (the loader Docker Compose v2 uses; test/support/compose-validate)
// exactly as `docker compose` would read them, then checked for what a loader cannot know: the worker gets
// a configuration it accepts, every variable it reads is set or documented (docs/configuration.md),
// published ports are where docs/deploying.md says, the setup step registers the search attributes before
// any worker starts, and health checks probe the health port. A deliberately broken copy must be refused.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { loadConfig, type Env } from '../../../src/config/config';
import { cliTypeName, SEARCH_ATTRIBUTES } from '../../../src/contract/search-attributes';
import {
  ensureComposeValidator,
  loadCompose,
  type ComposeProject,
  type ComposeService,
} from '../../support/compose-validate';
import { parseDockerfile } from '../../support/dockerfile';
import { SHIPPED_DYNAMIC_CONFIG } from '../../support/temporal-postgres';

const ROOT = path.resolve(__dirname, '../../..');
const PROD = path.join(ROOT, 'docker-compose.yml');
const DEV = path.join(ROOT, 'docker-compose.dev.yml');
/** The CPU weight Docker gives a container without `cpu_shares`. */
const DOCKER_DEFAULT_CPU_SHARES = 1024;
const CONFIGURATION_DOC = fs.readFileSync(path.join(ROOT, 'docs', 'configuration.md'), 'utf8');
const DEPLOYING_DOC = fs.readFileSync(path.join(ROOT, 'docs', 'deploying.md'), 'utf8');

const shell = {
  POSTGRES_PASSWORD: 'pg-secret',
  POSTGRES_SUPERUSER_PASSWORD: 'pg-superuser-secret',
  M3TER_ORG_ID: '0b5a1e0c-3c7d-4f5e-9a8b-2c1d0e9f8a7b',
  M3TER_ACCESS_KEY_ID: 'key-id',
  M3TER_API_SECRET: 'secret-value',
};

async function load(file: string, opts: { env?: Record<string, string>; profiles?: string[] } = {}) {
  const r = await loadCompose([file], { env: shell, ...opts });
  if (!r.ok) throw new Error(`compose-go refused ${path.basename(file)}:\n${r.error}`);
  return r.project;
}

function env(service: ComposeService): Env {
  return Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, v ?? undefined]));
}

/**
 * A service's environment as its process sees it: a path to a mounted secret (`/run/secrets/<name>`) is
 * where that secret's file is on this machine.
 */
function containerEnv(service: ComposeService, project: ComposeProject): Env {
  const e = env(service);
  for (const mount of service.secrets ?? []) {
    const target = mount.target ?? `/run/secrets/${mount.source}`;
    const file = project.secrets?.[mount.source]?.file;
    if (!file) continue;
    for (const [k, v] of Object.entries(e)) if (v === target) e[k] = file;
  }
  return e;
}

/** The variables `loadConfig` reads, and the configuration it builds, for a service's environment. */
function configOf(service: ComposeService, project: ComposeProject) {
  const read = new Set<string>();
  const e = containerEnv(service, project);
  const config = loadConfig(
    new Proxy(e, {
      get(t, k) {
        if (typeof k === 'string') read.add(k);
        return Reflect.get(t, k);
      },
    }),
  );
  return { config, read };
}

/** Variables with a row in a table of docs/configuration.md. */
const documented = new Set([...CONFIGURATION_DOC.matchAll(/^\| `([A-Z0-9_]+)`/gm)].map((m) => m[1]));

/** `service -> host:port` rows of the published ports table in docs/deploying.md. */
function documentedPorts(): Map<string, string[]> {
  const section = DEPLOYING_DOC.split(/^### Published ports$/m)[1]?.split(/^#{1,3} /m)[0] ?? '';
  const out = new Map<string, string[]>();
  for (const m of section.matchAll(/^\| `([a-z0-9-]+)` +\| `([0-9.]+:[0-9-]+)` +\|/gm))
    out.set(m[1], [...(out.get(m[1]) ?? []), m[2]]);
  return out;
}

function publishedPorts(project: ComposeProject): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [name, s] of Object.entries(project.services))
    for (const p of s.ports ?? []) out.set(name, [...(out.get(name) ?? []), `${p.host_ip}:${p.published}`]);
  return out;
}

describe('compose files, as Docker Compose loads them', () => {
  beforeAll(async () => {
    await ensureComposeValidator((m) => process.stderr.write(`[compose-validate] ${m}\n`));
  }, 600_000);

  describe('docker-compose.yml (production)', () => {
    let project: ComposeProject;
    beforeAll(async () => {
      project = await load(PROD);
    });

    it('has Postgres, a schema step, the Temporal server, its UI, setup and two workers, in order', () => {
      const s = project.services;
      expect(Object.keys(s).sort()).toEqual(
        [
          'postgres',
          'setup',
          'temporal',
          'temporal-namespace',
          'temporal-schema',
          'temporal-ui',
          'worker',
        ].sort(),
      );
      expect(s['temporal-schema'].image).toMatch(/^temporalio\/admin-tools:/);
      expect(s.temporal.image).toMatch(/^temporalio\/server:/);
      expect(Object.values(s).some((x) => /auto-setup/.test(x.image ?? ''))).toBe(false);
      const dep = (from: string, to: string) => s[from].depends_on?.[to]?.condition;
      expect(dep('temporal-schema', 'postgres')).toBe('service_healthy');
      expect(dep('temporal', 'temporal-schema')).toBe('service_completed_successfully');
      expect(dep('temporal-namespace', 'temporal')).toBe('service_healthy');
      expect(dep('setup', 'temporal-namespace')).toBe('service_completed_successfully');
      expect(dep('worker', 'setup')).toBe('service_completed_successfully');
      expect(dep('worker', 'temporal')).toBe('service_healthy');
      expect(s.worker.deploy?.replicas).toBe(2);
      for (const name of ['postgres', 'temporal', 'worker'])
        expect(s[name].healthcheck?.test?.length).toBeGreaterThan(1);
    });

    it('runs Temporal as a role that is not the database superuser', () => {
      const s = project.services;
      const role = env(s['temporal-schema']).SQL_USER;
      expect(role).toBe('temporal');
      expect(env(s.temporal).POSTGRES_USER).toBe(role);
      expect(env(s.postgres).POSTGRES_USER).not.toBe(role);
      expect(env(s.temporal).POSTGRES_PWD).toBe(env(s.postgres).TEMPORAL_DB_PASSWORD);
      expect(env(s.temporal).POSTGRES_PWD).not.toBe(env(s.postgres).POSTGRES_PASSWORD);
      const init = s.postgres.volumes?.find((v) => v.target?.startsWith('/docker-entrypoint-initdb.d/'));
      expect(init?.source).toBeDefined();
      const script = fs.readFileSync(init!.source!, 'utf8');
      expect(script).toMatch(new RegExp(`CREATE ROLE ${role} LOGIN CREATEDB NOSUPERUSER`));
    });

    it('gives the worker a configuration it accepts; every variable it reads is set or documented', () => {
      const { config, read } = configOf(project.services.worker, project);
      expect(config.temporal.address).toBe('temporal:7233');
      expect(config.m3ter.apiUrl).toBe('https://api.m3ter.com');
      expect(config.m3ter.maxRequestsPerSecond).toBe(25);
      expect(config.healthPort).toBeDefined();
      expect(config.metricsPort).toBeDefined();
      const set = new Set(Object.keys(project.services.worker.environment ?? {}));
      expect([...read].filter((v) => !set.has(v) && !documented.has(v))).toEqual([]);
      expect([...set].filter((v) => !documented.has(v))).toEqual([]);
      // The worker's health check probes the port the worker serves /readyz on; metrics are published from
      // the port it serves them on.
      expect(project.services.worker.healthcheck?.test?.join(' ')).toContain(`:${config.healthPort}/readyz`);
      expect(project.services.worker.ports?.map((p) => p.target)).toEqual([config.metricsPort]);
      expect(project.services.worker.volumes?.map((v) => v.target)).toContain(config.exportDir);
    });

    it('registers the search attributes with the setup command, on the namespace the workers use', () => {
      const { setup, worker } = project.services;
      expect(setup.command).toEqual(['setup']);
      // The same image as the worker: `setup` registers src/contract/search-attributes.ts of that very build.
      expect(setup.build?.context).toBe(worker.build?.context);
      expect(env(setup).TEMPORAL_ADDRESS).toBe(env(worker).TEMPORAL_ADDRESS);
      expect(env(setup).TEMPORAL_NAMESPACE).toBe(env(worker).TEMPORAL_NAMESPACE);
      expect(SEARCH_ATTRIBUTES.length).toBeGreaterThan(0);
    });

    it('hands setup and the workers their Temporal credentials as a mounted secret, never a variable', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-temporal-secret-'));
      try {
        const apiKey = 'compose-test-api-key-5b1e';
        const secretFile = path.join(dir, 'temporal.toml');
        fs.writeFileSync(secretFile, `[profile.cloud]\napi_key = "${apiKey}"\n`);
        const cloud = await load(PROD, {
          env: {
            ...shell,
            TEMPORAL_ADDRESS: 'billing.a1b2c.tmprl.cloud:7233',
            TEMPORAL_NAMESPACE: 'billing.a1b2c',
            TEMPORAL_PROFILE: 'cloud',
            TEMPORAL_CONFIG_SECRET: secretFile,
          },
        });
        for (const name of ['setup', 'worker']) {
          const service = cloud.services[name];
          expect(service.secrets?.map((x) => x.source)).toEqual(['temporal_config']);
          const variables = Object.keys(service.environment ?? {});
          expect(variables.filter((v) => /API_KEY|_KEY_DATA|_CERT_DATA/.test(v))).toEqual([]);
          expect(JSON.stringify(service.environment)).not.toContain(apiKey);
        }
        const { connection } = configOf(cloud.services.worker, cloud).config.temporal;
        expect(connection).toMatchObject({
          address: 'billing.a1b2c.tmprl.cloud:7233',
          namespace: 'billing.a1b2c',
        });
        expect(connection.apiKey?.reveal()).toBe(apiKey);
        expect(connection.tls).toEqual({});
        // The default secret holds no credentials: the bundled server is plaintext.
        const local = configOf(project.services.worker, project).config.temporal.connection;
        expect(local.apiKey).toBeUndefined();
        expect(local.tls).toBeUndefined();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('runs the Temporal server with the dynamic config this repository ships, eager activities on', () => {
      const temporal = project.services.temporal;
      const file = env(temporal).DYNAMIC_CONFIG_FILE_PATH;
      const mount = temporal.volumes?.find((v) => v.target === file);
      const shipped = path.join(ROOT, SHIPPED_DYNAMIC_CONFIG);
      expect(mount?.source).toBe(shipped);
      const settings = parse(fs.readFileSync(shipped, 'utf8')) as Record<string, unknown>;
      expect(settings).toEqual({ 'system.enableActivityEagerExecution': [{ value: true }] });
    });

    it('gives the workers less CPU weight than the Temporal server and its database on a shared host', () => {
      const weight = (name: string) => project.services[name].cpu_shares ?? DOCKER_DEFAULT_CPU_SHARES;
      expect(weight('worker')).toBeLessThan(weight('temporal'));
      expect(weight('worker')).toBeLessThan(weight('postgres'));
    });

    it('publishes on loopback only, the ports docs/deploying.md lists', () => {
      const published = publishedPorts(project);
      for (const hostPorts of published.values())
        for (const p of hostPorts) expect(p).toMatch(/^127\.0\.0\.1:/);
      expect(Object.fromEntries(published)).toEqual(Object.fromEntries(documentedPorts()));
    });

    it('with --profile sandbox, runs the sandbox on the port a worker pointed at it uses', async () => {
      const trial = await load(PROD, {
        profiles: ['sandbox'],
        env: { ...shell, M3TER_API_URL: 'http://sandbox:8080', M3TER_ALLOW_HTTP: 'true' },
      });
      const { sandbox, worker } = trial.services;
      expect(sandbox.command).toEqual(expect.arrayContaining(['sandbox', '--host', '0.0.0.0']));
      const port = sandbox.command![sandbox.command!.indexOf('--port') + 1];
      expect(configOf(worker, trial).config.m3ter.apiUrl).toBe(`http://sandbox:${port}`);
      expect(worker.depends_on?.sandbox?.condition).toBe('service_healthy');
      // Credentials the worker sends are the ones the sandbox accepts.
      for (const k of ['M3TER_ORG_ID', 'M3TER_ACCESS_KEY_ID', 'M3TER_API_SECRET'])
        expect(env(sandbox)[k]).toBe(env(worker)[k]);
      // The sandbox runs from the Dockerfile's stage that has its HTTP framework; the worker from the
      // default (last) stage, which leaves it out.
      const stages = parseDockerfile(fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
      expect(sandbox.build?.target).toBe('sandbox');
      expect(stages.map((s) => s.name)).toContain('sandbox');
      expect(worker.build?.target).toBeUndefined();
      expect(stages.at(-1)?.name).toBe('worker');
    });

    it('refuses to load without the secrets it needs, naming each', async () => {
      for (const missing of Object.keys(shell)) {
        const partial: Record<string, string> = { ...shell };
        delete partial[missing];
        const r = await loadCompose([PROD], { env: partial });
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.error).toContain(missing);
      }
    });
  });

  describe('docker-compose.dev.yml (quick local try)', () => {
    it('loads, and the dev server registers the search attributes the workflows use', async () => {
      const project = await load(DEV);
      const command = project.services.temporal.command ?? [];
      const registered = command.flatMap((arg, i) => (command[i - 1] === '--search-attribute' ? [arg] : []));
      expect(registered.sort()).toEqual(
        SEARCH_ATTRIBUTES.map((k) => `${k.name}=${cliTypeName(k.type)}`).sort(),
      );
      expect(configOf(project.services.worker, project).config.temporal.address).toBe('temporal:7233');
    });
  });

  it('refuses a broken file (a misspelt depends_on condition, a bad duration, an unknown key)', async () => {
    const text = fs.readFileSync(PROD, 'utf8');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-broken-'));
    try {
      const cases: [string, string, RegExp][] = [
        ['service_completed_successfully', 'service_completed', /condition/],
        ['interval: 5s', 'interval: 5 seconds', /duration/],
        ['    stop_grace_period: 60s', '    stop_grace_periode: 60s', /stop_grace_periode/],
      ];
      for (const [from, to, error] of cases) {
        expect(text).toContain(from);
        const broken = path.join(dir, 'docker-compose.yml');
        fs.writeFileSync(broken, text.replace(from, to));
        const r = await loadCompose([broken], { env: shell });
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.error).toMatch(error);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
