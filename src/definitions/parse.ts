// The export definitions file (YAML): parsed, `${VAR}`-resolved and validated into typed definitions.
//
// Validation is offline and complete: every problem in the file is reported at once, each naming the
// entry (`exports[1] (nightly-usage)`), the field and the rule, before anything talks to Temporal or m3ter.
// No message ever contains the value of an environment variable: fields are shown as written in the file
// (`${SLACK_WEBHOOK_URL}`), rules never quote the values they refuse when those came from the environment,
// and as a last line of defence every resolved value is masked in the final messages.
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { DURATION_RULE, parseDuration } from '../config/durations';
import {
  EXPORT_NAME_PATTERN,
  EXPORT_NAME_RULE,
  storageRuleFor,
  type StorageMode,
} from '../contract/vocabulary';
import { isValidTimeZone } from '../windows/windows';
import { cronProblems } from './cron';
import { isSecureOrLoopbackUrl } from '../net/address';
import { substituteEnv, type PathSegment, type Problem, type Substitution } from './env';
import { definitionRule, unknownFieldMessage } from './messages';
import { requestProblems, zodProblems } from './request';
import {
  ALERT_CHANNEL_TYPES,
  DEFINITION_DEFAULTS,
  DEFINITION_WINDOWS,
  EXPORT_KINDS,
  OVERLAP_POLICIES,
  STORAGE_MODES,
  type AlertChannelDefinition,
  type ExportDefinition,
  type PauseRule,
  type ExportDefinitions,
} from './types';

/** Every problem found in a definitions file; the message lists them one per line. */
export class DefinitionsError extends Error {
  readonly problems: string[];
  readonly file?: string;

  constructor(problems: string[], file?: string) {
    const where = file ? ` in ${file}` : '';
    const count = `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
    super(`Invalid export definitions${where} (${count}):\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'DefinitionsError';
    this.problems = problems;
    this.file = file;
  }
}

const NAME_RULE = EXPORT_NAME_RULE;
const TIMEZONE_RULE = 'must be an IANA time zone name such as Europe/London, America/New_York or UTC';
/** Temporal rounds intervals to whole seconds and takes nothing shorter than 1s. */
const MIN_EVERY_MS = 1000;
/** Temporal's minimum catch-up window (a shorter one is silently raised to it). */
const MIN_CATCHUP_MS = 10_000;

// ---------------------------------------------------------------------------------------------
// Shapes (zod). Cross-field rules, cron and the request are checked separately so that one run
// reports everything, whatever else is wrong with the entry.

const name = () => z.string().regex(EXPORT_NAME_PATTERN, { error: NAME_RULE });
const duration = () =>
  z.string({ error: DURATION_RULE }).superRefine((v, ctx) => {
    try {
      parseDuration(v);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
    }
  });

const RootSchema = z.strictObject({
  alerts: z.array(z.unknown()).optional(),
  exports: z.array(z.unknown()),
});

export const MIN_HMAC_SECRET_LENGTH = 32;

