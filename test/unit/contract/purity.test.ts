import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// The contract is imported by workflow code, which is replayed: it may load only pure modules.
const CONTRACT = join(__dirname, '../../../src/contract');
const PURE_PACKAGES = ['zod', '@temporalio/common', '@temporalio/workflow'];
const PURE_MODULES = ['../m3ter/export-request-schemas', '../m3ter/validation'];

function runtimeImports(source: string): string[] {
  const specs: string[] = [];
  for (const m of source.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'([^']+)';/gms)) {
    if (!m[1]) specs.push(m[2]);
  }
  for (const m of source.matchAll(/^export\s+(type\s+)?[^;]*?from\s+'([^']+)';/gms)) {
    if (!m[1]) specs.push(m[2]);
  }
  return specs;
}

describe('the contract module', () => {
  const files = readdirSync(CONTRACT).filter((f) => f.endsWith('.ts'));

  it('has files to check', () => {
    expect(files).toEqual(expect.arrayContaining(['vocabulary.ts', 'window-ids.ts', 'inputs.ts']));
  });

  it.each(files)('%s loads only the contract itself and pure libraries at run time', (file) => {
    const source = readFileSync(join(CONTRACT, file), 'utf8');
    const impure = runtimeImports(source).filter(
      (spec) => !spec.startsWith('./') && !PURE_PACKAGES.includes(spec) && !PURE_MODULES.includes(spec),
    );
    expect(impure).toEqual([]);
  });

  it.each(files)('%s uses no Node built-ins', (file) => {
    const source = readFileSync(join(CONTRACT, file), 'utf8');
    expect(source).not.toMatch(/from\s+'node:|require\(/);
  });
});
