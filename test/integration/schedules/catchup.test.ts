// Catch-up after an outage: a dev server that keeps its state (--db-filename) is stopped across several
// nominal times of a 10-second schedule and started again; the schedule then runs the missed actions
// (within catchupWindow), in order, each exporting the window of its own nominal time.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { parseDefinitions } from '../../../src/definitions';
import { freePort, startDevServer, type RunningDevServer } from '../../../tooling/devserver';
import { executePlan, planApply } from '../../../src/schedules/apply';
import { scheduleIdFor } from '../../../src/schedules/desired';
import { windowForNominalTime } from '../../../src/windows/windows';
import { spawnSandboxProcess, type SandboxProcess } from '../../../tooling/sandbox-process';
import { startStack, type Stack } from '../../support/stack';
import { waitFor } from '../../support/wait-for';

const DEFS = parseDefinitions(
  [
    'exports:',
    '  - name: sched-catchup',
    '    kind: operational',
    '    request: { operationalDataTypes: [ACCOUNTS] }',
    '    window: hour',
    '    timezone: America/New_York',
    '    schedule:',
    '      every: 5s',
    '      catchupWindow: 10m',
    '      overlap: buffer-all',
  ].join('\n'),
  {},
);

describe('schedule catch-up across a Temporal server restart', () => {
  let server: RunningDevServer | undefined;
  let sandbox: SandboxProcess;
  let stack: Stack | undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm3ter-catchup-'));
  const dbFilename = path.join(dir, 'temporal.db');

  /** The server on its state file, and a worker (the stack on that server) polling the schedule's queue. */
  async function up(port: number): Promise<Client> {
    server = await startDevServer({ port, dbFilename, readyTimeoutMs: 180_000 });
    stack = await startStack({
      name: 'catchup',
      temporal: { address: server.address, namespace: server.namespace },
      sandbox,
      dir,
      taskQueue: 'catchup',
      env: { MONITOR: 'off' },
    });
    return stack.client;
  }

  async function down(): Promise<void> {
    await stack?.close();
    await server?.stop();
    stack = undefined;
    server = undefined;
  }

  beforeAll(async () => {
    sandbox = await spawnSandboxProcess();
    await sandbox.admin.post('/config', { jobTiming: { pendingMs: 50, runningMs: 100 } });
  });

  afterAll(async () => {
    await down();
    await sandbox?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs the missed nominal times in order, each with its own window', async () => {
    const port = await freePort();
    let client = await up(port);
    await executePlan(client, DEFS, await planApply(client, DEFS, { prune: false }), {
      taskQueue: 'catchup',
    });
    const handle = () => client.schedule.getHandle(scheduleIdFor('sched-catchup'));
    await waitFor(
      async () => ((await handle().describe()).info.recentActions.length ? true : undefined),
      'a first action',
    );

    // The server names its next nominal times; the outage lasts until three of them have passed unserved.
    const upcoming = (await handle().describe()).info.nextActionTimes;
    await down();
    const downAt = Date.now();
    const third = upcoming.filter((t) => t.getTime() > downAt)[2];
    expect(third).toBeDefined();
    await waitFor(() => Date.now() > third.getTime() + 1_000, 'three nominal times to pass', {
      intervalMs: 250,
    });
    const upAt = Date.now();
    client = await up(port);

    const missed = await waitFor(
      async () => {
        const actions = (await handle().describe()).info.recentActions;
        const inOutage = actions.filter(
          (a) => a.scheduledAt.getTime() > downAt && a.scheduledAt.getTime() < upAt,
        );
        return inOutage.length >= 3 ? inOutage : undefined;
      },
      'the missed actions to be caught up',
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    await handle().pause('test done');

    const timeline: string[] = [];
    const nominal = missed.map((a) => a.scheduledAt.getTime());
    // In order, 5 s apart.
    expect([...nominal].sort((a, b) => a - b)).toEqual(nominal);
    for (let i = 1; i < nominal.length; i++) expect(nominal[i] - nominal[i - 1]).toBe(5_000);
    for (const a of missed) {
      const result = await client.workflow.getHandle(a.action.workflow.workflowId).result();
      timeline.push(
        `nominal ${a.scheduledAt.toISOString()} taken ${a.takenAt.toISOString()} -> ${result.outcome} [${result.window.start}, ${result.window.end})`,
      );
      // Taken after the restart, but exporting the window of its nominal time.
      expect(a.takenAt.getTime()).toBeGreaterThanOrEqual(upAt - 1000);
      expect(result.nominalTime).toBe(a.scheduledAt.toISOString());
      expect(result.window).toEqual(windowForNominalTime(a.scheduledAt, 'hour', 'America/New_York'));
      expect(['exported', 'already-exported']).toContain(result.outcome);
    }
    process.stderr.write(
      `[catch-up] down ${new Date(downAt).toISOString()}, up ${new Date(upAt).toISOString()}\n${timeline.join('\n')}\n`,
    );
  });
});
