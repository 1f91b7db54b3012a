import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { alertPayload, createWebhookAlerter } from '../../../src/alerts/webhook';
import { createExportActivities } from '../../../activities/export-activities';
import { FailureType } from '../../../src/contract/failures';
import { createLocalStorage } from '../../../src/storage/local';
import { fakeJobClaims, fakeM3ter, mockEnv, silentLog } from './fakes';

async function receiver(statuses: number[]) {
  const bodies: unknown[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      bodies.push(JSON.parse(body));
      res.writeHead(statuses.shift() ?? 200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?token=hook-secret-123`,
    bodies,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('webhook alerts', () => {
  it('POSTs a redacted JSON payload, retrying a 5xx', async () => {
    const rx = await receiver([503]);
    try {
      const alerter = createWebhookAlerter({ url: rx.url, log: silentLog, timeoutMs: 2000 });
      await alerter.send({
        kind: FailureType.ExportJobFailed,
        workflowId: 'wf-1',
        jobId: 'job-9',
        message: 'export job job-9 FAILED (see https://files.example/x?sig=abc)',
        details: {
          sourceType: 'USAGE',
          downloadUrl: 'https://files.example/x?sig=abc',
          note: 'Bearer eyJhbGciOiJSUzI1NiJ9.e30.sig',
        },
      });
      expect(rx.bodies).toHaveLength(2);
      const body = rx.bodies[1] as Record<string, unknown>;
      expect(body).toMatchObject({
        source: 'm3ter-export-worker',
        kind: FailureType.ExportJobFailed,
        workflowId: 'wf-1',
        jobId: 'job-9',
      });
      const text = JSON.stringify(body);
      expect(text).not.toMatch(/sig=abc|eyJhbGci/);
      expect(body.details).not.toHaveProperty('downloadUrl');
    } finally {
      await rx.close();
    }
  });

  it('gives up after its attempts and says so without the webhook token', async () => {
    const rx = await receiver([500, 500, 500]);
    try {
      silentLog.lines.length = 0;
      const alerter = createWebhookAlerter({ url: rx.url, log: silentLog, attempts: 2 });
      await expect(
        alerter.send({ kind: FailureType.ExportJobFailed, workflowId: 'w', message: 'm' }),
      ).rejects.toThrow('alert webhook delivery failed: HTTP 500');
      expect(rx.bodies).toHaveLength(2);
      expect(JSON.stringify(silentLog.lines)).not.toContain('hook-secret-123');
    } finally {
      await rx.close();
    }
  });

  it('is a no-op without a URL; sendAlert still logs at error level', async () => {
    silentLog.lines.length = 0;
    const activities = createExportActivities({
      m3ter: fakeM3ter({}),
      storage: createLocalStorage({ dir: '/tmp/m3ter-alerts-unused' }),
      log: silentLog,
      alerter: createWebhookAlerter({ log: silentLog }),
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

  it('payload builder keeps only allow-listed fields', () => {
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