/** A Slack conversation id (C…, G…, D…) or a #channel name (lower case, at most 80 characters). */
const SLACK_CHANNEL = /^(?:[CGD][A-Z0-9]{6,20}|#[a-z0-9][a-z0-9._-]{0,79})$/;

const AlertChannelSchema = z.strictObject({
  name: name(),
  type: z.enum(ALERT_CHANNEL_TYPES),
  url: z.string().optional(),
  secret: z.string().min(1).optional(),
  routingKey: z.string().min(1).optional(),
  token: z.string().min(1).optional(),
  channel: z
    .string()
    .regex(SLACK_CHANNEL, { error: 'must be a Slack channel id (e.g. C0123456789) or #name' })
    .optional(),
  description: z.string().optional(),
  /** A routing rule in m3ter's calculation language (checked with m3ter by `schedules apply`). */
  when: z.string().min(1).max(2000).optional(),
});

const ScheduleSchema = z.strictObject({
  cron: z.string().optional(),
  every: duration().optional(),
  catchupWindow: duration().optional(),
  overlap: z.enum(OVERLAP_POLICIES).optional(),
  paused: z.boolean().optional(),
});

const ExportSchema = z.strictObject({
  name: name(),
  kind: z.enum(EXPORT_KINDS),
  description: z.string().optional(),
  request: z.record(z.string(), z.unknown()).optional(),
  window: z.enum(DEFINITION_WINDOWS),
  timezone: z.string().refine(isValidTimeZone, { error: TIMEZONE_RULE }).optional(),
  schedule: ScheduleSchema.optional(),
  storage: z.enum(STORAGE_MODES).optional(),
  alerts: z
    .array(
      z.union(
        [z.string().min(1), z.strictObject({ name: z.string().min(1), when: z.string().min(1).max(2000) })],
        {
          error:
            'must be a channel name, or { name, when } to give this export a routing rule for that channel',
        },
      ),
    )
    .optional(),
  freshness: duration().optional(),
  onSuccess: z.array(z.string().min(1)).optional(),
  pauseAfter: z
    .union(
      [
        z.strictObject({ failures: z.number().int().min(1).max(500), of: z.number().int().min(1).max(500) }),
        z.strictObject({ consecutive: z.number().int().min(1).max(500) }),
      ],
      { error: 'must be { failures: N, of: M } or { consecutive: N } (whole numbers from 1 to 500)' },
    )
    .optional(),
});

const ROOT_KEYS = Object.keys(RootSchema.shape);
const KEYS_BY_CONTAINER: Record<string, readonly string[]> = {
  alerts: Object.keys(AlertChannelSchema.shape),
  exports: Object.keys(ExportSchema.shape),
  schedule: Object.keys(ScheduleSchema.shape),
};

function shapeProblems(schema: z.ZodType, value: unknown, base: PathSegment[]): Problem[] {
  const r = schema.safeParse(value, { error: definitionRule });
  if (r.success) return [];
  return zodProblems(r.error, base, (key, path) => {
    const container = path[path.length - 1];
    const allowed =
      typeof container === 'string'
        ? KEYS_BY_CONTAINER[container]
        : KEYS_BY_CONTAINER[String(path[path.length - 2])];
    return unknownFieldMessage(key, allowed ?? ROOT_KEYS);
  });
}

// ---------------------------------------------------------------------------------------------
// Helpers

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** YAML writes an absent optional value as an empty one (`alerts:`); treat null like a missing key. */
function withoutNulls(v: unknown): unknown {
  if (!isRecord(v)) return v;
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null));
}

const samePath = (a: PathSegment[], b: PathSegment[]) =>
  a.length === b.length && a.every((s, i) => s === b[i]);
const startsWith = (path: PathSegment[], prefix: PathSegment[]) =>
  prefix.length <= path.length && prefix.every((s, i) => s === path[i]);

function formatPath(path: PathSegment[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parsing

interface Context {
  env: Record<string, string | undefined>;
  problems: Problem[];
  /** Problems with `${VAR}` references themselves (kept even on unresolved fields). */
  referenceProblems: WeakSet<Problem>;
  substitutions: Substitution[];
  unresolved: PathSegment[][];
  /** Entry labels as written in the file: `exports[1] (nightly-usage)`. */
  labels: Map<string, string>;
}

function yamlProblems(text: string): { value: unknown; problems: string[] } {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, version: '1.2' });
  if (doc.errors.length === 0) {
    try {
      return { value: doc.toJS({ maxAliasCount: 100 }), problems: [] };
    } catch {
      // The only failure left is an alias bomb (aliases expanding into millions of nodes).
      return { value: undefined, problems: ['YAML: too many alias expansions (at most 100)'] };
    }
  }
  const problems: string[] = [];
  const lines = new Set<number>();
  for (const err of doc.errors) {
    const pos = err.linePos?.[0];
    // One mistake often yields several errors on the same line; the first says what is wrong.
    if (pos && lines.has(pos.line)) continue;
    if (pos) lines.add(pos.line);
    let message = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    if (err.code === 'BAD_ALIAS' || err.code === 'UNEXPECTED_TOKEN') {
      message += ' (a value starting with * or & must be quoted, e.g. cron: "* * * * *")';
    }
    problems.push(
      pos ? `line ${pos.line}, column ${pos.col}: YAML syntax: ${message}` : `YAML syntax: ${message}`,
    );
  }
  return { value: undefined, problems };
}

