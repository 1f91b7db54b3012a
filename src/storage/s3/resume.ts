// Resuming after the worker died (the case a failed-but-alive attempt cannot clean up): the parts already
// uploaded stay in S3 but cannot be read back, and a native hash's state cannot be saved. So a new attempt
// takes the most advanced checkpoint whose upload still exists with exactly the parts it lists, downloads
// the file again from its first byte to rebuild the hashes, and does not upload again a part whose re-read
// bytes have the SHA-256 S3 acknowledged for it (./parts.ts). Fetching a prefix again is cheap beside
// uploading it, and every upload, resumed or not, hashes natively.
import { isCheckpoint, isConsistent, type S3Checkpoint } from './checkpoint';
import type { Ctx } from './context';
import { isNotFound, storageFailure } from './errors';
import { listParts } from './multipart';

/** The checkpoint to resume from, among the saved object's and the last heartbeat's, if any still holds. */
export async function findResumable(
  ctx: Ctx,
  isOurs: (key: string) => boolean,
  candidates: unknown[],
): Promise<S3Checkpoint | undefined> {
  const usable = candidates
    .filter(isCheckpoint)
    .filter((c) => c.bucket === ctx.bucket && isOurs(c.key))
    .sort((a, b) => b.parts.length - a.parts.length);
  for (const c of usable) {
    if (await stillHolds(ctx, c)) {
      ctx.log.info(
        { key: c.key, parts: c.parts.length, uploadedBytes: c.parts.length * c.partSize },
        'resuming the multipart upload of an earlier attempt; re-reading the file to hash it',
      );
      return c;
    }
  }
  return undefined;
}

/** S3 still has the checkpoint's upload, with exactly the parts (and ETags) it lists. */
async function stillHolds(ctx: Ctx, c: S3Checkpoint): Promise<boolean> {
  if (!isConsistent(c)) return false;
  let listed: Map<number, string>;
  try {
    listed = await listParts(ctx, c.key, c.uploadId);
  } catch (err) {
    if (!isNotFound(err)) throw storageFailure('listing the parts of an earlier upload', err);
    return false; // aborted or expired
  }
  return c.parts.every((p) => listed.get(p.n) === p.etag);
}
