import { alertPayload, type Alerter } from '../../../src/alerts/webhook';
import { createExportActivities } from '../../../activities/export-activities';
import { FailureType } from '../../../src/contract/failures';
import { createLocalStorage } from '../../../src/storage/local';
import { fakeJobClaims, fakeM3ter, mockEnv, silentLog } from './fakes';

describe('alert payloads and the sendAlert activity', () => {
  it('sendAlert logs at error level and reports not delivered when no alerter is enabled', async () => {
    const disabled: Alerter = { enabled: false, send: async () => undefined };
    silentLog.lines.length = 0;
    const activities = createExportActivities({
      m3ter: fakeM3ter({}),
      storage: createLocalStorage({ dir: '/tmp/m3ter-alerts-unused' }),
      log: silentLog,
      alerter: disabled,
      jobClaims: fakeJobClaims(),
    });
    await expect(
      mockEnv().exec(() =>
        activities.sendAlert({
          kind: FailureType.ExportJobFailed,
          workflowId: 'w',
          jobId: 'j',
          message: 'export job j FAILED',
        }),
      ),
    ).resolves.toEqual({
      delivered: false,
    });
    expect(silentLog.lines.some((l) => l.level === 'error')).toBe(true);
  });

  it('keeps only allow-listed fields in the payload', () => {
    const p = alertPayload(
      {
        kind: FailureType.ExportJobFailed,
        workflowId: 'w',
        message: 'x',
        details: { apiSecret: 's3cr3t', n: 1 },
      },
      new Date(0),
    );
    expect(p).toEqual({
      source: 'm3ter-export-worker',
      kind: FailureType.ExportJobFailed,
      workflowId: 'w',
      message: 'x',
      details: { n: 1 },
      at: '1970-01-01T00:00:00.000Z',
    });
  });
});
