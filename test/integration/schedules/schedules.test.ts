// Scheduled exports end to end on the real dev server, against a real sandbox process and a worker: the
// Temporal Schedule starts scheduledExportWorkflow, which exports exactly the window of its nominal time.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { attachAlertRouting, parseDefinitions } from '../../../src/definitions';
import { executePlan, planApply } from '../../../src/schedules/apply';
import { scheduleIdFor } from '../../../src/schedules/desired';
import { windowForNominalTime } from '../../../src/windows/windows';
import { startStack, type Stack } from '../../support/stack';
import { waitFor } from '../../support/wait-for';

const ROOT = path.resolve(__dirname, '../../..');

interface Manifest {
  workflowId: string;
  window?: { start?: string; end?: string };
}

function manifests(dir: string): Manifest[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.manifest.json'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Manifest);
}

/** Operational exports with hourly windows in a +05:30 zone; `cron` may differ per export. */
function yamlFor(
  names: string[],
  opts: { every?: string; cron?: string; cronOf?: Record<string, string> } = {},
): string {
  return [
    'exports:',
    ...names.flatMap((name) => {
      const cron = opts.cronOf?.[name] ?? opts.cron;
      return [
        `  - name: ${name}`,
        '    kind: operational',
        '    request: { operationalDataTypes: [ACCOUNTS] }',
        '    window: hour',
        '    timezone: Asia/Kolkata',
        '    schedule:',
        cron ? `      cron: "${cron}"` : `      every: ${opts.every ?? '1h'}`,
        '      catchupWindow: 1h',
      ];
    }),
  ].join('\n');
}