/**
 * Parses and validates a definitions file. `env` resolves `${VAR}` references. Throws DefinitionsError
 * listing every problem; `opts.file` names the file in its message.
 */
export function parseDefinitions(
  yamlText: string,
  env: Record<string, string | undefined>,
  opts: { file?: string } = {},
): ExportDefinitions {
  const yaml = yamlProblems(yamlText);
  if (yaml.problems.length > 0) throw new DefinitionsError(yaml.problems, opts.file);

  const ctx: Context = {
    env,
    problems: [],
    referenceProblems: new WeakSet(),
    substitutions: [],
    unresolved: [],
    labels: new Map(),
  };
  const root = withoutForbiddenKeys(yaml.value, [], ctx.problems);
  if (!isRecord(root)) {
    throw new DefinitionsError(
      [
        root === undefined || root === null
          ? 'the file is empty: expected a mapping with an exports list (and optionally alerts)'
          : 'the file must be a mapping with an exports list (and optionally alerts)',
      ],
      opts.file,
    );
  }
  const top = withoutNulls(root) as Record<string, unknown>;
  // An empty `exports:` is more likely a mistake than "no exports" (which `schedules apply --prune`
  // would act on): it must be written `exports: []`.
  if (root.exports === null) top.exports = null;
  ctx.problems.push(...shapeProblems(RootSchema, top, []));

  const rawAlerts = Array.isArray(top.alerts) ? top.alerts : [];
  const rawExports = Array.isArray(top.exports) ? top.exports : [];
  rawAlerts.forEach((raw, i) => label(ctx, 'alerts', i, raw));
  rawExports.forEach((raw, i) => label(ctx, 'exports', i, raw));

  const alerts = rawAlerts.map((raw, i) => parseAlert(ctx, raw, i));
  duplicates(ctx, 'alerts', rawAlerts);
  const namesOf = (keep: (a: AlertChannelDefinition) => boolean) =>
    new Set(alerts.filter((a): a is AlertChannelDefinition => !!a && keep(a)).map((a) => a.name));
  const declared: DeclaredChannels = {
    all: namesOf((a) => typeof a.name === 'string'),
    webhooks: namesOf((a) => a.type === 'webhook'),
    ruled: namesOf((a) => typeof a.when === 'string'),
  };
  const exports = rawExports.map((raw, i) => parseExport(ctx, raw, i, declared));
  duplicates(ctx, 'exports', rawExports);

  const problems = finalMessages(ctx);
  if (problems.length > 0) throw new DefinitionsError(problems, opts.file);
  return {
    alerts: alerts as AlertChannelDefinition[],
    exports: exports as ExportDefinition[],
  };
}

