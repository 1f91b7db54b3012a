// Replays the Dockerfile without a Docker engine: each stage gets a fresh directory standing in for its
// WORKDIR, receives exactly what the stage COPYs (from the repository, or from an earlier stage's
// directory for `--from=`), and runs the stage's RUN commands there, in file order. So `npm ci` installs
// from the lock file alone and `npm run build` sees only the files the image would; a file the build needs
// but the Dockerfile does not copy fails here as it would in `docker build`. Then the final stage's
// ENTRYPOINT runs as the container would, against the compiled code and the prebuilt workflow bundle.
// The base image's Node.js major runs it: the host's node when it is that major, else the one `.ci/run`
// installs (test/support/node-for-image.ts).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildProgram } from '../../../src/cli';
import { parseDockerfile, stageByRef, underWorkdir, type Stage } from '../../support/dockerfile';
import { baseImageNodeMajor, nodeForMajor } from '../../support/node-for-image';
import {
  installedPackages,
  neededBy,
  productionDependencies,
  type PackageLock,
} from '../../support/npm-tree';
import { spawnWorkerProcess } from '../../support/worker-process';

const ROOT = path.resolve(__dirname, '../../..');
const stages = parseDockerfile(fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
const final = stages.at(-1)!;
const nodeMajor = baseImageNodeMajor(final.base);
const node = nodeForMajor(nodeMajor);
// npm looks for its global config (this machine's registry CA, for one) beside the node running it; with the
// image's node first on PATH it would look in the wrong place, so the machine's npm config is named.
const npmGlobalConfig =
  process.env.npm_config_globalconfig ??
  execFileSync('npm', ['config', 'get', 'globalconfig'], { encoding: 'utf8' }).trim();
const hostDirs = new Map<Stage, string>();

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Where an absolute path of a stage's image lives on the host: under the stage's directory for its
 * WORKDIR, and under `.rootfs/` inside it for anything else (the export directory, for one).
 */
function hostPath(stage: Stage, imagePath: string): string {
  const rel = underWorkdir(stage, imagePath);
  if (rel === undefined)
    return path.join(hostDirs.get(stage)!, '.rootfs', path.posix.resolve('/', imagePath));
  return path.join(hostDirs.get(stage)!, rel);
}

/** The image runs `node` from its base image; here the same major's binary. */
const argv = (words: string[]): [string, string[]] => [words[0] === 'node' ? node : words[0], words.slice(1)];

async function replay(stage: Stage): Promise<void> {
  // Real path: node reports module locations that way, and the tests compare against them.
  hostDirs.set(
    stage,
    fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), `image-build-${stage.name ?? 'final'}-`))),
  );
  const dir = hostDirs.get(stage)!;
  // A container sees the stage's ENV, not the environment jest runs in. PATH finds node and npm, HOME the
  // npm cache; prefer-offline reuses that cache (an npm setting, so the RUN text stays the Dockerfile's).
  const env = {
    // `npm` is a node script: with the image's node first on PATH it runs on that node, as in the image.
    PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH}`,
    HOME: process.env.HOME,
    npm_config_prefer_offline: 'true',
    npm_config_globalconfig: npmGlobalConfig,
    ...stage.env,
  };
  for (const step of stage.steps) {
    if (step.kind === 'copy') {
      step.sources.forEach((source, i) => {
        const from =
          step.from === undefined
            ? path.join(ROOT, source)
            : hostPath(stageByRef(stages, step.from), path.posix.resolve('/', source));
        const to = hostPath(stage, step.targets[i]);
        fs.mkdirSync(path.dirname(to), { recursive: true });
        fs.cpSync(from, to, { recursive: true });
      });
      continue;
    }
    const result = await run('/bin/sh', ['-c', step.command], dir, env);
    if (result.code !== 0)
      throw new Error(
        `stage ${stage.name ?? 'final'}: RUN ${step.command} exited with ${result.code}\n` +
          `${result.stdout}\n${result.stderr}`.slice(-6000),
      );
  }
}

beforeAll(async () => {
  // Each stage once the stages it copies from are built, as BuildKit does: the sandbox and worker stages
  // install their dependencies side by side.
  const built = new Map<Stage, Promise<void>>();
  for (const stage of stages) {
    const from = stage.steps.flatMap((s) => (s.kind === 'copy' && s.from !== undefined ? [s.from] : []));
    const deps = from.map((ref) => built.get(stageByRef(stages, ref))!);
    built.set(
      stage,
      Promise.all(deps).then(() => replay(stage)),
    );
  }
  await Promise.all(built.values());
}, 1_200_000);

afterAll(() => {
  for (const dir of hostDirs.values()) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the image the Dockerfile builds', () => {
  it("runs on its base image's Node.js major", async () => {
    for (const stage of stages) expect(baseImageNodeMajor(stage.base)).toBe(nodeMajor);
    const version = await run(...argv(['node', '--version']), hostDirs.get(final)!, {});
    expect(version.stdout.trim()).toMatch(new RegExp(`^v${nodeMajor}\\.`));
  });

  it('runs its ENTRYPOINT: --help lists every command the CLI defines', async () => {
    const [command, args] = argv([...final.entrypoint!, '--help']);
    const help = await run(command, args, hostDirs.get(final)!, { ...final.env });
    expect(help).toMatchObject({ code: 0, stderr: '' });
    const commands = buildProgram().commands.map((c) => c.name());
    expect(commands).toEqual(expect.arrayContaining(['worker', 'export', 'status']));
    for (const name of commands) expect(help.stdout).toMatch(new RegExp(`^\\s+${name}\\b`, 'm'));
  });

  it('runs its default command, the worker, through the compiled config: exit 2 naming what is missing', async () => {
    const [command, args] = argv([...final.entrypoint!, ...(final.cmd ?? [])]);
    const started = await run(command, args, hostDirs.get(final)!, { ...final.env });
    expect(started.code).toBe(2);
    expect(started.stderr).toMatch(/M3TER_ORG_ID: is required/);
  });

  it("leaves the sandbox out of the worker: none of fastify's packages, every other production one", () => {
    expect(final.name).toBe('worker');
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as PackageLock;
    const production = productionDependencies(lock);
    expect(production).toContain('fastify');
    // fastify's own packages: those the lock file says no other production dependency needs.
    const others = neededBy(
      lock,
      production.filter((name) => name !== 'fastify'),
    );
    const onlyFastify = [...neededBy(lock, production)].filter((p) => !others.has(p));
    expect(onlyFastify).toEqual(expect.arrayContaining(['node_modules/fastify', 'node_modules/find-my-way']));
    const worker = installedPackages(hostDirs.get(final)!);
    const sandbox = installedPackages(hostDirs.get(stageByRef(stages, 'sandbox'))!);
    expect(onlyFastify.filter((p) => !sandbox.has(p))).toEqual([]);
    expect(onlyFastify.filter((p) => worker.has(p))).toEqual([]);
    // Nothing else goes: the worker holds what the sandbox stage holds, less fastify's own packages.
    expect([...sandbox].filter((p) => !onlyFastify.includes(p) && !worker.has(p))).toEqual([]);
    expect([...worker].filter((p) => !sandbox.has(p))).toEqual([]);
  });

  it.each<string[]>([['sandbox', '--port', '0'], ['dev'], ['demo']])(
    'refuses `%s` in the worker with exit 2 saying where the sandbox is, not a stack trace',
    async (...words: string[]) => {
      const [command, args] = argv([...final.entrypoint!, ...words]);
      const r = await run(command, args, hostDirs.get(final)!, { ...final.env });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('the m3ter sandbox is not part of this install');
      expect(r.stderr).toContain('docker compose --profile sandbox up');
      expect(r.stderr).not.toMatch(/\n\s+at /);
    },
  );

  it('serves the sandbox from its own stage', async () => {
    const stage = stageByRef(stages, 'sandbox');
    const dir = hostDirs.get(stage)!;
    expect(fs.existsSync(path.join(dir, 'node_modules/fastify'))).toBe(true);
    expect(stage.cmd?.[0]).toBe('sandbox');
    // Its entry point on loopback and a free port, not the container's 0.0.0.0:8080.
    const [command, args] = argv([...stage.entrypoint!, 'sandbox', '--port', '0', '--json']);
    const child = spawn(command, args, { cwd: dir, env: { PATH: process.env.PATH, ...stage.env } });
    try {
      const ready = await new Promise<{ adminUrl: string }>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const line = out.split('\n').find((l) => l.startsWith('{'));
          if (line) resolve(JSON.parse(line) as { adminUrl: string });
        });
        child.once('exit', (code) => reject(new Error(`sandbox exited with ${code}: ${out}`)));
      });
      const counters = await fetch(`${ready.adminUrl}/counters`);
      expect(counters.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('finds the prebuilt workflow bundle the way the worker does, with no sources to fall back on', async () => {
    const dir = hostDirs.get(final)!;
    // bin/register-ts.js picks compiled code when the sources are absent; src/runtime/workflow-bundle.ts then
    // chooses the bundle the worker loads.
    const probe = await run(
      node,
      [
        '-e',
        `const { resolveEntry } = require('./bin/register-ts');
         const entry = resolveEntry('src/runtime/workflow-bundle.ts');
         console.log(JSON.stringify({ entry, source: require(entry).workflowSource({}) }));`,
      ],
      dir,
      { ...final.env },
    );
    expect(probe).toMatchObject({ code: 0, stderr: '' });
    const { entry, source } = JSON.parse(probe.stdout) as {
      entry: string;
      source: { workflowBundle?: { codePath: string }; workflowsPath?: string };
    };
    expect(entry.startsWith(dir) && entry.endsWith('.js')).toBe(true);
    const bundle = source.workflowBundle?.codePath ?? '';
    expect(bundle.startsWith(dir)).toBe(true);
    // The workflows, zod and the SDK's workflow runtime: ~3 MB, far more than an empty or truncated bundle.
    expect(fs.statSync(bundle).size).toBeGreaterThan(1_000_000);
  });

  it('starts the worker on that bundle against Temporal, and stops cleanly on SIGTERM', async () => {
    const address = process.env.TEMPORAL_TEST_ADDRESS;
    if (!address)
      throw new Error('TEMPORAL_TEST_ADDRESS is not set: run through jest with the Temporal dev server');
    const exportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'image-build-exports-'));
    try {
      const worker = await spawnWorkerProcess(
        {
          ...final.env,
          // An empty value, unlike the bundle the jest setup publishes, leaves the worker to its packaged one.
          M3TER_WORKFLOW_BUNDLE: '',
          TEMPORAL_ADDRESS: address,
          TEMPORAL_NAMESPACE: process.env.TEMPORAL_TEST_NAMESPACE ?? 'default',
          TEMPORAL_TASK_QUEUE: `image-build-${process.pid}`,
          M3TER_ORG_ID: 'org-image-build',
          M3TER_ACCESS_KEY_ID: 'key-id',
          M3TER_API_SECRET: 'secret-value',
          // Nothing is exported: no request may leave this machine.
          M3TER_API_URL: 'http://127.0.0.1:9',
          M3TER_INGEST_URL: 'http://127.0.0.1:9',
          EXPORT_DIR: exportDir,
        },
        180_000,
        hostDirs.get(final)!,
        node,
      );
      expect(await worker.kill('SIGTERM')).toBe(0);
      expect(worker.output()).toMatch(/worker stopped/);
    } finally {
      fs.rmSync(exportDir, { recursive: true, force: true });
    }
  });
});
