// Backfills end to end on the real dev server, against a real sandbox process, with the production worker
// running in this process (the CLI runs as a real process). ExportJobs are counted and timed from the
// sandbox's own job records, so "one ExportJob per window" and "at most N in flight" are what m3ter saw.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { backfillWorkflow } from '../../../workflows/backfill';
import {
  backfillProgressQuery,
  type BackfillInput,
  type BackfillProgress,
} from '../../../src/contract/backfill';
import { jobClaimWorkflowId } from '../../../src/contract/ids';
import { spawnWorkerProcess } from '../../support/worker-process';
import { startStack, type Stack } from '../../support/stack';
import { waitFor } from '../../support/wait-for';

const ROOT = path.resolve(__dirname, '../../..');

/** Every manifest under `dir` (storage may partition files into sub-directories). */
function manifests(dir: string): Array<{ workflowId: string; jobId: string }> {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.manifest.json'))
    .map(
      (f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { workflowId: string; jobId: string },
    );
}

interface SandboxJob {
  id: string;
  status: string;
  dateCreated: string;
  completesAt: string;
  request: { startDate?: string; endDate?: string };
}

const fastPoll = { fastPollMs: 200, slowPollMs: 2_000 };

/** Daily windows of 2026-01-DD (London is on UTC in January, so local midnight = 00:00Z). */
const jan = (d: number) => `2026-01-${String(d).padStart(2, '0')}`;
const janZ = (d: number) => `${jan(d)}T00:00:00.000Z`;

describe('backfills', () => {
  let stack: Stack;
  let client: Client;
  let sandbox: Stack['sandbox'];
  let dir: string;
  let taskQueue: string;

  beforeAll(async () => {
    stack = await startStack({ name: 'backfill' });
    ({ client, sandbox, dir, taskQueue } = stack);
  });

  afterAll(() => stack?.close());

  beforeEach(async () => {
    await sandbox.admin.post('/reset');
    await sandbox.admin.post('/config', {
      jobTiming: { pendingMs: 100, runningMs: 300 },
      nextJobOutcome: 'SUCCEEDED',
    });
  });

  let seq = 0;
  /** A fresh export name per test, so window ids never collide between tests. */
  const newName = (tag: string) => `bf-${tag}-${Date.now().toString(36)}-${seq++}`;

  function definition(name: string): BackfillInput['definition'] {
    return { name, kind: 'usage', request: {}, window: 'day', timezone: 'Europe/London', storage: 'local' };
  }

  function definitionsFile(name: string): string {
    const file = path.join(dir, `${name}.yaml`);
    fs.writeFileSync(
      file,
      [
        'exports:',
        `  - name: ${name}`,
        '    kind: usage',
        '    request: { exportFileFormat: CSV }',
        '    window: day',
        '    timezone: Europe/London',
        '    storage: local',
      ].join('\n'),
    );
    return file;
  }

  async function startBackfill(
    name: string,
    from: number,
    to: number,
    extra: Partial<BackfillInput> = {},
    id = `it-backfill-${name}-${seq++}`,
  ): Promise<WorkflowHandle<typeof backfillWorkflow>> {
    return client.workflow.start<typeof backfillWorkflow>('backfillWorkflow', {
      taskQueue,
      workflowId: id,
      args: [{ definition: definition(name), from: janZ(from), to: janZ(to), poll: fastPoll, ...extra }],
    });
  }

  async function jobs(): Promise<SandboxJob[]> {
    return (await sandbox.admin.get<{ data: SandboxJob[] }>('/jobs')).data;
  }

  /** ExportJobs per window start (usage requests carry the window as startDate). */
  function perWindow(js: SandboxJob[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const j of js) {
      const k = j.request.startDate ?? '?';
      out[k] = (out[k] ?? 0) + 1;
    }
    return out;
  }

  function maxInFlight(js: SandboxJob[]): number {
    const edges = js.flatMap((j) => [
      { at: Date.parse(j.dateCreated), d: 1 },
      { at: Date.parse(j.completesAt), d: -1 },
    ]);
    // An end and a start at the same instant do not overlap.
    edges.sort((a, b) => a.at - b.at || a.d - b.d);
    let now = 0;
    let max = 0;
    for (const e of edges) max = Math.max(max, (now += e.d));
    return max;
  }

  interface CliResult {
    code: number;
    stdout: string;
    stderr: string;
  }

  function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
    // Asynchronous on purpose: the worker serving the backfill runs in this process.
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [path.join(ROOT, 'bin/m3ter-exports.js'), ...args],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            TEMPORAL_ADDRESS: stack.temporal.address,
            TEMPORAL_NAMESPACE: stack.temporal.namespace,
            TEMPORAL_TASK_QUEUE: taskQueue,
            ...env,
          },
          timeout: 120_000,
        },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }

  it('the dry run shows the exact plan and starts nothing; reprocess none, failed and all each do what they say', async () => {
    const name = newName('modes');
    // History: 5-6 Jan succeeded, 7 Jan failed, 8-10 Jan never exported.
    expect((await (await startBackfill(name, 5, 7)).result()).totals).toMatchObject({ succeeded: 2 });
    await sandbox.admin.post('/config', { nextJobOutcome: 'FAILED' });
    const failedRun = await (await startBackfill(name, 7, 8)).result();
    expect(failedRun.totals).toMatchObject({ failed: 1, succeeded: 0 });
    expect(failedRun.failedWindows).toEqual([
      expect.objectContaining({ windowStart: janZ(7), type: 'ExportJobFailed' }),
    ]);
    await sandbox.admin.post('/config', { nextJobOutcome: 'SUCCEEDED' });
    const jobsBefore = (await jobs()).length;
    expect(jobsBefore).toBe(3);

    const dryRun = [
      'backfill',
      name,
      '--file',
      definitionsFile(name),
      '--from',
      jan(5),
      '--to',
      jan(11),
      '--dry-run',
    ];
    const dry = await cli([...dryRun, '--json']);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout) as {
      dryRun: boolean;
      workflowId: string;
      windows: Array<{ start: string; end: string; state: string; action: string }>;
      totals: Record<string, number>;
    };
    expect(plan.windows.map((w) => [w.start, w.state, w.action])).toEqual([
      [janZ(5), 'succeeded', 'skip'],
      [janZ(6), 'succeeded', 'skip'],
      [janZ(7), 'failed', 'rerun'],
      [janZ(8), 'missing', 'run'],
      [janZ(9), 'missing', 'run'],
      [janZ(10), 'missing', 'run'],
    ]);
    expect(plan.windows[0].end).toBe(janZ(6));
    expect(plan.totals).toEqual({ windows: 6, run: 3, rerun: 1, await: 0, skip: 2 });
    expect(plan.workflowId).toBe(`backfill:${name}:2026-01-05T00:00:00Z:2026-01-11T00:00:00Z:failed`);
    const text = await cli(dryRun);
    expect(text.stdout).toMatch(/2026-01-07T00:00:00\.000Z\s+2026-01-08T00:00:00\.000Z\s+failed\s+rerun/);
    expect(text.stdout).toContain('6 windows: 3 run, 1 rerun, 0 await, 2 skip');
    // Nothing started: no ExportJob, no backfill workflow.
    expect((await jobs()).length).toBe(jobsBefore);
    await expect(client.workflow.getHandle(plan.workflowId).describe()).rejects.toThrow();

    // none: the failed window stays failed; only the missing ones run.
    const none = await (await startBackfill(name, 5, 11, { reprocess: 'none' })).result();
    expect(none.totals).toEqual({ succeeded: 3, awaited: 0, skipped: 3, failed: 0, cancelled: 0 });
    expect(perWindow((await jobs()).slice(0, 3))).toEqual({ [janZ(8)]: 1, [janZ(9)]: 1, [janZ(10)]: 1 });

    // failed: only the failed window runs again.
    const failed = await (await startBackfill(name, 5, 11, { reprocess: 'failed' })).result();
    expect(failed.totals).toEqual({ succeeded: 1, awaited: 0, skipped: 5, failed: 0, cancelled: 0 });
    const afterFailed = await jobs();
    expect(afterFailed.length).toBe(jobsBefore + 4);
    expect(afterFailed[0].request.startDate).toBe(janZ(7));

    // all: every window again, each exactly once.
    const all = await (await startBackfill(name, 5, 11, { reprocess: 'all', concurrency: 3 })).result();
    expect(all.totals).toEqual({ succeeded: 6, awaited: 0, skipped: 0, failed: 0, cancelled: 0 });
    const afterAll = await jobs();
    expect(afterAll.length).toBe(jobsBefore + 10);
    expect(perWindow(afterAll.slice(0, 6))).toEqual(
      Object.fromEntries([5, 6, 7, 8, 9, 10].map((d) => [janZ(d), 1])),
    );
  });

  it('continues as new at least twice with exact totals, one ExportJob per window and never more than 2 in flight', async () => {
    const name = newName('can');
    await sandbox.admin.post('/config', { jobTiming: { pendingMs: 100, runningMs: 400 } });
    const handle = await startBackfill(name, 1, 11, { concurrency: 2, continueAsNewAfter: 3, pageSize: 2 });
    const summary = await handle.result();
    expect(summary).toMatchObject({ state: 'completed', total: 10, done: 10, run: 4 });
    expect(summary.totals).toEqual({ succeeded: 10, awaited: 0, skipped: 0, failed: 0, cancelled: 0 });
    const js = await jobs();
    expect(perWindow(js)).toEqual(
      Object.fromEntries([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((d) => [janZ(d), 1])),
    );
    expect(maxInFlight(js)).toBe(2);
    const runs = [];
    for await (const r of client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` }))
      runs.push(r);
    expect(runs.map((r) => r.status.name).sort()).toEqual([
      'COMPLETED',
      'CONTINUED_AS_NEW',
      'CONTINUED_AS_NEW',
      'CONTINUED_AS_NEW',
    ]);
    // Each run's history is bounded by its share of windows, not by the range.
    for (const r of runs) {
      const h = await client.workflow.getHandle(handle.workflowId, r.runId).fetchHistory();
      expect(h.events?.length ?? 0).toBeLessThan(80);
    }
  });

  it('an overlapping backfill and a repeated command add no ExportJobs', async () => {
    const name = newName('overlap');
    await sandbox.admin.post('/config', { jobTiming: { pendingMs: 100, runningMs: 600 } });
    const file = definitionsFile(name);
    const args = [
      'backfill',
      name,
      '--file',
      file,
      '--from',
      jan(1),
      '--to',
      jan(9),
      '--concurrency',
      '2',
      '--json',
    ];
    const first = await cli(args);
    expect(first.code).toBe(0);
    const started = JSON.parse(first.stdout) as { workflowId: string; attached: boolean; windows: number };
    expect(started).toMatchObject({ attached: false, windows: 8 });
    const again = await cli(args);
    expect(JSON.parse(again.stdout)).toMatchObject({ workflowId: started.workflowId, attached: true });
    // A second backfill over 5..12 Jan, overlapping 5..8 Jan, while the first runs.
    const second = await startBackfill(name, 5, 13, { concurrency: 2 });
    const firstSummary = await client.workflow
      .getHandle<typeof backfillWorkflow>(started.workflowId)
      .result();
    const secondSummary = await second.result();
    const js = await jobs();
    expect(perWindow(js)).toEqual(
      Object.fromEntries([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((d) => [janZ(d), 1])),
    );
    for (const s of [firstSummary, secondSummary]) {
      expect(s.totals.failed).toBe(0);
      expect(s.done).toBe(8);
    }
    // Every window was exported once, by one of the two; the other awaited or skipped it.
    expect(firstSummary.totals.succeeded + secondSummary.totals.succeeded).toBe(12);
    expect(
      firstSummary.totals.awaited +
        firstSummary.totals.skipped +
        secondSummary.totals.awaited +
        secondSummary.totals.skipped,
    ).toBe(4);
  });

  it('failed windows: the summary lists them, --wait exits 1, and the next backfill re-runs only them', async () => {
    const name = newName('fail');
    const file = definitionsFile(name);
    expect((await (await startBackfill(name, 1, 3)).result()).totals.succeeded).toBe(2);
    await sandbox.admin.post('/config', { nextJobOutcome: 'FAILED' });
    const args = ['backfill', name, '--file', file, '--from', jan(1), '--to', jan(5), '--wait', '--json'];
    const failed = await cli(args);
    expect(failed.code).toBe(1);
    const summary = JSON.parse(failed.stdout) as BackfillProgress & { workflowId: string };
    expect(summary.totals).toEqual({ succeeded: 0, awaited: 0, skipped: 2, failed: 2, cancelled: 0 });
    expect(summary.failedWindows.map((f) => [f.windowStart, f.type]).sort()).toEqual([
      [janZ(3), 'ExportJobFailed'],
      [janZ(4), 'ExportJobFailed'],
    ]);
    expect(summary.failedWindows.map((f) => f.workflowId).sort()).toEqual([
      `export:usage:${name}:2026-01-03T00:00:00Z`,
      `export:usage:${name}:2026-01-04T00:00:00Z`,
    ]);
    const status = await cli(['backfill', 'status', summary.workflowId]);
    expect(status.code).toBe(1);
    expect(status.stdout).toContain(`export:usage:${name}:2026-01-03T00:00:00Z  ExportJobFailed`);

    await sandbox.admin.post('/config', { nextJobOutcome: 'SUCCEEDED' });
    const before = (await jobs()).length;
    const retry = await cli(args.filter((a) => a !== '--json'));
    expect(retry.code).toBe(0);
    expect(retry.stdout).toContain('succeeded 2, awaited 0, skipped 2, failed 0');
    const js = await jobs();
    expect(js.length).toBe(before + 2);
    expect(perWindow(js.slice(0, 2))).toEqual({ [janZ(3)]: 1, [janZ(4)]: 1 });
  });

  it('cancel stops the in-flight window exports and the summary names them', async () => {
    const name = newName('cancel');
    await sandbox.admin.post('/config', { jobTiming: { pendingMs: 100, runningMs: 20_000 } });
    const handle = await startBackfill(name, 1, 7, { concurrency: 2 });
    const progress = await waitFor(async () => {
      const p = await handle.query(backfillProgressQuery);
      return p.inFlight.length === 2 && (await jobs()).length === 2 ? p : undefined;
    }, 'two windows in flight, each with its ExportJob');
    expect(progress.inFlight).toEqual([
      `export:usage:${name}:2026-01-01T00:00:00Z`,
      `export:usage:${name}:2026-01-02T00:00:00Z`,
    ]);
    expect(progress.total).toBe(6);
    const cancel = await cli(['backfill', 'cancel', handle.workflowId, '--json']);
    expect(cancel.code).toBe(0);
    const out = JSON.parse(cancel.stdout) as { progress: BackfillProgress };
    expect(out.progress.state).toBe('cancelled');
    expect(out.progress.cancelledWindows.sort()).toEqual(progress.inFlight);
    expect(out.progress.totals).toMatchObject({ cancelled: 2, succeeded: 0 });
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    for (const id of progress.inFlight) {
      expect((await client.workflow.getHandle(id).describe()).status.name).toBe('CANCELLED');
    }
    // Nothing else started; the two ExportJobs stay with m3ter.
    expect((await jobs()).length).toBe(2);
  });

  it('survives a worker SIGKILL mid-backfill: a new worker finishes it with one ExportJob and one file per window', async () => {
    const name = newName('kill');
    const queue = `${taskQueue}-process`;
    const exportDir = path.join(dir, 'kill-exports');
    const env = { ...stack.env, TEMPORAL_TASK_QUEUE: queue, EXPORT_DIR: exportDir };
    let proc = await spawnWorkerProcess(env);
    try {
      await sandbox.admin.post('/config', { jobTiming: { pendingMs: 100, runningMs: 1_500 } });
      const handle = await client.workflow.start<typeof backfillWorkflow>('backfillWorkflow', {
        taskQueue: queue,
        workflowId: `it-backfill-${name}`,
        args: [{ definition: definition(name), from: janZ(1), to: janZ(7), concurrency: 2, poll: fastPoll }],
      });
      // Killed once two jobs are claimed by their runs: a kill between a POST's commit and its claim can
      // leave two unclaimed jobs of one source type, which recovery refuses to tell apart
      // (ExportTriggerAmbiguous, docs/exactly-once.md) and trigger.test.ts covers.
      await waitFor(
        async () => {
          const js = await jobs();
          if (js.length < 2) return false;
          const claimed = await Promise.all(
            js.map((j) =>
              client.workflow
                .getHandle(jobClaimWorkflowId(j.id))
                .describe()
                .then(
                  () => true,
                  () => false,
                ),
            ),
          );
          return claimed.filter(Boolean).length >= 2;
        },
        'two claimed ExportJobs',
        { intervalMs: 100 },
      );
      await proc.kill('SIGKILL');
      proc = await spawnWorkerProcess(env);
      const summary = await handle.result();
      // Compared with the failed windows beside the totals, so a failure shows each window's type.
      expect({ totals: summary.totals, failedWindows: summary.failedWindows }).toEqual({
        totals: { succeeded: 6, awaited: 0, skipped: 0, failed: 0, cancelled: 0 },
        failedWindows: [],
      });
      const js = await jobs();
      expect(perWindow(js)).toEqual(Object.fromEntries([1, 2, 3, 4, 5, 6].map((d) => [janZ(d), 1])));
      const stored = manifests(exportDir).filter((m) => m.workflowId.includes(`:${name}:`));
      expect(stored.map((m) => m.workflowId).sort()).toEqual(
        [1, 2, 3, 4, 5, 6].map((d) => `export:usage:${name}:2026-01-0${d}T00:00:00Z`),
      );
      expect(new Set(stored.map((m) => m.jobId))).toEqual(new Set(js.map((j) => j.id)));
    } finally {
      await proc.stop();
    }
  });

  it('refuses bad input before connecting, naming every flag and rule', async () => {
    const name = newName('input');
    const file = definitionsFile(name);
    const r = await cli(
      [
        'backfill',
        name,
        '--file',
        file,
        '--from',
        '2026-02-30',
        '--to',
        'soon',
        '--concurrency',
        '0',
        '--reprocess',
        'some',
      ],
      { TEMPORAL_ADDRESS: '127.0.0.1:1' },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--from: 2026-02-30 is not a calendar date');
    expect(r.stderr).toContain('--to: must be a date YYYY-MM-DD');
    expect(r.stderr).toContain('--concurrency: must be a whole number from 1 to 50');
    expect(r.stderr).toContain('--reprocess: must be one of none, failed, all');
    const unknown = await cli(['backfill', 'nope', '--file', file, '--from', jan(1), '--to', jan(2)], {
      TEMPORAL_ADDRESS: '127.0.0.1:1',
    });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`<name>: no export named "nope"`);
  });
});
