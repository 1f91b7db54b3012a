// Partial files: each writer owns its own (`.<base>.<owner>.partial`), so two attempts of one download
// (an attempt presumed dead after a heartbeat timeout may still be running) never write the same file.
// A new attempt resumes from the longest partial an earlier one left by copying it into its own file, then
// deletes the others: a late write of the earlier attempt lands in a file nobody reads, and its commit
// fails because its file is gone. Partials nobody touched for a day are swept.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

/** After m3ter's 24 h download window a partial can never be completed. */
export const STALE_AFTER_MS = 24 * 60 * 60 * 1000;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function newPartialName(base: string): string {
  return `.${base}.${randomBytes(4).toString('hex')}.partial`;
}

/** Every partial file of `base` in `dir` (including the owner-less name of earlier versions). */
export async function partialsOf(dir: string, base: string): Promise<string[]> {
  const pattern = new RegExp(`^\\.${escapeRegExp(base)}(\\.[0-9a-f]{8})?\\.partial$`);
  return (await fs.readdir(dir)).filter((n) => pattern.test(n));
}

/**
 * Starts `mine` from the longest partial of `base` (a copy, or a clone where the filesystem supports it)
 * and deletes the others. Returns whether anything was adopted.
 */
export async function adoptPartial(
  dir: string,
  base: string,
  mine: string,
  resume: boolean,
): Promise<boolean> {
  const others = (await partialsOf(dir, base)).filter((n) => n !== mine);
  let adopted = false;
  if (resume && others.length > 0) {
    const sized = await Promise.all(
      others.map(async (n) => ({
        n,
        size: (await fs.stat(path.join(dir, n)).catch(() => undefined))?.size ?? -1,
      })),
    );
    const longest = sized.sort((a, b) => b.size - a.size)[0];
    if (longest.size > 0) {
      await fs.copyFile(
        path.join(dir, longest.n),
        path.join(dir, mine),
        constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE,
      );
      adopted = true;
    }
  }
  await Promise.all(others.map((n) => fs.rm(path.join(dir, n), { force: true })));
  return adopted;
}

export async function discardPartials(dir: string, base: string): Promise<void> {
  const names = await partialsOf(dir, base).catch(() => [] as string[]);
  await Promise.all(names.map((n) => fs.rm(path.join(dir, n), { force: true })));
}

/** Removes partial and temporary files not modified for `maxAgeMs`; returns how many. */
export async function sweepStale(dir: string, now: number, maxAgeMs = STALE_AFTER_MS): Promise<number> {
  let removed = 0;
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter(
    (n) => n.startsWith('.') && (n.endsWith('.partial') || n.endsWith('.tmp')),
  );
  for (const n of names) {
    const file = path.join(dir, n);
    const stat = await fs.stat(file).catch(() => undefined);
    if (!stat?.isFile() || now - stat.mtimeMs < maxAgeMs) continue;
    await fs.rm(file, { force: true });
    removed++;
  }
  return removed;
}
