// Incidents end to end on the dev server with a real sandbox process and local receivers standing in for
// Slack (an incoming webhook and the Web API with a bot token), a signed-webhook receiver and PagerDuty: 24 hourly windows of one export fail (a backfill, so the
// test takes seconds rather than a day), then the next window succeeds. Each channel must receive one
// "opened", at most the updates the interval allows, and one resolve (PagerDuty: trigger, then resolve on
// the same dedup_key; Slack's Web API: one post, edits of it, and a reply in its thread). The sequence each
// channel received is printed for the record.
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { prepareBackfill } from '../../../src/cli/backfill-prepare';
import { listOpenIncidents, runFailedIncidentsCommand } from '../../../src/cli/failed-command';
import type { AlertReceiver, ReceivedRequest } from '../../support/alert-receiver';
import {
  hourRange,
  pastHourBase,
  startAlertStack,
  startPreparedBackfill,
  type AlertStack,
} from '../../support/alert-stack';
import { captureIo } from '../../support/capture-io';
import { waitFor } from '../../support/wait-for';

const HOOK_SECRET = 'whsec-incident-4b2d9e7f10-0123456789abcdef';
const PD_KEY = 'pd-incident-routing-key-77';
const SLACK_TOKEN = 'xoxb-incident-test-0123456789-abcdef';
const UPDATE_INTERVAL_MS = 2_000;

const FILE = [
  'alerts:',
  '  - name: ops',
  '    type: slack',
  '    url: ${INCIDENT_TEST_SLACK_URL}',
  '  - name: ops-bot',
  '    type: slack',
  '    token: ${INCIDENT_TEST_SLACK_TOKEN}',
  '    channel: C0INCIDENT',
  '  - name: hook',
  '    type: webhook',
  '    url: ${INCIDENT_TEST_HOOK_URL}',
  '    secret: ${INCIDENT_TEST_HOOK_SECRET}',
  '  - name: pd',
  '    type: pagerduty',
  '    url: ${INCIDENT_TEST_PD_URL}',
  '    routingKey: ${INCIDENT_TEST_PD_KEY}',
  'exports:',
  '  - name: incident-hourly',
  '    kind: operational',
  '    request: { operationalDataTypes: [ACCOUNTS] }',
  '    window: hour',
  '    alerts: [ops, ops-bot, hook, pd]',
].join('\n');

/** One line per message: what a person reading the channel sees first. */
function describeMessage(channel: 'slack' | 'hook' | 'pd', r: ReceivedRequest): string {
  const j = r.json as Record<string, unknown>;
  if (channel === 'pd') {
    const p = j.payload as { summary?: string } | undefined;
    return `${String(j.event_action)} dedup_key=${String(j.dedup_key)}${p?.summary ? `: ${p.summary}` : ''}`;
  }
  if (channel === 'slack') return String(j.text);
  const i = j.incident as { event: string; failures: number };
  return `${i.event} (${i.failures} failures) kind=${String(j.kind)}: ${String(j.message)}`;
}

