// A bound on downloads streaming at once in this worker, apart from its activity slots: each download holds
// buffers (an S3 upload's part buffers, a hashing thread), so this is what sizes the worker's memory.
// A download waiting for a slot keeps heartbeating (the caller's timer) and honours cancellation.
import { CancelledFailure } from '@temporalio/common';

export class DownloadSlots {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new Error('download slots: max must be an integer >= 1');
  }

  /** Downloads streaming now, and waiting for a slot. */
  get stats(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }

  /** Resolves to the slot's release function once one is free. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(new CancelledFailure('download cancelled'));
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        this.active++;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.active--;
          this.waiting.shift()?.();
        });
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(grant);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new CancelledFailure('download cancelled'));
      };
      if (this.active < this.max) return grant();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(grant);
    });
  }
}
