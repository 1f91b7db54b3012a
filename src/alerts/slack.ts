// Slack incoming-webhook payload: a `text` fallback (notifications, screen readers) and Block Kit blocks:
// a header, a fields section (export, window, job id, failure type), the message, the rerun command, and a
// Temporal UI button when TEMPORAL_UI_URL is set.
//
// Much of the text comes from m3ter (failure reasons) and must not act in Slack: every text field, the
// fallback included, is escaped (&, <, >), so `<!channel>` or `<https://evil|Re-authenticate>` show as
// typed; bare @channel/@here/@everyone are broken with a zero-width space, links in it are defanged
// (`https[:]//`), mrkdwn objects are `verbatim` (no auto-linking) and nothing unfurls.
import { redact } from '../log/redact';
import { ingestedFile, type AlertMessage } from './message';

type TextObject = { type: 'plain_text' | 'mrkdwn'; text: string; emoji?: boolean; verbatim?: boolean };
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
  unfurl_links: false;
  unfurl_media: false;
}

// Block Kit limits: header text 150 chars, section text 3000, a field 2000.
const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
/** Slack treats &, < and > as control characters; mentions and links in text from m3ter must not act. */
const esc = (s: string) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/@(channel|here|everyone)\b/gi, '@\u200b$1')
    .replace(/\b(https?|ftp):\/\//gi, '$1[:]//');
const code = (s: string) => `\`${esc(s).replace(/`/g, "'")}\``;
const mrkdwn = (text: string): TextObject => ({ type: 'mrkdwn', text, verbatim: true });

export function slackPayload(m: AlertMessage): SlackPayload {
  const a = m.alert;
  const fields: TextObject[] = [
    a.kind === 'IngestRejected'
      ? mrkdwn(`*File*\n${esc(ingestedFile(a))}`)
      : mrkdwn(`*Export*\n${esc(a.exportName ?? (a.workflowId ? 'ad-hoc' : 'not ours'))}`),
    mrkdwn(`*Failure type*\n${code(a.kind)}`),
    mrkdwn(`*Window*\n${esc(m.windowText ?? '-')}`),
    mrkdwn(`*Job id*\n${a.jobId ? code(a.jobId) : '-'}`),
  ];
  if (a.workflowId) fields.push(mrkdwn(`*Workflow*\n${code(a.workflowId)}`));
  if (a.scheduleId) fields.push(mrkdwn(`*m3ter schedule*\n${code(a.scheduleId)}`));
  if (a.incident)
    fields.push(mrkdwn(`*Incident*\n${esc(`${a.incident.event}, ${a.incident.failures} failure(s)`)}`));
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: cut(esc(m.title), 150), emoji: true } },
    { type: 'section', fields: fields.map((f) => ({ ...f, text: cut(f.text, 2000) })) },
    { type: 'section', text: mrkdwn(cut(esc(redact(a.message)), 3000)) },
  ];
  if (m.rerunCommand) {
    blocks.push({ type: 'section', text: mrkdwn(`*Re-run*\n${code(m.rerunCommand)}`) });
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
    elements: [mrkdwn(`m3ter-exports · noticed by the ${a.noticedBy ?? 'workflow'}`)],
  });
  return {
    text: cut(esc(`${m.title}: ${redact(a.message)}`), 3000),
    blocks,
    unfurl_links: false,
    unfurl_media: false,
  };
}
