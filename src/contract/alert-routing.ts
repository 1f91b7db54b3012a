// Where an export's alerts go, as it travels with the export: the channels its definitions file names, each
// as written in the file, its `${VAR}` references unresolved. The worker resolves them from its own
// environment when it sends (src/alerts/routing.ts), so whichever machine applied the file, the file
// decides, and no channel URL, secret or routing key ever enters workflow history. Pure.
import { z } from 'zod';

export const ChannelType = { slack: 'slack', webhook: 'webhook', pagerduty: 'pagerduty' } as const;
export type ChannelType = (typeof ChannelType)[keyof typeof ChannelType];
export const CHANNEL_TYPES = ['slack', 'webhook', 'pagerduty'] as const satisfies readonly ChannelType[];

/** One alert channel as its definitions file wrote it (`url: ${SLACK_WEBHOOK_URL}`). */
export interface ChannelSpec {
  name: string;
  type: ChannelType;
  url?: string;
  secret?: string;
  routingKey?: string;
  /** slack: a bot token for Slack's Web API, in place of `url`. */
  token?: string;
  /** slack with `token`: the Slack channel to post in. */
  channel?: string;
  /**
   * A routing rule in m3ter's calculation language over the DataExportJobFailure event's fields: the
   * channel gets a failure only when m3ter evaluates it true for that failure's event (src/alerts/rules.ts).
   */
  when?: string;
}

export interface AlertRouting {
  /** The export's failure channels; empty: the worker's default channel. */
  channels: ChannelSpec[];
  /** Where a landed window is announced (`onSuccess`); absent or empty: nowhere. */
  onSuccess?: ChannelSpec[];
}

/** The memo key under which an export workflow carries its routing (read by the failure monitor). */
export const ALERT_ROUTING_MEMO = 'alertRouting';

/** Limits keep a hostile input small; a definitions file never comes near them. */
const MAX_CHANNELS = 20;
const MAX_FIELD = 2000;

export const channelSpecSchema = () =>
  z.strictObject({
    name: z.string().min(1).max(40),
    type: z.enum(CHANNEL_TYPES),
    url: z.string().min(1).max(MAX_FIELD).optional(),
    secret: z.string().min(1).max(MAX_FIELD).optional(),
    routingKey: z.string().min(1).max(MAX_FIELD).optional(),
    token: z.string().min(1).max(MAX_FIELD).optional(),
    channel: z.string().min(1).max(100).optional(),
    when: z.string().min(1).max(MAX_FIELD).optional(),
  });

export const alertRoutingSchema = () =>
  z.strictObject({
    channels: z.array(channelSpecSchema()).max(MAX_CHANNELS),
    onSuccess: z.array(channelSpecSchema()).max(MAX_CHANNELS).optional(),
  });

/** The routing an export workflow's memo carries, when it is well formed; undefined otherwise. */
export function routingFromMemo(memo: Record<string, unknown> | undefined): AlertRouting | undefined {
  const r = alertRoutingSchema().safeParse(memo?.[ALERT_ROUTING_MEMO]);
  return r.success ? r.data : undefined;
}
