// Routing that travels with an alert: the worker resolves the channels its definitions file named from its
// own environment; a channel it cannot resolve is reported failed and the alert also goes to the default
// channel with a note naming what is missing, never its value.
import { createAlertRouter, type Alert } from '../../../src/alerts';
import type { AlertRouting } from '../../../src/contract/alert-routing';
import { alertReceiverPerBlock } from '../../support/alert-receiver';

const SECRET = 'whsec-travel-0123456789abcdef0123456789';
const routing: AlertRouting = {
  channels: [
    { name: 'barhook', type: 'webhook', url: '${BARHOOK_URL}', secret: '${BARHOOK_SECRET}' },
    { name: 'ops', type: 'slack', url: '${OPS_SLACK_URL}' },
  ],
};
const alert: Alert = {
  kind: 'ExportJobFailed',
  workflowId: 'export:usage:bar:2026-03-29T00:00:00Z',
  jobId: 'job-7',
  exportName: 'bar',
  message: 'export job job-7 FAILED',
  routing,
};

describe('routing that travels with an alert', () => {
  const rx = alertReceiverPerBlock();

  const router = (env: Record<string, string>) =>
    createAlertRouter({
      defaultWebhookUrl: `${rx.url}/default`,
      // The worker's own file names another channel for the same export: the travelling routing wins.
      channels: [{ name: 'own', type: 'slack', url: `${rx.url}/own` }],
      exports: [{ name: 'bar', alerts: ['own'] }],
      post: { baseDelayMs: 1, maxDelayMs: 5 },
      env,
    });

  it("resolves each channel from the worker's environment and sends only there", async () => {
    const results = await router({
      BARHOOK_URL: `${rx.url}/barhook`,
      BARHOOK_SECRET: SECRET,
      OPS_SLACK_URL: `${rx.url}/ops`,
    }).deliver(alert);
    expect(results.map((r) => [r.channel, r.ok]).sort()).toEqual([
      ['barhook', true],
      ['ops', true],
    ]);
    expect(rx.received.map((r) => r.path).sort()).toEqual(['/barhook', '/ops']);
    expect(rx.on('/barhook')[0].headers['x-m3ter-exports-signature']).toMatch(/^sha256=/);
  });

  it('sends to the default channel, naming the channel and the missing variable, when one cannot be resolved', async () => {
    const results = await router({
      BARHOOK_URL: `${rx.url}/barhook`,
      OPS_SLACK_URL: `${rx.url}/ops`,
    }).deliver(alert);
    const failed = results.filter((r) => !r.ok);
    expect(failed).toEqual([
      expect.objectContaining({
        channel: 'barhook',
        attempts: 0,
        error: expect.stringContaining('${BARHOOK_SECRET}'),
      }),
    ]);
    expect(rx.received.map((r) => r.path).sort()).toEqual(['/default', '/ops']);
    const note = rx.on('/default')[0].json as { message: string; details: { routingProblems: string[] } };
    expect(note.message).toContain('channel barhook');
    expect(note.message).toContain("${BARHOOK_SECRET} is not set in the worker's environment");
    expect(note.details.routingProblems).toHaveLength(1);
    for (const r of rx.received) expect(Object.keys(r.json as object)).not.toContain('routing');
  });

  it('refuses a resolved value that breaks a rule of the definitions file, without quoting it', async () => {
    const results = await router({
      BARHOOK_URL: 'http://hooks.example.com/not-tls-token123',
      BARHOOK_SECRET: SECRET,
      OPS_SLACK_URL: `${rx.url}/ops`,
    }).deliver(alert);
    const barhook = results.find((r) => r.channel === 'barhook');
    expect(barhook).toMatchObject({ ok: false, attempts: 0 });
    expect(barhook?.error).toContain('https');
    expect(barhook?.error).not.toContain('not-tls-token123');
    expect(rx.on('/default')).toHaveLength(1);
  });

  it('an export without channels goes to the default channel', async () => {
    await router({}).deliver({ ...alert, routing: { channels: [] } });
    expect(rx.received.map((r) => r.path)).toEqual(['/default']);
  });
});
