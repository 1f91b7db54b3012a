// The worker's workflowsPath: every workflow the worker runs, by its contract name.
export { adhocExportWorkflow } from './adhoc-export';
export { billsCsvExportWorkflow } from './bills-csv-export';
export { scheduledExportWorkflow } from './scheduled-export';
export { backfillWorkflow } from './backfill';
export { alertDeliveryWorkflow } from './alert-delivery';
export { exportFailureMonitorWorkflow } from './failure-monitor';
export { exportJobClaimWorkflow } from './job-claim';
export { ingestWorkflow } from './ingest';
export { exportIncidentWorkflow } from './export-incident';
// Types and the query definition for clients (the CLI). Only workflow functions may be exported as values
// here: the worker registers every exported function as a workflow type.
export type { AdhocExportInput, AdhocExportResult, PollOptions } from './adhoc-export';
export type { BillsCsvExportInput } from './bills-csv-export';
export type { ExportPhase, ExportStatus } from './common';
export type { ScheduledExportInput, ScheduledExportResult } from './scheduled-export';
export type { BackfillInput, BackfillProgress, BackfillSummary } from '../src/contract/backfill';
export type { FailureMonitorInput, FailureMonitorStatus } from '../src/contract/monitor';
export type { IngestInput, IngestProgress } from '../src/contract/ingest';
