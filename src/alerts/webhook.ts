// Alert delivery: one JSON POST to ALERT_WEBHOOK_URL per alert, with a small retry of its own.
//
// The payload is built from an allow-list of fields and every string in it is redacted, so neither an API
// secret, a bearer token nor a presigned URL can leave through an alert. The webhook URL itself may carry a
// token (Slack-style hooks do), so it is never logged unredacted.
import axios from 'axios';
import { classifyHttpStatus, type FailureType } from '../contract/failures';
import { redact, redactUrl } from '../log/redact';

/**
 * An alert reports one failure of the taxonomy, or a freshness change of a scheduled export: its newest
 * succeeded window got older than its `freshness` (ExportStale), or a newer window succeeded since
 * (ExportRecovered).
 */
export type AlertKind = FailureType | 'ExportStale' | 'ExportRecovered';

export interface Alert {
  kind: AlertKind;
  /** The workflow owning the failure; absent for an ExportJob no workflow of ours started. */
  workflowId?: string;
  runId?: string;
  jobId?: string;
  message: string;
  /** The export definition's name (or an ad-hoc export's --name), when known. */
  exportName?: string;
  exportKind?: string;
  window?: { start?: string; end?: string };
  /** The m3ter export schedule that ran the job (failures of jobs no workflow owns). */
  scheduleId?: string;
  /** The DataExportJobFailure event the monitor saw. */
  eventId?: string;
  /** Who noticed first: the export workflow or the failure monitor. */
  noticedBy?: 'workflow' | 'monitor';
  details?: Record<string, unknown>;
}

export interface AlertPayload extends Alert {
  source: 'm3ter-export-worker';
  at: string;
}

export interface Alerter {
  /** True when alerts leave the process (a webhook is configured). */
  readonly enabled: boolean;
  /** Delivers one alert; throws when every attempt failed. */
  send(alert: Alert): Promise<void>;
}

export interface AlertLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface WebhookAlerterOptions {
  url?: string;
  log: AlertLogger;
  /** Per-POST timeout. */
  timeoutMs?: number;
  /** Attempts in total (default 3), 250 ms then 1 s apart: enough for a blip, short enough for an activity. */
  attempts?: number;
  now?: () => Date;
}

function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redact(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 5) return undefined;
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redactValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (/authorization|secret|token|password|url/i.test(k)) continue;
    out[k] = redactValue(v, depth + 1);
  }
  return out;
}

/** The exact JSON body that is POSTed (exported for tests and for the log line). */
export function alertPayload(alert: Alert, at: Date): AlertPayload {
  return {
    source: 'm3ter-export-worker',
    kind: alert.kind,
    ...(alert.workflowId ? { workflowId: alert.workflowId } : {}),
    ...(alert.runId ? { runId: alert.runId } : {}),
    ...(alert.jobId ? { jobId: alert.jobId } : {}),
    message: redact(alert.message),
    ...(alert.exportName ? { exportName: alert.exportName } : {}),
    ...(alert.exportKind ? { exportKind: alert.exportKind } : {}),
    ...(alert.window ? { window: redactValue(alert.window) as Alert['window'] } : {}),
    ...(alert.scheduleId ? { scheduleId: redact(alert.scheduleId) } : {}),
    ...(alert.eventId ? { eventId: alert.eventId } : {}),
    ...(alert.noticedBy ? { noticedBy: alert.noticedBy } : {}),
    ...(alert.details ? { details: redactValue(alert.details) as Record<string, unknown> } : {}),
    at: at.toISOString(),
  };
}

export function createWebhookAlerter(opts: WebhookAlerterOptions): Alerter {
  const attempts = Math.max(1, opts.attempts ?? 3);
  const delays = [250, 1000, 2000];
  const now = opts.now ?? (() => new Date());
  return {
    enabled: Boolean(opts.url),
    async send(alert: Alert): Promise<void> {
      if (!opts.url) return;
      const body = alertPayload(alert, now());
      let lastError = '';
      for (let attempt = 1; attempt <= attempts; attempt++) {
        try {
          const res = await axios.post(opts.url, body, {
            timeout: opts.timeoutMs ?? 5000,
            headers: { 'content-type': 'application/json' },
            validateStatus: () => true,
            // A redirect could forward the alert somewhere unexpected; webhooks answer directly.
            maxRedirects: 0,
          });
          if (res.status >= 200 && res.status < 300) return;
          lastError = `HTTP ${res.status}`;
          if (!classifyHttpStatus(res.status).retryable) break;
        } catch (err) {
          lastError = redact((err as Error).message ?? String(err));
        }
        if (attempt < attempts)
          await new Promise((r) => setTimeout(r, delays[Math.min(attempt - 1, delays.length - 1)]));
      }
      opts.log.warn(
        { kind: alert.kind, workflowId: alert.workflowId, webhook: redactUrl(opts.url), error: lastError },
        'alert webhook delivery failed',
      );
      throw new Error(`alert webhook delivery failed: ${lastError}`);
    },
  };
}
