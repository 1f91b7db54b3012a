// The worker's alerting, built from config in one place: the channel router (definitions file channels
// plus ALERT_WEBHOOK_URL as `default`), the ledger alerter the export activities use, and the monitor's
// start input. Channel URLs and secrets stay inside the router; nothing here logs them.
import type { Client } from '@temporalio/client';
import { createAlertRouter, type AlertRouter } from './router';
import type { AppConfig } from '../config/config';
import { loadDefinitionsFile } from '../definitions';
import type { AppLogger } from '../log/logger';
import { ensureFailureMonitor, type EnsureMonitorResult } from './monitor-start';
import type { FailureMonitorInput } from '../contract/monitor';

export function buildAlertRouter(config: AppConfig): AlertRouter {
  const defs = config.definitionsFile ? loadDefinitionsFile(config.definitionsFile) : undefined;
  return createAlertRouter({
    defaultWebhookUrl: config.alertWebhookUrl,
    channels: defs?.alerts ?? [],
    exports: defs?.exports ?? [],
    context: { temporalUiUrl: config.temporalUiUrl, namespace: config.temporal.namespace },
  });
}

export function monitorInput(config: Pick<AppConfig, 'monitor'>): FailureMonitorInput {
  return {
    intervalMs: config.monitor.intervalMs,
    lookbackMs: config.monitor.lookbackMs,
    ownerWaitMs: config.monitor.ownerWaitMs,
  };
}

/** The worker's start: ensure the one monitor of the namespace runs, unless MONITOR=off. */
export async function startMonitorAtWorkerStart(
  config: AppConfig,
  client: Client,
  log: AppLogger,
): Promise<EnsureMonitorResult | undefined> {
  if (!config.monitor.enabled) {
    log.info('failure monitor not started (MONITOR=off)');
    return undefined;
  }
  const r = await ensureFailureMonitor(client, config.temporal.taskQueue, monitorInput(config));
  log.info(
    { workflowId: r.workflowId, runId: r.runId, started: r.started },
    r.started ? 'failure monitor started' : 'failure monitor already running',
  );
  return r;
}
