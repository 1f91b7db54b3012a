// Small filesystem steps the local storage is built from: durable renames, atomic small files, hashing a
// file, and what a write error means for the export.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { failure, FailureType } from '../../contract/failures';

export async function fsyncDir(dir: string): Promise<void> {
  // Directory fsync makes the rename durable. Not supported on every platform (Windows): best effort.
  let handle: FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    /* best effort */
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Writes `data` to a temporary file, fsyncs and renames it over `name`; the temporary file never stays. */
export async function writeFileAtomic(dir: string, name: string, data: string): Promise<string> {
  const finalPath = path.join(dir, name);
  const tmp = path.join(dir, `.${name}.${process.pid}.${Date.now()}.tmp`);
  try {
    const handle = await fs.open(tmp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, finalPath);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw writeFailure(err, `writing ${name}`);
  }
  await fsyncDir(dir);
  return finalPath;
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}

const NO_SPACE = new Set(['ENOSPC', 'EDQUOT']);

export function isNoSpace(err: unknown): boolean {
  return NO_SPACE.has((err as NodeJS.ErrnoException)?.code ?? '');
}

/**
 * A full disk or quota fails the export for good (retrying refills the same disk; an operator frees space
 * and re-runs it); any other filesystem error is a retryable StorageFailed. Failures pass through.
 */
export function writeFailure(err: unknown, context: string): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (isNoSpace(err))
    return failure(
      FailureType.StorageInsufficientSpace,
      `EXPORT_DIR ran out of space (${code}) while ${context}; free space and re-run the export`,
      { details: { code } },
    );
  return failure(FailureType.StorageFailed, `${context}: ${message}`, { details: { code } });
}
