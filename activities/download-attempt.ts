// What a download activity passes from its Temporal context to streamDownloadToStorage: heartbeats, the
// previous attempt's checkpoint, cancellation, whether this is the last attempt, and the worker's limits.
import type { Context } from '@temporalio/activity';
import { M3TER_QUEUE_HEARTBEAT } from '../src/contract/task-queues';
import type { DownloadLimits } from './download-progress';
import { DownloadSlots } from './download-slots';
import { startKeepAlive } from './keep-alive';
import type { DownloadConfig } from '../src/config/storage-limits';
import type { StreamDownloadOptions } from './download';
import { storageCheckpoint } from './storage-choice';

export interface DownloadSettings {
  limits?: DownloadLimits;
  /** Shared by every download of the worker (MAX_CONCURRENT_DOWNLOADS). */
  slots?: DownloadSlots;
}

/** The worker's download settings from its configuration: one slot pool for the whole process. */
export function downloadSettings(config: DownloadConfig): DownloadSettings {
  return {
    slots: new DownloadSlots(config.maxConcurrent),
    limits: {
      ...(config.maxBytes !== undefined ? { maxBytes: config.maxBytes } : {}),
      minBytesPerSecond: config.minBytesPerSecond,
      throughputWindowMs: config.throughputWindowMs,
    },
  };
}

export type DownloadAttempt = Pick<
  StreamDownloadOptions,
  'checkpoint' | 'heartbeat' | 'signal' | 'lastAttempt' | 'limits' | 'slots'
> & {
  /** Ends the attempt's keep-alive beats; call when the activity returns or throws. */
  stop(): void;
};

/**
 * The attempt's options, and heartbeats for its whole life: the last details sent (at first, the previous
 * attempt's) are sent again every `keepAliveMs` while nothing else beats (looking for a manifest, opening
 * the writer, committing, writing the manifest), so the short heartbeat timeout of the m3ter queue
 * (M3TER_QUEUE_HEARTBEAT) never catches a live attempt and a checkpoint is never dropped from the details.
 */
export function downloadAttempt(
  ctx: Context,
  settings: DownloadSettings = {},
  keepAliveMs: number = M3TER_QUEUE_HEARTBEAT.everyMs,
): DownloadAttempt {
  const max = ctx.info.retryPolicy?.maximumAttempts ?? 0;
  let last: unknown = ctx.info.heartbeatDetails;
  const stop = startKeepAlive(() => last, keepAliveMs, ctx);
  return {
    checkpoint: storageCheckpoint(ctx.info.heartbeatDetails),
    heartbeat: (d) => {
      last = d;
      ctx.heartbeat(d);
    },
    signal: ctx.cancellationSignal,
    // maximumAttempts 0 or absent means unlimited: no attempt is the last.
    lastAttempt: max > 0 && ctx.info.attempt >= max,
    ...(settings.limits ? { limits: settings.limits } : {}),
    ...(settings.slots ? { slots: settings.slots } : {}),
    stop,
  };
}
