import { z } from 'zod';
import { mulberry32, mixSeed, type Rng } from './rng';

/**
 * Scripted and random failures, configured per route template (as shown by the counters, e.g.
 * `POST /organizations/:orgId/dataexports/adhoc`) or for every route with `"*"`. Decisions use a
 * seeded generator so an error rate gives a reproducible sequence for a given seed.
 */
export const DEFAULT_ERROR_STATUSES = [500, 502, 503, 429];

export const faultPatchSchema = z.object({
  route: z.string().min(1).optional(),
  errorRate: z.number().min(0).max(1).optional(),
  errorStatuses: z.array(z.number().int().min(400).max(599)).min(1).optional(),
  latencyMs: z.number().int().min(0).max(120_000).optional(),
  failNext: z
    .object({
      count: z.number().int().min(0),
      status: z.number().int().min(400).max(599),
      retryAfterSeconds: z.number().int().min(0).optional(),
    })
    .optional(),
  dropNext: z.number().int().min(0).optional(),
  loseResponseAfterCommit: z.number().int().min(0).optional(),
  // File downloads only: the next `count` responses stop after `afterBytes` body bytes and the connection is
  // destroyed, as when a long download breaks. `advanceClockMs` then moves the sandbox clock, so the
  // presigned URL the client holds has expired by the time it reconnects (the "URL expired mid-download" case).
  cutNextStream: z
    .object({
      count: z.number().int().min(0),
      afterBytes: z.number().int().min(0),
      advanceClockMs: z.number().int().min(0).optional(),
    })
    .optional(),
});
export type FaultPatch = z.infer<typeof faultPatchSchema>;
export type FaultConfig = Omit<FaultPatch, 'route'>;

export type FaultDecision =
  | { latencyMs: number; action: 'none' }
  | { latencyMs: number; action: 'drop' }
  | { latencyMs: number; action: 'fail'; status: number; retryAfterSeconds?: number; reason: string };

export class FaultInjector {
  private readonly byRoute = new Map<string, FaultConfig>();
  private rng: Rng;

  constructor(private readonly seed: number) {
    this.rng = mulberry32(mixSeed(seed, 0xfa17));
  }

  merge(patch: FaultPatch): FaultConfig {
    const route = patch.route ?? '*';
    const { route: _route, ...rest } = patch;
    const merged: FaultConfig = { ...(this.byRoute.get(route) ?? {}), ...rest };
    this.byRoute.set(route, merged);
    return merged;
  }

  /** Clearing also restarts the dice, so the same test script sees the same sequence. */
  clear(): void {
    this.byRoute.clear();
    this.rng = mulberry32(mixSeed(this.seed, 0xfa17));
  }

  snapshot(): Record<string, FaultConfig> {
    return Object.fromEntries(this.byRoute);
  }

  private configsFor(route: string): FaultConfig[] {
    const out: FaultConfig[] = [];
    const specific = this.byRoute.get(route);
    if (specific) out.push(specific);
    const any = this.byRoute.get('*');
    if (any) out.push(any);
    return out;
  }

  /** Order: latency always; then dropNext, then failNext, then errorRate (route-specific before "*"). */
  decide(route: string): FaultDecision {
    const configs = this.configsFor(route);
    const latencyMs = configs.reduce((sum, c) => sum + (c.latencyMs ?? 0), 0);
    for (const c of configs) {
      if (c.dropNext && c.dropNext > 0) {
        c.dropNext -= 1;
        return { latencyMs, action: 'drop' };
      }
    }
    for (const c of configs) {
      if (c.failNext && c.failNext.count > 0) {
        c.failNext.count -= 1;
        return {
          latencyMs,
          action: 'fail',
          status: c.failNext.status,
          retryAfterSeconds: c.failNext.retryAfterSeconds,
          reason: 'failNext',
        };
      }
    }
    const rated = configs.find((c) => c.errorRate !== undefined);
    if (rated && rated.errorRate && rated.errorRate > 0 && this.rng() < rated.errorRate) {
      const statuses = rated.errorStatuses ?? DEFAULT_ERROR_STATUSES;
      const status = statuses[Math.floor(this.rng() * statuses.length)];
      return { latencyMs, action: 'fail', status, reason: 'errorRate' };
    }
    return { latencyMs, action: 'none' };
  }

  /** For file downloads: should this response be cut short? Consumes one. */
  takeCutStream(route: string): { afterBytes: number; advanceClockMs?: number } | undefined {
    for (const c of this.configsFor(route)) {
      if (c.cutNextStream && c.cutNextStream.count > 0) {
        c.cutNextStream.count -= 1;
        return { afterBytes: c.cutNextStream.afterBytes, advanceClockMs: c.cutNextStream.advanceClockMs };
      }
    }
    return undefined;
  }

  /** For the ad-hoc trigger: should this committed request lose its response? Consumes one. */
  takeLoseResponseAfterCommit(route: string): boolean {
    for (const c of this.configsFor(route)) {
      if (c.loseResponseAfterCommit && c.loseResponseAfterCommit > 0) {
        c.loseResponseAfterCommit -= 1;
        return true;
      }
    }
    return false;
  }
}
