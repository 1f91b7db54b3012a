import {
  failureEventJobId,
  failureEventMessage,
  failureEventScheduleId,
} from '../../../activities/failure-events';
import type { M3terEvent } from '../../../src/m3ter/schemas';

const ev = (m3terEvent: Record<string, unknown>, extra: Record<string, unknown> = {}): M3terEvent =>
  ({
    id: 'e1',
    eventName: 'dataexport.job.failure',
    eventTime: '2026-01-01T00:00:00Z',
    m3terEvent,
    ...extra,
  }) as M3terEvent;

describe('DataExportJobFailure payloads, read defensively', () => {
  it('finds the job id wherever a plausible payload puts it', () => {
    expect(failureEventJobId(ev({ eventData: { jobId: 'j-1' } }))).toBe('j-1');
    expect(failureEventJobId(ev({ eventData: { exportJobId: 'j-2' } }))).toBe('j-2');
    expect(failureEventJobId(ev({ eventData: { newDto: { id: 'j-3' } } }))).toBe('j-3');
    expect(failureEventJobId(ev({ eventData: { new: { id: 'j-4' } } }))).toBe('j-4');
    expect(failureEventJobId(ev({ eventData: { job: { id: 'j-5' } } }))).toBe('j-5');
    expect(failureEventJobId(ev({ eventData: {} }, { resourceId: 'j-6' }))).toBe('j-6');
  });

  it('accepts only id-shaped values, so nothing odd reaches a visibility query', () => {
    expect(failureEventJobId(ev({ eventData: { jobId: "x' OR 1=1 --" } }))).toBeUndefined();
    expect(failureEventJobId(ev({ eventData: { jobId: 42 } }))).toBeUndefined();
    expect(failureEventJobId(ev({}))).toBeUndefined();
    expect(failureEventJobId(ev({ eventData: 'nonsense' }))).toBeUndefined();
  });

  it('finds the schedule id and the reason', () => {
    const e = ev({ eventData: { jobId: 'j', scheduleId: 's-1', errorMessage: 'bucket denied' } });
    expect(failureEventScheduleId(e)).toBe('s-1');
    expect(failureEventMessage(e)).toBe('bucket denied');
    expect(failureEventScheduleId(ev({ eventData: { schedule: { id: 's-2' } } }))).toBe('s-2');
    expect(failureEventMessage(ev({ eventData: {} }))).toBeUndefined();
  });
});
