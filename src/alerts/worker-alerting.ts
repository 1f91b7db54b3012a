// The worker's alerting, built from config in one place: the channel router (definitions file channels
// plus ALERT_WEBHOOK_URL as `default`), the ledger alerter the export activities use, and the monitor's
// start input. Channel URLs and secrets stay inside the router; nothing here logs them.
import { createAlertRouter, type AlertRouter } from './router';
import type { AppConfig } from '../config/config';
import { loadDefinitionsFile } from '../definitions';
import type { AppLogger } from '../log/logger';
import { withTemporalClient } from '../temporal/client';
import { ensureFailureMonitor, type EnsureMonitorResult } from './monitor-start';
import type { FailureMonitorInput } from '../contract/monitor';

export function buildAlertRouter(config: AppConfig): AlertRouter {
  const defs = config.definitionsFile ? loadDefinitionsFile(config.definitionsFile) : undefined;
  return createAlertRouter({
    defaultWebhookUrl: config.alertWebhookUrl,
    channels: defs?.alerts ?? [],
    exports: defs?.exports ?? [],
    context: { temporalUiUrl: config.temporalUiUrl, namespace: config.temporal.namespace },
    ...(config.slackApiUrl ? { post: { slackApiUrl: config.slackApiUrl } } : {}),
  });
}

export function monitorInput(config: Pick<AppConfig, 'monitor'>): FailureMonitorInput {
  return {
    intervalMs: config.monitor.intervalMs,
    lookbackMs: config.monitor.lookbackMs,
    ownerWaitMs: config.monitor.ownerWaitMs,
  };
}

/**
 * The worker's start: ensures the one monitor of the namespace runs, unless MONITOR=off, trying again in
 * the background until it is started or `signal` aborts. A Temporal blip at start must not stop the
 * worker, and the log must say when the monitor is not running yet.
 */
export async function startMonitorAtWorkerStart(
  config: AppConfig,
  log: AppLogger,
  signal: AbortSignal,
  tuning: { firstDelayMs?: number; maxDelayMs?: number } = {},
): Promise<EnsureMonitorResult | undefined> {
  if (!config.monitor.enabled) {
    log.info('failure monitor not started (MONITOR=off)');
    return undefined;
  }
  const maxDelayMs = tuning.maxDelayMs ?? 60_000;
  for (let attempt = 1, delayMs = tuning.firstDelayMs ?? 1_000; !signal.aborted; attempt++) {
    try {
      const r = await withTemporalClient(config.temporal, (client) =>
        ensureFailureMonitor(client, config.temporal.taskQueue, monitorInput(config)),
      );
      log.info(
        { workflowId: r.workflowId, runId: r.runId, started: r.started },
        r.started ? 'failure monitor started' : 'failure monitor already running',
      );
      return r;
    } catch (err) {
      if (signal.aborted) break;
      log.error({ err, attempt, retryInMs: delayMs }, 'failure monitor not started; trying again');
    }
    await abortableDelay(delayMs, signal);
    delayMs = Math.min(delayMs * 2, maxDelayMs);
  }
  return undefined;
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
