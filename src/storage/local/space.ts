// Free space: checked before a file is written, so a disk too small fails the export at once with a clear
// reason instead of filling the disk and failing every other export on it.
import fs from 'node:fs/promises';
import { failure, FailureType } from '../../contract/failures';

export async function freeBytes(dir: string): Promise<number> {
  const s = await fs.statfs(dir);
  return s.bavail * s.bsize;
}

/** Throws StorageInsufficientSpace unless `dir` can take `bytes` more and still keep `keepFree` free. */
export async function ensureRoom(dir: string, bytes: number, keepFree: number): Promise<void> {
  const free = await freeBytes(dir);
  if (free - bytes >= keepFree) return;
  throw failure(
    FailureType.StorageInsufficientSpace,
    `not enough free space in EXPORT_DIR for this file: it needs ${bytes} more bytes, ${free} are free ` +
      `and ${keepFree} must stay free (EXPORT_DIR_MIN_FREE_BYTES); free space and re-run the export`,
    { details: { neededBytes: bytes, freeBytes: free, keepFreeBytes: keepFree } },
  );
}
