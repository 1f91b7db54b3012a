import {
  createAlertRouter,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifyWebhookSignature,
  webhookSignature,
  type Alert,
} from '../../../src/alerts';
import { alertReceiverPerBlock } from '../../support/alert-receiver';

const alert: Alert = {
  kind: 'ExportJobFailed',
  workflowId: 'export:usage:nightly-usage:2026-03-29T00:00:00Z',
  runId: 'run-1',
  jobId: 'job-123',
  exportName: 'nightly-usage',
  exportKind: 'usage',
  window: { start: '2026-03-29T00:00:00.000Z', end: '2026-03-30T00:00:00.000Z' },
  message: 'export job job-123 FAILED: see https://files.example.com/x?X-Amz-Signature=abc',
};

describe('alert channels', () => {
  const rx = alertReceiverPerBlock();

  const router = () =>
    createAlertRouter({
      defaultWebhookUrl: `${rx.url}/default/T0K3N`,
      channels: [
        { name: 'ops', type: 'slack', url: `${rx.url}/slack/SECRETPATH` },
        { name: 'hook', type: 'webhook', url: `${rx.url}/hook`, secret: 's3cret-key' },
        { name: 'pd', type: 'pagerduty', url: `${rx.url}/pd`, routingKey: 'R0UTINGKEY' },
      ],
      exports: [{ name: 'nightly-usage', alerts: ['ops', 'hook', 'pd'] }],
      context: { temporalUiUrl: 'http://ui.local:8233', namespace: 'default' },
      post: { baseDelayMs: 5, maxDelayMs: 20 },
    });

  it('routes by export, default channel otherwise', () => {
    const r = router();
    expect(r.route('nightly-usage')).toEqual(['ops', 'hook', 'pd']);
    expect(r.route('other')).toEqual(['default']);
    expect(r.route(undefined)).toEqual(['default']);
    expect(createAlertRouter({ channels: [{ name: 'a', type: 'slack', url: 'http://x' }] }).route()).toEqual([
      'a',
    ]);
  });

  it('Slack gets Block Kit with the rerun command and UI link; the webhook is signed; PagerDuty gets dedup_key', async () => {
    const results = await router().deliver(alert);
    expect(results.every((r) => r.ok)).toBe(true);

    const [slack] = rx.on('/slack/SECRETPATH');
    const s = slack.json as { text: string; blocks: Array<{ type: string }> };
    expect(typeof s.text).toBe('string');
    expect(s.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text' } });
    for (const b of s.blocks)
      expect(['header', 'section', 'context', 'actions', 'divider']).toContain(b.type);
    const all = JSON.stringify(s.blocks);
    expect(all).toContain('m3ter-exports rerun export:usage:nightly-usage:2026-03-29T00:00:00Z');
    expect(all).toContain('job-123');
    expect(all).toContain('ExportJobFailed');
    expect(all).toContain('nightly-usage');
    expect(all).toContain(
      'http://ui.local:8233/namespaces/default/workflows/export%3Ausage%3Anightly-usage%3A2026-03-29T00%3A00%3A00Z/run-1/history',
    );

    const [hook] = rx.on('/hook');
    const ts = hook.headers[TIMESTAMP_HEADER.toLowerCase()] as string;
    const sig = hook.headers[SIGNATURE_HEADER.toLowerCase()] as string;
    expect(sig).toBe(webhookSignature('s3cret-key', ts, hook.body));
    expect(
      verifyWebhookSignature({ secret: 's3cret-key', body: hook.body, timestamp: ts, signature: sig }),
    ).toBe(true);
    expect(verifyWebhookSignature({ secret: 'wrong', body: hook.body, timestamp: ts, signature: sig })).toBe(
      false,
    );
    expect(
      verifyWebhookSignature({ secret: 's3cret-key', body: hook.body + ' ', timestamp: ts, signature: sig }),
    ).toBe(false);

    const [pd] = rx.on('/pd');
    expect(pd.json).toMatchObject({
      routing_key: 'R0UTINGKEY',
      event_action: 'trigger',
      dedup_key: 'job-123',
      payload: { severity: 'error', source: 'm3ter-exports', class: 'ExportJobFailed' },
    });

    // Presigned-URL signatures never leave in an alert; channel URLs, secrets and keys are not in bodies
    // other than where the receiving API needs them (PagerDuty's routing key).
    for (const r of rx.received) {
      expect(r.body).not.toContain('X-Amz-Signature=abc');
      expect(r.body).not.toContain('SECRETPATH');
      expect(r.body).not.toContain('s3cret-key');
      expect(r.body).not.toContain('T0K3N');
    }
  });

  it('retries a 503 and a 429, gives up on a 400, and never throws', async () => {
    rx.script.push(503, 429);
    const [ok] = await router().deliver(alert, ['ops']);
    expect(ok).toMatchObject({ ok: true, attempts: 3 });
    rx.script.push(400);
    const [bad] = await router().deliver(alert, ['ops']);
    expect(bad).toMatchObject({ ok: false, attempts: 1, error: 'HTTP 400' });
    const [gone] = await createAlertRouter({
      channels: [{ name: 'x', type: 'slack', url: 'http://127.0.0.1:1/SECRETPATH' }],
      post: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    }).deliver(alert);
    expect(gone.ok).toBe(false);
    expect(gone.error).not.toContain('SECRETPATH');
  });
});
