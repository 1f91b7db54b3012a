// Slack incoming-webhook payload: a `text` fallback (notifications, screen readers) and Block Kit blocks:
// a header, a fields section (export, window, job id, failure type), the message, the rerun command, and a
// Temporal UI button when TEMPORAL_UI_URL is set.
import { redact } from '../log/redact';
import type { AlertMessage } from './message';

type TextObject = { type: 'plain_text' | 'mrkdwn'; text: string; emoji?: boolean };
export type SlackBlock =
  | { type: 'header'; text: TextObject }
  | { type: 'section'; text?: TextObject; fields?: TextObject[] }
  | { type: 'context'; elements: TextObject[] }
  | { type: 'divider' }
  | {
      type: 'actions';
      elements: Array<{ type: 'button'; text: TextObject; url: string; action_id: string }>;
    };

export interface SlackPayload {
  text: string;
  blocks: SlackBlock[];
}

// Block Kit limits: header text 150 chars, section text 3000, a field 2000.
const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
/** Slack's mrkdwn treats &, < and > as control characters. */
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const code = (s: string) => `\`${esc(s).replace(/`/g, "'")}\``;

export function slackPayload(m: AlertMessage): SlackPayload {
  const a = m.alert;
  const fields: TextObject[] = [
    { type: 'mrkdwn', text: `*Export*\n${esc(a.exportName ?? (a.workflowId ? 'ad-hoc' : 'not ours'))}` },
    { type: 'mrkdwn', text: `*Failure type*\n${code(a.kind)}` },
    { type: 'mrkdwn', text: `*Window*\n${esc(m.windowText ?? '-')}` },
    { type: 'mrkdwn', text: `*Job id*\n${a.jobId ? code(a.jobId) : '-'}` },
  ];
  if (a.workflowId) fields.push({ type: 'mrkdwn', text: `*Workflow*\n${code(a.workflowId)}` });
  if (a.scheduleId) fields.push({ type: 'mrkdwn', text: `*m3ter schedule*\n${code(a.scheduleId)}` });
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: cut(m.title, 150), emoji: true } },
    { type: 'section', fields: fields.map((f) => ({ ...f, text: cut(f.text, 2000) })) },
    { type: 'section', text: { type: 'mrkdwn', text: cut(esc(redact(a.message)), 3000) } },
  ];
  if (m.rerunCommand) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Re-run*\n${code(m.rerunCommand)}` } });
  }
  if (m.temporalUiLink) {
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Open in Temporal UI' },
          url: m.temporalUiLink,
          action_id: 'open-temporal-ui',
        },
      ],
    });
  }
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: `m3ter-exports · noticed by the ${a.noticedBy ?? 'workflow'}` }],
  });
  return { text: cut(`${m.title}: ${redact(a.message)}`, 3000), blocks };
}
