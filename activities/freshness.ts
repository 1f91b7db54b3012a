// Freshness of scheduled exports, checked by the failure monitor after each poll: an export whose newest
// succeeded window ENDED longer ago than its `freshness` is stale. One alert when it goes stale, one
// "recovered" message when a newer window succeeds, each claimed in the alert ledger under a key of the
// export and its newest window, so a repeated check (activity retry, continue-as-new) cannot repeat them.
import { freshnessAlertId } from '../src/contract/ids';
import type { Client } from '@temporalio/client';
import { claimAlert } from '../src/alerts/ledger';
import type { FreshnessExport } from '../src/alerts/router';
import type { Alert } from '../src/alerts/webhook';
import { windowIdPrefix } from '../src/contract/window-ids';
import { periodContaining } from '../src/windows/windows';
import { M3terWindowStart } from '../src/contract/search-attributes';
import type { ActivityLogger, Clock } from './deps';
import type { FreshnessState } from '../src/contract/monitor';

export interface CheckFreshnessResult {
  state: FreshnessState;
  alertsSent: number;
  stale: string[];
}

export interface FreshnessActivityDeps {
  client: Client;
  taskQueue: string;
  exports: FreshnessExport[];
  log: ActivityLogger;
  clock?: Clock;
}

/** Succeeded windows older than this are not searched for (a staler export is stale either way). */
const SEARCH_BACK_MS = 62 * 86_400_000;

function hours(ms: number): string {
  return `${Math.round(ms / 360_000) / 10} h`;
}

export function createFreshnessActivities(deps: FreshnessActivityDeps) {
  const now = () => deps.clock?.now() ?? Date.now();

  async function newestSucceededWindow(e: FreshnessExport, at: number): Promise<Date | undefined> {
    const since = new Date(at - Math.max(SEARCH_BACK_MS, e.freshnessMs * 2)).toISOString();
    const query =
      `WorkflowId STARTS_WITH '${windowIdPrefix(e.kind, e.name)}' AND ExecutionStatus = 'Completed' ` +
      `AND StartTime >= '${since}'`;
    let newest: Date | undefined;
    for await (const wf of deps.client.workflow.list({ query })) {
      const ws = wf.typedSearchAttributes.get(M3terWindowStart);
      if (ws && (!newest || ws > newest)) newest = ws;
    }
    return newest;
  }

  async function checkFreshness(input: { state: FreshnessState }): Promise<CheckFreshnessResult> {
    const at = now();
    const state: FreshnessState = {};
    let alertsSent = 0;
    for (const e of deps.exports) {
      const prev = input.state[e.name];
      const newest = await newestSucceededWindow(e, at);
      const end = newest
        ? e.window === 'none'
          ? newest
          : new Date(periodContaining(newest, e.window, e.timezone).end)
        : undefined;
      const age = end ? at - end.getTime() : Infinity;
      const newestWindowStart = newest?.toISOString();
      const stale = age > e.freshnessMs;
      const base: Omit<Alert, 'kind' | 'message'> = {
        exportName: e.name,
        exportKind: e.kind,
        ...(newest && end ? { window: { start: newest.toISOString(), end: end.toISOString() } } : {}),
        noticedBy: 'monitor',
      };
      let claim: { alert: Alert; key: string } | undefined;
      if (stale && !prev?.stale) {
        claim = {
          key: freshnessAlertId('stale', e.name, newestWindowStart),
          alert: {
            ...base,
            kind: 'ExportStale',
            message: newest
              ? `${e.name}: the newest succeeded window ended ${hours(age)} ago, more than its freshness of ${hours(e.freshnessMs)}`
              : `${e.name}: no succeeded window found; freshness is ${hours(e.freshnessMs)}`,
          },
        };
      } else if (!stale && prev?.stale) {
        claim = {
          key: freshnessAlertId('recovered', e.name, newestWindowStart),
          alert: {
            ...base,
            kind: 'ExportRecovered',
            message: `${e.name} recovered: a window ending ${hours(age)} ago succeeded (freshness ${hours(e.freshnessMs)})`,
          },
        };
      }
      if (claim) {
        const { claimed, ledgerId } = await claimAlert(deps.client, deps.taskQueue, claim.alert, claim.key);
        if (claimed) alertsSent++;
        deps.log.info({ export: e.name, ledgerId, claimed, stale }, `freshness: ${claim.alert.kind}`);
      }
      state[e.name] = { stale, ...(newestWindowStart ? { newestWindowStart } : {}) };
    }
    return { state, alertsSent, stale: Object.keys(state).filter((n) => state[n].stale) };
  }

  return { checkFreshness };
}

export type FreshnessActivities = ReturnType<typeof createFreshnessActivities>;
