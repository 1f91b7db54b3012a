// One m3ter budget for a deployment: two REAL worker processes against the REAL Temporal dev server and the
// sandbox process. The budget is set on the m3ter activity task queue by API (describeTaskQueue reports it
// with source 'api'), and the budgeted Config API calls of both workers together (triggers and download
// URLs, timed by the sandbox as they arrive) stay at the budget, where each worker pacing itself alone would
// have sent twice as many.
import { randomUUID } from 'node:crypto';
import { describeActivityQueueRate } from '../../../src/m3ter/budget';
import { adhocExportWorkflow, type AdhocExportInput } from '../../../workflows/adhoc-export';
import { m3terTaskQueue } from '../../../src/contract/task-queues';
import { startStack, type Stack } from '../../support/stack';
import { spawnWorkerProcess, type WorkerProcess } from '../../support/worker-process';
import { freePort } from '../../../tooling/devserver';

const ADHOC_ROUTE = 'POST /organizations/:orgId/dataexports/adhoc';
const URL_ROUTE = 'GET /organizations/:orgId/dataexports/jobs/:jobId/getdownloadurl';
const BUDGET = 4;
const EXPORTS = 40;

interface LoggedRequest {
  at: number;
  route: string;
  rateClass: string;
}

/** The most requests seen in any `windowMs` span (a sliding window over the sorted arrival times). */
function maxInWindow(times: number[], windowMs: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; j < t.length; j++) {
    while (t[j] - t[i] >= windowMs) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}

describe('one m3ter budget across worker processes', () => {
  let stack: Stack;
  let temporal: Stack['temporal'];
  let sandbox: Stack['sandbox'];
  let taskQueue: string;
  const workers: WorkerProcess[] = [];
  const healthPorts: number[] = [];

  beforeAll(async () => {
    stack = await startStack({
      name: 'budget',
      worker: false,
      sandboxConfig: { jobTiming: { pendingMs: 200, runningMs: 300 } },
      env: { M3TER_MAX_REQUESTS_PER_SECOND: String(BUDGET), LOG_LEVEL: 'info' },
    });
    ({ temporal, sandbox, taskQueue } = stack);
    healthPorts.push(await freePort(), await freePort());
    workers.push(
      ...(await Promise.all(
        healthPorts.map((p) => spawnWorkerProcess({ ...stack.env, HEALTH_PORT: String(p) })),
      )),
    );
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled(workers.map((w) => w.stop()));
    await stack?.close();
  });

  it('reports each worker live and ready (connected, both queues polled)', async () => {
    for (const port of healthPorts) {
      const live = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(live.status).toBe(200);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect({ status: ready.status, body: await ready.json() }).toMatchObject({
        status: 200,
        body: { ready: true, reasons: [] },
      });
    }
  });

  it('sets the budget on the m3ter queue by API, and the workers together stay within it', async () => {
    const rate = await describeActivityQueueRate(temporal.client, {
      namespace: temporal.namespace,
      taskQueue: m3terTaskQueue(taskQueue),
    });
    expect(rate).toEqual({ requestsPerSecond: BUDGET, source: 'api' });

    await sandbox.admin.post('/reset');
    await sandbox.admin.post('/config', { jobTiming: { pendingMs: 200, runningMs: 300 } });
    const since = Date.now();
    const request: AdhocExportInput['request'] = {
      sourceType: 'OPERATIONAL',
      operationalDataTypes: ['ACCOUNTS'],
    };
    const handles = await Promise.all(
      Array.from({ length: EXPORTS }, () =>
        temporal.client.workflow.start(adhocExportWorkflow, {
          taskQueue,
          workflowId: `budget-${randomUUID()}`,
          args: [{ request, poll: { fastPollMs: 250 } }],
        }),
      ),
    );
    const results = await Promise.all(handles.map((h) => h.result()));
    const wallMs = Date.now() - since;
    expect(results.every((r) => r.storage === 'local')).toBe(true);

    const { data, rateLimited } = await sandbox.admin.get<{ data: LoggedRequest[]; rateLimited: number }>(
      `/requests?rateClass=config&since=${since}`,
    );
    const budgeted = data.filter((r) => r.route === ADHOC_ROUTE || r.route === URL_ROUTE).map((r) => r.at);
    expect(budgeted).toHaveLength(2 * EXPORTS);
    const peak1s = maxInWindow(budgeted, 1000);
    const peak5s = maxInWindow(budgeted, 5000);
    const firstToLast = (Math.max(...budgeted) - Math.min(...budgeted)) / 1000;
    process.stderr.write(
      `[budget] ${EXPORTS} exports, 2 workers, budget ${BUDGET}/s: ${budgeted.length} budgeted calls over ` +
        `${firstToLast.toFixed(1)} s (${(budgeted.length / firstToLast).toFixed(2)}/s), peak ${peak1s} in 1 s, ` +
        `${peak5s} in 5 s; all Config API calls ${data.length} (peak ${maxInWindow(
          data.map((r) => r.at),
          1000,
        )} in 1 s); 429s from the limiter ${rateLimited}; wall ${(wallMs / 1000).toFixed(1)} s\n`,
    );
    // The server's limiter may hand out a short burst at first; sustained, the two workers together get the
    // budget, not twice it (each would otherwise pace itself at BUDGET on its own).
    expect(peak5s).toBeLessThanOrEqual(5 * BUDGET + BUDGET);
    expect(budgeted.length / firstToLast).toBeLessThanOrEqual(BUDGET * 1.15);
    expect(rateLimited).toBe(0);
    // Both workers served the m3ter queue: the budget is shared, not one worker doing all the work.
    for (const w of workers) expect(w.output()).toMatch(/export file stored/);
    // Activity log lines carry the workflow they serve, whichever worker wrote them.
    const stored = workers
      .flatMap((w) => w.output().split('\n'))
      .filter((l) => l.includes('"export file stored"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(stored).toHaveLength(EXPORTS);
    for (const line of stored) {
      expect(line.workflowId).toMatch(/^budget-/);
      expect(line.activity).toBe('downloadExportFile');
    }
  });
});
