// The alert ledger: "exactly one alert per failed ExportJob", whichever of the export workflow and the
// failure monitor notices first.
//
// Every alert is delivered by its own `alertDeliveryWorkflow` whose workflow id is the alert's key
// (`alert:<jobId>`). Starting it with id reuse REJECT_DUPLICATE and conflict policy FAIL is an atomic
// claim made by the Temporal server: the first start wins and delivers (with retries, surviving worker
// restarts), every later start, from either path, is refused and sends nothing. Nothing else needs to be
// stored, so a monitor restart or continue-as-new cannot forget what was alerted.
//
// The claim lasts as long as the namespace keeps the closed alert workflow (its retention). The monitor
// never looks further back than its high-water mark (or MONITOR_LOOKBACK on a first start), so keep the
// retention longer than the lookback.
import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { Alert, Alerter, AlertLogger } from './webhook';

/** The workflow type name of the delivery workflow (workflows/alert-delivery.ts). */
export const ALERT_DELIVERY_WORKFLOW = 'alertDeliveryWorkflow';

export interface AlertDeliveryInput {
  alert: Alert;
  /** Channel names; absent: the router's choice for the alert's export. */
  channels?: string[];
}

/**
 * The ledger key: one per ExportJob whatever the failure; without a job id, one per monitor event, or
 * one per workflow run and failure type (a trigger that may or may not have created a job).
 */
export function alertLedgerId(alert: Alert): string {
  if (alert.jobId) return `alert:${alert.jobId}`;
  if (alert.eventId) return `alert:event:${alert.eventId}`;
  return `alert:run:${alert.workflowId ?? 'unknown'}:${alert.runId ?? 'unknown'}:${alert.kind}`;
}

export interface ClaimResult {
  ledgerId: string;
  /** True: this call started the delivery. False: the alert was already claimed, nothing sent. */
  claimed: boolean;
}

export async function claimAlert(
  client: Client,
  taskQueue: string,
  alert: Alert,
  /** A key of the caller's own (freshness alerts: one per export and staleness episode). */
  key?: string,
  /** Channels to deliver to; `[]` claims the alert without sending it (a digest reports it instead). */
  channels?: string[],
): Promise<ClaimResult> {
  const ledgerId = key ?? alertLedgerId(alert);
  const input: AlertDeliveryInput = { alert, ...(channels ? { channels } : {}) };
  try {
    await client.workflow.start(ALERT_DELIVERY_WORKFLOW, {
      workflowId: ledgerId,
      taskQueue,
      args: [input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
    });
    return { ledgerId, claimed: true };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { ledgerId, claimed: false };
    throw err;
  }
}

/**
 * The export activities' Alerter: instead of posting, it claims the alert in the ledger. Called from an
 * activity, it adds the calling run's id (for the Temporal UI link and the key of job-less alerts).
 */
export function createLedgerAlerter(opts: { client: Client; taskQueue: string; log: AlertLogger }): Alerter {
  return {
    enabled: true,
    async send(alert: Alert): Promise<void> {
      let runId = alert.runId;
      try {
        runId ??= Context.current().info.workflowExecution?.runId;
      } catch {
        /* not inside an activity */
      }
      const full: Alert = { noticedBy: 'workflow', ...alert, ...(runId ? { runId } : {}) };
      const { ledgerId, claimed } = await claimAlert(opts.client, opts.taskQueue, full);
      opts.log.info(
        { ledgerId, claimed, kind: alert.kind, workflowId: alert.workflowId, jobId: alert.jobId },
        claimed ? 'alert claimed; delivering' : 'alert already claimed by another path; not sent again',
      );
    },
  };
}
