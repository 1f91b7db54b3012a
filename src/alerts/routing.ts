// The worker's side of routing that travels with an export (src/contract/alert-routing.ts): each channel as
// its definitions file wrote it, resolved now from the worker's own environment and checked with the
// definitions file's own rules (the same parser, so the same messages). A channel that cannot be resolved
// is never dropped in silence: the router sends the alert to the default channel with a note naming the
// channel and what is missing (src/alerts/router.ts).
import type { AlertRouting, ChannelSpec } from '../contract/alert-routing';
import { DefinitionsError, parseDefinitions } from '../definitions/parse';
import type { AlertChannelDefinition } from '../definitions/types';

export interface ResolvedRouting {
  channels: AlertChannelDefinition[];
  /** Channels that cannot be used, each with its problems (`channel <name>: <field>: <rule>`; no values). */
  unusable: Array<{ name: string; type: string; problems: string[] }>;
}

function resolveOne(
  spec: ChannelSpec,
  env: Record<string, string | undefined>,
): { channel?: AlertChannelDefinition; problems: string[] } {
  // JSON is YAML: the channel goes through the very parser and rules the file went through.
  const text = JSON.stringify({ alerts: [spec], exports: [] });
  try {
    const defs = parseDefinitions(text, env);
    return { channel: defs.alerts[0], problems: [] };
  } catch (err) {
    if (!(err instanceof DefinitionsError)) throw err;
    const prefix = /^alerts\[0\](?: \([^)]*\))?\.?/;
    return {
      problems: err.problems.map(
        (p) =>
          `channel ${spec.name}: ${p.replace(prefix, '').replace(/in the environment/g, "in the worker's environment")}`,
      ),
    };
  }
}

export function resolveRouting(
  routing: AlertRouting,
  env: Record<string, string | undefined> = process.env,
): ResolvedRouting {
  const out: ResolvedRouting = { channels: [], unusable: [] };
  for (const spec of routing.channels) {
    const r = resolveOne(spec, env);
    if (r.channel) out.channels.push(r.channel);
    else out.unusable.push({ name: spec.name, type: spec.type, problems: r.problems });
  }
  return out;
}
