// A reader for the subset of Dockerfile syntax this repository's Dockerfile uses (FROM, WORKDIR, ENV, COPY,
// RUN, USER, ENTRYPOINT, CMD), so tests can check or replay the image build without a Docker engine.
// Anything it does not understand is an error rather than a silent skip: a test that replays the build must
// not pass by ignoring a step.
import path from 'node:path';

export interface CopyStep {
  kind: 'copy';
  /** The stage named by `--from=`; undefined copies from the build context (the repository). */
  from?: string;
  sources: string[];
  /** Where each source lands, as an absolute path in the image. */
  targets: string[];
  /** `--chown=<user>[:<group>]`: who owns what lands (not applied by a replay, which has no such users). */
  chown?: string;
}

export interface RunStep {
  kind: 'run';
  command: string;
}

export type Step = CopyStep | RunStep;

export interface Stage {
  name?: string;
  base: string;
  /** The WORKDIR in effect at the end of the stage (the image's default working directory). */
  workdir: string;
  env: Record<string, string>;
  /** COPY and RUN in file order, each resolved against the WORKDIR in effect where it appears. */
  steps: Step[];
  entrypoint?: string[];
  cmd?: string[];
  /** The last USER of the stage: who its ENTRYPOINT runs as. */
  user?: string;
}

/** Joins continuation lines and drops comments and blank lines; returns [keyword, arguments] pairs. */
function instructions(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!pending && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = pending + line;
    pending = '';
    const m = /^(\S+)\s+(.*)$/.exec(full);
    if (!m) throw new Error(`Dockerfile: cannot read "${full}"`);
    out.push([m[1].toUpperCase(), m[2].trim()]);
  }
  return out;
}

/** Exec form (`["node", "x.js"]`) only: shell-form ENTRYPOINT/CMD would need a shell to interpret. */
function execForm(keyword: string, args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string'))
    throw new Error(`Dockerfile: ${keyword} must use the exec (JSON array) form, got ${args}`);
  return parsed as string[];
}

function parseCopy(args: string, workdir: string): CopyStep {
  const words = args.startsWith('[') ? execForm('COPY', args) : args.split(/\s+/);
  let from: string | undefined;
  let chown: string | undefined;
  while (words[0]?.startsWith('--')) {
    const flag = words.shift()!;
    const m = /^--from=(.+)$/.exec(flag);
    const owner = /^--chown=(.+)$/.exec(flag);
    if (m) from = m[1];
    else if (owner) chown = owner[1];
    // --chmod/--link change modes or layering, not what is copied where.
    else if (!/^--(chmod|link)\b/.test(flag)) throw new Error(`Dockerfile: unsupported COPY ${flag}`);
  }
  if (words.length < 2) throw new Error(`Dockerfile: COPY needs a source and a destination: ${args}`);
  const dest = words.pop()!;
  const destAbs = path.posix.resolve(workdir, dest);
  // Docker's rule: a destination ending in "/" (or several sources) is a directory that receives each source
  // by its base name; otherwise the single source becomes the destination itself.
  const intoDir = dest.endsWith('/') || dest === '.' || words.length > 1;
  if (words.some((s) => /[*?[]/.test(s)))
    throw new Error(`Dockerfile: COPY wildcards are not supported: ${args}`);
  return {
    kind: 'copy',
    from,
    sources: words,
    targets: words.map((s) => (intoDir ? path.posix.join(destAbs, path.posix.basename(s)) : destAbs)),
    ...(chown ? { chown } : {}),
  };
}

function parseEnv(args: string, env: Record<string, string>): void {
  const pairs = args.match(/[A-Za-z_][A-Za-z0-9_]*=("[^"]*"|\S*)/g);
  if (!pairs) throw new Error(`Dockerfile: only ENV KEY=value is supported: ${args}`);
  for (const pair of pairs) {
    const i = pair.indexOf('=');
    env[pair.slice(0, i)] = pair.slice(i + 1).replace(/^"(.*)"$/, '$1');
  }
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const [keyword, args] of instructions(text)) {
    if (keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!m) throw new Error(`Dockerfile: cannot read FROM ${args}`);
      stages.push({ base: m[1], name: m[2], workdir: '/', env: {}, steps: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`Dockerfile: ${keyword} before FROM`);
    switch (keyword) {
      case 'WORKDIR':
        stage.workdir = path.posix.resolve(stage.workdir, args);
        break;
      case 'ENV':
        parseEnv(args, stage.env);
        break;
      case 'COPY':
        stage.steps.push(parseCopy(args, stage.workdir));
        break;
      case 'RUN':
        if (args.startsWith('[')) throw new Error(`Dockerfile: exec-form RUN is not supported: ${args}`);
        stage.steps.push({ kind: 'run', command: args });
        break;
      case 'ENTRYPOINT':
        stage.entrypoint = execForm(keyword, args);
        break;
      case 'CMD':
        stage.cmd = execForm(keyword, args);
        break;
      case 'USER':
        stage.user = args;
        break;
      case 'EXPOSE':
      case 'LABEL':
        break; // no effect on which files the image holds or what its commands do
      default:
        throw new Error(`Dockerfile: ${keyword} is not understood by test/support/dockerfile.ts`);
    }
  }
  return stages;
}

/** The stage a `COPY --from=<ref>` reads: by name, or by index. */
export function stageByRef(stages: Stage[], ref: string): Stage {
  const stage = /^\d+$/.test(ref) ? stages[Number(ref)] : stages.find((s) => s.name === ref);
  if (!stage) throw new Error(`Dockerfile: no stage ${ref}`);
  return stage;
}

/** A path relative to the stage's WORKDIR, or undefined when it lands outside it. */
export function underWorkdir(stage: Stage, absolute: string): string | undefined {
  const rel = path.posix.relative(stage.workdir, absolute);
  if (rel === '') return '.';
  return rel.startsWith('..') ? undefined : rel;
}
