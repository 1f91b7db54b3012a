// Static checks of docker-compose.dev.yml and the Dockerfile: there is no Docker engine on CI machines, so these
// files are checked against the code they deploy instead of being run. The production docker-compose.yml is
// loaded with compose-go and checked in test/integration/deploy/compose.test.ts. The Dockerfile's build is also
// replayed for real, in test/integration/deploy/image-build.test.ts; the checks here are the fast subset.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { parse } from 'yaml';
import { imageAllocatorEnv } from '../../../bench/compiled-install';
import { loadConfig } from '../../../src/config/config';
import { cliTypeName, SEARCH_ATTRIBUTES } from '../../../src/contract/search-attributes';
import { nodeFlagsFor } from '../../../src/runtime/heap-flags';
import {
  parseDockerfile,
  stageByRef,
  underWorkdir,
  type CopyStep,
  type Stage,
} from '../../support/dockerfile';

const ROOT = path.resolve(__dirname, '../../..');
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
const compose = parse(read('docker-compose.dev.yml')) as { services: Record<string, ComposeService> };

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

describe('docker-compose.dev.yml', () => {
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

  it('sets only variables docs/configuration.md documents', () => {
    const documented = new Set(
      [...read('docs/configuration.md').matchAll(/^\| `([A-Z0-9_]+)`/gm)].map((m) => m[1]),
    );
    const unknown = Object.keys(compose.services.worker.environment ?? {}).filter((k) => !documented.has(k));
    expect(unknown).toEqual([]);
  });

  it('registers the search attributes the worker needs, and publishes ports on loopback only', () => {
    const command = compose.services.temporal.command ?? [];
    const registered = command.flatMap((arg, i) => (command[i - 1] === '--search-attribute' ? [arg] : []));
    expect(registered.sort()).toEqual(
      SEARCH_ATTRIBUTES.map((key) => `${key.name}=${cliTypeName(key.type)}`).sort(),
    );
    for (const service of Object.values(compose.services))
      for (const port of service.ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:/);
    expect(compose.services.worker.depends_on?.temporal.condition).toBe('service_healthy');
    expect(compose.services.worker.command).toEqual(['worker']);
  });
});

