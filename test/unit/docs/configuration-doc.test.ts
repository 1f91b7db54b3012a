// docs/configuration.md lists every environment variable the code reads, and nothing the code does not read.
//
// The scan reads source text, so it depends on the top-level folders only, never on where a file sits
// inside them. It recognises the two ways this code reads the environment:
//   - property access on an environment object: `process.env.NAME`, `env.NAME`, `env['NAME']`, and
//     destructuring `const { NAME } = process.env`;
//   - the configuration loader's zod shapes, whose keys are the variable names (`NAME: z...` or
//     `NAME: helper(...)`), in a file that reads `process.env`.
// Names read through a computed key (`env[name]`, the definitions file's `${VAR}` references) have no
// fixed name and are documented in prose.
//
// Product code is `src/`, `activities/` and `workflows/`, without the tooling. Tooling (the sandbox, the dev
// server, the dev/demo commands) lives in `tooling/`; `src/sandbox` and `src/devserver` count as tooling
// too, wherever they still are. Variables of the tooling are documented in the doc's "Tooling" section.
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
const DOC = path.join(ROOT, 'docs', 'configuration.md');

const PRODUCT_DIRS = ['src', 'activities', 'workflows'];
const TOOLING_DIRS = ['tooling', 'src/sandbox', 'src/devserver'];
const SOURCE = /\.(ts|js|mjs|cjs)$/;

const ENV_ACCESS = /\benv(?:\.([A-Z][A-Z0-9_]*)\b|\[\s*['"`]([A-Z][A-Z0-9_]*)['"`]\s*\])/g;
const ENV_DESTRUCTURE = /\{([^{}]*)\}\s*=\s*(?:process\.)?env\b/g;
const SHAPE_KEY = /^\s*([A-Z][A-Z0-9_]*)\s*:\s*(?:z\b|[a-z]\w*\()/gm;

function sourceFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(full);
    return SOURCE.test(entry.name) ? [full] : [];
  });
}

function isUnder(file: string, dirs: string[]): boolean {
  return dirs.some((d) => {
    const abs = path.join(ROOT, d);
    return file === abs || file.startsWith(abs + path.sep);
  });
}

/** Every variable name the files read, with the files that read it (for the failure message). */
function variablesRead(files: string[]): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const add = (name: string, file: string) => {
    const where = path.relative(ROOT, file);
    found.set(name, [...new Set([...(found.get(name) ?? []), where])]);
  };
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(ENV_ACCESS)) add(m[1] ?? m[2], file);
    for (const m of text.matchAll(ENV_DESTRUCTURE))
      for (const part of m[1].split(','))
        if (/^[A-Z][A-Z0-9_]*$/.test(part.split(':')[0].trim())) add(part.split(':')[0].trim(), file);
    if (/\bprocess\.env\b/.test(text)) for (const m of text.matchAll(SHAPE_KEY)) add(m[1], file);
  }
  return found;
}

interface DocumentedVariable {
  name: string;
  defaultValue: string;
  meaning: string;
}

/** Table rows whose first cell is a `NAME`, by section: the "Tooling" section apart from the rest. */
function documentedVariables(markdown: string): {
  product: DocumentedVariable[];
  tooling: DocumentedVariable[];
} {
  const product: DocumentedVariable[] = [];
  const tooling: DocumentedVariable[] = [];
  let inTooling = false;
  let inFence = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    if (inFence) continue;
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      if (heading[1].length <= 2) inTooling = /^tooling\b/i.test(heading[2]);
      continue;
    }
    const row = /^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|([^|]*)\|([^|]*)\|/.exec(line);
    if (!row) continue;
    const entry = { name: row[1], defaultValue: row[2].trim(), meaning: row[3].trim() };
    (inTooling ? tooling : product).push(entry);
  }
  return { product, tooling };
}

const allFiles = PRODUCT_DIRS.concat(TOOLING_DIRS).flatMap((d) => sourceFiles(path.join(ROOT, d)));
const uniqueFiles = [...new Set(allFiles)];
const productRead = variablesRead(uniqueFiles.filter((f) => !isUnder(f, TOOLING_DIRS)));
const toolingRead = variablesRead(uniqueFiles.filter((f) => isUnder(f, TOOLING_DIRS)));
const documented = documentedVariables(fs.readFileSync(DOC, 'utf8'));
const productDocumented = new Set(documented.product.map((v) => v.name));
const toolingDocumented = new Set(documented.tooling.map((v) => v.name));

function describeMissing(names: string[], read: Map<string, string[]>): string[] {
  return names.map((n) => `${n} (read in ${(read.get(n) ?? []).join(', ')})`);
}

describe('docs/configuration.md', () => {
  it('finds the variables the configuration loader reads, so the scan itself works', () => {
    for (const name of ['M3TER_ORG_ID', 'TEMPORAL_ADDRESS', 'EXPORT_DIR', 'MONITOR'])
      expect(productRead.has(name)).toBe(true);
    expect(documented.product.length).toBeGreaterThan(0);
    expect(documented.tooling.length).toBeGreaterThan(0);
  });

  it('documents every variable the product code reads', () => {
    const missing = [...productRead.keys()].filter((n) => !productDocumented.has(n)).sort();
    expect(describeMissing(missing, productRead)).toEqual([]);
  });

  it('documents only variables the product code reads outside its tooling section', () => {
    const unread = [...productDocumented].filter((n) => !productRead.has(n)).sort();
    expect(unread).toEqual([]);
  });

  it('documents every variable the tooling reads', () => {
    const missing = [...toolingRead.keys()]
      .filter((n) => !toolingDocumented.has(n) && !productDocumented.has(n))
      .sort();
    expect(describeMissing(missing, toolingRead)).toEqual([]);
  });

  it('documents in its tooling section only variables the tooling reads', () => {
    const unread = [...toolingDocumented].filter((n) => !toolingRead.has(n)).sort();
    expect(unread).toEqual([]);
  });

  it('gives every documented variable a default and a meaning', () => {
    const incomplete = [...documented.product, ...documented.tooling]
      .filter((v) => v.defaultValue === '' || v.meaning === '')
      .map((v) => v.name);
    expect(incomplete).toEqual([]);
  });

  it('documents each variable once per section', () => {
    const repeated = (list: DocumentedVariable[]) =>
      list.map((v) => v.name).filter((n, i, all) => all.indexOf(n) !== i);
    expect(repeated(documented.product)).toEqual([]);
    expect(repeated(documented.tooling)).toEqual([]);
  });
});