function parseAlert(ctx: Context, raw: unknown, i: number): AlertChannelDefinition | undefined {
  const base: PathSegment[] = ['alerts', i];
  const value = resolve(ctx, withoutNulls(raw), base);
  ctx.problems.push(...shapeProblems(AlertChannelSchema, value, base));
  if (!isRecord(value)) return undefined;
  const need = (field: string, why: string) => {
    if (value[field] === undefined)
      ctx.problems.push({ path: [...base, field], message: `is required ${why}` });
  };
  const refuse = (field: string, why: string) => {
    if (value[field] !== undefined) ctx.problems.push({ path: [...base, field], message: why });
  };
  const slackOnly = () => {
    refuse('token', 'is only used by slack channels');
    refuse('channel', 'is only used by slack channels');
  };
  if (value.type === 'slack') {
    if (value.url === undefined && value.token === undefined)
      ctx.problems.push({
        path: [...base, 'url'],
        message: 'is required for a slack channel (its incoming-webhook URL), unless it has a bot token',
      });
    if (value.url !== undefined && value.token !== undefined)
      ctx.problems.push({
        path: [...base, 'token'],
        message: 'set either url (incoming webhook) or token (Web API), not both',
      });
    if (value.token !== undefined) need('channel', 'with a bot token (the Slack channel to post in)');
    else refuse('channel', 'is only used with a bot token (an incoming webhook has its own channel)');
    refuse('secret', 'is only used by webhook channels');
    refuse('routingKey', 'is only used by pagerduty channels');
  } else if (value.type === 'webhook') {
    need('url', 'for a webhook channel');
    need('secret', 'for a webhook channel (deliveries are HMAC-signed with it)');
    // A short HMAC key can be guessed offline from one signed delivery.
    if (typeof value.secret === 'string' && value.secret.length < MIN_HMAC_SECRET_LENGTH)
      ctx.problems.push({
        path: [...base, 'secret'],
        message: `must be at least ${MIN_HMAC_SECRET_LENGTH} characters (e.g. openssl rand -hex 32)`,
      });
    refuse('routingKey', 'is only used by pagerduty channels');
    slackOnly();
  } else if (value.type === 'pagerduty') {
    need('routingKey', 'for a pagerduty channel (its Events API v2 integration key)');
    refuse('secret', 'is only used by webhook channels');
    slackOnly();
  }
  // The URL may carry a token (Slack hooks do): the rule never quotes it.
  if (typeof value.url === 'string' && !isHttpUrl(value.url)) {
    ctx.problems.push({ path: [...base, 'url'], message: 'must be an http(s) URL' });
  } else if (typeof value.url === 'string' && !isSecureOrLoopbackUrl(value.url)) {
    // Webhook URLs often carry their token (Slack's do): never in clear off the host.
    ctx.problems.push({
      path: [...base, 'url'],
      message: 'must be an https URL (http only to localhost/127.0.0.1/::1)',
    });
  }
  return value as unknown as AlertChannelDefinition;
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/** Where `${VAR}` may appear: the fields of an alert channel that hold secrets. */
const SECRET_FIELDS = new Set(['url', 'secret', 'routingKey', 'token']);
const secretField = (path: PathSegment[]) =>
  path.length === 3 && path[0] === 'alerts' && SECRET_FIELDS.has(String(path[2]));

/** Keys that could reach an object's prototype instead of a field: refused wherever they appear. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** A copy of `value` without forbidden keys; each one found is a problem. */
function withoutForbiddenKeys(value: unknown, path: PathSegment[], problems: Problem[]): unknown {
  if (Array.isArray(value)) return value.map((v, i) => withoutForbiddenKeys(v, [...path, i], problems));
  if (value === null || typeof value !== 'object') return value;
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (FORBIDDEN_KEYS.has(k)) {
      problems.push({ path: [...path, k], message: 'is not a recognised field (never allowed as a key)' });
      continue;
    }
    copy[k] = withoutForbiddenKeys(v, [...path, k], problems);
  }
  return copy;
}

/** `${VAR}` references of one entry resolved; their problems and substitutions recorded. */
function resolve(ctx: Context, value: unknown, base: PathSegment[]): unknown {
  const sub = substituteEnv(value, ctx.env, base, {
    allowedAt: secretField,
    where: "in an alert channel's url, secret, routingKey and token",
  });
  for (const p of sub.problems) ctx.referenceProblems.add(p);
  ctx.problems.push(...sub.problems);
  ctx.substitutions.push(...sub.substitutions);
  ctx.unresolved.push(...sub.unresolved);
  return sub.value;
}

function label(ctx: Context, list: 'alerts' | 'exports', i: number, raw: unknown): void {
  const n = isRecord(raw) ? raw.name : undefined;
  const shown = typeof n === 'string' && n !== '' ? ` (${n.length > 60 ? `${n.slice(0, 57)}...` : n})` : '';
  ctx.labels.set(`${list}.${i}`, `${list}[${i}]${shown}`);
}

function duplicates(ctx: Context, list: 'alerts' | 'exports', raws: unknown[]): void {
  const first = new Map<string, number>();
  raws.forEach((raw, i) => {
    const n = isRecord(raw) ? raw.name : undefined;
    if (typeof n !== 'string') return;
    const seen = first.get(n);
    if (seen === undefined) first.set(n, i);
    else ctx.problems.push({ path: [list, i, 'name'], message: `duplicates the name of ${list}[${seen}]` });
  });
}

