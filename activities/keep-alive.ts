// Keep-alive heartbeats for activities that may wait a while between their own heartbeats.
//
// A heartbeat timeout is how Temporal notices an activity task that no worker is running: the worker died,
// or the task was handed to a poll whose response never arrived. Without one, such a task waits out its
// whole start-to-close timeout before the retry. An activity that heartbeats on a timer while it runs is
// never timed out while alive, and a lost one is retried after the heartbeat timeout.
import { Context } from '@temporalio/activity';

/** Heartbeats `details()` every `everyMs` until the returned function is called. Default 10 s. */
export function startKeepAlive(
  details: () => unknown = () => undefined,
  everyMs = 10_000,
  context: Context = Context.current(),
): () => void {
  const timer = setInterval(() => context.heartbeat(details()), everyMs);
  // Never the reason the process stays up.
  timer.unref();
  return () => clearInterval(timer);
}

/** How often `keptAlive` activities heartbeat: a quarter of the workflows' KEPT_ALIVE_HEARTBEAT_TIMEOUT. */
const KEPT_ALIVE_EVERY_MS = 5_000;

type AsyncFunctions = Record<string, (...args: never[]) => Promise<unknown>>;

/**
 * The same activities, each heartbeating (without details) every `everyMs` while it runs (default 5 s, for
 * KEPT_ALIVE_HEARTBEAT_TIMEOUT). Only for activities that never heartbeat details of their own (a
 * keep-alive beat would replace them). Outside an activity (a unit test calling one directly) they run as
 * they are.
 */
export function keptAlive<A extends AsyncFunctions>(activities: A, everyMs = KEPT_ALIVE_EVERY_MS): A {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      if (!inActivity()) return fn(...args);
      const stop = startKeepAlive(() => undefined, everyMs);
      try {
        return await fn(...args);
      } finally {
        stop();
      }
    };
  }
  return wrapped as A;
}

function inActivity(): boolean {
  try {
    Context.current();
    return true;
  } catch {
    return false;
  }
}
