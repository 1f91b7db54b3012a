// Static checks of docker-compose.yml and the Dockerfile: there is no Docker engine on CI machines, so these
// files are checked against the code they deploy instead of being run.
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config';
import { SEARCH_ATTRIBUTES } from '../../src/devserver';

const ROOT = path.resolve(__dirname, '../..');
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8');

interface ComposeService {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}
const compose = parse(read('docker-compose.yml')) as { services: Record<string, ComposeService> };

/** Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?message}` against a shell environment. */
function interpolate(value: string, shell: Record<string, string>): string {
  return value.replace(
    /\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g,
    (_, name: string, op?: string, arg?: string) => {
      const set = shell[name];
      if (set !== undefined && set !== '') return set;
      if (op === '?') throw new Error(`${name}: ${arg}`);
      return op === '-' ? (arg ?? '') : '';
    },
  );
}

function workerEnv(shell: Record<string, string>): Record<string, string> {
  const env = compose.services.worker.environment ?? {};
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(String(v), shell)]));
}

const userShell = {
  M3TER_ORG_ID: '0b5a1e0c-3c7d-4f5e-9a8b-2c1d0e9f8a7b',
  M3TER_ACCESS_KEY_ID: 'key-id',
  M3TER_API_SECRET: 'secret-value',
};

describe('docker-compose.yml', () => {
  it('gives the worker a configuration the worker accepts, pointed at the temporal service', () => {
    const config = loadConfig(workerEnv(userShell));
    expect(config.temporal.address).toBe('temporal:7233');
    expect(config.m3ter.apiUrl).toBe('https://api.m3ter.com');
    expect(config.m3ter.ingestUrl).toBe('https://ingest.m3ter.com');
    expect(config.alertWebhookUrl).toBeUndefined();
    // The exports volume is mounted where the worker writes.
    expect(compose.services.worker.volumes).toContain(`exports:${config.exportDir}`);
    // The published metrics port is the one the worker serves.
    expect(compose.services.worker.ports).toContain(`127.0.0.1:${config.metricsPort}:${config.metricsPort}`);
  });

  it('refuses to start without the m3ter credentials, naming each', () => {
    for (const missing of Object.keys(userShell)) {
      const shell: Record<string, string> = { ...userShell };
      delete shell[missing];
      expect(() => workerEnv(shell)).toThrow(missing);
    }
  });

  it('sets only variables the README documents', () => {
    const documented = new Set([...read('README.md').matchAll(/^\| `([A-Z0-9_]+)`/gm)].map((m) => m[1]));
    const unknown = Object.keys(compose.services.worker.environment ?? {}).filter((k) => !documented.has(k));
    expect(unknown).toEqual([]);
  });

  it('registers the search attributes the worker needs, and publishes ports on loopback only', () => {
    const command = compose.services.temporal.command ?? [];
    const registered = command.flatMap((arg, i) => (command[i - 1] === '--search-attribute' ? [arg] : []));
    expect(registered.sort()).toEqual(
      Object.entries(SEARCH_ATTRIBUTES)
        .map(([name, type]) => `${name}=${type}`)
        .sort(),
    );
    for (const service of Object.values(compose.services))
      for (const port of service.ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:/);
    expect(compose.services.worker.depends_on?.temporal.condition).toBe('service_healthy');
    expect(compose.services.worker.command).toEqual(['worker']);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('copies only paths that exist, and runs the CLI the package declares', () => {
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((m) =>
      m[1].trim().split(/\s+/).slice(0, -1),
    );
    expect(copied.length).toBeGreaterThan(3);
    for (const p of copied) expect(fs.existsSync(path.join(ROOT, p))).toBe(true);
    const pkg = JSON.parse(read('package.json')) as {
      bin: Record<string, string>;
      scripts: Record<string, string>;
    };
    expect(dockerfile).toContain(`ENTRYPOINT ["node", "${pkg.bin['m3ter-exports'].replace(/^\.\//, '')}"]`);
    expect(pkg.scripts.build).toBeDefined();
    expect(dockerfile).toMatch(/^USER node$/m);
  });
});
