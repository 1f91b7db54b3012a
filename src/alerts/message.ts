// What every channel renders from: the alert plus what only the worker knows (the Temporal UI address,
// the namespace). Built in the delivery activity, never in workflow code, so nothing channel-specific
// (URLs, secrets) is ever in workflow history.
import type { Alert } from './webhook';

export interface AlertContext {
  /** TEMPORAL_UI_URL, e.g. http://localhost:8233 */
  temporalUiUrl?: string;
  namespace?: string;
  /** The CLI's name in the rerun command. */
  cliName?: string;
}

export interface AlertMessage {
  title: string;
  alert: Alert;
  /** `m3ter-exports rerun <workflowId>` when a workflow owns the failure. */
  rerunCommand?: string;
  temporalUiLink?: string;
  windowText?: string;
}

export function temporalUiLink(ctx: AlertContext, workflowId: string, runId?: string): string | undefined {
  if (!ctx.temporalUiUrl) return undefined;
  const base = ctx.temporalUiUrl.replace(/\/+$/, '');
  const ns = encodeURIComponent(ctx.namespace ?? 'default');
  const wf = encodeURIComponent(workflowId);
  return `${base}/namespaces/${ns}/workflows/${wf}${runId ? `/${encodeURIComponent(runId)}` : ''}/history`;
}

/** Only ids of the shapes this project creates go into a shell command; anything else is quoted. */
function shellWord(s: string): string {
  return /^[A-Za-z0-9:._-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function rerunCommand(workflowId: string, cliName = 'm3ter-exports'): string {
  return `${cliName} rerun ${shellWord(workflowId)}`;
}

function incidentTitle(alert: Alert, what: string): string | undefined {
  const i = alert.incident;
  if (!i) return undefined;
  what = alert.exportName ? what : i.subject;
  const n = `${i.failures} failure${i.failures === 1 ? '' : 's'}`;
  switch (i.event) {
    case 'opened':
      return `${alert.kind}: ${what}${alert.jobId ? ` (job ${alert.jobId})` : ''}, incident opened`;
    case 'updated':
      return `${alert.kind}: ${what} still failing, ${n} since ${i.openedAt}`;
    case 'digest':
      return `Daily digest: ${what} failing, ${n} since ${i.openedAt}`;
    case 'resolved':
      return `Recovered: ${what} after ${n}`;
  }
}

/** The file an IngestRejected alert is about. */
export function ingestedFile(alert: Alert): string {
  const file = alert.details?.file;
  return typeof file === 'string' && file !== '' ? file : 'a file';
}

export function buildAlertMessage(alert: Alert, ctx: AlertContext = {}): AlertMessage {
  const ingest = alert.kind === 'IngestRejected';
  const what = ingest
    ? `ingest of ${ingestedFile(alert)}`
    : (alert.exportName ?? (alert.workflowId ? 'export' : 'unowned export job'));
  const title =
    incidentTitle(alert, what) ?? `${alert.kind}: ${what}${alert.jobId ? ` (job ${alert.jobId})` : ''}`;
  const w = alert.window;
  const windowText = w?.start ? (w.end ? `${w.start} → ${w.end}` : `from ${w.start}`) : undefined;
  // `rerun` re-runs exports; an ingest is sent again with `ingest --force`.
  const owned = Boolean(alert.workflowId) && !ingest;
  const link = alert.workflowId ? temporalUiLink(ctx, alert.workflowId, alert.runId) : undefined;
  return {
    title,
    alert,
    ...(owned ? { rerunCommand: rerunCommand(alert.workflowId as string, ctx.cliName) } : {}),
    ...(link ? { temporalUiLink: link } : {}),
    ...(windowText ? { windowText } : {}),
  };
}
