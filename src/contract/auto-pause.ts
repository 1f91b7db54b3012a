// Auto-pause: a schedule whose export keeps failing stops triggering ExportJobs against m3ter's budget.
// `pauseAfter: { failures: N, of: M }` pauses it when N of its last M windows failed; `{ consecutive: N }`
// when its last N windows all failed. The scheduled-export workflow checks the rule after a failed window
// (activities/auto-pause.ts); `schedules unpause` resumes it. Pure.
export type PauseRule = { failures: number; of: number } | { consecutive: number };

/** The rule in words, as the pause note and the alert say it. */
export function pauseRuleText(rule: PauseRule): string {
  return 'consecutive' in rule
    ? `pauseAfter: ${rule.consecutive} consecutive failed windows`
    : `pauseAfter: ${rule.failures} failed of the last ${rule.of} windows`;
}

/** The note of a schedule auto-paused by this tool starts with this. */
export const AUTO_PAUSE_NOTE_PREFIX = 'auto-paused by m3ter-exports';

/**
 * Whether the rule is met, given the latest windows' outcomes newest first (true = failed).
 * `consecutive: N`: the newest N all failed; `failures: N, of: M`: at least N failed among the newest M.
 */
export function pauseRuleMet(rule: PauseRule, newestFirst: boolean[]): boolean {
  if ('consecutive' in rule)
    return newestFirst.length >= rule.consecutive && newestFirst.slice(0, rule.consecutive).every(Boolean);
  return newestFirst.slice(0, rule.of).filter(Boolean).length >= rule.failures;
}
