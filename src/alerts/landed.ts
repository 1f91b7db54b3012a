// The "landed" event: one signed JSON document per window whose file is stored, for whatever runs downstream
// (a warehouse loader, a dbt job, an Airflow sensor) instead of polling storage. Its schema is
// docs/landed-event.schema.json. It names where the file and its manifest are in storage, never the
// presigned URL m3ter gave for the download.
import { redact } from '../log/redact';
import type { Alert } from './webhook';

/** What a landed alert carries about the stored file (from its manifest). */
export interface LandedFile {
  /** `file:///...` or `s3://bucket/key`. */
  location: string;
  bytes: number;
  rows?: number;
  sha256: string;
  contentType?: string;
  completedAt: string;
}

export const LANDED_EVENT_TYPE = 'export.landed';

export interface LandedEvent {
  source: 'm3ter-export-worker';
  type: typeof LANDED_EVENT_TYPE;
  exportName?: string;
  exportKind?: string;
  workflowId?: string;
  jobId?: string;
  window?: { start?: string; end?: string };
  location: string;
  manifestLocation: string;
  bytes: number;
  rows?: number;
  sha256: string;
  contentType?: string;
  completedAt: string;
  at: string;
}

/** The manifest is written beside the file as `<file>.manifest.json` (src/storage). */
export function manifestLocationOf(location: string): string {
  return `${location}.manifest.json`;
}

export function landedEvent(alert: Alert & { landed: LandedFile }, at: Date): LandedEvent {
  const f = alert.landed;
  return {
    source: 'm3ter-export-worker',
    type: LANDED_EVENT_TYPE,
    ...(alert.exportName ? { exportName: alert.exportName } : {}),
    ...(alert.exportKind ? { exportKind: alert.exportKind } : {}),
    ...(alert.workflowId ? { workflowId: alert.workflowId } : {}),
    ...(alert.jobId ? { jobId: alert.jobId } : {}),
    ...(alert.window ? { window: alert.window } : {}),
    // A storage location, never a download URL; redacted all the same.
    location: redact(f.location),
    manifestLocation: redact(manifestLocationOf(f.location)),
    bytes: f.bytes,
    ...(f.rows !== undefined ? { rows: f.rows } : {}),
    sha256: f.sha256,
    ...(f.contentType ? { contentType: f.contentType } : {}),
    completedAt: f.completedAt,
    at: at.toISOString(),
  };
}