describe('scheduled exports', () => {
  let stack: Stack;
  let exportDir: string;
  let taskQueue: string;
  let client: Client;

  beforeAll(async () => {
    stack = await startStack({
      name: 'schedules',
      sandboxConfig: { jobTiming: { pendingMs: 100, runningMs: 200 } },
    });
    ({ client, exportDir, taskQueue } = stack);
  });

  afterAll(async () => {
    for await (const s of client?.schedule.list() ?? []) {
      if (s.scheduleId.startsWith('m3ter-exports:sched-') || s.scheduleId.startsWith('someone-else-'))
        await client.schedule
          .getHandle(s.scheduleId)
          .delete()
          .catch(() => undefined);
    }
    await stack?.close();
  });

  it('runs every 10 s, exports the window of each nominal time once, and two actions in one window export once', async () => {
    const defs = parseDefinitions(yamlFor(['sched-every'], { every: '10s' }), {});
    await executePlan(client, defs, await planApply(client, defs, { prune: false }), { taskQueue });
    const handle = client.schedule.getHandle(scheduleIdFor('sched-every'));
    // Two actions: both nominal times fall in the same local hour except right at an hour boundary.
    const actions = await waitFor(async () => {
      const d = await handle.describe();
      return d.info.recentActions.length >= 2 ? d.info.recentActions : undefined;
    }, 'two scheduled actions');
    await handle.pause('test done');
    const results = [];
    for (const a of actions.slice(0, 2)) {
      const run = client.workflow.getHandle(a.action.workflow.workflowId);
      results.push({ nominal: a.scheduledAt, result: await run.result() });
    }
    for (const { nominal, result } of results) {
      const expected = windowForNominalTime(nominal, 'hour', 'Asia/Kolkata');
      expect(result.nominalTime).toBe(nominal.toISOString());
      expect(result.window).toEqual(expected);
      expect(result.workflowId).toBe(
        `export:operational:sched-every:${expected.start.replace('.000Z', 'Z')}`,
      );
    }
    const windows = new Set(results.map((r) => r.result.window.start));
    const stored = manifests(exportDir).filter((m) => m.workflowId.includes(':sched-every:'));
    // One export (one manifest) per distinct window, whichever action got there first.
    expect(stored.map((m) => m.workflowId).sort()).toEqual(
      [...windows].map((s) => `export:operational:sched-every:${s.replace('.000Z', 'Z')}`).sort(),
    );
    for (const m of stored)
      expect(m.window?.start).toBe([...windows].find((w) => m.workflowId.endsWith(w.replace('.000Z', 'Z'))));
    if (windows.size === 1) {
      expect(results.map((r) => r.result.outcome).sort()).toEqual(['already-exported', 'exported']);
    }
  });

  it('schedules trigger exports the window before the trigger instant', async () => {
    const defs = parseDefinitions(yamlFor(['sched-trigger'], { cron: '0 3 1 1 *' }), {});
    await executePlan(client, defs, await planApply(client, defs, { prune: false }), { taskQueue });
    const env = { ...process.env, TEMPORAL_ADDRESS: stack.temporal.address, TEMPORAL_TASK_QUEUE: taskQueue };
    const before = Date.now();
    const r = spawnSync(process.execPath, ['bin/m3ter-exports.js', 'schedules', 'trigger', 'sched-trigger'], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    const handle = client.schedule.getHandle(scheduleIdFor('sched-trigger'));
    const action = await waitFor(
      async () => (await handle.describe()).info.recentActions[0],
      'the triggered action',
    );
    const result = await client.workflow.getHandle(action.action.workflow.workflowId).result();
    const expected = windowForNominalTime(action.scheduledAt, 'hour', 'Asia/Kolkata');
    expect(action.scheduledAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(result.window).toEqual(expected);
    // The window ends at the start of the trigger instant's local hour (Kolkata hours start at :30 UTC).
    expect(Date.parse(expected.end)).toBeLessThanOrEqual(action.scheduledAt.getTime());
    expect(action.scheduledAt.getTime() - Date.parse(expected.end)).toBeLessThan(3_600_000);
    expect(new Date(expected.end).getUTCMinutes()).toBe(30);
  });

  it('apply is idempotent, updates only what changed, and --prune deletes only schedules it owns', async () => {
    const names = ['sched-a', 'sched-b', 'sched-c'];
    const ctx = { taskQueue };
    // As `schedules apply` reads a file: the definitions with the routing each export carries.
    const routed = (text: string) => attachAlertRouting(parseDefinitions(text, {}), text);
    const file1 = routed(yamlFor(names, { cron: '0 2 * * *' }));
    const first = await planApply(client, file1, { prune: true });
    expect(first.filter((p) => names.includes(p.name)).map((p) => p.action)).toEqual([
      'create',
      'create',
      'create',
    ]);
    await executePlan(client, file1, first, ctx);

    const again = await planApply(client, file1, { prune: false });
    expect(again.map((p) => p.action)).toEqual(['unchanged', 'unchanged', 'unchanged']);

    // A schedule created by someone else, with our naming but not our marker, and one with neither.
    await client.schedule.create({
      scheduleId: 'someone-else-nightly',
      spec: { intervals: [{ every: '1 day' }] },
      action: { type: 'startWorkflow', workflowType: 'x', taskQueue: 'elsewhere', args: [] },
      state: { paused: true },
    });

    const cronOf = { 'sched-a': '0 2 * * *', 'sched-b': '0 3 * * *', 'sched-c': '0 2 * * *' };
    const edited = routed(yamlFor(names, { cronOf }));
    const update = await planApply(client, edited, { prune: false });
    expect(update.map((p) => [p.name, p.action])).toEqual([
      ['sched-a', 'unchanged'],
      ['sched-b', 'update'],
      ['sched-c', 'unchanged'],
    ]);
    expect(update[1].changes).toEqual(['schedule.cron: "0 2 * * *" → "0 3 * * *"']);
    await executePlan(client, edited, update, ctx);
    expect((await planApply(client, edited, { prune: false })).map((p) => p.action)).toEqual([
      'unchanged',
      'unchanged',
      'unchanged',
    ]);

    // Dry run through the CLI: prints the plan, changes nothing.
    const file = path.join(stack.dir, 'm3ter-exports.yaml');
    fs.writeFileSync(file, yamlFor(['sched-a', 'sched-b'], { cronOf }));
    const env = { ...process.env, TEMPORAL_ADDRESS: stack.temporal.address, TEMPORAL_TASK_QUEUE: taskQueue };
    const dry = spawnSync(
      process.execPath,
      ['bin/m3ter-exports.js', 'schedules', 'apply', '--file', file, '--prune', '--dry-run', '--json'],
      { cwd: ROOT, env, encoding: 'utf8' },
    );
    expect(dry.status).toBe(0);
    const dryPlan = JSON.parse(dry.stdout).plan as { name: string; action: string }[];
    expect(dryPlan.filter((p) => p.name.startsWith('sched-')).map((p) => [p.name, p.action])).toEqual(
      expect.arrayContaining([
        ['sched-a', 'unchanged'],
        ['sched-b', 'unchanged'],
        ['sched-c', 'delete'],
      ]),
    );
    await expect(client.schedule.getHandle(scheduleIdFor('sched-c')).describe()).resolves.toBeDefined();

    const real = spawnSync(
      process.execPath,
      ['bin/m3ter-exports.js', 'schedules', 'apply', '--file', file, '--prune'],
      { cwd: ROOT, env, encoding: 'utf8' },
    );
    expect(real.status).toBe(0);
    expect(real.stdout).toMatch(/delete\s+sched-c/);
    await expect(client.schedule.getHandle(scheduleIdFor('sched-c')).describe()).rejects.toThrow(
      /not found/i,
    );
    await expect(client.schedule.getHandle('someone-else-nightly').describe()).resolves.toBeDefined();
  });
});