/** The channels declared under `alerts`, by name, that an export's references are checked against. */
interface DeclaredChannels {
  all: Set<string>;
  webhooks: Set<string>;
  /** Channels with a `when:` rule of their own. */
  ruled: Set<string>;
}

function parseExport(
  ctx: Context,
  raw: unknown,
  i: number,
  declared: DeclaredChannels,
): ExportDefinition | undefined {
  const { all: channels, webhooks } = declared;
  const base: PathSegment[] = ['exports', i];
  const cleaned = isRecord(raw)
    ? { ...(withoutNulls(raw) as Record<string, unknown>) }
    : (raw as Record<string, unknown>);
  if (isRecord(cleaned) && isRecord(cleaned.schedule)) cleaned.schedule = withoutNulls(cleaned.schedule);
  const value = resolve(ctx, cleaned, base);
  ctx.problems.push(...shapeProblems(ExportSchema, value, base));
  if (!isRecord(value)) return undefined;

  const kind = EXPORT_KINDS.find((k) => k === value.kind);
  const window = DEFINITION_WINDOWS.find((w) => w === value.window);
  if (window === 'none' && kind !== undefined && kind !== 'operational') {
    ctx.problems.push({
      path: [...base, 'window'],
      message: `none is only allowed for operational exports; ${kind} exports need hour, day, week or month`,
    });
  }

  const schedule = isRecord(value.schedule) ? value.schedule : undefined;
  if (schedule) checkSchedule(ctx, schedule, base);
  if (Array.isArray(value.alerts)) {
    checkAlertRefs(ctx, value.alerts.map(entryName), [...base, 'alerts'], channels);
    checkEntryRules(ctx, value.alerts, [...base, 'alerts'], declared.ruled);
  }
  if (Array.isArray(value.onSuccess)) {
    checkAlertRefs(ctx, value.onSuccess, [...base, 'onSuccess'], channels);
    // The landed event is a signed JSON document for machines (docs/landed-event.schema.json).
    value.onSuccess.forEach((ref, j) => {
      if (typeof ref === 'string' && channels.has(ref) && !webhooks.has(ref))
        ctx.problems.push({
          path: [...base, 'onSuccess', j],
          message: `${ref} is not a webhook channel (the landed event goes to signed webhooks only)`,
        });
    });
    if (value.kind === 'bills' || value.storage === 'none')
      ctx.problems.push({
        path: [...base, 'onSuccess'],
        message: 'needs a stored ExportJob file: not for bills exports or storage none',
      });
  }

  if (isRecord(value.pauseAfter)) {
    const p = value.pauseAfter;
    if (typeof p.failures === 'number' && typeof p.of === 'number' && p.failures > p.of)
      ctx.problems.push({ path: [...base, 'pauseAfter', 'failures'], message: 'must be at most `of`' });
    if (!schedule)
      ctx.problems.push({
        path: [...base, 'pauseAfter'],
        message: 'pauses a schedule: needs a schedule block',
      });
  }

  const storageRule = kind && value.storage ? storageRuleFor(kind, value.storage as StorageMode) : undefined;
  if (storageRule) ctx.problems.push({ path: [...base, 'storage'], message: storageRule });

  const request = value.request === undefined ? {} : value.request;
  if (kind && isRecord(request)) {
    // With the window itself invalid, a day stands in so the request is still checked.
    for (const p of requestProblems(kind, window ?? 'day', request)) {
      ctx.problems.push({ path: [...base, ...p.path], message: p.message });
    }
  }

  if (!kind || !window || !isRecord(request)) return undefined;
  return buildExport(value, kind, window, request, schedule);
}

