// The failure monitor against a hostile or broken m3ter: the real m3ter client talks to a scripted loopback
// server; Temporal's side (the alert ledger) is a small fake that refuses a second claim as the server does.
import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import {
  createFailureMonitorActivities,
  MONITOR_LIMITS,
  type PollFailureEventsResult,
} from '../../../activities/failure-monitor';
import type { AlertDeliveryInput } from '../../../src/alerts/ledger';
import { M3terClient } from '../../../src/m3ter';
import { json, scriptedServerPerBlock } from '../../integration/m3ter-client/scripted-server';
import { mockEnv, silentLog } from './fakes';

interface Started {
  workflowId: string;
  input: AlertDeliveryInput;
}

function fakeTemporal(): { client: Client; started: Started[] } {
  const started: Started[] = [];
  const client = {
    workflow: {
      async start(_type: string, opts: { workflowId: string; args: [AlertDeliveryInput] }) {
        if (opts.workflowId.length > 1000) throw new Error('workflow id too long');
        if (started.some((s) => s.workflowId === opts.workflowId))
          throw new WorkflowExecutionAlreadyStartedError('claimed', opts.workflowId, _type);
        started.push({ workflowId: opts.workflowId, input: opts.args[0] });
      },
      list() {
        return (async function* () {})();
      },
      // No job claims: every job is unowned.
      getHandle(workflowId: string) {
        return {
          describe: () => Promise.reject(new WorkflowNotFoundError('no claim', workflowId, undefined)),
        };
      },
    },
  } as unknown as Client;
  return { client, started };
}

const NOW = Date.parse('2026-06-01T12:00:00Z');
const at = (minutesAgo: number) => new Date(NOW - minutesAgo * 60_000).toISOString();
function event(id: string, minutesAgo: number, jobId = 'job-ok'): Record<string, unknown> {
  return {
    id,
    eventName: 'dataexport.job.failure',
    eventTime: at(minutesAgo),
    m3terEvent: { eventData: { jobId, errorMessage: 'boom' } },
  };
}

describe('the failure monitor with a hostile m3ter', () => {
  const server = scriptedServerPerBlock();
  let m3ter: M3terClient;
  beforeEach(() => {
    silentLog.lines.length = 0;
    m3ter = server.client({ baseDelayMs: 1, maxAttempts: 1 });
  });

  async function poll(extra: Record<string, unknown> = {}) {
    const temporal = fakeTemporal();
    const acts = createFailureMonitorActivities({
      m3ter,
      client: temporal.client,
      taskQueue: 'q',
      log: silentLog,
      clock: { now: () => NOW },
    });
    const result: PollFailureEventsResult = await mockEnv().exec(() =>
      acts.pollFailureEvents({ recent: [], lookbackMs: 24 * 3600_000, ...extra }),
    );
    return { result, started: temporal.started };
  }

  it('a poisoned page (2,000-char, path-shaped and ANSI ids, an unreadable time) does not stop the monitor', async () => {
    const bad = { ...event('e-time', 2), eventTime: 'yesterday-ish' };
    server.on('GET /events', (_r, res) =>
      json(res, 200, {
        data: [
          event('x'.repeat(2000), 1),
          event('../../etc/passwd', 1),
          event('evt-\u001b[31mred', 1),
          bad,
          { ...event('e-future', 0), eventTime: '9999-01-01T00:00:00Z' },
          event('e-good', 3, 'job-42'),
        ],
      }),
    );
    const { result, started } = await poll();
    expect(result).toMatchObject({ newEvents: 1, alertsSent: 1, rejected: 5, truncated: false });
    expect(started.map((s) => s.workflowId)).toEqual(['alert:job-42']);
    expect(result.highWaterMark).toBe(at(3));
  });

  it('a server that pages forever is read up to the page cap, then the poll ends', async () => {
    let n = 0;
    server.on('GET /events', (_r, res) => {
      n++;
      json(res, 200, { data: [event(`e-${n}`, 1, `job-${n}`)], nextToken: `t-${n}` });
    });
    const { result } = await poll({ digestAbove: 1000 });
    expect(result.pages).toBe(MONITOR_LIMITS.maxPages);
    expect(result.truncated).toBe(true);
    expect(server.apiRequests('GET /events')).toHaveLength(MONITOR_LIMITS.maxPages);
  });

  it('pages of unreadable events end at the page cap too', async () => {
    let n = 0;
    server.on('GET /events', (_r, res) => {
      n++;
      json(res, 200, { data: [{ ...event(`e-${n}`, 1), eventTime: 'NaN' }], nextToken: `t-${n}` });
    });
    const { result, started } = await poll();
    expect(result).toMatchObject({ pages: MONITOR_LIMITS.maxPages, rejected: MONITOR_LIMITS.maxPages });
    expect(started).toEqual([]);
  });

  it('above the digest threshold the failures are claimed silently and one digest alert is sent', async () => {
    const data = Array.from({ length: 50 }, (_, i) => event(`e-${i}`, i + 1, `job-${i}`));
    server.on('GET /events', (_r, res) => json(res, 200, { data }));
    const { result, started } = await poll();
    expect(result).toMatchObject({ newEvents: 50, alertsSent: 50, digest: true });
    const silent = started.filter((s) => s.input.channels?.length === 0);
    const sent = started.filter((s) => s.input.channels === undefined);
    expect(silent).toHaveLength(50);
    expect(sent).toHaveLength(1);
    expect(sent[0].workflowId).toMatch(/^alert:digest:/);
    expect(sent[0].input.alert.message).toMatch(/^50 export jobs FAILED since the last poll: job-49, job-48/);
    expect(sent[0].input.alert.message).toContain('and 30 more');
  });

  it('the events handled in one poll are capped', async () => {
    const data = Array.from({ length: 100 }, (_, i) => event(`e-${i}`, i + 1, `job-${i}`));
    server.on('GET /events', (_r, res) => json(res, 200, { data }));
    const { result } = await poll({ maxEvents: 30 });
    expect(result).toMatchObject({ newEvents: 30, truncated: true });
  });
});
