// `backfill` input: the flags checked and turned into the backfill workflow's input, from the definitions
// file or the ad-hoc form (--kind, --step, ...), every problem at once and before any connection.
import { DefinitionsError, loadRoutedDefinitionsFile, type ExportDefinition } from '../definitions';
import { backfillWorkflowId } from '../contract/ids';
import {
  EXPORT_KINDS as KINDS,
  EXPORT_NAME_PATTERN,
  EXPORT_NAME_RULE,
  STORAGE_MODES as STORAGES,
  WINDOW_UNITS as STEPS,
} from '../contract/vocabulary';
import { requestProblems } from '../definitions/request';
import { readRequestOption } from './request-flags';
import { countWindowsInRange, isValidTimeZone, localMidnight, periodContaining } from '../windows/windows';
import type { WindowedExportDefinition } from '../../activities/window-plan';
import {
  createBackfillInputSchema,
  DEFAULT_BACKFILL_CONCURRENCY,
  MAX_BACKFILL_CONCURRENCY,
  REPROCESS_VALUES,
  type BackfillInput,
  type Reprocess,
} from '../contract/backfill';
import { checkInput } from '../contract/inputs';
import { CliInputError } from './exit-codes';
import { DEFAULT_DEFINITIONS_FILE } from './schedules-command';

import { ISO_INSTANT_PATTERN } from '../contract/vocabulary';

export interface BackfillFlags {
  from?: string;
  to?: string;
  file?: string;
  concurrency?: string;
  reprocess?: string;
  newestFirst?: boolean;
  dryRun?: boolean;
  wait?: boolean;
  json?: boolean;
  /** Ad-hoc form (no definitions file): the export's kind, window unit, zone, request body and storage. */
  kind?: string;
  step?: string;
  timezone?: string;
  request?: string;
  storage?: string;
}

