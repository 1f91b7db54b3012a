// Activity log lines carry the workflow id, export name and window, whichever logger writes them.
import { Writable } from 'node:stream';
import type { Info as ActivityInfo } from '@temporalio/activity';
import {
  activityLogBindings,
  activityLogInterceptor,
  contextualLogger,
} from '../../../src/log/activity-context';
import { createLogger } from '../../../src/log/logger';

function info(workflowId: string, activityType = 'downloadExportFile', attempt = 2): ActivityInfo {
  return { workflowExecution: { workflowId, runId: 'run-1' }, activityType, attempt } as ActivityInfo;
}

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  const log = createLogger({ level: 'debug', destination });
  return { log, lines };
}

async function runAsActivity(i: ActivityInfo, args: unknown[], fn: () => void): Promise<void> {
  const inbound = activityLogInterceptor({ info: i } as never).inbound!;
  await inbound.execute!({ args, headers: {} } as never, async () => fn());
}

describe('activity log context', () => {
  it('takes name and window from the input, else from a window workflow id', () => {
    expect(
      activityLogBindings(info('adhoc-1'), [
        { name: 'nightly', window: { start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' } },
      ]),
    ).toEqual({
      workflowId: 'adhoc-1',
      runId: 'run-1',
      activity: 'downloadExportFile',
      attempt: 2,
      exportName: 'nightly',
      window: { start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' },
    });
    expect(
      activityLogBindings(info('adhoc-2', 'triggerAdhocExport', 1), [
        {
          request: {
            sourceType: 'USAGE',
            startDate: '2026-01-01T00:00:00Z',
            endDate: '2026-01-02T00:00:00Z',
          },
        },
      ]),
    ).toMatchObject({ window: { start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' } });
    expect(
      activityLogBindings(info('export:usage:nightly:2026-03-29T00:00:00Z'), [{ jobId: 'j' }]),
    ).toMatchObject({ exportName: 'nightly', window: { start: '2026-03-29T00:00:00.000Z' } });
    expect(activityLogBindings(info('plain'), [])).not.toHaveProperty('exportName');
  });

  it('adds the bindings to every line inside an activity, also from child loggers, and none outside', async () => {
    const { log, lines } = capture();
    const ctxLog = contextualLogger(log.child({ component: 'activities' }));
    const m3terLog = ctxLog.child({ component: 'm3ter' });
    await runAsActivity(info('export:usage:nightly:2026-03-29T00:00:00Z'), [{ jobId: 'j1' }], () => {
      ctxLog.info({ jobId: 'j1' }, 'inside');
      m3terLog.warn('retrying');
    });
    ctxLog.info('outside');
    await new Promise((r) => setTimeout(r, 50));
    const [inside, retry, outside] = lines;
    expect(inside).toMatchObject({
      msg: 'inside',
      component: 'activities',
      workflowId: 'export:usage:nightly:2026-03-29T00:00:00Z',
      exportName: 'nightly',
      window: { start: '2026-03-29T00:00:00.000Z' },
      activity: 'downloadExportFile',
      jobId: 'j1',
    });
    expect(retry).toMatchObject({ msg: 'retrying', component: 'm3ter', exportName: 'nightly' });
    expect(outside.msg).toBe('outside');
    expect(outside).not.toHaveProperty('workflowId');
  });
});
