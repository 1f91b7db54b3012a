// The alert ledger: "exactly one alert per failed ExportJob", whichever of the export workflow and the
// failure monitor notices first.
//
// Every alert is delivered by its own `alertDeliveryWorkflow` whose workflow id is the alert's key
// (`alert:<jobId>`). Starting it once (src/temporal/start-once.ts) is an atomic
// claim made by the Temporal server: the first start wins and delivers (with retries, surviving worker
// restarts), every later start, from either path, is refused and sends nothing. Nothing else needs to be
// stored, so a monitor restart or continue-as-new cannot forget what was alerted.
//
// The claim lasts as long as the namespace keeps the closed alert workflow (its retention). The monitor
// never looks further back than its high-water mark (or MONITOR_LOOKBACK on a first start), so keep the
// retention longer than the lookback.
import { alertLedgerId } from '../contract/ids';
import { startOnce } from '../temporal/start-once';
import { Context } from '@temporalio/activity';
import { type Client } from '@temporalio/client';
import type { Alert, Alerter, AlertLogger } from './webhook';

/** The workflow type name of the delivery workflow (workflows/alert-delivery.ts). */
export const ALERT_DELIVERY_WORKFLOW = 'alertDeliveryWorkflow';

export interface AlertDeliveryInput {
  alert: Alert;
  /** Channel names; absent: the router's choice for the alert's export. */
  channels?: string[];
}

export { alertLedgerId };

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
  const claimed = await startOnce(client, {
    workflowType: ALERT_DELIVERY_WORKFLOW,
    workflowId: ledgerId,
    taskQueue,
    args: [input],
  });
  return { ledgerId, claimed };
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
