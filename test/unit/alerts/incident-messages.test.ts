// What an incident's messages say on each channel: the opened message is the failure's own alert, an update
// names the count and latest window, a resolve lists the failed windows in order with their re-run state,
// and PagerDuty gets trigger then resolve on the incident's own dedup_key.
import { incidentAlert, incidentOf } from '../../../activities/incident-activities';
import { buildAlertMessage, pagerDutyEvent, slackPayload } from '../../../src/alerts';
import type { IncidentFailure, IncidentNote } from '../../../src/contract/incidents';

const failure: IncidentFailure = {
  key: 'alert:job-9',
  kind: 'ExportJobFailed',
  message: 'export job job-9 FAILED',
  at: '2026-05-05T10:00:00.000Z',
  jobId: 'job-9',
  workflowId: 'export:usage:hourly:2026-05-05T09:00:00Z',
  exportName: 'hourly',
  window: { start: '2026-05-05T09:00:00.000Z' },
};
const note = (event: IncidentNote['event'], extra: Partial<IncidentNote> = {}): IncidentNote => ({
  id: 'incident:export:hourly:2026-05-05T08:00:00.000Z',
  event,
  subject: 'export hourly',
  openedAt: '2026-05-05T08:00:00.000Z',
  failures: 3,
  ...extra,
});

describe('incident messages', () => {
  it('belong to the export, or to the m3ter schedule of a job no workflow owns; not freshness alerts', () => {
    expect(incidentOf({ kind: 'ExportJobFailed', message: 'x', exportName: 'hourly' })?.workflowId).toBe(
      'incident:export:hourly',
    );
    expect(incidentOf({ kind: 'ExportJobFailed', message: 'x', scheduleId: 's-1' })?.workflowId).toBe(
      'incident:schedule:s-1',
    );
    expect(incidentOf({ kind: 'ExportStale', message: 'x', exportName: 'hourly' })).toBeUndefined();
  });

  it('an update names the count and the latest window; its title says it is still failing', () => {
    const a = incidentAlert({ failure, note: note('updated') });
    expect(buildAlertMessage(a).title).toBe(
      'ExportJobFailed: hourly still failing, 3 failures since 2026-05-05T08:00:00.000Z',
    );
    expect(a.message).toBe('Latest failure (from 2026-05-05T09:00:00.000Z): export job job-9 FAILED');
    expect(JSON.stringify(slackPayload(buildAlertMessage(a)))).toContain('updated, 3 failure(s)');
  });

  it('a resolve lists the failed windows in window order with their re-run state, and PagerDuty resolves', () => {
    const windows = [
      { kind: 'ExportJobFailed', at: 'x', workflowId: 'w2', window: { start: '2026-05-05T09:00:00.000Z' } },
      { kind: 'ExportJobFailed', at: 'x', workflowId: 'w1', window: { start: '2026-05-05T08:00:00.000Z' } },
    ];
    const a = incidentAlert({
      failure,
      note: note('resolved', {
        failures: 2,
        windows: [
          { ...windows[0], rerun: 'not re-run' },
          { ...windows[1], rerun: 'succeeded' },
        ],
      }),
      success: { workflowId: 'w3', at: 'y', window: { start: '2026-05-05T10:00:00.000Z' } },
    });
    expect(a.kind).toBe('IncidentResolved');
    expect(a.message).toBe(
      'Recovered: window from 2026-05-05T10:00:00.000Z succeeded, after 2 failures since 2026-05-05T08:00:00.000Z. ' +
        'Failed: from 2026-05-05T08:00:00.000Z (re-run, succeeded); from 2026-05-05T09:00:00.000Z (not re-run)',
    );
    const m = buildAlertMessage(a);
    expect(m.rerunCommand).toBeUndefined();
    expect(pagerDutyEvent(m, 'rk', new Date())).toEqual({
      routing_key: 'rk',
      event_action: 'resolve',
      dedup_key: 'incident:export:hourly:2026-05-05T08:00:00.000Z',
    });
    const opened = pagerDutyEvent(
      buildAlertMessage(incidentAlert({ failure, note: note('opened') })),
      'rk',
      new Date(),
    );
    expect(opened).toMatchObject({
      event_action: 'trigger',
      dedup_key: 'incident:export:hourly:2026-05-05T08:00:00.000Z',
    });
  });
});
