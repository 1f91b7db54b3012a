// The default build id names the workflow code the worker runs: version plus commit, or plus a digest of
// the prebuilt bundle where there is no git checkout.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { defaultBuildId } from '../../../src/runtime/build-id';

const ROOT = path.resolve(__dirname, '../../..');
const version = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;

describe('defaultBuildId', () => {
  it('is the package version plus the commit in a git checkout', () => {
    expect(defaultBuildId({ root: ROOT })).toMatch(
      new RegExp(`^${version.replace(/\./g, '\\.')}\\+[0-9a-f]{12}$`),
    );
  });

  it('uses a digest of the prebuilt bundle where there is no git checkout, and the version alone without one', () => {
    // docs/ has no package.json and no .git: the version falls back, the bundle digest names the code.
    const bundle = path.join(ROOT, 'package.json');
    const digest = createHash('sha256').update(fs.readFileSync(bundle)).digest('hex').slice(0, 12);
    const noGit = path.join(ROOT, 'docs');
    expect(defaultBuildId({ root: noGit, bundlePath: bundle })).toBe(`0.0.0+wf.${digest}`);
    expect(defaultBuildId({ root: noGit })).toBe('0.0.0');
  });
});
