import type { M3terEvent } from '../../../src/m3ter/schemas';
import { parseRejectionEvent, RejectionJoin } from '../../../src/ingest/rejections';
import { derivedUid } from '../../../src/ingest/uid';

const SHA = 'cd'.repeat(32);
let n = 0;
const event = (eventData: Record<string, unknown>, extra: Partial<M3terEvent> = {}): M3terEvent => ({
  id: `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
  eventName: 'ingest.validation.failure',
  eventTime: '2026-01-01T00:00:00Z',
  m3terEvent: { eventData },
  ...extra,
});

describe('an IngestValidationFailure event', () => {
  it('yields its uid, type and reason from the places the payload may hold them', () => {
    expect(
      parseRejectionEvent(event({ uid: 'u1', failureType: 'UndefinedMeter', errorMessage: 'no meter' })),
    ).toMatchObject({
      uid: 'u1',
      type: 'UndefinedMeter',
      reason: 'no meter',
    });
    expect(parseRejectionEvent(event({ measurement: { uid: 'u2' }, type: 'MissingField' }))).toMatchObject({
      uid: 'u2',
      type: 'MissingField',
      reason: '',
    });
    expect(parseRejectionEvent(event({}, { resourceId: 'u3' } as Partial<M3terEvent>))?.uid).toBe('u3');
    expect(parseRejectionEvent(event({ failureType: 'X' }))).toBeUndefined();
  });

  it('keeps control characters and escapes out of the reason', () => {
    expect(parseRejectionEvent(event({ uid: 'u', errorMessage: 'bad\u001b[31m red\u0007' }))?.reason).toBe(
      'bad red',
    );
  });
});

describe('joining rejections to lines', () => {
  it('reads the line from a derived uid and ignores uids of other files', () => {
    const join = new RejectionJoin({ sha256: SHA });
    expect(
      join.add({ eventId: 'a', uid: derivedUid(SHA, 42), type: 'UndefinedMeter', reason: 'r' }, false),
    ).toBe(true);
    expect(
      join.add(
        { eventId: 'b', uid: derivedUid('ef'.repeat(32), 43), type: 'UndefinedMeter', reason: 'r' },
        false,
      ),
    ).toBe(false);
    expect(join.summary(100, 10, 'now')).toMatchObject({
      rejected: 1,
      accepted: 99,
      firstRejected: [{ line: 42 }],
    });
  });

  it("counts a DuplicateUid of a derived uid as this ingest's own resend, not a rejection", () => {
    const join = new RejectionJoin({ sha256: SHA });
    join.add({ eventId: 'a', uid: derivedUid(SHA, 7), type: 'DuplicateUid', reason: 'r' }, false);
    expect(join.summary(10, 10, 'now')).toMatchObject({ rejected: 0, resendDuplicates: 1 });
  });

  it('rejects the repeats of an own uid the file holds twice, and counts a single one as a resend', () => {
    const join = new RejectionJoin({ sha256: SHA });
    join.add({ eventId: 'a', uid: 'twice', type: 'DuplicateUid', reason: 'dup' }, true);
    join.add({ eventId: 'b', uid: 'once', type: 'DuplicateUid', reason: 'dup' }, true);
    join.add({ eventId: 'c', uid: 'bad', type: 'MissingField', reason: 'm' }, true);
    join.add({ eventId: 'd', uid: 'elsewhere', type: 'MissingField', reason: 'm' }, true);
    expect(join.ownUidsToFind()).toEqual(new Set(['twice', 'once', 'bad', 'elsewhere']));
    join.resolveOwnUids(
      new Map([
        ['twice', [3, 9]],
        ['once', [4]],
        ['bad', [5]],
      ]),
    );
    const s = join.summary(20, 10, 'now');
    expect(s.firstRejected.map((r) => [r.line, r.type])).toEqual([
      [5, 'MissingField'],
      [9, 'DuplicateUid'],
    ]);
    expect(s.resendDuplicates).toBe(1);
  });
});
