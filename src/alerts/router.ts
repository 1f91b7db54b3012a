// Named alert channels and which of them an alert goes to.
//
// Channels come from the definitions file's `alerts` list; ALERT_WEBHOOK_URL is the channel named
// `default` (plain JSON, the payload of ./webhook). An export with `alerts: [...]` alerts there; an export
// without, an ad-hoc export and a failure no workflow owns go to the default channel, or, when there is
// none, to every declared channel (so a failure is never silently dropped for want of routing).
//
// A channel failing never throws out of `deliver`: the result says which channels failed and the caller
// logs and counts them. URLs, secrets and routing keys stay in this process: neither logged nor returned.
import type { PostedMessage } from '../contract/incidents';
import type { AlertChannelDefinition, AlertChannelType, ExportDefinition } from '../definitions/types';
import { redact } from '../log/redact';
import { registerSecrets } from '../log/secrets';
import { postJsonWithRetry, type PostOptions, type PostResult } from './deliver';
import { buildAlertMessage, type AlertContext, type AlertMessage } from './message';
import { PAGERDUTY_EVENTS_URL, pagerDutyEvent } from './pagerduty';
import { signedHeaders } from './signed-webhook';
import { slackPayload } from './slack';
import { sendSlackApi } from './slack-api';
import { landedEvent } from './landed';
import { resolveRouting } from './routing';
import { alertPayload, type Alert } from './webhook';

export const DEFAULT_CHANNEL = 'default';

export interface AlertChannel {
  name: string;
  type: AlertChannelType | 'json';
  send(message: AlertMessage, at: Date): Promise<PostResult>;
}

export interface ChannelResult {
  channel: string;
  type: string;
  ok: boolean;
  attempts: number;
  error?: string;
  /** The message the channel posted, when it can edit it later (a slack channel with a bot token). */
  posted?: PostedMessage;
}

/** An export whose newest succeeded window must not be older than `freshnessMs`. */
export type FreshnessExport = Pick<ExportDefinition, 'name' | 'kind' | 'window' | 'timezone'> & {
  freshnessMs: number;
};

export interface AlertRouter {
  readonly channelNames: string[];
  /** The exports of the definitions file that declare `freshness` (checked by the failure monitor). */
  readonly freshness: FreshnessExport[];
  /** Channel names for an alert of this export (see the header for the rule). */
  route(exportName?: string): string[];
  deliver(alert: Alert, channels?: string[]): Promise<ChannelResult[]>;
}

export interface AlertRouterOptions {
  defaultWebhookUrl?: string;
  channels?: AlertChannelDefinition[];
  exports?: Array<
    Pick<ExportDefinition, 'name' | 'alerts'> &
      Partial<Pick<ExportDefinition, 'kind' | 'window' | 'timezone' | 'freshnessMs'>>
  >;
  context?: AlertContext;
  post?: PostOptions;
  now?: () => Date;
  /** Where `${VAR}` references of routing that travels with an alert are read (default process.env). */
  env?: Record<string, string | undefined>;
}

function secretsOf(def: { url?: string; secret?: string; routingKey?: string; token?: string }): string[] {
  const out = [def.url, def.secret, def.routingKey, def.token].filter(
    (s): s is string => typeof s === 'string',
  );
  // Also the URL's path alone: an error message may quote it without the scheme and host.
  for (const u of out.slice()) {
    try {
      const p = new URL(u).pathname;
      if (p.length > 8) out.push(p);
    } catch {
      /* not a URL */
    }
  }
  return out;
}

export function createChannel(
  def: AlertChannelDefinition | { name: string; type: 'json'; url: string },
  post: PostOptions = {},
): AlertChannel {
  const secrets = secretsOf(def as AlertChannelDefinition);
  // Known to the process, so no log line anywhere can carry them.
  registerSecrets(secrets);
  const opts = { ...post, secrets: [...(post.secrets ?? []), ...secrets] };
  const missing = (what: string): PostResult => ({ ok: false, attempts: 0, error: `channel has no ${what}` });
  switch (def.type) {
    case 'json':
      return {
        name: def.name,
        type: 'json',
        send: (m, at) => postJsonWithRetry(def.url, JSON.stringify(alertPayload(m.alert, at)), {}, opts),
      };
    case 'slack':
      return {
        name: def.name,
        type: 'slack',
        send: async (m) => {
          if (def.token)
            return def.channel
              ? sendSlackApi({ name: def.name, token: def.token, channel: def.channel }, m, opts)
              : missing('channel');
          return def.url
            ? postJsonWithRetry(def.url, JSON.stringify(slackPayload(m)), {}, opts)
            : missing('url');
        },
      };
    case 'webhook':
      return {
        name: def.name,
        type: 'webhook',
        send: async (m, at) => {
          if (!def.url) return missing('url');
          if (!def.secret) return missing('secret');
          const a = m.alert;
          const body = JSON.stringify(
            a.kind === 'ExportLanded' && a.landed
              ? landedEvent({ ...a, landed: a.landed }, at)
              : alertPayload(a, at),
          );
          // Signed per attempt would change the body's timestamp header only; one signature per delivery
          // keeps retries byte-identical, which receivers may use to drop duplicates.
          return postJsonWithRetry(def.url, body, signedHeaders(def.secret, body, at), opts);
        },
      };
    case 'pagerduty':
      return {
        name: def.name,
        type: 'pagerduty',
        send: async (m, at) =>
          def.routingKey
            ? postJsonWithRetry(
                def.url ?? PAGERDUTY_EVENTS_URL,
                JSON.stringify(pagerDutyEvent(m, def.routingKey, at)),
                {},
                opts,
              )
            : missing('routingKey'),
      };
  }
}

