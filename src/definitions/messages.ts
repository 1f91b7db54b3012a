// Rule messages phrased for a YAML file: "must be a mapping" and "must be a list" rather than
// JavaScript type names. Like the ad-hoc path's messages they never quote the offending value.
import type { z } from 'zod';
import { ruleMessage } from '../m3ter/validation';

/** Messages in terms of a YAML file (mapping, list) rather than JavaScript types. */
export function definitionRule(iss: z.core.$ZodRawIssue): string | undefined {
  // zod reports a missing enum field as a wrong value; a missing field is what it is.
  if (iss.input === undefined && (iss.code === 'invalid_type' || iss.code === 'invalid_value')) {
    return 'is required';
  }
  if (iss.code === 'invalid_type') {
    if (iss.expected === 'object' || iss.expected === 'record') return 'must be a mapping';
    if (iss.expected === 'array') return 'must be a list';
    if (iss.expected === 'boolean') return 'must be true or false';
  }
  return ruleMessage(iss);
}

export function unknownFieldMessage(key: string, allowed: readonly string[]): string {
  const distance = (k: string) => editDistance(k.toLowerCase(), key.toLowerCase());
  const close = allowed.filter((k) => distance(k) <= 2).sort((a, b) => distance(a) - distance(b));
  return close.length > 0
    ? `is not a recognised field (did you mean ${close[0]}?)`
    : `is not a recognised field (allowed: ${allowed.join(', ')})`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
