// A slack channel with a bot token (`token:` and `channel:` instead of an incoming-webhook `url:`) posts
// through Slack's Web API. Unlike an incoming webhook, chat.postMessage answers with the message's `ts`, so an
// incident's first message can be edited in place (chat.update) as failures are counted, and its
// resolution both edits it and replies in its thread, so the channel hears that it is over.
//
// Slack answers HTTP 200 with `{"ok": false, "error": "..."}` when it refuses a call (a revoked token, an
// unknown channel): a failure that retrying will not fix. HTTP 429 and 5xx are retried by the one retry rule
// (src/alerts/deliver.ts), honouring Retry-After. Nothing in Slack's answer is trusted beyond its shape.
import { z } from 'zod';
import type { PostedMessage } from '../contract/incidents';
import { postJsonWithRetry, type PostOptions, type PostResult } from './deliver';
import type { AlertMessage } from './message';
import { slackPayload } from './slack';

export const SLACK_API_URL = 'https://slack.com/api';

export interface SlackApiChannel {
  /** The channel's name in the definitions file: the key of an incident's thread on it. */
  name: string;
  token: string;
  /** Where a new message is posted (a Slack channel id or #name). */
  channel: string;
}

const SlackAnswerSchema = z.object({
  ok: z.boolean(),
  ts: z
    .string()
    .regex(/^\d{1,12}\.\d{1,9}$/)
    .optional(),
  channel: z
    .string()
    .regex(/^[A-Z0-9]{1,30}$/)
    .optional(),
  error: z.string().max(200).optional(),
});

async function call(
  method: 'chat.postMessage' | 'chat.update',
  target: SlackApiChannel,
  body: Record<string, unknown>,
  opts: PostOptions,
): Promise<PostResult> {
  const apiUrl = (opts.slackApiUrl ?? SLACK_API_URL).replace(/\/+$/, '');
  const r = await postJsonWithRetry(
    `${apiUrl}/${method}`,
    JSON.stringify(body),
    { authorization: `Bearer ${target.token}`, 'content-type': 'application/json; charset=utf-8' },
    opts,
  );
  if (!r.ok) return r;
  let answer: z.infer<typeof SlackAnswerSchema>;
  try {
    answer = SlackAnswerSchema.parse(JSON.parse(r.body ?? ''));
  } catch {
    return { ok: false, attempts: r.attempts, status: r.status, error: `Slack ${method}: unreadable answer` };
  }
  if (!answer.ok) {
    const reason = /^[a-z_]{1,60}$/.test(answer.error ?? '') ? answer.error : 'refused';
    return { ok: false, attempts: r.attempts, status: r.status, error: `Slack ${method}: ${reason}` };
  }
  const { body: _body, ...result } = r;
  return answer.ts
    ? { ...result, posted: { channel: answer.channel ?? target.channel, ts: answer.ts } }
    : result;
}

/** Sends one alert message: a new message, or, for an incident with a message on this channel, an edit. */
export async function sendSlackApi(
  target: SlackApiChannel,
  m: AlertMessage,
  opts: PostOptions,
): Promise<PostResult> {
  const payload = slackPayload(m);
  const incident = m.alert.incident;
  const thread: PostedMessage | undefined = incident?.threads?.[target.name];
  if (thread && incident && incident.event !== 'opened') {
    const edited = await call(
      'chat.update',
      target,
      { channel: thread.channel, ts: thread.ts, text: payload.text, blocks: payload.blocks },
      opts,
    );
    if (edited.ok) {
      if (incident.event !== 'resolved') return { ...edited, posted: thread };
      const reply = await call(
        'chat.postMessage',
        target,
        { ...payload, channel: thread.channel, thread_ts: thread.ts },
        opts,
      );
      // The thread stays the incident's first message, whatever the reply's own ts.
      return reply.ok ? { ...reply, posted: thread } : reply;
    }
    // The first message cannot be edited (deleted, or its channel archived): post a new one instead, so
    // the update is not lost; it becomes the message later updates edit.
  }
  return call('chat.postMessage', target, { ...payload, channel: target.channel }, opts);
}
