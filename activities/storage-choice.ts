// Which storage an export's file goes to, and where in it: the workflow input names the kind ('local' or
// 's3'), the worker holds one storage of each kind it is configured for.
import { failure, FailureType } from '../src/contract/failures';
import type { ExportStorage, FilePlacement, StorageKind } from '../src/storage/types';
import type { DownloadSettings } from './download-attempt';

export interface StorageChoiceDeps {
  /** Local directory storage (always configured). */
  storage: ExportStorage;
  /** S3 storage, when the worker has EXPORT_S3_BUCKET. */
  s3Storage?: ExportStorage;
  /** Limits of the downloads into that storage (absent: no slot bound, default throughput, no size cap). */
  downloads?: DownloadSettings;
}

export function chooseStorage(
  deps: StorageChoiceDeps,
  kind: StorageKind | undefined,
  placement: FilePlacement,
): ExportStorage {
  if (kind === 's3') {
    if (!deps.s3Storage)
      throw failure(
        FailureType.StorageNotConfigured,
        "storage 's3' requested but this worker has no EXPORT_S3_BUCKET configured",
      );
    return deps.s3Storage.within?.(placement) ?? deps.s3Storage;
  }
  return deps.storage.within?.(placement) ?? deps.storage;
}

/** The storage checkpoint an earlier attempt left in its heartbeat details (see StorageWriter.checkpoint). */
export function storageCheckpoint(heartbeatDetails: unknown): unknown {
  return (heartbeatDetails as { storage?: unknown } | undefined)?.storage;
}
