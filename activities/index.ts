// The worker's activities: one object merging every group, built from the same dependencies.
import { createBillsActivities } from './bills-activities';
import type { ExportActivityDeps } from './deps';
import { createExportActivities } from './export-activities';

export function createActivities(deps: ExportActivityDeps) {
  return { ...createExportActivities(deps), ...createBillsActivities(deps) };
}

export type Activities = ReturnType<typeof createActivities>;

export { createExportActivities, type ExportActivities } from './export-activities';
export { createBillsActivities, type BillsActivities } from './bills-activities';
export { createVisibilityClaimChecker } from './claims';
export { FailureType } from '../src/failures';
export { systemClock } from './deps';
export type {
  ActivityLogger,
  ClaimedJobIds,
  Clock,
  ExportActivityDeps,
  M3terExportsApi,
  TriggerTuning,
} from './deps';
export type * from './export-activities';
export type { ExportBillsCsvInput } from './bills-activities';