describe('incidents: a failing export opens one incident, updates it sparingly and resolves it', () => {
  let stack: AlertStack;
  let client: Client;
  let rx: AlertReceiver;
  let file: string;
  const base = pastHourBase();

  beforeAll(async () => {
    stack = await startAlertStack((url) => ({
      name: 'incidents',
      channelEnv: {
        INCIDENT_TEST_SLACK_URL: `${url}/slack/T0K3N`,
        INCIDENT_TEST_HOOK_URL: `${url}/hook`,
        INCIDENT_TEST_HOOK_SECRET: HOOK_SECRET,
        INCIDENT_TEST_PD_URL: `${url}/pd`,
        INCIDENT_TEST_PD_KEY: PD_KEY,
        INCIDENT_TEST_SLACK_TOKEN: SLACK_TOKEN,
      },
      env: {
        INCIDENT_UPDATE_INTERVAL: `${UPDATE_INTERVAL_MS / 1000}s`,
        MONITOR: 'off',
        SLACK_API_URL: `${url}/slack-api`,
      },
    }));
    ({ client, rx } = stack);
    file = path.join(stack.dir, 'm3ter-exports.yaml');
    fs.writeFileSync(file, FILE);
  });

  afterAll(() => stack?.close());

  async function backfill(fromHour: number, hours: number): Promise<void> {
    const prepared = prepareBackfill('incident-hourly', {
      file,
      ...hourRange(base, fromHour, hours),
      concurrency: '6',
    });
    await (await startPreparedBackfill(stack, prepared)).result();
  }

  it('24 failed windows then a success: one opened, few updates and one resolve on Slack, the webhook and PagerDuty', async () => {
    // The sandbox fails the export's next 24 jobs, then lets it recover by itself.
    await stack.sandbox.admin.post('/config', {
      failJobs: { count: 24, errorMessage: 'meter m-404 not found' },
    });
    const started = Date.now();
    await backfill(0, 24);
    const failuresDoneAt = Date.now();
    // While it is open, `failed list` shows the incident with every failure counted.
    const open = await waitFor(async () => {
      const mine = (await listOpenIncidents(client)).find((i) => i.subject === 'export incident-hourly');
      return mine?.failures === 24 ? mine : undefined;
    }, 'the open incident with 24 failures');
    expect(open.workflowId).toBe('incident:export:incident-hourly');
    // `failed incidents --json` lists it for scripts; naming another export lists nothing.
    const json = captureIo();
    await runFailedIncidentsCommand(stack.config.temporal, { json: true, export: 'incident-hourly' }, json);
    expect(JSON.parse(json.out.join('\n'))).toEqual([
      expect.objectContaining({
        workflowId: open.workflowId,
        subject: 'export incident-hourly',
        failures: 24,
      }),
    ]);
    const other = captureIo();
    await runFailedIncidentsCommand(stack.config.temporal, { export: 'another-export' }, other);
    expect(other.out).toEqual(['no open incidents']);
    await backfill(24, 1);

    const events = () =>
      rx.on('/hook').map((r) => (r.json as { incident: { event: string } }).incident.event);
    await waitFor(() => events().includes('resolved'), 'the resolve on the webhook');
    await waitFor(
      () => rx.on('/pd').some((r) => (r.json as { event_action: string }).event_action === 'resolve'),
      'the PagerDuty resolve',
    );
    await waitFor(
      () =>
        rx.on('/slack/T0K3N').some((r) => String((r.json as { text: string }).text).startsWith('Recovered')),
      'the Slack recovery',
    );
    await waitFor(
      () =>
        rx
          .on('/slack-api/chat.postMessage')
          .some((r) => (r.json as { thread_ts?: string }).thread_ts !== undefined),
      "the Slack Web API's reply in thread",
    );

    // At most one update per interval while failures came in (plus one for a boundary).
    const maxUpdates = Math.floor((failuresDoneAt - started) / UPDATE_INTERVAL_MS) + 1;
    const hook = rx.on('/hook');
    const ev = events();
    expect(ev[0]).toBe('opened');
    expect(ev.filter((e) => e === 'opened')).toHaveLength(1);
    expect(ev.filter((e) => e === 'resolved')).toHaveLength(1);
    expect(ev[ev.length - 1]).toBe('resolved');
    expect(ev.filter((e) => e === 'updated').length).toBeLessThanOrEqual(maxUpdates);
    expect(ev.filter((e) => e === 'digest')).toEqual([]);
    const resolved = hook[hook.length - 1].json as {
      kind: string;
      message: string;
      incident: { failures: number; windows: Array<{ rerun?: string }> };
    };
    expect(resolved.kind).toBe('IncidentResolved');
    expect(resolved.incident.failures).toBe(24);
    expect(resolved.incident.windows).toHaveLength(24);
    expect(resolved.incident.windows.every((w) => w.rerun === 'not re-run')).toBe(true);
    expect(resolved.message).toContain('and 14 more');
    expect(hook.every((r) => typeof r.headers['x-m3ter-exports-signature'] === 'string')).toBe(true);

    // PagerDuty: triggers on one dedup_key, then one resolve on the same key.
    const pd = rx
      .on('/pd')
      .map((r) => r.json as { event_action: string; dedup_key: string; routing_key: string });
    expect(pd[0].event_action).toBe('trigger');
    expect(new Set(pd.map((p) => p.dedup_key)).size).toBe(1);
    expect(pd.filter((p) => p.event_action === 'resolve')).toHaveLength(1);
    expect(pd[pd.length - 1].event_action).toBe('resolve');
    expect(pd.every((p) => p.routing_key === PD_KEY)).toBe(true);

    // Slack: the same sequence as follow-up posts (incoming webhooks cannot edit a message).
    const slack = rx.on('/slack/T0K3N');
    expect(slack).toHaveLength(hook.length);

    // Slack's Web API: one post opens the incident, every later message edits it, and the resolution also
    // replies in its thread.
    const bot = rx.received.filter((r) => r.path.startsWith('/slack-api/'));
    const posts = bot.filter((r) => r.path === '/slack-api/chat.postMessage');
    const edits = bot.filter((r) => r.path === '/slack-api/chat.update');
    expect(bot.every((r) => r.headers.authorization === `Bearer ${SLACK_TOKEN}`)).toBe(true);
    expect(posts).toHaveLength(2);
    expect(edits).toHaveLength(hook.length - 1);
    const [first, reply] = posts.map((r) => r.json as { channel: string; thread_ts?: string });
    expect(first).toMatchObject({ channel: 'C0INCIDENT' });
    expect(first.thread_ts).toBeUndefined();
    const ts = (edits[0].json as { ts: string }).ts;
    expect(edits.every((r) => (r.json as { ts: string }).ts === ts)).toBe(true);
    expect(reply).toMatchObject({ channel: 'C0INCIDENT', thread_ts: ts });
    expect(bot[bot.length - 1].path).toBe('/slack-api/chat.postMessage');
    expect(JSON.stringify(rx.received.map((r) => r.json))).not.toContain(SLACK_TOKEN);
    expect(rx.on('/default')).toEqual([]);

    // The incident's workflow completed with its resolution.
    const result = (await client.workflow.getHandle('incident:export:incident-hourly').result()) as {
      failures: number;
    };
    expect(result.failures).toBe(24);

    const sequence = {
      slack: slack.map((r) => describeMessage('slack', r)),
      slackApi: bot.map((r) => `${r.path.replace('/slack-api/', '')}: ${describeMessage('slack', r)}`),
      webhook: hook.map((r) => describeMessage('hook', r)),
      pagerduty: rx.on('/pd').map((r) => describeMessage('pd', r)),
    };
    console.log(`message sequence per channel:\n${JSON.stringify(sequence, null, 2)}`);
  });
});