/** `schedule`: exactly one of cron and every, each valid, and Temporal's minimums. */
function checkSchedule(ctx: Context, schedule: Record<string, unknown>, base: PathSegment[]): void {
  const path: PathSegment[] = [...base, 'schedule'];
  const hasCron = schedule.cron !== undefined;
  const hasEvery = schedule.every !== undefined;
  if (hasCron && hasEvery) {
    ctx.problems.push({ path, message: 'set either cron or every, not both' });
  } else if (!hasCron && !hasEvery) {
    ctx.problems.push({
      path,
      message: 'needs cron (e.g. "0 2 * * *") or every (e.g. 1h)',
    });
  }
  if (typeof schedule.cron === 'string') {
    const cronPath = [...path, 'cron'];
    const fromEnv = ctx.substitutions.some((s) => samePath(s.path, cronPath));
    for (const message of cronProblems(schedule.cron, { showValues: !fromEnv })) {
      ctx.problems.push({ path: cronPath, message });
    }
  }
  minimum(ctx, schedule.every, [...path, 'every'], MIN_EVERY_MS, "1s (Temporal's minimum interval)");
  if (typeof schedule.every === 'string' && durationOrUndefined(schedule.every) !== undefined) {
    if ((durationOrUndefined(schedule.every) as number) % 1000 !== 0) {
      ctx.problems.push({
        path: [...path, 'every'],
        message: 'must be a whole number of seconds (Temporal rounds intervals to seconds)',
      });
    }
  }
  minimum(
    ctx,
    schedule.catchupWindow,
    [...path, 'catchupWindow'],
    MIN_CATCHUP_MS,
    "10s (Temporal's minimum catch-up window)",
  );
}

/** The channel an export's `alerts` entry names: `ops`, or `{ name: ops, when: ... }`. */
function entryName(entry: unknown): unknown {
  return isRecord(entry) ? entry.name : entry;
}

/** A rule lives in one place: on the channel (every export) or on an export's entry (that export). */
function checkEntryRules(
  ctx: Context,
  entries: unknown[],
  path: PathSegment[],
  ruledChannels: Set<string>,
): void {
  entries.forEach((entry, j) => {
    if (isRecord(entry) && typeof entry.name === 'string' && 'when' in entry && ruledChannels.has(entry.name))
      ctx.problems.push({
        path: [...path, j, 'when'],
        message: `channel ${entry.name} has a when: rule of its own: put the rule on the channel or on this entry, not both`,
      });
  });
}

/** An export's `alerts`: each a declared channel, none twice. */
function checkAlertRefs(ctx: Context, refs: unknown[], path: PathSegment[], channels: Set<string>): void {
  const seen = new Map<string, number>();
  refs.forEach((ref, j) => {
    if (typeof ref !== 'string' || ref === '') return;
    if (seen.has(ref)) {
      ctx.problems.push({ path: [...path, j], message: `repeats alerts[${seen.get(ref)}]` });
      return;
    }
    seen.set(ref, j);
    if (!channels.has(ref)) {
      const declared = [...channels].join(', ');
      ctx.problems.push({
        path: [...path, j],
        message: `no alert channel named ${ref} is declared under alerts${declared ? ` (declared: ${declared})` : ''}`,
      });
    }
  });
}

function durationOrUndefined(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  try {
    return parseDuration(v);
  } catch {
    return undefined;
  }
}

function minimum(ctx: Context, v: unknown, path: PathSegment[], min: number, rule: string): void {
  const ms = durationOrUndefined(v);
  if (ms !== undefined && ms < min) ctx.problems.push({ path, message: `must be at least ${rule}` });
}

