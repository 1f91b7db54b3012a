import type { DefinitionWindow, ExportKind, StorageMode } from '../contract/vocabulary';
import type { AlertRouting, ChannelType } from '../contract/alert-routing';
import type { PauseRule } from '../contract/auto-pause';
export type { PauseRule };

export { DEFINITION_WINDOWS, EXPORT_KINDS, STORAGE_MODES } from '../contract/vocabulary';
export type { DefinitionWindow };
export type ExportDefinitionKind = ExportKind;

export { CHANNEL_TYPES as ALERT_CHANNEL_TYPES } from '../contract/alert-routing';
export type AlertChannelType = ChannelType;

export const OVERLAP_POLICIES = ['skip', 'buffer-one', 'buffer-all', 'allow-all'] as const;
export type OverlapPolicyName = (typeof OVERLAP_POLICIES)[number];

/** Defaults applied to fields a definition leaves out. */
export const DEFINITION_DEFAULTS = {
  timezone: 'UTC',
  catchupWindow: '1d',
  overlap: 'buffer-one',
  paused: false,
  storage: 'local',
} as const;

/** A named alert channel; `${VAR}` references are already resolved (so url/secret may be secrets). */
export interface AlertChannelDefinition {
  name: string;
  type: AlertChannelType;
  /**
   * slack (incoming webhook) and webhook: where to POST; pagerduty: an Events API endpoint other than the
   * default. A slack channel has either `url` or `token`.
   */
  url?: string;
  /**
   * slack: a bot token for Slack's Web API instead of an incoming webhook. Messages are posted with
   * chat.postMessage, so an incident's message is updated in place and its resolution replies in thread.
   */
  token?: string;
  /** slack with `token`: the Slack channel to post in (its id, e.g. C0123456789, or #name). */
  channel?: string;
  /** webhook: the HMAC-SHA256 signing key. */
  secret?: string;
  /** pagerduty: the Events API v2 routing (integration) key. */
  routingKey?: string;
  description?: string;
  /** A routing rule in m3ter's calculation language over the DataExportJobFailure event. */
  when?: string;
}

export interface ExportScheduleDefinition {
  /** 5-field cron expression, interpreted in the export's timezone. Exactly one of cron and every. */
  cron?: string;
  /** An interval such as `1h`, and the same in milliseconds. */
  every?: string;
  everyMs?: number;
  catchupWindow: string;
  catchupWindowMs: number;
  overlap: OverlapPolicyName;
  paused: boolean;
}

export interface ExportDefinition {
  name: string;
  kind: ExportDefinitionKind;
  /** The ad-hoc request body without sourceType and dates (those come from kind and window). */
  request: Record<string, unknown>;
  window: DefinitionWindow;
  /** IANA zone of window boundaries and of the schedule's cron. */
  timezone: string;
  schedule?: ExportScheduleDefinition;
  storage: StorageMode;
  /** Names of channels declared under `alerts`. */
  alerts: string[];
  /** This export's routing rules by channel name (`alerts: [{ name, when }]`), for channels without one. */
  alertRules?: Record<string, string>;
  /** Pause the schedule when this many of its last windows failed (src/contract/auto-pause.ts). */
  pauseAfter?: PauseRule;
  /** Webhook channels told when a window's file has landed (docs/landed-event.schema.json). */
  onSuccess?: string[];
  /** Alert when the newest succeeded window is older than this. */
  freshness?: string;
  freshnessMs?: number;
  description?: string;
  /**
   * Added by the commands that send a definition to Temporal (`schedules apply`, `backfill`): the export's
   * channels as the file wrote them, for the worker to resolve when it alerts (src/definitions/routing.ts).
   */
  alerting?: AlertRouting;
}

export interface ExportDefinitions {
  alerts: AlertChannelDefinition[];
  exports: ExportDefinition[];
}