/** The channels an alert goes to, the alert as sent, and the channels its routing names but cannot use. */
interface Picked {
  targets: Array<AlertChannel | { name: string }>;
  alert: Alert;
  unusable: ChannelResult[];
}

export function createAlertRouter(opts: AlertRouterOptions): AlertRouter {
  const channels = new Map<string, AlertChannel>();
  if (opts.defaultWebhookUrl) {
    channels.set(
      DEFAULT_CHANNEL,
      createChannel({ name: DEFAULT_CHANNEL, type: 'json', url: opts.defaultWebhookUrl }, opts.post),
    );
  }
  for (const def of opts.channels ?? []) channels.set(def.name, createChannel(def, opts.post));
  const byExport = new Map((opts.exports ?? []).map((e) => [e.name, e.alerts]));
  const now = opts.now ?? (() => new Date());

  function route(exportName?: string): string[] {
    const named = exportName ? byExport.get(exportName) : undefined;
    if (named && named.length > 0) return named.filter((n) => channels.has(n));
    if (channels.has(DEFAULT_CHANNEL)) return [DEFAULT_CHANNEL];
    return [...channels.keys()];
  }

  const freshness: FreshnessExport[] = (opts.exports ?? []).flatMap((e) =>
    e.freshnessMs && e.kind && e.window && e.timezone
      ? [{ name: e.name, kind: e.kind, window: e.window, timezone: e.timezone, freshnessMs: e.freshnessMs }]
      : [],
  );

  /**
   * Routing that travels with the alert: its channels resolved now; those that cannot be are named in a
   * note, and the alert also goes to the default channel (or, without one, the worker's channels).
   */
  function travelling(alert: Alert): Picked {
    const routing = alert.routing as NonNullable<Alert['routing']>;
    // A landed event goes to the export's onSuccess channels only: nothing to announce elsewhere.
    const landed = alert.kind === 'ExportLanded';
    const specs = landed ? (routing.onSuccess ?? []) : routing.channels;
    if (specs.length === 0)
      return {
        alert,
        targets: landed ? [] : route().map((n) => channels.get(n) as AlertChannel),
        unusable: [],
      };
    const resolved = resolveRouting({ channels: specs }, opts.env ?? process.env);
    const targets = resolved.channels.map((def) => createChannel(def, opts.post));
    if (resolved.unusable.length === 0) return { alert, targets, unusable: [] };
    const problems = resolved.unusable.flatMap((u) => u.problems);
    const fallback = route()
      .filter((n) => !targets.some((t) => t.name === n))
      .map((n) => channels.get(n) as AlertChannel);
    const note = `Not delivered where the export's definitions file routes it: ${problems.join('; ')}`;
    return {
      targets: [...targets, ...fallback],
      // Reported as channels that failed, so the delivery logs and counts them like any refusal.
      unusable: resolved.unusable.map((u) => ({
        channel: u.name,
        type: u.type,
        ok: false,
        attempts: 0,
        error: u.problems.join('; '),
      })),
      alert: {
        ...alert,
        message: `${alert.message}\n${note}`,
        details: { ...alert.details, routingProblems: problems },
      },
    };
  }

  return {
    channelNames: [...channels.keys()],
    freshness,
    route,
    async deliver(original, names) {
      const picked: Picked =
        !names && original.routing
          ? travelling(original)
          : {
              alert: original,
              targets: (names ?? route(original.exportName)).map((n) => channels.get(n) ?? { name: n }),
              unusable: [],
            };
      const alert = picked.alert;
      const message = buildAlertMessage(alert, opts.context);
      const at = now();
      const sent = await Promise.all(
        picked.targets.map(async (target: AlertChannel | { name: string }): Promise<ChannelResult> => {
          const name = target.name;
          const ch = 'send' in target ? target : undefined;
          if (!ch)
            return { channel: name, type: 'unknown', ok: false, attempts: 0, error: 'no such channel' };
          try {
            const r = await ch.send(message, at);
            return {
              channel: name,
              type: ch.type,
              ok: r.ok,
              attempts: r.attempts,
              ...(r.error ? { error: r.error } : {}),
              ...(r.posted ? { posted: r.posted } : {}),
            };
          } catch (err) {
            return {
              channel: name,
              type: ch.type,
              ok: false,
              attempts: 0,
              error: redact(String((err as Error).message ?? err)),
            };
          }
        }),
      );
      return [...sent, ...picked.unusable];
    },
  };
}