export interface PreparedBackfill {
  workflowId: string;
  input: BackfillInput & { reprocess: Reprocess; concurrency: number };
  /** Windows in the range. */
  windows: number;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A --from/--to value: a date is the first instant of that date in `tz`; an instant is taken as is. */
function parseWhen(flag: string, value: string | undefined, tz: string | undefined, problems: string[]) {
  if (value === undefined) {
    problems.push(`${flag}: is required (YYYY-MM-DD or an ISO 8601 instant)`);
    return undefined;
  }
  if (DATE.test(value)) {
    if (!tz) return undefined; // the definition's problem is reported instead
    try {
      return localMidnight(value, tz).toISOString();
    } catch {
      problems.push(`${flag}: ${value} is not a calendar date (YYYY-MM-DD)`);
      return undefined;
    }
  }
  if (ISO_INSTANT_PATTERN.test(value) && !Number.isNaN(Date.parse(value)))
    return new Date(value).toISOString();
  problems.push(
    `${flag}: must be a date YYYY-MM-DD (midnight in the export's time zone) or an ISO 8601 instant with Z or an offset`,
  );
  return undefined;
}

function windowedPart(def: ExportDefinition): WindowedExportDefinition {
  // Only what a run needs; the channels as written (`${VAR}` unresolved), never their values.
  return {
    name: def.name,
    kind: def.kind,
    request: def.request,
    window: def.window,
    timezone: def.timezone,
    storage: def.storage,
    ...(def.alerting ? { alerting: def.alerting } : {}),
  };
}

/**
 * The ad-hoc form: a definition built from flags instead of read from the file, checked by the same rules
 * the file's definitions are (the request with the schemas of the ad-hoc path).
 */
function adhocDefinition(
  name: string,
  flags: BackfillFlags,
  problems: string[],
): ExportDefinition | undefined {
  const before = problems.length;
  if (!EXPORT_NAME_PATTERN.test(name)) problems.push(`<name>: ${EXPORT_NAME_RULE}`);
  const kind = flags.kind as ExportDefinition['kind'];
  if (!(KINDS as readonly string[]).includes(kind))
    problems.push(`--kind: must be one of ${KINDS.join(', ')}`);
  const step = flags.step as (typeof STEPS)[number];
  if (step === undefined) problems.push(`--step: is required with --kind (${STEPS.join(', ')})`);
  else if (!(STEPS as readonly string[]).includes(step))
    problems.push(`--step: must be one of ${STEPS.join(', ')}`);
  const timezone = flags.timezone ?? 'UTC';
  if (!isValidTimeZone(timezone))
    problems.push('--timezone: must be an IANA time zone name such as Europe/London or UTC');
  const storage = (flags.storage ?? 'local') as ExportDefinition['storage'];
  if (!(STORAGES as readonly string[]).includes(storage))
    problems.push(`--storage: must be one of ${STORAGES.join(', ')}`);
  else if (kind === 'bills' && storage !== 'local')
    problems.push('--storage: bills exports are always stored (local)');
  let request: Record<string, unknown> = {};
  try {
    request = readRequestOption(flags.request) ?? {};
  } catch (err) {
    if (!(err instanceof CliInputError)) throw err;
    problems.push(err.message);
  }
  if (problems.length > before) return undefined;
  for (const p of requestProblems(kind, step, request)) {
    problems.push(`--request: ${p.path.slice(1).join('.') || '(body)'}: ${p.message}`);
  }
  if (problems.length > before) return undefined;
  return { name, kind, request, window: step, timezone, storage, alerts: [] };
}

/** The named export of the definitions file (windowed), or undefined with the problems recorded. */
function definitionFromFile(
  name: string,
  flags: BackfillFlags,
  env: Record<string, string | undefined>,
  problems: string[],
): ExportDefinition | undefined {
  for (const flag of ['step', 'timezone', 'request', 'storage'] as const) {
    if (flags[flag] !== undefined) problems.push(`--${flag}: only with --kind (the ad-hoc form)`);
  }
  const file = flags.file ?? DEFAULT_DEFINITIONS_FILE;
  try {
    const defs = loadRoutedDefinitionsFile(file, env);
    const def = defs.exports.find((e) => e.name === name);
    if (!def) {
      const known = defs.exports.map((e) => e.name).join(', ') || 'none';
      problems.push(`<name>: no export named "${name}" in ${file} (exports: ${known})`);
    } else if (def.window === 'none') {
      problems.push(
        `<name>: export "${name}" has window none (a snapshot); backfills need hour, day, week or month`,
      );
    } else return def;
  } catch (err) {
    if (!(err instanceof DefinitionsError)) throw err;
    problems.push(...err.problems.map((p) => (p.startsWith(file) ? p : `--file ${file}: ${p}`)));
  }
  return undefined;
}

/**
 * Validates the command line and the definitions file; throws CliInputError naming every problem. No
 * network. `now` decides which windows have ended.
 */
export function prepareBackfill(
  name: string,
  flags: BackfillFlags,
  env: Record<string, string | undefined> = process.env,
  now = Date.now(),
): PreparedBackfill {
  const problems: string[] = [];
  const def =
    flags.kind !== undefined
      ? adhocDefinition(name, flags, problems)
      : definitionFromFile(name, flags, env, problems);
  const tz = def && isValidTimeZone(def.timezone) ? def.timezone : undefined;
  const from = parseWhen('--from', flags.from, tz, problems);
  const to = parseWhen('--to', flags.to, tz, problems);
  if (from && to && !(Date.parse(from) < Date.parse(to))) problems.push('--to: must be after --from');

  let concurrency = DEFAULT_BACKFILL_CONCURRENCY;
  if (flags.concurrency !== undefined) {
    concurrency = Number(flags.concurrency);
    if (!/^\d+$/.test(flags.concurrency) || concurrency < 1 || concurrency > MAX_BACKFILL_CONCURRENCY) {
      problems.push(`--concurrency: must be a whole number from 1 to ${MAX_BACKFILL_CONCURRENCY}`);
    }
  }
  const reprocess = (flags.reprocess ?? 'failed') as Reprocess;
  if (!(REPROCESS_VALUES as readonly string[]).includes(reprocess)) {
    problems.push(`--reprocess: must be one of ${REPROCESS_VALUES.join(', ')}`);
  }

  let windows = 0;
  if (def && def.window !== 'none' && from && to && Date.parse(from) < Date.parse(to)) {
    windows = countWindowsInRange(from, to, def.window, def.timezone);
    if (windows === 0) problems.push('--from/--to: the range holds no window');
    else {
      // Only finished windows hold their final data; m3ter also refuses usage ending after tomorrow.
      const last = periodContaining(new Date(Date.parse(to) - 1), def.window, def.timezone);
      if (Date.parse(last.end) > now) {
        problems.push(
          `--to: the last window [${last.start}, ${last.end}) has not ended yet; backfills export finished windows only`,
        );
      }
    }
  }
  if (problems.length || !def || !from || !to) {
    throw new CliInputError(`invalid backfill:\n  ${problems.join('\n  ')}`, problems);
  }
  const input = {
    definition: windowedPart(def),
    from,
    to,
    concurrency,
    reprocess,
    ...(flags.newestFirst ? { newestFirst: true } : {}),
  };
  // The workflow checks its input with the same schema; anything it would refuse is refused here.
  const checked = checkInput(createBackfillInputSchema(), input);
  if (!checked.ok)
    throw new CliInputError(`invalid backfill:\n  ${checked.problems.join('\n  ')}`, checked.problems);
  return {
    workflowId: backfillWorkflowId(def.name, from, to, reprocess),
    input: { ...(checked.value as BackfillInput), concurrency, reprocess },
    windows,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Dry run
