// billsCsvExportWorkflow: the Data Explorer bill CSV (m3ter-api.md §9.1). There is no job to wait for: one
// activity requests the download URL and streams the file, so the URL never enters history.
import { proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { BillsActivities } from '../activities/bills-activities';
import type { BillsCsvRequest } from '../src/m3ter/schemas';
import type { Manifest } from '../src/storage/types';
import { checkDateTime, failWith, invalid, isObject, statusQuery, type ExportStatus } from './common';
import { M3terExportKind } from './search-attributes';

export interface BillsCsvExportInput {
  request: BillsCsvRequest;
  name?: string;
}

export function validateBillsCsvExportInput(input: unknown): asserts input is BillsCsvExportInput {
  if (!isObject(input)) throw invalid('input', 'must be an object');
  const req = input.request;
  if (!isObject(req)) throw invalid('request', 'is required');
  const start = checkDateTime(req, 'startDate', 'request.', true);
  const end = checkDateTime(req, 'endDate', 'request.', true);
  if (start !== undefined && end !== undefined && end <= start)
    throw invalid('request.endDate', 'must be after startDate');
  const types = req.lineItemTypes;
  if (!Array.isArray(types) || types.length === 0)
    throw invalid('request.lineItemTypes', 'must contain at least 1 item');
  if (req.dimensions !== undefined && (!Array.isArray(req.dimensions) || req.dimensions.length > 100)) {
    throw invalid('request.dimensions', 'must be an array of at most 100 items');
  }
  if (
    req.limit !== undefined &&
    (typeof req.limit !== 'number' || !Number.isInteger(req.limit) || req.limit < 1 || req.limit > 2000)
  ) {
    throw invalid('request.limit', 'must be an integer from 1 to 2000');
  }
}

const { exportBillsCsv } = proxyActivities<BillsActivities>({
  heartbeatTimeout: '60 seconds',
  startToCloseTimeout: '1 hour',
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '2 minutes',
    maximumAttempts: 10,
    nonRetryableErrorTypes: ['ExportRequestRejected', 'InvalidExportRequest', 'M3terRequestValidationError'],
  },
});

export async function billsCsvExportWorkflow(input: BillsCsvExportInput): Promise<Manifest> {
  const status: ExportStatus = { phase: 'downloading', polls: 0, bytesWritten: 0 };
  setHandler(statusQuery, () => status);
  try {
    validateBillsCsvExportInput(input);
  } catch (err) {
    status.phase = 'failed';
    status.error = { type: 'InvalidExportRequest', message: (err as Error).message };
    throw err;
  }
  upsertSearchAttributes([{ key: M3terExportKind, value: 'bills' }]);
  try {
    const manifest = await exportBillsCsv({ request: input.request, workflowId: workflowInfo().workflowId });
    status.bytesWritten = manifest.bytes;
    status.phase = 'done';
    return manifest;
  } catch (err) {
    failWith(status, err);
  }
}
