// The set-up the alert tests share: a stack whose worker alerts a local receiver, hourly windows in a range
// of the test's own, backfills prepared as the CLI prepares them, sandbox jobs made to fail for a while,
// and a wait for every claimed alert to have been delivered.
import type { Client, WorkflowHandle } from '@temporalio/client';
import { failureMonitorStatus } from '../../src/alerts/monitor-start';
import type { PreparedBackfill } from '../../src/cli/backfill-prepare';
import type { backfillWorkflow } from '../../workflows';
import { startAlertReceiver, type AlertReceiver } from './alert-receiver';
import type { SandboxProcess } from '../../tooling/sandbox-process';
import { startStack, type Stack, type StackOptions } from './stack';
import { waitFor } from './wait-for';

export const HOUR = 3_600_000;
/** Workflow polling fast enough that a finished sandbox job is seen within a second. */
export const fastPoll = { fastPollMs: 200, slowPollMs: 2_000 };

export interface AlertStackOptions extends StackOptions {
  /** Variables the definitions' channels name; set in this process, where the worker runs, until close. */
  channelEnv?: Record<string, string>;
}

export interface AlertStack extends Stack {
  rx: AlertReceiver;
}

/**
 * A receiver, then a stack whose default alert channel is the receiver's `/default` and whose sandbox
 * finishes jobs within a second; `close()` also stops the receiver and unsets `channelEnv`.
 */
export async function startAlertStack(options: (rxUrl: string) => AlertStackOptions): Promise<AlertStack> {
  const rx = await startAlertReceiver();
  const { channelEnv = {}, ...opts } = options(rx.url);
  const unset = async () => {
    await rx.close();
    for (const k of Object.keys(channelEnv)) delete process.env[k];
  };
  Object.assign(process.env, channelEnv);
  let stack: Stack;
  try {
    stack = await startStack({
      sandboxConfig: { jobTiming: { pendingMs: 100, runningMs: 200 } },
      ...opts,
      env: { ALERT_WEBHOOK_URL: `${rx.url}/default`, ...opts.env },
    });
  } catch (err) {
    await unset();
    throw err;
  }
  return {
    ...stack,
    rx,
    close: async () => {
      await stack.close();
      await unset();
    },
  };
}

/** The start of an hour far enough back, and random enough, that no earlier run's windows are found. */
export function pastHourBase(minHoursBack = 100): number {
  return Math.floor(Date.now() / HOUR) * HOUR - (minHoursBack + Math.floor(Math.random() * 24 * 300)) * HOUR;
}

/** The `from`/`to` flags of a backfill over `hours` windows from `fromHour` hours after `base`. */
export function hourRange(base: number, fromHour: number, hours: number): { from: string; to: string } {
  return {
    from: new Date(base + fromHour * HOUR).toISOString(),
    to: new Date(base + (fromHour + hours) * HOUR).toISOString(),
  };
}

/** Starts a backfill prepared as the CLI prepares it, polling fast, on the stack's queue or another. */
export function startPreparedBackfill(
  stack: Stack,
  prepared: PreparedBackfill,
  taskQueue = stack.taskQueue,
): Promise<WorkflowHandle<typeof backfillWorkflow>> {
  return stack.client.workflow.start<typeof backfillWorkflow>('backfillWorkflow', {
    workflowId: prepared.workflowId,
    taskQueue,
    args: [{ ...prepared.input, poll: fastPoll }],
  });
}

/** Runs `fn` while every sandbox job fails, and lets jobs succeed again afterwards whatever happened. */
export async function whileJobsFail<T>(sandbox: SandboxProcess, fn: () => Promise<T>): Promise<T> {
  await sandbox.admin.post('/config', { nextJobOutcome: 'FAILED' });
  try {
    return await fn();
  } finally {
    await sandbox.admin.post('/config', { nextJobOutcome: 'SUCCEEDED' });
  }
}

/** No alert delivery workflow on the queue still running: every claimed alert has been sent. */
export function alertDeliveriesSettled(stack: Stack, taskQueue = stack.taskQueue): Promise<boolean> {
  return waitFor(
    async () =>
      (
        await stack.client.workflow.count(
          `WorkflowType = 'alertDeliveryWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue}'`,
        )
      ).count === 0,
    'alert deliveries to finish',
  );
}

/**
 * The namespace's failure monitor has finished its first poll (it polls once at its start). Until then a
 * test's failed job could be claimed by that poll rather than by the path the test means to exercise.
 */
export function monitorFirstPoll(client: Client): Promise<boolean> {
  return waitFor(
    async () => (await failureMonitorStatus(client)).status.polls >= 1,
    "the monitor's first poll",
  );
}
