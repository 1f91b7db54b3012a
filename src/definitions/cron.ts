// Offline validation of the cron expressions a definition gives a Temporal Schedule
// (`spec.cronExpressions`, interpreted by the server in the schedule's time zone).
//
// We accept the classic 5 fields (minute hour day-of-month month day-of-week), each `*`, a number, a
// range `a-b`, a step `*/n`, `a-b/n` or `a/n` (a to the field's maximum), or a comma-separated list of
// those; months may be named JAN-DEC and days SUN-SAT (any case); day-of-week 7 is Sunday, as 0. That is a
// subset of what the Temporal server parses, so nothing accepted here is refused at apply time. The
// server's extras (6 and 7 fields with seconds/years, @daily-style shortcuts, TZ= prefixes) are refused:
// the time zone belongs in the definition's `timezone`, and one spelling keeps the files reviewable.
//
// Note that Temporal matches a day only when BOTH day-of-month and day-of-week match (classic cron
// matches either when both are restricted): `0 2 1-7 * MON` is "02:00 on the first Monday of the month".

interface FieldSpec {
  label: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** Value of names[0]. */
  namesFrom?: number;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] as const;
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

const FIELDS: readonly FieldSpec[] = [
  { label: 'minute', min: 0, max: 59 },
  { label: 'hour', min: 0, max: 23 },
  { label: 'day-of-month', min: 1, max: 31 },
  { label: 'month', min: 1, max: 12, names: MONTHS, namesFrom: 1 },
  { label: 'day-of-week', min: 0, max: 7, names: DAYS, namesFrom: 0 },
];

export interface CronCheckOptions {
  /**
   * Quote offending parts of the expression in messages (default true). Pass false when the expression
   * came from an environment variable, whose value must never be printed.
   */
  showValues?: boolean;
}

/** Every problem with a 5-field cron expression, as rule messages (empty when valid). */
export function cronProblems(expression: string, opts: CronCheckOptions = {}): string[] {
  const show = opts.showValues ?? true;
  if (typeof expression !== 'string') return ['must be a string'];
  const trimmed = expression.trim();
  if (trimmed.startsWith('@')) {
    return ['@-shortcuts (such as @daily) are not supported; write the 5 fields, e.g. 0 0 * * * for daily'];
  }
  if (/^(CRON_)?TZ=/i.test(trimmed)) {
    return ["a TZ= prefix is not supported; set the export's timezone instead"];
  }
  const fields = trimmed === '' ? [] : trimmed.split(/\s+/);
  if (fields.length !== 5) {
    return [`${fields.length} field${fields.length === 1 ? '' : 's'} given, 5 expected`];
  }
  const problems: string[] = [];
  fields.forEach((text, i) => {
    for (const p of fieldProblems(text, FIELDS[i], show)) {
      problems.push(`field ${i + 1} (${FIELDS[i].label}): ${p}`);
    }
  });
  return problems;
}

function fieldProblems(text: string, spec: FieldSpec, show: boolean): string[] {
  const problems: string[] = [];
  const q = (s: string, fallback: string) => (show ? s : fallback);
  for (const item of text.split(',')) {
    if (item === '') {
      problems.push('has an empty list item');
      continue;
    }
    const slash = item.split('/');
    if (slash.length > 2) {
      problems.push(q(`${item} has more than one /`, 'a list item has more than one /'));
      continue;
    }
    const [base, stepText] = slash;
    if (stepText !== undefined) {
      const step = /^\d+$/.test(stepText) ? Number(stepText) : NaN;
      const maxStep = spec.max - spec.min;
      if (!(step >= 1 && step <= maxStep)) {
        problems.push(
          q(
            `step ${stepText} must be a whole number from 1 to ${maxStep}`,
            `a step must be a whole number from 1 to ${maxStep}`,
          ),
        );
      }
    }
    if (base === '*') continue;
    if (base === '') {
      problems.push(q(`${item} has no value before /`, 'a step has no value before /'));
      continue;
    }
    const dash = base.split('-');
    if (dash.length > 2) {
      problems.push(q(`${base} is not a value or a range a-b`, 'an item is not a value or a range a-b'));
      continue;
    }
    const values = dash.map((v) => valueOf(v, spec, show, problems));
    if (dash.length === 2 && values[0] !== undefined && values[1] !== undefined && values[1] < values[0]) {
      problems.push(q(`range ${base} goes backwards`, 'a range goes backwards'));
    }
  }
  return problems;
}

function valueOf(text: string, spec: FieldSpec, show: boolean, problems: string[]): number | undefined {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < spec.min || n > spec.max) {
      problems.push(
        show
          ? `${text} is out of range ${spec.min}-${spec.max}`
          : `a value is out of range ${spec.min}-${spec.max}`,
      );
      return undefined;
    }
    return n;
  }
  if (spec.names) {
    const i = spec.names.indexOf(text.toUpperCase() as never);
    if (i !== -1) return i + (spec.namesFrom ?? 0);
  }
  const allowed = spec.names
    ? `a number ${spec.min}-${spec.max} or a name ${spec.names[0]}-${spec.names[spec.names.length - 1]}`
    : `a number ${spec.min}-${spec.max}`;
  problems.push(show ? `${text || '(empty)'} is not ${allowed}` : `a value is not ${allowed}`);
  return undefined;
}
