import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cachedCliPath, findTemporalCli } from '../../../tooling/devserver/find-cli';

function fakeBinary(dir: string, name = 'temporal'): string {
  fs.mkdirSync(dir, { recursive: true });
  const p = path.join(dir, name);
  fs.writeFileSync(p, '#!/bin/sh\necho fake\n', { mode: 0o755 });
  return p;
}

describe('findTemporalCli search order', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'find-cli-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const baseEnv = () => ({ PATH: path.join(root, 'empty-path'), M3TER_CACHE_DIR: path.join(root, 'cache') });

  it('prefers TEMPORAL_CLI_PATH over PATH and the cache', async () => {
    const explicit = fakeBinary(path.join(root, 'explicit'));
    fakeBinary(path.join(root, 'bin'));
    fakeBinary(path.dirname(cachedCliPath(baseEnv())));
    const found = await findTemporalCli({
      env: { ...baseEnv(), PATH: path.join(root, 'bin'), TEMPORAL_CLI_PATH: explicit },
      allowBuild: false,
    });
    expect(found).toEqual({ path: explicit, source: 'env' });
  });

  it('rejects a TEMPORAL_CLI_PATH that is not an executable, naming the variable', async () => {
    await expect(
      findTemporalCli({
        env: { ...baseEnv(), TEMPORAL_CLI_PATH: path.join(root, 'missing') },
        allowBuild: false,
      }),
    ).rejects.toThrow(/TEMPORAL_CLI_PATH: .* is not an executable file/);
  });

  it('uses temporal on PATH before the cache', async () => {
    const onPath = fakeBinary(path.join(root, 'bin'));
    fakeBinary(path.dirname(cachedCliPath(baseEnv())));
    expect(
      await findTemporalCli({ env: { ...baseEnv(), PATH: path.join(root, 'bin') }, allowBuild: false }),
    ).toEqual({ path: onPath, source: 'path' });
  });

  it('falls back to the cached build, then to null (SDK download) when building is not allowed', async () => {
    expect(await findTemporalCli({ env: baseEnv(), allowBuild: false })).toBeNull();
    const cached = fakeBinary(path.dirname(cachedCliPath(baseEnv())));
    expect(await findTemporalCli({ env: baseEnv(), allowBuild: false })).toEqual({
      path: cached,
      source: 'cache',
    });
  });

  it('keeps the cache under M3TER_CACHE_DIR, else XDG_CACHE_HOME, versioned by CLI tag', () => {
    expect(cachedCliPath({ M3TER_CACHE_DIR: '/c' })).toBe('/c/temporal-cli/v1.5.1/temporal');
    expect(cachedCliPath({ XDG_CACHE_HOME: '/x' })).toBe(
      '/x/m3ter-export-worker/temporal-cli/v1.5.1/temporal',
    );
  });
});
