// Local-directory storage for exported files. Data goes to a hidden partial file of the writer's own in
// the same directory, fsynced and then linked under its final name (atomic, same filesystem, never
// replacing a file), and the directory is fsynced, so a reader never sees a half-written file and a crash
// cannot leave a committed but empty one. Manifests are written with temp + fsync + rename.
// docs/storage.md, "Local storage", has the whole picture.
import fs from 'node:fs/promises';
import path from 'node:path';
import { sanitizeFileName } from '../names';
import type { ExportStorage, Manifest, OpenWriterOptions, StorageWriter } from '../types';
import { isNoSpace, sha256OfFile, writeFailure, writeFileAtomic } from './files';
import { isLocalFilesystem } from './filesystems';
import { adoptPartial, discardPartials, newPartialName, sweepStale } from './partials';
import { LocalWriter } from './writer';

export { sanitizeFileName } from '../names';

export interface LocalStorageOptions {
  dir: string;
  /** Free bytes every write must leave in `dir` (EXPORT_DIR_MIN_FREE_BYTES). Default 0. */
  minFreeBytes?: number;
  /** For the sweep of stale partial files. */
  now?: () => number;
  /**
   * Write batches from the event loop rather than through the thread pool (src/storage/local/writer.ts).
   * Default: true where `dir` is on a local filesystem (./filesystems.ts), false elsewhere.
   */
  writeFromEventLoop?: boolean;
}

export function createLocalStorage(opts: LocalStorageOptions): ExportStorage {
  const dir = path.resolve(opts.dir);
  const keepFree = opts.minFreeBytes ?? 0;
  const now = opts.now ?? Date.now;
  let ready: Promise<unknown> | undefined;
  // Created on first use, when partial files no attempt can finish any more are swept.
  const ensureDir = () => (ready ??= fs.mkdir(dir, { recursive: true }).then(() => sweepStale(dir, now())));
  const manifestName = (file: string) => `${sanitizeFileName(file)}.manifest.json`;

  const exists = async (name: string): Promise<boolean> =>
    fs
      .stat(path.join(dir, sanitizeFileName(name)))
      .then((s) => s.isFile())
      .catch(() => false);

  const readManifest = async (file: string): Promise<Manifest | undefined> => {
    try {
      return JSON.parse(await fs.readFile(path.join(dir, manifestName(file)), 'utf8')) as Manifest;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  };

  /** A manifest is only trusted when its file is there with the size and SHA-256 it records. */
  const matchesItsFile = async (manifest: Manifest): Promise<boolean> => {
    const file = path.join(dir, sanitizeFileName(manifest.file));
    const stat = await fs.stat(file).catch(() => undefined);
    if (!stat?.isFile() || stat.size !== manifest.bytes) return false;
    return (await sha256OfFile(file)) === manifest.sha256;
  };

  return {
    location: dir,
    kind: 'local',

    async openWriter(name: string, { resume = true }: OpenWriterOptions = {}): Promise<StorageWriter> {
      await ensureDir();
      const base = sanitizeFileName(name);
      const mine = newPartialName(base);
      const tempPath = path.join(dir, mine);
      const adopted = await adoptPartial(dir, base, mine, resume).catch(async (err: unknown) => {
        await fs.rm(tempPath, { force: true });
        // No room to resume is a failure for good: nothing of this file may stay behind.
        if (isNoSpace(err)) await discardPartials(dir, base);
        throw writeFailure(err, 'resuming an earlier partial file');
      });
      // 'wx' refuses a name that exists: the partial file is this writer's alone.
      if (!adopted) await (await fs.open(tempPath, 'wx')).close();
      // 'r+' honours explicit write positions ('a+' would force every write to the end).
      const handle = await fs.open(tempPath, 'r+');
      const fromLoop = opts.writeFromEventLoop ?? (await isLocalFilesystem(dir));
      const writer = new LocalWriter(dir, base, tempPath, handle, keepFree, fromLoop);
      if (adopted) await writer.loadExisting();
      return writer;
    },

    exists,
    readManifest,

    async writeManifest(file: string, manifest: Manifest): Promise<string> {
      await ensureDir();
      return writeFileAtomic(dir, manifestName(file), `${JSON.stringify(manifest, null, 2)}\n`);
    },

    async findManifest(base: string): Promise<Manifest | undefined> {
      await ensureDir();
      const prefix = `${sanitizeFileName(base)}.`;
      const names = (await fs.readdir(dir)).filter(
        (n) => n.startsWith(prefix) && n.endsWith('.manifest.json'),
      );
      for (const n of names.sort()) {
        const manifest = await readManifest(n.slice(0, -'.manifest.json'.length));
        if (manifest && (await matchesItsFile(manifest))) return manifest;
      }
      return undefined;
    },
  };
}
