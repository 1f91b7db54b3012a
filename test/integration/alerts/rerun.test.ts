// `failed list` and `rerun` on the dev server against a real sandbox process and worker: failed windows
// are listed until a re-run succeeds; a dry run starts nothing (the sandbox's job count is unchanged); a
// bulk re-run re-runs each failed window once, linked to its failed run; a second bulk re-run starts none.
import type { Client } from '@temporalio/client';
import type { TemporalConfig } from '../../../src/config/config';
import { listFailedExports, runFailedListCommand } from '../../../src/cli/failed-command';
import { runRerunCommand } from '../../../src/cli/rerun-command';
import { windowWorkflowId } from '../../../src/contract/window-ids';
import type { adhocExportWorkflow } from '../../../workflows';
import {
  M3terExportKind,
  M3terExportName,
  M3terRerunOf,
  M3terWindowStart,
} from '../../../src/contract/search-attributes';
import { startStack, type Stack } from '../../support/stack';
import { captureIo } from '../../support/capture-io';

const fastPoll = { fastPollMs: 200, slowPollMs: 2_000 };
const NAME = `rr-${Date.now().toString(36)}`;

describe('failed list and rerun', () => {
  let stack: Stack;
  let client: Client;
  let temporal: TemporalConfig;
  const windows = ['2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', '2026-01-03T00:00:00Z'];
  const ids = windows.map((w) => windowWorkflowId('operational', NAME, w));
  const jobCount = async () => (await stack.sandbox.admin.get<{ data: unknown[] }>('/jobs')).data.length;
  /** The run id of each window's latest run: a re-run that started anything changes one. */
  const latestRuns = () =>
    Promise.all(ids.map(async (id) => (await client.workflow.getHandle(id).describe()).runId));

  beforeAll(async () => {
    stack = await startStack({
      name: 'rerun',
      sandboxConfig: { jobTiming: { pendingMs: 100, runningMs: 200 } },
    });
    client = stack.client;
    temporal = stack.config.temporal;
  });

  afterAll(() => stack?.close());

  const startWindow = (i: number) =>
    client.workflow.start<typeof adhocExportWorkflow>('adhocExportWorkflow', {
      workflowId: ids[i],
      taskQueue: temporal.taskQueue,
      args: [
        {
          request: {
            sourceType: 'OPERATIONAL',
            operationalDataTypes: ['ACCOUNTS'],
            startDate: windows[i].replace('Z', '.000Z'),
          },
          name: NAME,
          poll: fastPoll,
        },
      ],
      typedSearchAttributes: [
        { key: M3terExportKind, value: 'operational' },
        { key: M3terExportName, value: NAME },
        { key: M3terWindowStart, value: new Date(windows[i]) },
      ],
    });

  it('lists failed windows newest first, dry-runs, re-runs each once, and a second bulk re-run starts nothing', async () => {
    // Windows 0 and 1 fail, window 2 succeeds.
    await stack.sandbox.admin.post('/config', { nextJobOutcome: 'FAILED' });
    const failedRuns: string[] = [];
    try {
      for (const i of [0, 1]) {
        const h = await startWindow(i);
        await expect(h.result()).rejects.toThrow();
        failedRuns.push(h.firstExecutionRunId);
      }
    } finally {
      await stack.sandbox.admin.post('/config', { nextJobOutcome: 'SUCCEEDED' });
    }
    await (await startWindow(2)).result();

    const listed = await listFailedExports(client, { sinceMs: 3_600_000, exportName: NAME });
    expect(listed.map((f) => f.workflowId)).toEqual([ids[1], ids[0]]); // newest first
    for (const f of listed) {
      expect(f).toMatchObject({
        export: NAME,
        kind: 'operational',
        failureType: 'ExportJobFailed',
        status: 'FAILED',
      });
      expect(f.jobId).toMatch(/\S/);
      expect(f.message).toContain(f.jobId);
    }
    const table = captureIo();
    await runFailedListCommand(temporal, { since: '1h', export: NAME }, table);
    expect(table.out.join('\n')).toContain(ids[0]);
    expect(table.out.join('\n')).not.toContain(ids[2]);

    // Dry run: says what it would do, starts nothing.
    const jobsBefore = await jobCount();
    const dry = captureIo();
    expect(
      await runRerunCommand(temporal, [], { failed: true, since: '1h', export: NAME, dryRun: true }, dry),
    ).toBe(0);
    expect(dry.out.filter((l) => l.startsWith('would start'))).toHaveLength(2);
    // A start is visible at once in the window's latest run; none may have happened.
    expect((await latestRuns()).slice(0, 2)).toEqual(failedRuns);
    expect(await jobCount()).toBe(jobsBefore);

    // Bulk re-run: each failed window once, linked to its failed run.
    const bulk = captureIo();
    expect(
      await runRerunCommand(
        temporal,
        [],
        { failed: true, since: '1h', export: NAME, yes: true, json: true },
        bulk,
      ),
    ).toBe(0);
    const outcomes = JSON.parse(bulk.out.join('\n')) as Array<{
      workflowId: string;
      result: string;
      rerunOf: string;
    }>;
    expect(outcomes.map((o) => o.result)).toEqual(['started', 'started']);
    for (const [i, id] of [ids[0], ids[1]].entries()) {
      const h = client.workflow.getHandle(id);
      await h.result();
      const d = await h.describe();
      expect(d.typedSearchAttributes.get(M3terRerunOf)).toBe(failedRuns[i]);
      expect(d.typedSearchAttributes.get(M3terExportName)).toBe(NAME);
      // The failed run stays inspectable.
      const old = await client.workflow.getHandle(id, failedRuns[i]).describe();
      expect(old.status.name).toBe('FAILED');
    }
    expect(await jobCount()).toBe(jobsBefore + 2);
    expect(await listFailedExports(client, { sinceMs: 3_600_000, exportName: NAME })).toEqual([]);

    // Second bulk re-run: nothing failed any more, nothing started.
    const again = captureIo();
    expect(
      await runRerunCommand(temporal, [], { failed: true, since: '1h', export: NAME, yes: true }, again),
    ).toBe(0);
    expect(again.out.join('\n')).toContain('no failed exports to re-run');
    const runsAfterBulk = await latestRuns();
    // Named re-runs of a succeeded window are skipped with the reason.
    const named = captureIo();
    expect(await runRerunCommand(temporal, [ids[2], ids[0]], {}, named)).toBe(0);
    expect(named.out[0]).toMatch(/^skipped .*latest run succeeded/);
    expect(named.out[1]).toMatch(/^skipped .*latest run succeeded/);
    const unknown = captureIo();
    expect(await runRerunCommand(temporal, ['export:usage:nope:2026-01-01T00:00:00Z'], {}, unknown)).toBe(1);
    expect(unknown.out[0]).toMatch(/^error .*no workflow/);
    // Nothing started by the skipped and unknown re-runs: every latest run is the one it was.
    expect(await latestRuns()).toEqual(runsAfterBulk);
    expect(await jobCount()).toBe(jobsBefore + 2);
  });
});
