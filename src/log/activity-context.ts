// Every log line written while an activity runs carries the workflow it serves, the export's name and its
// window, whichever logger wrote it (the activity's own, the m3ter client's, storage's): with several workers
// interleaving hundreds of exports on one stream, a line without them cannot be traced back to an export.
//
// The worker's activity interceptor binds those fields for the duration of each activity execution
// (AsyncLocalStorage), and `contextualLogger` turns any pino logger into one that writes through a child
// logger with those bindings when there are any, and as itself otherwise.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Info as ActivityInfo } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { parseWindowWorkflowId } from '../contract/window-ids';
import type { AppLogger } from './logger';

export interface ActivityLogBindings {
  workflowId: string;
  runId: string;
  activity: string;
  attempt: number;
  exportName?: string;
  window?: { start?: string; end?: string };
}

const current = new AsyncLocalStorage<ActivityLogBindings>();

function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * The fields of one activity execution: ids from its info; the export's name and window from its input
 * (`name`, `window`, or the request's `startDate`/`endDate`), else from a window workflow id
 * (`export:<kind>:<name>:<start>`).
 */
export function activityLogBindings(info: ActivityInfo, args: readonly unknown[]): ActivityLogBindings {
  // Absent only for activities started on their own, without a workflow.
  const workflowId = info.workflowExecution?.workflowId ?? '';
  const runId = info.workflowExecution?.runId ?? '';
  const input = obj(args[0]) ?? {};
  const request = obj(input.request) ?? {};
  const fromId = parseWindowWorkflowId(workflowId);
  const inputWindow = obj(input.window);
  const start = str(inputWindow?.start) ?? str(request.startDate) ?? fromId?.windowStart;
  const end = str(inputWindow?.end) ?? str(request.endDate);
  const exportName = str(input.name) ?? fromId?.name;
  return {
    workflowId,
    runId,
    activity: info.activityType,
    attempt: info.attempt,
    ...(exportName ? { exportName } : {}),
    ...(start || end ? { window: { ...(start ? { start } : {}), ...(end ? { end } : {}) } } : {}),
  };
}

/** Binds the log fields of each activity execution (register on every worker that runs our activities). */
export const activityLogInterceptor: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    execute(input, next) {
      return current.run(activityLogBindings(ctx.info, input.args), () => next(input));
    },
  },
});

/** The bindings of the activity running in this async context, if any. */
export function currentActivityLogBindings(): ActivityLogBindings | undefined {
  return current.getStore();
}

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);

/**
 * A logger that writes each line through `base.child(<current activity's bindings>)` inside an activity and
 * through `base` elsewhere. Children of it are contextual too. One child per execution and logger, cached.
 */
export function contextualLogger(base: AppLogger): AppLogger {
  const children = new WeakMap<ActivityLogBindings, AppLogger>();
  const target = (): AppLogger => {
    const b = current.getStore();
    if (!b) return base;
    let child = children.get(b);
    if (!child) children.set(b, (child = base.child(b)));
    return child;
  };
  return new Proxy(base, {
    get(obj, prop, receiver) {
      if (typeof prop === 'string' && LEVELS.has(prop)) {
        return (...args: unknown[]) => (target()[prop as 'info'] as (...a: unknown[]) => void)(...args);
      }
      if (prop === 'child') {
        return (bindings: Record<string, unknown>) => contextualLogger(obj.child(bindings));
      }
      return Reflect.get(obj, prop, receiver);
    },
  });
}
