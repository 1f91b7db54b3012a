// The failure monitor holds a failure event of a job nobody has claimed yet while the job's owner may still
// be adopting it (a lost trigger response), then alerts it owned, on its export's own channels, once the
// claim shows; an unowned event past the bound is alerted as unowned. Temporal's side is a small fake: the
// ledger refuses a second claim, and job claims and owners are described by id.
import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { createFailureMonitorActivities } from '../../../activities/failure-monitor';
import type { AlertDeliveryInput } from '../../../src/alerts/ledger';
import { ALERT_ROUTING_MEMO, type AlertRouting } from '../../../src/contract/alert-routing';
import { M3terExportName, M3terWindowStart } from '../../../src/contract/search-attributes';
import type { M3terEvent } from '../../../src/m3ter/schemas';
import { mockEnv, silentLog } from './fakes';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const OWNER = 'export:usage:bar:2026-06-01T10:00:00Z';
const routing: AlertRouting = {
  channels: [{ name: 'barhook', type: 'webhook', url: '${U}', secret: '${S}' }],
};

function fakeTemporal() {
  const started: Array<{ workflowId: string; input: AlertDeliveryInput }> = [];
  const claims = new Map<string, string>();
  const client = {
    workflow: {
      async start(type: string, opts: { workflowId: string; args: [AlertDeliveryInput] }) {
        if (started.some((s) => s.workflowId === opts.workflowId))
          throw new WorkflowExecutionAlreadyStartedError('claimed', opts.workflowId, type);
        started.push({ workflowId: opts.workflowId, input: opts.args[0] });
      },
      list: () => (async function* () {})(),
      getHandle(workflowId: string) {
        return {
          async describe() {
            const claimed = claims.get(workflowId);
            if (claimed) return { memo: { owner: { workflowId: claimed } } };
            if (workflowId === OWNER)
              return {
                workflowId: OWNER,
                runId: 'run-1',
                status: { name: 'RUNNING' },
                memo: { [ALERT_ROUTING_MEMO]: routing },
                typedSearchAttributes: new TypedSearchAttributes([
                  { key: M3terExportName, value: 'bar' },
                  { key: M3terWindowStart, value: new Date('2026-06-01T10:00:00Z') },
                ]),
              };
            throw new WorkflowNotFoundError('none', workflowId, undefined);
          },
        };
      },
    },
  } as unknown as Client;
  return { client, started, claim: (jobId: string) => claims.set(`m3ter-job-claim:${jobId}`, OWNER) };
}

const event = (id: string, jobId: string, secondsAgo: number): M3terEvent =>
  ({
    id,
    eventName: 'dataexport.job.failure',
    eventTime: new Date(NOW - secondsAgo * 1000).toISOString(),
    m3terEvent: { eventData: { jobId, errorMessage: 'boom' } },
  }) as unknown as M3terEvent;

describe('the failure monitor and failures whose owner has not claimed the job yet', () => {
  it('holds a young unowned failure across polls, then alerts it on its export channels once the claim shows', async () => {
    const t = fakeTemporal();
    let now = NOW;
    const events = [event('e1', 'job-1', 5)];
    const acts = createFailureMonitorActivities({
      m3ter: { listEvents: async () => ({ data: events }) },
      client: t.client,
      taskQueue: 'q',
      log: silentLog,
      clock: { now: () => now },
    });
    const first = await mockEnv().exec(() => acts.pollFailureEvents({ recent: [], lookbackMs: 3600_000 }));
    expect(first.held?.map((h) => h.jobId)).toEqual(['job-1']);
    expect(t.started).toEqual([]);

    // The owner's trigger adopts the job; the next poll (the event is no longer new) alerts it owned.
    t.claim('job-1');
    now += 30_000;
    const second = await mockEnv().exec(() =>
      acts.pollFailureEvents({ recent: first.recent, held: first.held, lookbackMs: 3600_000 }),
    );
    expect(second.held).toEqual([]);
    expect(second.alertsSent).toBe(1);
    expect(t.started[0].input.alert).toMatchObject({
      jobId: 'job-1',
      workflowId: OWNER,
      exportName: 'bar',
      window: { start: '2026-06-01T10:00:00.000Z' },
      routing,
    });
  });

  it('alerts an unowned failure as unowned once it is older than the owner wait', async () => {
    const t = fakeTemporal();
    const acts = createFailureMonitorActivities({
      m3ter: { listEvents: async () => ({ data: [event('e2', 'job-2', 5), event('e3', 'job-3', 600)] }) },
      client: t.client,
      taskQueue: 'q',
      log: silentLog,
      clock: { now: () => NOW },
    });
    const r = await mockEnv().exec(() =>
      acts.pollFailureEvents({ recent: [], lookbackMs: 3600_000, ownerWaitMs: 60_000 }),
    );
    expect(r.held?.map((h) => h.jobId)).toEqual(['job-2']);
    expect(t.started.map((s) => s.input.alert.jobId)).toEqual(['job-3']);
    expect(t.started[0].input.alert.workflowId).toBeUndefined();
    expect(r.unowned).toBe(1);
  });
});
