// What a download activity passes from its Temporal context to streamDownloadToStorage: heartbeats, the
// previous attempt's checkpoint, cancellation, whether this is the last attempt, and the worker's limits.
import type { Context } from '@temporalio/activity';
import type { DownloadLimits } from './download-progress';
import { DownloadSlots } from './download-slots';
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

export function downloadAttempt(
  ctx: Context,
  settings: DownloadSettings = {},
): Pick<StreamDownloadOptions, 'checkpoint' | 'heartbeat' | 'signal' | 'lastAttempt' | 'limits' | 'slots'> {
  const max = ctx.info.retryPolicy?.maximumAttempts ?? 0;
  return {
    checkpoint: storageCheckpoint(ctx.info.heartbeatDetails),
    heartbeat: (d) => ctx.heartbeat(d),
    signal: ctx.cancellationSignal,
    // maximumAttempts 0 or absent means unlimited: no attempt is the last.
    lastAttempt: max > 0 && ctx.info.attempt >= max,
    ...(settings.limits ? { limits: settings.limits } : {}),
    ...(settings.slots ? { slots: settings.slots } : {}),
  };
}
