// Job claims on the REAL Temporal dev server (jest global setup) with a REAL sandbox process: two trigger
// activities recovering at the same time race for one unclaimed ExportJob, and the claim store
// (activities/claims.ts: a workflow id per job) lets exactly one adopt it. The other finds
// nothing of its own and sends its request again. The stack's worker runs the claim workflows, which
// complete at once.
import { MockActivityEnvironment } from '@temporalio/testing';
import { createWorkflowJobClaims, jobClaimWorkflowId, type JobClaims } from '../../../activities/claims';
import type { ActivityLogger } from '../../../activities/deps';
import { createTriggerActivity, type TriggerAdhocExportResult } from '../../../activities/trigger';
import { M3terClient } from '../../../src/m3ter';
import type { AdhocExportRequest } from '../../../src/m3ter/schemas';
import { startStack, type Stack } from '../../support/stack';

const TRIGGER_ROUTE = 'POST /organizations/:orgId/dataexports/adhoc';
// A short request timeout keeps recovery's wait for other owners short: creation + 1 s (rounding) + skew
// + request timeout + claim-write margin = 1 + 0.5 + 2 + 0.5 = 4 s.
const REQUEST_TIMEOUT_MS = 2_000;
const tuning = { recoveryGraceMs: 200, clockSkewMs: 500, claimWriteMarginMs: 500, claimPollMs: 200 };

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const lines: Array<{ level: string; obj: object; msg?: string }> = [];
const log: ActivityLogger = {
  debug: (obj, msg) => lines.push({ level: 'debug', obj, msg }),
  info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
  warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
  error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
};

function usageRequest(): AdhocExportRequest {
  const end = new Date();
  end.setUTCHours(0, 0, 0, 0);
  return {
    sourceType: 'USAGE',
    startDate: new Date(end.getTime() - 86_400_000).toISOString(),
    endDate: end.toISOString(),
  };
}

describe('job claims (dev server + sandbox process)', () => {
  let stack: Stack;
  let temporal: Stack['temporal'];
  let sandbox: Stack['sandbox'];
  let claims: JobClaims;
  const suffix = `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

  beforeAll(async () => {
    stack = await startStack({ name: 'claims' });
    ({ temporal, sandbox } = stack);
    claims = createWorkflowJobClaims({ client: stack.client, taskQueue: stack.taskQueue });
  });

  afterAll(() => stack?.close());

  it('a claim is atomic and read back by id at once: the second claimant is told the holder', async () => {
    const jobId = `it-job-${suffix}`;
    const a = { workflowId: `wf-a-${suffix}`, runId: 'run-a' };
    const b = { workflowId: `wf-b-${suffix}`, runId: 'run-b' };
    expect(await claims.owners([jobId])).toEqual(new Map());
    const [first, second] = await Promise.all([claims.claim(jobId, a), claims.claim(jobId, b)]);
    expect([first.won, second.won].sort()).toEqual([false, true]);
    const holder = first.won ? a : b;
    expect(first.holder).toEqual(holder);
    expect(second.holder).toEqual(holder);
    expect(await claims.owners([jobId, `unclaimed-${suffix}`])).toEqual(new Map([[jobId, holder]]));
    // Claiming again for the holder is idempotent (an activity retry).
    expect(await claims.claim(jobId, holder)).toEqual({ won: true, holder });
    // The claim workflow completed at once, its result naming the owner.
    const handle = temporal.client.workflow.getHandle(jobClaimWorkflowId(jobId));
    await expect(handle.result()).resolves.toEqual({ jobId, owner: holder });
  });

  it('two recovering triggers race for one unclaimed job: exactly one adopts it, the other sends again', async () => {
    lines.length = 0;
    await sandbox.admin.post('/reset');
    // An ExportJob nobody claims (as if its owner's worker died right after the commit).
    const m3ter = new M3terClient({ ...sandbox.m3ter, logger: log, timeoutMs: REQUEST_TIMEOUT_MS });
    const request = usageRequest();
    const { jobId: orphan } = await m3ter.createAdhocExport(request);
    // Both triggers' first POST gets a 500 before the sandbox's handler (nothing committed): ambiguous.
    await sandbox.admin.post('/faults', {
      route: TRIGGER_ROUTE,
      failNext: { count: 2, status: 500 },
    });
    // Both decide to adopt before either claims, so the claim store alone decides.
    let arrived = 0;
    let release: () => void = () => undefined;
    const bothDecided = new Promise<void>((r) => (release = r));
    const racing: JobClaims = {
      owners: (ids) => claims.owners(ids),
      async claim(jobId, owner) {
        if (jobId === orphan) {
          if (++arrived === 2) release();
          await bothDecided;
        }
        return claims.claim(jobId, owner);
      },
    };
    const trigger = createTriggerActivity({
      m3ter,
      log,
      clock: { now: () => Date.now() },
      jobClaims: racing,
      tuning,
    });
    const scheduledAt = Date.now() - 1_000;
    const runOne = (who: string): Promise<TriggerAdhocExportResult> => {
      const env = new MockActivityEnvironment(
        {
          attempt: 1,
          scheduledTimestampMs: scheduledAt,
          workflowExecution: { workflowId: `wf-${who}-${suffix}`, runId: `run-${who}` },
        },
        { logger: quiet },
      );
      return env.run(trigger, { request, workflowId: `wf-${who}-${suffix}` });
    };
    const started = Date.now();
    const [a, b] = await Promise.all([runOne('a'), runOne('b')]);
    const elapsed = Date.now() - started;

    expect(arrived).toBe(2);
    const adopted = [a, b].filter((r) => r.jobId === orphan);
    expect(adopted).toEqual([{ jobId: orphan, recovered: true }]);
    const sentAgain = [a, b].find((r) => r.jobId !== orphan)!;
    expect(sentAgain.recovered).toBe(false);
    // The claim names the adopter; the other's new job is claimed by the other.
    const adopter = a.jobId === orphan ? 'a' : 'b';
    const other = adopter === 'a' ? 'b' : 'a';
    const holders = await claims.owners([orphan, sentAgain.jobId]);
    expect(holders.get(orphan)).toEqual({ workflowId: `wf-${adopter}-${suffix}`, runId: `run-${adopter}` });
    expect(holders.get(sentAgain.jobId)).toEqual({ workflowId: `wf-${other}-${suffix}`, runId: `run-${other}` });
    expect(
      lines.some((l) => l.msg?.includes('another recovering workflow claimed the only candidate first')),
    ).toBe(true);
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
    // Three POSTs committed nothing twice and two jobs in all: the orphan and the loser's.
    const { data: jobs } = await sandbox.admin.get<{ data: { id: string }[] }>('/jobs');
    expect(jobs.map((j) => j.id).sort()).toEqual([orphan, sentAgain.jobId].sort());
    const counters = await sandbox.admin.get<{ routes: Record<string, number> }>('/counters');
    expect(counters.routes[TRIGGER_ROUTE]).toBe(4);
    // Neither adopted before the orphan's owner could have claimed it (about 4 s after its creation).
    expect(elapsed).toBeGreaterThanOrEqual(3_000);
    m3ter.close();
  });
});
