// Keep-alive heartbeats for activities that may wait a while between their own heartbeats.
//
// A heartbeat timeout is how Temporal notices an activity task that no worker is running: the worker died,
// or the task was handed to a poll whose response never arrived. Without one, such a task waits out its
// whole start-to-close timeout before the retry. An activity that heartbeats on a timer while it runs is
// never timed out while alive, and a lost one is retried after the heartbeat timeout.
import { Context } from '@temporalio/activity';

/** Heartbeats `details()` every `everyMs` until the returned function is called. Default 10 s. */
export function startKeepAlive(details: () => unknown = () => undefined, everyMs = 10_000): () => void {
  const context = Context.current();
  const timer = setInterval(() => context.heartbeat(details()), everyMs);
  // Never the reason the process stays up.
  timer.unref();
  return () => clearInterval(timer);
}
