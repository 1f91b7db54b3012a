// billsCsvExportWorkflow: the Data Explorer bill CSV (docs/m3ter-api.md, "Data Explorer bill CSV"). There is no job to wait for: one
// activity requests the download URL and streams the file, so the URL never enters history.
import {
  proxyActivities,
  setHandler,
  setWorkflowOptions,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { versioned } from './versioning';
import type { BillsActivities } from '../activities/bills-activities';
import type { Manifest } from '../src/storage/types';
import { failWith, statusQuery, STREAMING_ACTIVITY_OPTIONS, type ExportStatus } from './common';
import {
  createBillsCsvExportInputSchema,
  parseWorkflowInput,
  type BillsCsvExportInput,
} from '../src/contract/inputs';
import { M3terExportKind } from '../src/contract/search-attributes';

export type { BillsCsvExportInput } from '../src/contract/inputs';

const { exportBillsCsv } = proxyActivities<BillsActivities>({
  ...STREAMING_ACTIVITY_OPTIONS,
  startToCloseTimeout: '1 hour',
});

// Pinned: one activity long; it finishes on the build that started it (docs/deploying.md#versioning-behaviours).
setWorkflowOptions(versioned('PINNED'), billsCsvExportWorkflow);

export async function billsCsvExportWorkflow(rawInput: BillsCsvExportInput): Promise<Manifest> {
  const status: ExportStatus = { phase: 'downloading', polls: 0, bytesWritten: 0 };
  setHandler(statusQuery, () => status);
  let input: BillsCsvExportInput;
  try {
    input = parseWorkflowInput(createBillsCsvExportInputSchema(), rawInput);
  } catch (err) {
    failWith(status, err);
  }
  upsertSearchAttributes([{ key: M3terExportKind, value: 'bills' }]);
  try {
    const manifest = await exportBillsCsv({
      request: input.request,
      workflowId: workflowInfo().workflowId,
      storage: input.storage,
      name: input.name,
    });
    status.bytesWritten = manifest.bytes;
    status.phase = 'done';
    return manifest;
  } catch (err) {
    failWith(status, err);
  }
}
