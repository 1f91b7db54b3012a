// Committing a finished partial file under its final name without ever replacing a file: a hard link
// fails if the name is taken, atomically. The same content already there is success without a write;
// other content goes to `<file>.v2`, `.v3`, ..., as S3 storage does.
import fs from 'node:fs/promises';
import path from 'node:path';
import { sha256OfFile } from './files';

/** Filesystems without hard links (some network and FUSE mounts) answer one of these. */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

async function linkNoReplace(from: string, to: string): Promise<'linked' | 'taken'> {
  try {
    await fs.link(from, to);
    return 'linked';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') return 'taken';
    if (!NO_LINKS.has(code)) throw err;
  }
  // No hard links: check, then rename. Not atomic against another writer of the same name, which the
  // unique file names and owned partial files already rule out.
  if (
    await fs.stat(to).then(
      () => true,
      () => false,
    )
  )
    return 'taken';
  await fs.rename(from, to);
  return 'linked';
}

/** Places `partial` (whose SHA-256 is `sha256`) at `file` or its next free version; removes `partial`. */
export async function placeFile(
  dir: string,
  partial: string,
  file: string,
  sha256: string,
): Promise<{ target: string; present: boolean }> {
  let target = file;
  for (let version = 2; ; version++) {
    const to = path.join(dir, target);
    if ((await linkNoReplace(partial, to)) === 'linked') {
      await fs.rm(partial, { force: true });
      return { target, present: false };
    }
    if ((await sha256OfFile(to).catch(() => undefined)) === sha256) {
      await fs.rm(partial, { force: true });
      return { target, present: true };
    }
    target = `${file}.v${version}`;
  }
}
