// The routing a definition carries into Temporal: `schedules apply` and `backfill` attach to each export the
// channels it names, as the file wrote them (`${VAR}` references unresolved), so the worker that alerts
// routes by the file that was applied, not by a copy of its own, and resolves the references from its own
// environment (src/alerts/routing.ts).
//
// What travels is stored in workflow history, which never holds a channel URL, secret or routing key: each
// of those fields of a channel an export uses must therefore come from a `${VAR}` reference. That is the
// one rule checked here; the rest (syntax, worker variables, https) parseDefinitions has checked already.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { AlertRouting, ChannelSpec } from '../contract/alert-routing';
import { DefinitionsError, loadDefinitionsFile } from './parse';
import type { ExportDefinitions } from './types';

const SECRET_FIELDS = ['url', 'secret', 'routingKey', 'token'] as const;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** True when the text uses at least one `${VAR}` reference (`$${` is a literal, not a reference). */
export function hasReference(text: string): boolean {
  return /\$\{/.test(text.replace(/\$\$\{/g, ''));
}

/** The `alerts` entries of the file as written, by name. */
function writtenChannels(yamlText: string): Map<string, { index: number; spec: ChannelSpec }> {
  const out = new Map<string, { index: number; spec: ChannelSpec }>();
  const doc: unknown = parse(yamlText, { maxAliasCount: 100 });
  const alerts = isRecord(doc) && Array.isArray(doc.alerts) ? doc.alerts : [];
  alerts.forEach((raw, index) => {
    if (!isRecord(raw) || typeof raw.name !== 'string') return;
    const spec: ChannelSpec = { name: raw.name, type: raw.type as ChannelSpec['type'] };
    for (const f of SECRET_FIELDS) if (typeof raw[f] === 'string') spec[f] = raw[f];
    if (typeof raw.when === 'string') spec.when = raw.when;
    if (typeof raw.channel === 'string') spec.channel = raw.channel;
    out.set(raw.name, { index, spec });
  });
  return out;
}

/**
 * The named channels as the file wrote them, each field that holds a secret checked to be a `${VAR}`
 * reference (a problem added for each one that is not); an undeclared name gives nothing.
 */
function travellingSpecs(
  written: Map<string, { index: number; spec: ChannelSpec }>,
  names: string[],
  problems: Set<string>,
  rules: Record<string, string> = {},
): ChannelSpec[] {
  return names.flatMap((name) => {
    const w = written.get(name);
    if (!w) return [];
    for (const f of SECRET_FIELDS) {
      const v = w.spec[f];
      if (v !== undefined && !hasReference(v))
        problems.add(
          `alerts[${w.index}] (${name}).${f}: must use a \${VAR} reference: alert channels travel with ` +
            `a schedule, backfill or ingest into workflow history, which never holds a URL, secret, ` +
            `routing key or token (the worker reads the variable from its own environment)`,
        );
    }
    // An export's own rule for the channel (the parser refused one on a channel that has its own).
    return [rules[name] === undefined ? w.spec : { ...w.spec, when: rules[name] }];
  });
}

/**
 * Each export of a valid file with its `alerting` attached. Throws DefinitionsError naming every channel
 * field of a used channel that is written literally.
 */
export function attachAlertRouting(
  defs: ExportDefinitions,
  yamlText: string,
  file?: string,
): ExportDefinitions {
  const written = writtenChannels(yamlText);
  const problems = new Set<string>();
  const exports = defs.exports.map((def) => {
    const alerting: AlertRouting = {
      channels: travellingSpecs(written, def.alerts, problems, def.alertRules),
      ...(def.onSuccess?.length ? { onSuccess: travellingSpecs(written, def.onSuccess, problems) } : {}),
    };
    return { ...def, alerting };
  });
  if (problems.size > 0) throw new DefinitionsError([...problems], file);
  return { ...defs, exports };
}

/** The channel name that means the worker's own default channel (ALERT_WEBHOOK_URL). */
export const DEFAULT_CHANNEL_NAME = 'default';

/**
 * The routing of something that is not an export (`ingest --alert`): the named channels of the definitions
 * file at `path`, as written, checked as an export's are. `default` alone needs no file. Throws
 * DefinitionsError naming every problem: the file's own, an undeclared channel, a literal secret.
 */
export function namedChannelRouting(
  names: string[],
  path: string,
  env: Record<string, string | undefined> = process.env,
): AlertRouting {
  const wanted = names.filter((n) => n !== DEFAULT_CHANNEL_NAME);
  if (wanted.length === 0) return { channels: [] };
  const defs = loadDefinitionsFile(path, env);
  const written = writtenChannels(readFileSync(path, 'utf8'));
  const declared = defs.alerts.map((a) => a.name);
  const problems = new Set<string>();
  for (const n of wanted)
    if (!declared.includes(n))
      problems.add(
        `no alert channel named ${n} is declared under alerts (declared: ${declared.join(', ') || 'none'})`,
      );
  const channels = travellingSpecs(written, wanted, problems);
  if (problems.size > 0) throw new DefinitionsError([...problems], path);
  return { channels };
}

/** loadDefinitionsFile, then the routing each export carries into Temporal. */
export function loadRoutedDefinitionsFile(
  path: string,
  env: Record<string, string | undefined> = process.env,
): ExportDefinitions {
  const defs = loadDefinitionsFile(path, env);
  return attachAlertRouting(defs, readFileSync(path, 'utf8'), path);
}
