// The request of an export definition is the ad-hoc request body without what the schedule supplies:
// `sourceType` comes from `kind`, the dates from the window. It is validated offline with the very schemas
// the ad-hoc path uses, by completing it with a placeholder window.
import type { z } from 'zod';
import { BillsCsvRequestSchema, createAdhocExportRequestSchema } from '../m3ter/schemas';
import type { ExportWindow } from '../windows/windows';
import type { PathSegment, Problem } from './env';
import { definitionRule } from './messages';
import type { DefinitionWindow, ExportDefinition, ExportDefinitionKind } from './types';

const SOURCE_TYPE = { usage: 'USAGE', operational: 'OPERATIONAL' } as const;

// Any past window works: only the request's own fields are being checked. "Now" sits inside the window
// so that the usage rule "endDate <= tomorrow 00:00 UTC" holds.
const PLACEHOLDER_WINDOW: ExportWindow = {
  start: '2000-01-01T00:00:00.000Z',
  end: '2000-01-02T00:00:00.000Z',
};
const PLACEHOLDER_NOW = Date.parse('2000-01-01T12:00:00.000Z');

const adhocSchema = createAdhocExportRequestSchema(() => PLACEHOLDER_NOW);

/** Whether an export of this kind and window sends a startDate (and an endDate). */
function datesFor(kind: ExportDefinitionKind, window: DefinitionWindow): { start: boolean; end: boolean } {
  if (kind === 'operational') return { start: window !== 'none', end: false };
  return { start: true, end: true };
}

/**
 * The ad-hoc request body for one window: the definition's request plus `sourceType` (usage,
 * operational) and the window's dates. Operational exports send only `startDate` (the window start), and
 * nothing for `window: none` (a snapshot), whatever window is passed.
 */
export function requestForWindow(
  def: ExportDefinition,
  window: ExportWindow | undefined,
): Record<string, unknown> {
  const dates = datesFor(def.kind, def.window);
  if (dates.start && !window) {
    throw new RangeError(`export ${def.name}: a ${def.kind} export with window ${def.window} needs a window`);
  }
  const body: Record<string, unknown> = {};
  if (def.kind !== 'bills') body.sourceType = SOURCE_TYPE[def.kind];
  Object.assign(body, structuredClone(def.request));
  if (dates.start && window) body.startDate = window.start;
  if (dates.end && window) body.endDate = window.end;
  return body;
}

/**
 * Problems with a definition's request (paths relative to the export entry, under `request`). `kind` and
 * `window` must already be valid.
 */
export function requestProblems(
  kind: ExportDefinitionKind,
  window: DefinitionWindow,
  request: Record<string, unknown>,
): Problem[] {
  const problems: Problem[] = [];
  const body: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(request)) {
    if (key === 'startDate' || key === 'endDate') {
      problems.push({
        path: ['request', key],
        message: "must not be set: an export's dates come from its window",
      });
    } else if (key === 'sourceType' && kind !== 'bills') {
      problems.push({ path: ['request', key], message: 'must not be set: it comes from kind' });
    } else {
      body[key] = value;
    }
  }
  const complete = requestForWindow(
    { name: 'placeholder', kind, window, request: body } as ExportDefinition,
    PLACEHOLDER_WINDOW,
  );
  const schema: z.ZodType = kind === 'bills' ? BillsCsvRequestSchema : adhocSchema;
  const r = schema.safeParse(complete, { error: definitionRule });
  if (!r.success) problems.push(...zodProblems(r.error, ['request']));
  return problems;
}

/** zod issues as problems: one per unknown key (at the key's path), integer rules named as such. */
export function zodProblems(
  error: z.ZodError,
  base: PathSegment[],
  unknownKey: (key: string, path: PathSegment[]) => string = () => 'is not a recognised field',
): Problem[] {
  return error.issues.flatMap((issue): Problem[] => {
    const path = [...base, ...(issue.path as PathSegment[])];
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => ({ path: [...path, k], message: unknownKey(k, path) }));
    }
    const message =
      issue.code === 'invalid_type' && issue.expected === 'int' ? 'must be an integer' : issue.message;
    return [{ path, message }];
  });
}
