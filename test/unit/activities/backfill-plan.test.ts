// The backfill's planning page: windows in order (or newest first) across pages, the action per state and
// reprocess mode, and one visibility query per page whose latest run (by start time) decides the state.
import type { Client } from '@temporalio/client';
import { actionFor, planBackfillPage, type PlanBackfillPageInput } from '../../../activities/backfill-plan';
import type { WindowedExportDefinition } from '../../../activities/window-plan';

interface FakeRun {
  workflowId: string;
  status: string;
  startTime: string;
}

function fakeClient(runs: FakeRun[]): { client: Client; queries: string[] } {
  const queries: string[] = [];
  const client = {
    workflow: {
      list({ query }: { query: string }) {
        queries.push(query);
        const ids = [...query.matchAll(/'([^']+)'/g)].map((m) => m[1]);
        const hits = runs.filter((r) => ids.includes(r.workflowId));
        return (async function* () {
          for (const r of hits) {
            yield { workflowId: r.workflowId, status: { name: r.status }, startTime: new Date(r.startTime) };
          }
        })();
      },
    },
  } as unknown as Client;
  return { client, queries };
}

const definition: WindowedExportDefinition = {
  name: 'daily',
  kind: 'usage',
  request: { meterIds: ['m1'] },
  window: 'day',
  timezone: 'Europe/London',
  storage: 'local',
};

const id = (start: string) => `export:usage:daily:${start}`;

function input(over: Partial<PlanBackfillPageInput> = {}): PlanBackfillPageInput {
  // 2026-03-27 .. 2026-04-01 London: 29 March is 23 hours long (clocks go forward).
  return { definition, from: '2026-03-27T00:00:00Z', to: '2026-03-31T23:00:00Z', limit: 2, ...over };
}

describe('actionFor', () => {
  it.each([
    ['missing', 'none', 'run'],
    ['missing', 'all', 'run'],
    ['running', 'failed', 'await'],
    ['running', 'all', 'await'],
    ['succeeded', 'none', 'skip'],
    ['succeeded', 'failed', 'skip'],
    ['succeeded', 'all', 'rerun'],
    ['failed', 'none', 'skip'],
    ['failed', 'failed', 'rerun'],
    ['failed', 'all', 'rerun'],
  ] as const)('%s with reprocess %s -> %s', (state, reprocess, action) => {
    expect(actionFor(state, reprocess)).toBe(action);
  });
});

describe('planBackfillPage', () => {
  it('pages through the range oldest first with one visibility query per page', async () => {
    const { client, queries } = fakeClient([]);
    const starts: string[] = [];
    let after: string | undefined;
    let total: number | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await planBackfillPage(client, input({ after }));
      if (i === 0) total = page.total;
      else expect(page.total).toBeUndefined();
      starts.push(...page.windows.map((w) => w.window.start));
      if (!page.next) break;
      after = page.next;
    }
    expect(starts).toEqual([
      '2026-03-27T00:00:00.000Z',
      '2026-03-28T00:00:00.000Z',
      '2026-03-29T00:00:00.000Z',
      '2026-03-29T23:00:00.000Z',
      '2026-03-30T23:00:00.000Z',
    ]);
    expect(total).toBe(5);
    expect(queries).toHaveLength(3);
    expect(queries[0]).toBe(
      `WorkflowId IN ('${id('2026-03-27T00:00:00Z')}', '${id('2026-03-28T00:00:00Z')}')`,
    );
  });

  it('pages newest first and never reaches before the range', async () => {
    const { client } = fakeClient([]);
    const starts: string[] = [];
    let after: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await planBackfillPage(client, input({ after, newestFirst: true }));
      starts.push(...page.windows.map((w) => w.window.start));
      if (!page.next) break;
      after = page.next;
    }
    expect(starts).toEqual([
      '2026-03-30T23:00:00.000Z',
      '2026-03-29T23:00:00.000Z',
      '2026-03-29T00:00:00.000Z',
      '2026-03-28T00:00:00.000Z',
      '2026-03-27T00:00:00.000Z',
    ]);
  });

  it("takes each window's latest run by start time and plans the action; skipped windows carry no plan", async () => {
    const { client } = fakeClient([
      { workflowId: id('2026-03-27T00:00:00Z'), status: 'FAILED', startTime: '2026-04-01T00:00:00Z' },
      { workflowId: id('2026-03-27T00:00:00Z'), status: 'COMPLETED', startTime: '2026-04-02T00:00:00Z' },
      { workflowId: id('2026-03-28T00:00:00Z'), status: 'COMPLETED', startTime: '2026-04-01T00:00:00Z' },
      { workflowId: id('2026-03-28T00:00:00Z'), status: 'FAILED', startTime: '2026-04-02T00:00:00Z' },
      { workflowId: id('2026-03-29T00:00:00Z'), status: 'RUNNING', startTime: '2026-04-02T00:00:00Z' },
    ]);
    const page = await planBackfillPage(client, input({ limit: 5, reprocess: 'failed' }));
    expect(page.windows.map((w) => [w.state, w.action, w.plan !== undefined])).toEqual([
      ['succeeded', 'skip', false],
      ['failed', 'rerun', true],
      ['running', 'await', true],
      ['missing', 'run', true],
      ['missing', 'run', true],
    ]);
    expect(page.next).toBeUndefined();
    const plan = page.windows[3].plan!;
    expect(plan).toMatchObject({
      workflowId: id('2026-03-29T23:00:00Z'),
      request: {
        sourceType: 'USAGE',
        startDate: '2026-03-29T23:00:00.000Z',
        endDate: '2026-03-30T23:00:00.000Z',
      },
    });
  });

  it('refuses bad input as a non-retryable InvalidExportRequest', async () => {
    const { client } = fakeClient([]);
    await expect(planBackfillPage(client, input({ to: '2026-03-01T00:00:00Z' }))).rejects.toMatchObject({
      type: 'InvalidExportRequest',
      nonRetryable: true,
    });
    await expect(
      planBackfillPage(client, input({ definition: { ...definition, window: 'none' } })),
    ).rejects.toMatchObject({ type: 'InvalidExportRequest' });
    await expect(planBackfillPage(client, input({ from: '2026-03-01' }))).rejects.toMatchObject({
      type: 'InvalidExportRequest',
    });
  });
});
