// What an npm install should hold and what it holds: package locations (`node_modules/a`,
// `node_modules/a/node_modules/b`) from package-lock.json and from a node_modules tree on disk, so a test
// can tell which packages only one dependency brings in and check that an install left them out.
import fs from 'node:fs';
import path from 'node:path';

interface LockedPackage {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

export interface PackageLock {
  packages: Record<string, LockedPackage>;
}

/** Where a package at `from` finds `name`: the nearest node_modules up its tree, as Node.js resolves it. */
function resolveLocation(lock: PackageLock, from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const location = `${base === '' ? '' : `${base}/`}node_modules/${name}`;
    if (lock.packages[location]) return location;
    if (base === '') return undefined;
    const i = base.lastIndexOf('/node_modules/');
    base = i < 0 ? '' : base.slice(0, i);
  }
}

/**
 * The lock file's locations that the root's dependencies `names` need: each one and, transitively, its
 * dependencies, optional dependencies and required peers. An optional dependency the lock file does not
 * hold (another platform's binary) is not needed.
 */
export function neededBy(lock: PackageLock, names: string[]): Set<string> {
  const needed = new Set<string>();
  const queue = names.map((name) => ({ from: '', name }));
  for (let next = queue.pop(); next; next = queue.pop()) {
    const location = resolveLocation(lock, next.from, next.name);
    if (location === undefined || needed.has(location)) continue;
    needed.add(location);
    const pkg = lock.packages[location];
    const peers = Object.keys(pkg.peerDependencies ?? {}).filter(
      (peer) => !pkg.peerDependenciesMeta?.[peer]?.optional,
    );
    for (const name of [
      ...Object.keys(pkg.dependencies ?? {}),
      ...Object.keys(pkg.optionalDependencies ?? {}),
      ...peers,
    ])
      queue.push({ from: location, name });
  }
  return needed;
}

/** The root's production dependencies by name: what `npm ci --omit=dev` installs. */
export function productionDependencies(lock: PackageLock): string[] {
  const root = lock.packages[''];
  return Object.keys({ ...root.dependencies, ...root.optionalDependencies });
}

/** The packages installed under `dir`, as lock-file locations (npm's own `.` entries left out). */
export function installedPackages(dir: string, location = ''): Set<string> {
  const found = new Set<string>();
  const modules = path.join(dir, 'node_modules');
  if (!fs.existsSync(modules)) return found;
  for (const entry of fs.readdirSync(modules)) {
    if (entry.startsWith('.')) continue;
    const names = entry.startsWith('@')
      ? fs.readdirSync(path.join(modules, entry)).map((scoped) => `${entry}/${scoped}`)
      : [entry];
    for (const name of names) {
      const at = `${location === '' ? '' : `${location}/`}node_modules/${name}`;
      found.add(at);
      for (const nested of installedPackages(path.join(modules, name), at)) found.add(nested);
    }
  }
  return found;
}