/** The typed definition, defaults filled in. Only used when the whole file is valid. */
function buildExport(
  value: Record<string, unknown>,
  kind: ExportDefinition['kind'],
  window: ExportDefinition['window'],
  request: Record<string, unknown>,
  schedule: Record<string, unknown> | undefined,
): ExportDefinition {
  const def: ExportDefinition = {
    name: value.name as string,
    kind,
    request,
    window,
    timezone: (value.timezone as string | undefined) ?? DEFINITION_DEFAULTS.timezone,
    storage: (value.storage as ExportDefinition['storage'] | undefined) ?? DEFINITION_DEFAULTS.storage,
    alerts: ((value.alerts as unknown[] | undefined) ?? []).map((e) => entryName(e) as string),
  };
  const rules = ((value.alerts as unknown[] | undefined) ?? []).filter(
    (e): e is { name: string; when: string } => isRecord(e),
  );
  if (rules.length > 0) def.alertRules = Object.fromEntries(rules.map((e) => [e.name, e.when]));
  if (typeof value.description === 'string') def.description = value.description;
  if (Array.isArray(value.onSuccess) && value.onSuccess.length > 0)
    def.onSuccess = value.onSuccess as string[];
  if (isRecord(value.pauseAfter)) def.pauseAfter = value.pauseAfter as unknown as PauseRule;
  if (schedule) {
    const catchupWindow = (schedule.catchupWindow as string | undefined) ?? DEFINITION_DEFAULTS.catchupWindow;
    def.schedule = {
      catchupWindow,
      catchupWindowMs: durationOrUndefined(catchupWindow) ?? 0,
      overlap:
        (schedule.overlap as NonNullable<ExportDefinition['schedule']>['overlap'] | undefined) ??
        DEFINITION_DEFAULTS.overlap,
      paused: (schedule.paused as boolean | undefined) ?? DEFINITION_DEFAULTS.paused,
    };
    if (typeof schedule.cron === 'string') def.schedule.cron = schedule.cron.trim().split(/\s+/).join(' ');
    if (typeof schedule.every === 'string') {
      def.schedule.every = schedule.every;
      def.schedule.everyMs = durationOrUndefined(schedule.every);
    }
  }
  if (typeof value.freshness === 'string') {
    def.freshness = value.freshness;
    def.freshnessMs = durationOrUndefined(value.freshness);
  }
  return def;
}

/**
 * Problems as text: entry label + field path + rule. Problems on fields whose `${VAR}` could not be
 * resolved are dropped (the missing variable is the problem), and env values are masked.
 */
function finalMessages(ctx: Context): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const p of ctx.problems) {
    if (!ctx.referenceProblems.has(p) && ctx.unresolved.some((u) => startsWith(p.path, u))) continue;
    let message = p.message;
    // A rule quoting a value that came from the environment shows the reference as written instead.
    for (const s of ctx.substitutions) {
      if (startsWith(p.path, s.path) || startsWith(s.path, p.path))
        message = message.split(s.resolved).join(s.raw);
    }
    const text = `${where(ctx, p.path)}: ${message}`;
    if (!seen.has(text)) {
      seen.add(text);
      out.push(text);
    }
  }
  return out.map((text) => maskValues(text, ctx));
}

function where(ctx: Context, path: PathSegment[]): string {
  if (path.length === 0) return 'file';
  const [list, index, ...rest] = path;
  const entry = typeof index === 'number' ? ctx.labels.get(`${String(list)}.${index}`) : undefined;
  if (!entry) return formatPath(path);
  return rest.length === 0 ? entry : `${entry}${typeof rest[0] === 'number' ? '' : '.'}${formatPath(rest)}`;
}

// Short values cannot be masked without mangling ordinary text ("1" would hit every index), and the
// field-level replacement above already covers the messages that quote a field's own value.
const MIN_MASKED_LENGTH = 4;

/** Every variable value used anywhere in the file, wherever it appears in a message, becomes `${NAME}`. */
function maskValues(text: string, ctx: Context): string {
  let out = text;
  for (const s of ctx.substitutions) {
    for (const name of s.vars) {
      const value = ctx.env[name];
      if (value !== undefined && value.length >= MIN_MASKED_LENGTH)
        out = out.split(value).join(`\${${name}}`);
    }
  }
  return out;
}

/**
 * Reads and parses a definitions file (`env` defaults to process.env). A missing or unreadable file is
 * a DefinitionsError naming it.
 */
export function loadDefinitionsFile(
  path: string,
  env: Record<string, string | undefined> = process.env,
): ExportDefinitions {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const problem =
      code === 'ENOENT'
        ? `${path}: file not found`
        : code === 'EISDIR'
          ? `${path}: is a directory, not a file`
          : `${path}: cannot be read (${code ?? 'unknown error'})`;
    throw new DefinitionsError([problem], path);
  }
  return parseDefinitions(text, env, { file: path });
}