describe('Dockerfile', () => {
  const stages = parseDockerfile(read('Dockerfile'));
  const final = stages.at(-1)!;
  const fromBuild = final.steps.filter((s): s is CopyStep => s.kind === 'copy' && s.from !== undefined);
  const build = stageByRef(stages, fromBuild[0]?.from ?? '0');
  const buildRun = build.steps.findIndex((s) => s.kind === 'run' && /\bnpm run build\b/.test(s.command));

  // What `npm run build` compiles: the program tsc builds from tsconfig.build.json, imports followed.
  const tsconfigPath = path.join(ROOT, 'tsconfig.build.json');
  const tsconfig = ts.parseJsonConfigFileContent(
    ts.readConfigFile(tsconfigPath, ts.sys.readFile).config,
    ts.sys,
    ROOT,
    undefined,
    tsconfigPath,
  );
  const compiled = ts
    .createProgram({ rootNames: tsconfig.fileNames, options: tsconfig.options })
    .getSourceFiles()
    .map((f) => path.relative(ROOT, f.fileName))
    .filter((f) => !f.startsWith('node_modules/') && !f.startsWith('..'));
  const outDir = path.relative(ROOT, tsconfig.options.outDir!);

  /** Repository paths a stage has COPYed from the build context, up to `before`, at the same relative place. */
  function copiedFromContext(stage: Stage, before = stage.steps.length): string[] {
    return stage.steps
      .slice(0, before)
      .filter((s): s is CopyStep => s.kind === 'copy' && s.from === undefined)
      .flatMap((s) =>
        s.sources.filter((src, i) => underWorkdir(stage, s.targets[i]) === path.posix.normalize(src)),
      )
      .map((src) => path.posix.normalize(src));
  }
  const covers = (copied: string[], file: string) =>
    copied.some((c) => c === '.' || file === c || file.startsWith(`${c}/`));

  /** A file and, for JavaScript, the local files it requires (the build script runs bin/*.js). */
  function withLocalRequires(file: string, seen = new Set<string>()): Set<string> {
    if (seen.has(file)) return seen;
    seen.add(file);
    if (file.endsWith('.js'))
      for (const [, dep] of read(file).matchAll(/require\('(\.\.?\/[^']+)'\)/g)) {
        const resolved = path.posix.join(path.posix.dirname(file), dep);
        withLocalRequires(fs.existsSync(path.join(ROOT, resolved)) ? resolved : `${resolved}.js`, seen);
      }
    return seen;
  }

  it('compiles nothing from test/ or bench/, directly or through imports', () => {
    expect(compiled.length).toBeGreaterThan(10);
    expect(compiled.filter((f) => /^(test|bench)\//.test(f))).toEqual([]);
  });

  it('copies, before `npm run build`, every file the build compiles or runs, where the build expects it', () => {
    expect(buildRun).toBeGreaterThanOrEqual(0);
    const copied = copiedFromContext(build, buildRun);
    const needed = new Set(compiled);
    // The tsconfig chain tsc reads.
    let config: string | undefined = 'tsconfig.build.json';
    while (config) {
      needed.add(config);
      const { extends: parent } = ts.readConfigFile(path.join(ROOT, config), ts.sys.readFile).config as {
        extends?: string;
      };
      config = parent && path.posix.join(path.posix.dirname(config), parent);
    }
    // Every repository file the build script names (e.g. the launcher that prebuilds the workflow bundle).
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    for (const word of pkg.scripts.build.split(/\s+/))
      if (
        /^[\w.-]+(\/[\w.-]+)*$/.test(word) &&
        fs.statSync(path.join(ROOT, word), { throwIfNoEntry: false })?.isFile()
      )
        withLocalRequires(word, needed);
    expect([...needed].filter((f) => !covers(copied, f)).sort()).toEqual([]);
  });

  it('installs from the lock file: package.json and package-lock.json are copied before every npm ci', () => {
    for (const stage of stages)
      stage.steps.forEach((step, i) => {
        if (step.kind !== 'run' || !/\bnpm ci\b/.test(step.command)) return;
        const copied = copiedFromContext(stage, i);
        expect(copied).toEqual(expect.arrayContaining(['package.json', 'package-lock.json']));
      });
  });

  it('runs the compiled entry point: the final stage holds the build output and bin/, not the sources', () => {
    // bin/ finds the compiled code at <root>/<outDir>, so the build output must keep its place relative
    // to WORKDIR.
    const outputs = fromBuild.flatMap((s) =>
      s.sources.map((src, i) => [underWorkdir(build, src), underWorkdir(final, s.targets[i])]),
    );
    expect(outputs).toContainEqual([outDir, outDir]);

    const [runtime, ...args] = final.entrypoint ?? [];
    const nodeOptions = args.slice(
      0,
      args.findIndex((a) => !a.startsWith('-')),
    );
    const script = args[nodeOptions.length];
    expect(runtime).toBe('node');
    // node starts with the heap flags its version needs: they hold only when given at start.
    const baseMajor = Number(/^node:(\d+)[.-]/.exec(final.base)?.[1]);
    expect(nodeOptions).toEqual(nodeFlagsFor(baseMajor));
    const copied = copiedFromContext(final);
    expect(covers(copied, script)).toBe(true);
    // With no sources in the image, bin/register-ts.js runs `<outDir>/<entry>.js`: each entry must be compiled.
    const entries = [...withLocalRequires(script)].flatMap((f) =>
      [...read(f).matchAll(/resolveEntry\('([^']+)'\)/g)].map((m) => m[1]),
    );
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) {
      expect(compiled).toContain(entry);
      expect(covers(copied, entry)).toBe(false);
    }
    expect(compiled.filter((f) => covers(copied, f))).toEqual([]);
  });

  it('builds the worker by default and the sandbox only as its own stage, both from the same entry point', () => {
    expect(final.name).toBe('worker');
    expect(final.cmd).toEqual(['worker']);
    const sandbox = stageByRef(stages, 'sandbox');
    expect(sandbox.cmd?.[0]).toBe('sandbox');
    expect(sandbox.entrypoint).toEqual(final.entrypoint);
    expect(sandbox.user).toBe(final.user);
    expect(final.user).not.toMatch(/^(root|0)(:|$)/);
    // docker-compose.dev.yml's worker builds the default stage (docker-compose.yml is checked with compose-go).
    expect(compose.services.worker.build).toBe('.');
  });

  it('installs, in each stage that runs, production dependencies only and no install scripts', () => {
    const runtime = stages.filter((s) => s.entrypoint !== undefined);
    expect(runtime.map((s) => s.name)).toEqual(expect.arrayContaining(['sandbox', 'worker']));
    for (const stage of runtime) {
      // Each npm command of a RUN: an `npm uninstall` without --omit=dev would install the dev dependencies.
      const npm = stage.steps
        .flatMap((s) => (s.kind === 'run' ? s.command.split(/&&|;|\|\|/) : []))
        .map((c) => c.trim())
        .filter((c) => /^npm\s+(ci|install|i|uninstall|rm|update)\b/.test(c));
      expect(npm.length).toBeGreaterThan(0);
      for (const command of npm) {
        expect(command).toMatch(/\s--omit=dev\b/);
        expect(command).toMatch(/\s--ignore-scripts\b/);
      }
    }
  });

  it('limits the worker to two malloc arenas with fixed mmap and trim thresholds, and the benches run their workers so', () => {
    const fixed = {
      MALLOC_ARENA_MAX: '2',
      MALLOC_MMAP_THRESHOLD_: '131072',
      MALLOC_TRIM_THRESHOLD_: '67108864',
    };
    expect(final.env).toEqual(expect.objectContaining(fixed));
    expect(imageAllocatorEnv()).toEqual(fixed);
  });

  it('creates the export directory owned by the user it runs as, where both compose files mount the volume', () => {
    const exportDir = final.env.EXPORT_DIR;
    expect(exportDir).toMatch(/^\//);
    expect(final.user).toBeDefined();
    const creates = final.steps.filter(
      (s): s is CopyStep => s.kind === 'copy' && s.targets.includes(exportDir),
    );
    expect(creates.map((s) => s.chown)).toEqual([`${final.user}:${final.user}`]);
    for (const file of ['docker-compose.yml', 'docker-compose.dev.yml']) {
      const worker = (parse(read(file)) as { services: Record<string, ComposeService> }).services.worker;
      expect(worker.volumes).toContainEqual(expect.stringMatching(new RegExp(`:${exportDir}$`)));
      expect(worker.environment?.EXPORT_DIR ?? exportDir).toBe(exportDir);
    }
  });
});
