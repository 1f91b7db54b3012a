// The Data Explorer bill CSV (docs/m3ter-api.md, "Data Explorer bill CSV"): a synchronous request that answers with a download URL.
// Requesting the URL and downloading it happen in ONE activity so the URL never leaves the activity (it
// would otherwise be stored in workflow history). The Data Explorer's 1 rps limit answers 429; the m3ter
// client retries those with Retry-After before we ever see them. A bad request body is refused by the
// client's schema before any call and fails as InvalidExportRequest, as on the ad-hoc path.
import type { BillsCsvRequest } from '../src/m3ter/schemas';
import type { Manifest, StorageKind } from '../src/storage/types';
import { systemClock, type ActivityLogger, type Clock, type M3terExportsApi } from './deps';
import { chooseStorage, type StorageChoiceDeps } from './storage-choice';
import { exportFileBase, summarizeRequest } from './export-activities';
import { storeFileWithManifest } from './store-file';
import { toApplicationFailure } from './failures';

export interface BillsActivityDeps extends StorageChoiceDeps {
  m3ter: M3terExportsApi;
  log: ActivityLogger;
  clock?: Clock;
}

export interface ExportBillsCsvInput {
  request: BillsCsvRequest;
  workflowId: string;
  /** Where the file goes. Default `local`. */
  storage?: StorageKind;
  /** The export's name: the `export=` partition of its S3 key. */
  name?: string;
}

export function createBillsActivities(deps: BillsActivityDeps) {
  const clock = deps.clock ?? systemClock;
  const { m3ter, log } = deps;

  async function requestUrl(request: BillsCsvRequest): Promise<string> {
    try {
      return (await m3ter.downloadBillsCsv(request)).downloadUrl;
    } catch (err) {
      throw toApplicationFailure(err, 'requesting the bill CSV');
    }
  }

  async function exportBillsCsv(input: ExportBillsCsvInput): Promise<Manifest> {
    const window = { start: input.request.startDate, end: input.request.endDate };
    return storeFileWithManifest({
      storage: chooseStorage(deps, input.storage, { exportName: input.name, window }),
      base: exportFileBase(input.workflowId, 'bills'),
      defaultExt: '.csv',
      fetchUrl: () => requestUrl(input.request),
      urlPolicy: { trustedOrigin: m3ter.apiOrigin },
      isOwnManifest: (m) => m.workflowId === input.workflowId,
      facts: {
        workflowId: input.workflowId,
        kind: 'bills',
        sourceType: 'BILLS_CSV',
        window,
        request: summarizeRequest(input.request),
      },
      log,
      clock,
      storedMessage: 'bill CSV stored',
      downloads: deps.downloads,
    });
  }

  return { exportBillsCsv };
}

export type BillsActivities = ReturnType<typeof createBillsActivities>;
