// The worker's start of the failure monitor: a Temporal that cannot be reached is tried again in the
// background, each failure logged with its attempt, and the attempts end when the worker stops.
import { startMonitorAtWorkerStart } from '../../../src/alerts/worker-alerting';
import { loadConfig } from '../../../src/config/config';
import type { AppLogger } from '../../../src/log/logger';
import { freePort } from '../../../tooling/devserver';

function recordingLog() {
  const lines: Array<{ level: string; obj: Record<string, unknown>; msg: string }> = [];
  const at =
    (level: string) =>
    (obj: unknown, msg?: string): void => {
      lines.push(
        typeof obj === 'string'
          ? { level, obj: {}, msg: obj }
          : { level, obj: obj as Record<string, unknown>, msg: msg ?? '' },
      );
    };
  const log = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { lines, log: log as unknown as AppLogger };
}

describe('startMonitorAtWorkerStart', () => {
  const creds = { M3TER_ORG_ID: 'o', M3TER_ACCESS_KEY_ID: 'k', M3TER_API_SECRET: 's', HOME: '/nonexistent' };

  it('keeps trying while Temporal is unreachable, logging each attempt, until the worker stops', async () => {
    const config = loadConfig({ ...creds, TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` });
    const { lines, log } = recordingLog();
    const stop = new AbortController();
    const started = startMonitorAtWorkerStart(config, log, stop.signal, { firstDelayMs: 10, maxDelayMs: 20 });
    const failures = () => lines.filter((l) => l.msg === 'failure monitor not started; trying again');
    while (failures().length < 3) await new Promise((r) => setTimeout(r, 20));
    stop.abort();
    await expect(started).resolves.toBeUndefined();
    expect(failures().map((l) => l.obj.attempt)).toEqual(expect.arrayContaining([1, 2, 3]));
    expect(failures()[0].level).toBe('error');
  });

  it('does nothing with MONITOR=off', async () => {
    const config = loadConfig({ ...creds, MONITOR: 'off', TEMPORAL_ADDRESS: '127.0.0.1:1' });
    const { lines, log } = recordingLog();
    await expect(
      startMonitorAtWorkerStart(config, log, new AbortController().signal),
    ).resolves.toBeUndefined();
    expect(lines.map((l) => l.msg)).toEqual(['failure monitor not started (MONITOR=off)']);
  });
});
