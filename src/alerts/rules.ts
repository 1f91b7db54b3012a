// Routing rules: a channel with `when: <calculation>` (m3ter's calculation language, as users write it for
// their Notifications) gets a failure only when m3ter evaluates the calculation true against that
// failure's DataExportJobFailure event (POST /notifications/evaluate with its eventId). `schedules apply`
// checks every rule against the event type first (eventName), so a rule m3ter cannot read is refused before
// anything is created.
//
// ASSUMPTION (docs/m3ter-api.md, Evaluate semantics): m3ter's `success` may mean "valid" or "evaluated to
// true". Checking a rule against the event TYPE, a non-empty errorMessage is taken as "invalid" and
// anything else as valid (a valid rule may well be false for the sample event). Evaluating against one
// EVENT, `success: true` routes the failure to the channel, `success: false` without an errorMessage does
// not, and an errorMessage means m3ter could not evaluate it: treated like m3ter being unreachable.
import type { AlertRouting, ChannelSpec } from '../contract/alert-routing';
import type { ExportDefinitions } from '../definitions/types';

/** The event name of the event type failures raise (docs/m3ter-api.md, DataExportJobFailure). */
export const FAILURE_EVENT_NAME = 'dataexport.job.failure';

export type Evaluate = (req: {
  calculation: string;
  eventId?: string;
  eventName?: string;
}) => Promise<{ success: boolean; errorMessage?: string | null }>;

/** Every rule of every channel an export uses, checked with m3ter; one problem line per invalid rule. */
export async function ruleProblems(defs: ExportDefinitions, evaluate: Evaluate): Promise<string[]> {
  const problems: string[] = [];
  const checked = new Map<string, string | undefined>();
  for (const def of defs.exports) {
    for (const spec of [...(def.alerting?.channels ?? []), ...(def.alerting?.onSuccess ?? [])]) {
      if (!spec.when) continue;
      if (!checked.has(spec.when)) {
        const r = await evaluate({ calculation: spec.when, eventName: FAILURE_EVENT_NAME });
        checked.set(spec.when, r.errorMessage ? r.errorMessage : undefined);
      }
      const message = checked.get(spec.when);
      if (message)
        problems.push(
          `exports (${def.name}): channel ${spec.name}: when: m3ter refused the calculation: ${message}`,
        );
    }
  }
  return problems;
}

export interface RuledRouting {
  routing: AlertRouting;
  /** Said in the alert when the rules could not be evaluated. */
  note?: string;
}

/**
 * The channels a failure goes to under its channels' rules. When m3ter cannot be asked (no event id, an
 * error, an unreadable rule), the channels without a rule get it (the worker's default channel when there
 * are none), never nobody, and the note says why.
 */
export async function applyRules(
  routing: AlertRouting,
  eventId: string | undefined,
  evaluate: Evaluate,
): Promise<RuledRouting> {
  const ruled = routing.channels.filter((c) => c.when);
  if (ruled.length === 0) return { routing };
  const plain = routing.channels.filter((c) => !c.when);
  const fallback = (why: string): RuledRouting => ({
    routing: { ...routing, channels: plain },
    note:
      `Routing rules of ${ruled.map((c) => c.name).join(', ')} not evaluated (${why}); ` +
      `sent to the export's channels without a rule${plain.length === 0 ? ' (none: the default channel)' : ''}`,
  });
  if (!eventId) return fallback('no DataExportJobFailure event found for this failure');
  const chosen: ChannelSpec[] = [...plain];
  for (const c of ruled) {
    let r;
    try {
      r = await evaluate({ calculation: c.when as string, eventId });
    } catch (err) {
      return fallback(`m3ter could not be asked: ${(err as Error).message}`);
    }
    if (r.errorMessage) return fallback(`m3ter could not evaluate ${c.name}'s rule: ${r.errorMessage}`);
    if (r.success) chosen.push(c);
  }
  return { routing: { ...routing, channels: chosen } };
}
