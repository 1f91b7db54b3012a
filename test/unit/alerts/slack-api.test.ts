// A slack channel with a bot token posts through Slack's Web API (the alert receiver answers as Slack does):
// an incident's first message is posted, its updates edit it, its resolution edits it and replies in its
// thread; a message that can no longer be edited is posted anew; Slack's refusals are failures that name
// the method and Slack's error, never the token.
import { incidentAlert } from '../../../activities/incident-activities';
import { createAlertRouter, type Alert } from '../../../src/alerts';
import type { IncidentFailure, IncidentNote, PostedMessage } from '../../../src/contract/incidents';
import { alertReceiverPerBlock } from '../../support/alert-receiver';

const TOKEN = 'xoxb-slack-api-test-0123456789-abcdef';
const failure: IncidentFailure = {
  key: 'alert:job-7',
  kind: 'ExportJobFailed',
  message: 'export job job-7 FAILED',
  at: '2026-05-05T10:00:00.000Z',
  jobId: 'job-7',
  workflowId: 'export:usage:hourly:2026-05-05T09:00:00Z',
  exportName: 'hourly',
  window: { start: '2026-05-05T09:00:00.000Z' },
};

const plain: Alert = {
  kind: 'ExportJobFailed',
  message: failure.message,
  jobId: failure.jobId,
  workflowId: failure.workflowId,
  exportName: failure.exportName,
};

describe('a slack channel with a bot token', () => {
  const rx = alertReceiverPerBlock();
  const router = () =>
    createAlertRouter({
      channels: [{ name: 'ops', type: 'slack', token: TOKEN, channel: 'C0OPS1234' }],
      post: { baseDelayMs: 5, maxDelayMs: 20, slackApiUrl: `${rx.url}/api` },
    });
  const incident = (event: IncidentNote['event'], threads?: Record<string, PostedMessage>): Alert =>
    incidentAlert({
      failure,
      note: {
        id: 'incident:export:hourly:1',
        event,
        subject: 'export hourly',
        openedAt: '2026-05-05T10:00:00.000Z',
        failures: 4,
        ...(threads ? { threads } : {}),
      },
    });

  it('posts an alert with chat.postMessage to its channel, with the bot token, and reports the message', async () => {
    const [result] = await router().deliver(plain);
    expect(result).toMatchObject({ channel: 'ops', type: 'slack', ok: true });
    expect(result.posted).toEqual({ channel: 'C0OPS1234', ts: expect.stringMatching(/^\d+\.\d+$/) });
    const [post] = rx.on('/api/chat.postMessage');
    expect(post.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(post.json).toMatchObject({ channel: 'C0OPS1234', unfurl_links: false });
    expect(JSON.stringify(post.json)).toContain('job-7');
  });

  it("edits an open incident's first message for an update, and replies in its thread when it is resolved", async () => {
    const [opened] = await router().deliver(incident('opened'));
    const thread = opened.posted as PostedMessage;
    const [updated] = await router().deliver(incident('updated', { ops: thread }));
    expect(updated).toMatchObject({ ok: true, posted: thread });
    const [resolved] = await router().deliver(incident('resolved', { ops: thread }));
    expect(resolved).toMatchObject({ ok: true, posted: thread });

    expect(rx.received.map((r) => r.path)).toEqual([
      '/api/chat.postMessage',
      '/api/chat.update',
      '/api/chat.update',
      '/api/chat.postMessage',
    ]);
    const [, update, resolveEdit, reply] = rx.received.map((r) => r.json as Record<string, unknown>);
    expect(update).toMatchObject({ channel: thread.channel, ts: thread.ts });
    expect(JSON.stringify(update)).toContain('4 failure(s)');
    expect(resolveEdit).toMatchObject({ channel: thread.channel, ts: thread.ts });
    expect(reply).toMatchObject({ channel: thread.channel, thread_ts: thread.ts });
    expect(JSON.stringify(reply)).toMatch(/resolved/i);
  });

  it('posts a new message, which later updates edit, when the first one cannot be edited', async () => {
    const gone = { channel: 'C0OPS1234', ts: '1600000000.000001' };
    const [updated] = await router().deliver(incident('updated', { ops: gone }));
    expect(updated.ok).toBe(true);
    expect(updated.posted).toBeDefined();
    expect(updated.posted).not.toEqual(gone);
    expect(rx.received.map((r) => r.path)).toEqual(['/api/chat.update', '/api/chat.postMessage']);
  });

  it("fails at once with the method and Slack's error, never the token, when Slack refuses the call", async () => {
    const archived = createAlertRouter({
      // The receiver refuses posts to this channel as Slack does an archived one: HTTP 200, ok: false.
      channels: [{ name: 'ops', type: 'slack', token: TOKEN, channel: 'C0ARCHIVED' }],
      post: { baseDelayMs: 5, maxDelayMs: 20, slackApiUrl: `${rx.url}/api` },
    });
    const [r] = await archived.deliver(plain);
    expect(r).toMatchObject({ ok: false, attempts: 1, error: 'Slack chat.postMessage: is_archived' });
    expect(JSON.stringify(r)).not.toContain(TOKEN);
  });
});
