// Expected windows are written out literally from the zones' offsets, not computed:
//   Europe/London      GMT = UTC+0, BST = UTC+1; 2026: BST from 29 Mar 01:00Z to 25 Oct 01:00Z
//   America/New_York   EST = UTC-5, EDT = UTC-4; 2026: EDT from 8 Mar 07:00Z to 1 Nov 06:00Z
//   Asia/Kolkata       IST = UTC+5:30 all year
import {
  countWindowsInRange,
  isValidTimeZone,
  iterateWindowsInRange,
  localMidnight,
  periodContaining,
  windowForNominalTime,
  windowsInRange,
  type ExportWindow,
  type WindowUnit,
} from '../../../src/windows';

const LON = 'Europe/London';
const NY = 'America/New_York';
const KOL = 'Asia/Kolkata';

const w = (start: string, end: string): ExportWindow => ({
  start: `${start}:00.000Z`,
  end: `${end}:00.000Z`,
});
const hours = (x: ExportWindow) => (Date.parse(x.end) - Date.parse(x.start)) / 3_600_000;

type Case = [nominal: string, timeZone: string, expected: ExportWindow, what: string];

describe('windowForNominalTime: day', () => {
  it.each<Case>([
    ['2026-03-30T02:00:00Z', 'UTC', w('2026-03-29T00:00', '2026-03-30T00:00'), 'UTC'],
    // 02:00 BST on 30 Mar; 29 Mar is the spring-forward day, 23 hours long
    ['2026-03-30T01:00:00Z', LON, w('2026-03-29T00:00', '2026-03-29T23:00'), 'London spring forward'],
    ['2026-03-30T02:00:00+01:00', LON, w('2026-03-29T00:00', '2026-03-29T23:00'), 'same, offset input'],
    // 25 Oct starts 00:00 BST (24 Oct 23:00Z), ends 26 Oct 00:00 GMT: 25 hours
    ['2026-10-26T02:00:00Z', LON, w('2026-10-24T23:00', '2026-10-26T00:00'), 'London fall back'],
    ['2026-07-15T02:00:00Z', LON, w('2026-07-13T23:00', '2026-07-14T23:00'), 'London summer'],
    // 8 Mar starts 00:00 EST (05:00Z), ends 9 Mar 00:00 EDT (04:00Z): 23 hours
    ['2026-03-09T06:00:00Z', NY, w('2026-03-08T05:00', '2026-03-09T04:00'), 'New York spring forward'],
    // 1 Nov starts 00:00 EDT (04:00Z), ends 2 Nov 00:00 EST (05:00Z): 25 hours
    ['2026-11-02T07:00:00Z', NY, w('2026-11-01T04:00', '2026-11-02T05:00'), 'New York fall back'],
    // 02:00 IST on 30 Mar = 29 Mar 20:30Z; 29 Mar IST = [28 Mar 18:30Z, 29 Mar 18:30Z)
    ['2026-03-29T20:30:00Z', KOL, w('2026-03-28T18:30', '2026-03-29T18:30'), 'Kolkata'],
    ['2026-10-25T20:30:00Z', KOL, w('2026-10-24T18:30', '2026-10-25T18:30'), 'Kolkata in UK fall-back week'],
  ])('%s in %s -> %o (%s)', (nominal, tz, expected) => {
    expect(windowForNominalTime(nominal, 'day', tz)).toEqual(expected);
  });

  it('DST days are 23 and 25 hours long, ordinary days 24', () => {
    expect(hours(windowForNominalTime('2026-03-30T01:00:00Z', 'day', LON))).toBe(23);
    expect(hours(windowForNominalTime('2026-10-26T02:00:00Z', 'day', LON))).toBe(25);
    expect(hours(windowForNominalTime('2026-03-09T06:00:00Z', 'day', NY))).toBe(23);
    expect(hours(windowForNominalTime('2026-11-02T07:00:00Z', 'day', NY))).toBe(25);
    expect(hours(windowForNominalTime('2026-06-02T07:00:00Z', 'day', NY))).toBe(24);
  });

  it('a nominal time exactly at a period start exports the whole previous period', () => {
    // 30 Mar 00:00 BST = 29 Mar 23:00Z is itself the start of 30 Mar
    expect(windowForNominalTime('2026-03-29T23:00:00Z', 'day', LON)).toEqual(
      w('2026-03-29T00:00', '2026-03-29T23:00'),
    );
    // one millisecond earlier is still 29 Mar: its window is 28 Mar
    expect(windowForNominalTime('2026-03-29T22:59:59.999Z', 'day', LON)).toEqual(
      w('2026-03-28T00:00', '2026-03-29T00:00'),
    );
  });

  it('month ends, the leap day and the year boundary', () => {
    expect(windowForNominalTime('2026-05-01T02:00:00Z', 'day', 'UTC')).toEqual(
      w('2026-04-30T00:00', '2026-05-01T00:00'),
    );
    expect(windowForNominalTime('2026-03-01T02:00:00Z', 'day', 'UTC')).toEqual(
      w('2026-02-28T00:00', '2026-03-01T00:00'),
    );
    expect(windowForNominalTime('2028-03-01T02:00:00Z', 'day', 'UTC')).toEqual(
      w('2028-02-29T00:00', '2028-03-01T00:00'),
    );
    expect(windowForNominalTime('2028-03-01T02:00:00Z', 'day', KOL)).toEqual(
      w('2028-02-28T18:30', '2028-02-29T18:30'), // 29 Feb 2028 IST, as 1 Mar 02:00Z is 1 Mar 07:30 IST
    );
    expect(windowForNominalTime('2027-01-01T02:00:00Z', 'day', 'UTC')).toEqual(
      w('2026-12-31T00:00', '2027-01-01T00:00'),
    );
    // 1 Jan 2027 12:00Z is 07:00 EST on 1 Jan: the window is 31 Dec EST
    expect(windowForNominalTime('2027-01-01T12:00:00Z', 'day', NY)).toEqual(
      w('2026-12-31T05:00', '2027-01-01T05:00'),
    );
    expect(windowForNominalTime('2027-01-01T02:00:00Z', 'day', LON)).toEqual(
      w('2026-12-31T00:00', '2027-01-01T00:00'),
    );
  });
});

describe('windowForNominalTime: hour', () => {
  it.each<Case>([
    ['2026-03-29T01:00:00Z', 'UTC', w('2026-03-29T00:00', '2026-03-29T01:00'), 'UTC'],
    ['2026-03-29T01:59:59Z', 'UTC', w('2026-03-29T00:00', '2026-03-29T01:00'), 'UTC, late in the hour'],
    // 02:30 BST (the first BST hour, starting 01:00Z): the previous hour is 00:00-01:00 GMT
    ['2026-03-29T01:30:00Z', LON, w('2026-03-29T00:00', '2026-03-29T01:00'), 'London spring: 00:00 GMT'],
    ['2026-03-29T02:00:00Z', LON, w('2026-03-29T01:00', '2026-03-29T02:00'), 'London spring: 02:00 BST'],
    // 01:00 GMT (the second 01:00): the previous hour is the first 01:00 (BST)
    ['2026-10-25T01:00:00Z', LON, w('2026-10-25T00:00', '2026-10-25T01:00'), 'London fall: first 01:00'],
    ['2026-10-25T02:00:00Z', LON, w('2026-10-25T01:00', '2026-10-25T02:00'), 'London fall: second 01:00'],
    // 03:00 EDT = 07:00Z: the previous hour is 01:00-02:00 EST
    ['2026-03-08T07:00:00Z', NY, w('2026-03-08T06:00', '2026-03-08T07:00'), 'New York spring'],
    ['2026-11-01T06:00:00Z', NY, w('2026-11-01T05:00', '2026-11-01T06:00'), 'New York fall: first 01:00'],
    ['2026-11-01T07:00:00Z', NY, w('2026-11-01T06:00', '2026-11-01T07:00'), 'New York fall: second 01:00'],
    // 15:30 IST = 10:00Z: IST hours start at :30 UTC
    ['2026-06-01T10:00:00Z', KOL, w('2026-06-01T08:30', '2026-06-01T09:30'), 'Kolkata'],
    ['2026-06-01T10:29:59Z', KOL, w('2026-06-01T08:30', '2026-06-01T09:30'), 'Kolkata, end of hour'],
    ['2026-06-01T10:30:00Z', KOL, w('2026-06-01T09:30', '2026-06-01T10:30'), 'Kolkata, next hour'],
    ['2027-01-01T00:00:00Z', 'UTC', w('2026-12-31T23:00', '2027-01-01T00:00'), 'year boundary'],
    ['2028-03-01T00:10:00Z', 'UTC', w('2028-02-29T23:00', '2028-03-01T00:00'), 'after the leap day'],
  ])('%s in %s -> %o (%s)', (nominal, tz, expected) => {
    expect(windowForNominalTime(nominal, 'hour', tz)).toEqual(expected);
  });

  it('the repeated 01:00 of a fall-back is two distinct hour periods', () => {
    expect(periodContaining('2026-10-25T00:30:00Z', 'hour', LON)).toEqual(
      w('2026-10-25T00:00', '2026-10-25T01:00'),
    );
    expect(periodContaining('2026-10-25T01:30:00Z', 'hour', LON)).toEqual(
      w('2026-10-25T01:00', '2026-10-25T02:00'),
    );
  });
});

describe('windowForNominalTime: week (ISO, Monday 00:00 local)', () => {
  it.each<Case>([
    // Monday 4 Jan 2027: the previous ISO week runs Mon 28 Dec 2026 .. Mon 4 Jan 2027
    ['2027-01-04T02:00:00Z', 'UTC', w('2026-12-28T00:00', '2027-01-04T00:00'), 'across the year end'],
    ['2027-01-03T23:59:59Z', 'UTC', w('2026-12-21T00:00', '2026-12-28T00:00'), 'Sunday before'],
    // week Mon 23 Mar (GMT) .. Mon 30 Mar 00:00 BST: 167 hours
    ['2026-03-30T01:00:00Z', LON, w('2026-03-23T00:00', '2026-03-29T23:00'), 'London spring'],
    // week Mon 19 Oct 00:00 BST .. Mon 26 Oct 00:00 GMT: 169 hours
    ['2026-10-26T09:00:00Z', LON, w('2026-10-18T23:00', '2026-10-26T00:00'), 'London fall'],
    ['2026-03-09T12:00:00Z', NY, w('2026-03-02T05:00', '2026-03-09T04:00'), 'New York spring'],
    ['2026-11-02T12:00:00Z', NY, w('2026-10-26T04:00', '2026-11-02T05:00'), 'New York fall'],
    // Mon 4 Jan 2027 00:00 IST = 3 Jan 18:30Z starts the week of the nominal time
    ['2027-01-03T18:30:00Z', KOL, w('2026-12-27T18:30', '2027-01-03T18:30'), 'Kolkata, year end'],
    ['2027-01-03T18:29:59Z', KOL, w('2026-12-20T18:30', '2026-12-27T18:30'), 'Kolkata, Sunday 23:59'],
  ])('%s in %s -> %o (%s)', (nominal, tz, expected) => {
    expect(windowForNominalTime(nominal, 'week', tz)).toEqual(expected);
  });

  it('weeks spanning a DST change are 167 or 169 hours', () => {
    expect(hours(windowForNominalTime('2026-03-30T01:00:00Z', 'week', LON))).toBe(167);
    expect(hours(windowForNominalTime('2026-10-26T09:00:00Z', 'week', LON))).toBe(169);
  });
});

describe('windowForNominalTime: month', () => {
  it.each<Case>([
    ['2026-04-01T00:00:00Z', 'UTC', w('2026-03-01T00:00', '2026-04-01T00:00'), 'UTC'],
    ['2026-04-02T03:00:00Z', LON, w('2026-03-01T00:00', '2026-03-31T23:00'), 'London March (spring)'],
    ['2026-11-02T03:00:00Z', LON, w('2026-09-30T23:00', '2026-11-01T00:00'), 'London October (fall)'],
    ['2026-04-02T12:00:00Z', NY, w('2026-03-01T05:00', '2026-04-01T04:00'), 'New York March'],
    ['2026-12-02T12:00:00Z', NY, w('2026-11-01T04:00', '2026-12-01T05:00'), 'New York November'],
    ['2028-03-02T00:00:00Z', KOL, w('2028-01-31T18:30', '2028-02-29T18:30'), 'Kolkata leap February'],
    ['2028-03-02T00:00:00Z', 'UTC', w('2028-02-01T00:00', '2028-03-01T00:00'), 'leap February'],
    ['2027-03-02T00:00:00Z', 'UTC', w('2027-02-01T00:00', '2027-03-01T00:00'), 'plain February'],
    ['2027-01-15T00:00:00Z', 'UTC', w('2026-12-01T00:00', '2027-01-01T00:00'), 'year boundary'],
    ['2027-01-01T04:59:59Z', NY, w('2026-11-01T04:00', '2026-12-01T05:00'), 'NY: still 31 Dec locally'],
  ])('%s in %s -> %o (%s)', (nominal, tz, expected) => {
    expect(windowForNominalTime(nominal, 'month', tz)).toEqual(expected);
  });

  it('month lengths: 29 days in Feb 2028, 28 in Feb 2027, 31 in Jan', () => {
    expect(hours(windowForNominalTime('2028-03-02T00:00:00Z', 'month', 'UTC'))).toBe(29 * 24);
    expect(hours(windowForNominalTime('2027-03-02T00:00:00Z', 'month', 'UTC'))).toBe(28 * 24);
    expect(hours(windowForNominalTime('2027-02-02T00:00:00Z', 'month', 'UTC'))).toBe(31 * 24);
    expect(hours(windowForNominalTime('2026-04-02T03:00:00Z', 'month', LON))).toBe(31 * 24 - 1);
  });
});

describe('zones whose midnight does not exist', () => {
  // America/Santiago (-04, -03 in summer) moves its clocks from 00:00 -04 to 01:00 -03 on 6 Sep 2026
  // (04:00Z), and from 00:00 -03 on 5 Apr 2026 (03:00Z) back to 23:00 -04 on the 4th.
  it('a day without a midnight starts at its first existing instant (01:00 local)', () => {
    expect(localMidnight('2026-09-06', 'America/Santiago').toISOString()).toBe('2026-09-06T04:00:00.000Z');
    expect(periodContaining('2026-09-06T12:00:00Z', 'day', 'America/Santiago')).toEqual(
      w('2026-09-06T04:00', '2026-09-07T03:00'), // 23 hours
    );
  });

  it('the day before a fall-back at midnight is 25 hours', () => {
    expect(periodContaining('2026-04-04T12:00:00Z', 'day', 'America/Santiago')).toEqual(
      w('2026-04-04T03:00', '2026-04-05T04:00'),
    );
  });

  // Asia/Beirut (+02 / +03): 29 Mar 2026 starts at 01:00 +03 (28 Mar 22:00Z); on 25 Oct 2026 00:00 +03
  // the clocks go back to 23:00 +02 on the 24th, so the 24th ends at 25 Oct 00:00 +02 (24 Oct 22:00Z).
  it('Asia/Beirut', () => {
    expect(periodContaining('2026-03-29T10:00:00Z', 'day', 'Asia/Beirut')).toEqual(
      w('2026-03-28T22:00', '2026-03-29T21:00'),
    );
    expect(periodContaining('2026-10-24T10:00:00Z', 'day', 'Asia/Beirut')).toEqual(
      w('2026-10-23T21:00', '2026-10-24T22:00'),
    );
  });
});

describe('periodContaining', () => {
  it.each<[string, WindowUnit, string, ExportWindow]>([
    ['2026-03-29T12:00:00Z', 'day', LON, w('2026-03-29T00:00', '2026-03-29T23:00')],
    ['2026-03-29T12:00:00Z', 'week', LON, w('2026-03-23T00:00', '2026-03-29T23:00')],
    ['2026-03-29T12:00:00Z', 'month', LON, w('2026-03-01T00:00', '2026-03-31T23:00')],
    ['2026-03-29T12:34:56.789Z', 'hour', LON, w('2026-03-29T12:00', '2026-03-29T13:00')],
    ['2026-03-29T12:34:56.789Z', 'hour', KOL, w('2026-03-29T12:30', '2026-03-29T13:30')],
  ])('%s %s in %s', (instant, unit, tz, expected) => {
    expect(periodContaining(instant, unit, tz)).toEqual(expected);
  });

  it('accepts Date objects and refuses zone-less strings and bad input', () => {
    expect(periodContaining(new Date('2026-03-29T12:00:00Z'), 'day', 'UTC')).toEqual(
      w('2026-03-29T00:00', '2026-03-30T00:00'),
    );
    // Without Z or an offset the instant would depend on the host's time zone.
    expect(() => periodContaining('2026-03-29T12:00:00', 'day', 'UTC')).toThrow(RangeError);
    expect(() => periodContaining('yesterday', 'day', 'UTC')).toThrow(RangeError);
    expect(() => periodContaining(new Date(NaN), 'day', 'UTC')).toThrow(RangeError);
    expect(() => periodContaining('2026-03-29T12:00:00Z', 'year' as WindowUnit, 'UTC')).toThrow(
      'unit: must be one of hour, day, week, month',
    );
    expect(() => periodContaining('2026-03-29T12:00:00Z', 'day', 'Mars/Olympus')).toThrow(
      'timeZone: must be an IANA time zone name',
    );
  });
});

describe('windowsInRange', () => {
  const YEAR_2026: [string, string] = ['2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z'];

  /** London's offset in 2026, from the published rule (not from the implementation). */
  const londonLocalDate = (iso: string) => {
    const t = Date.parse(iso);
    const bst = t >= Date.parse('2026-03-29T01:00:00Z') && t < Date.parse('2026-10-25T01:00:00Z');
    return new Date(t + (bst ? 3_600_000 : 0)).toISOString().slice(0, 10);
  };

  function expectContinuous(list: ExportWindow[]) {
    for (let i = 1; i < list.length; i++) expect(list[i].start).toBe(list[i - 1].end);
    for (const x of list) expect(Date.parse(x.end)).toBeGreaterThan(Date.parse(x.start));
  }

  it('a year of hourly windows in London: 8760, one 23-window day and one 25-window day', () => {
    const list = windowsInRange(...YEAR_2026, 'hour', LON);
    expect(list).toHaveLength(8760);
    expect(countWindowsInRange(...YEAR_2026, 'hour', LON)).toBe(8760);
    expectContinuous(list);
    expect(list.every((x) => hours(x) === 1)).toBe(true);
    expect(list[0]).toEqual(w('2026-01-01T00:00', '2026-01-01T01:00'));
    expect(list[list.length - 1]).toEqual(w('2026-12-31T23:00', '2027-01-01T00:00'));

    const perDay = new Map<string, number>();
    for (const x of list)
      perDay.set(londonLocalDate(x.start), (perDay.get(londonLocalDate(x.start)) ?? 0) + 1);
    // The last window (31 Dec 23:00 GMT) is local 31 Dec; nothing spills into a 366th local date.
    expect(perDay.size).toBe(365);
    const odd = [...perDay].filter(([, n]) => n !== 24);
    expect(odd).toEqual([
      ['2026-03-29', 23],
      ['2026-10-25', 25],
    ]);
  });

  it('a year of daily windows in London and New York: 365, from local midnight', () => {
    const lon = windowsInRange('2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z', 'day', LON);
    expect(lon).toHaveLength(365);
    expectContinuous(lon);
    expect(lon[0]).toEqual(w('2026-01-01T00:00', '2026-01-02T00:00'));
    expect(lon.filter((x) => hours(x) !== 24)).toEqual([
      w('2026-03-29T00:00', '2026-03-29T23:00'),
      w('2026-10-24T23:00', '2026-10-26T00:00'),
    ]);
    // from 1 Jan 00:00Z is 31 Dec 19:00 EST: floored to 31 Dec 2025 00:00 EST
    const ny = windowsInRange('2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z', 'day', NY);
    expect(ny[0]).toEqual(w('2025-12-31T05:00', '2026-01-01T05:00'));
    expect(ny).toHaveLength(366);
    expectContinuous(ny);
  });

  it('from is floored to its period start; windows start before `to`', () => {
    expect(windowsInRange('2026-03-29T10:30:00Z', '2026-03-30T00:00:00Z', 'day', LON)).toEqual([
      w('2026-03-29T00:00', '2026-03-29T23:00'),
      w('2026-03-29T23:00', '2026-03-30T23:00'), // starts 29 Mar 23:00Z, before `to`
    ]);
    expect(windowsInRange('2026-06-01T10:00:00Z', '2026-06-01T12:00:00Z', 'hour', KOL)).toEqual([
      w('2026-06-01T09:30', '2026-06-01T10:30'),
      w('2026-06-01T10:30', '2026-06-01T11:30'),
      w('2026-06-01T11:30', '2026-06-01T12:30'),
    ]);
    expect(windowsInRange('2026-06-01T00:00:00Z', '2026-06-01T00:00:00Z', 'day', 'UTC')).toEqual([]);
    expect(windowsInRange('2026-06-02T00:00:00Z', '2026-06-01T00:00:00Z', 'day', 'UTC')).toEqual([]);
    expect(countWindowsInRange('2026-06-02T00:00:00Z', '2026-06-01T00:00:00Z', 'day', 'UTC')).toBe(0);
  });

  it('weeks and months across a year end', () => {
    expect(windowsInRange('2026-12-20T00:00:00Z', '2027-01-12T00:00:00Z', 'week', 'UTC')).toEqual([
      w('2026-12-14T00:00', '2026-12-21T00:00'),
      w('2026-12-21T00:00', '2026-12-28T00:00'),
      w('2026-12-28T00:00', '2027-01-04T00:00'),
      w('2027-01-04T00:00', '2027-01-11T00:00'),
      w('2027-01-11T00:00', '2027-01-18T00:00'),
    ]);
    expect(windowsInRange('2026-11-15T00:00:00Z', '2027-03-01T00:00:00Z', 'month', LON)).toEqual([
      w('2026-11-01T00:00', '2026-12-01T00:00'),
      w('2026-12-01T00:00', '2027-01-01T00:00'),
      w('2027-01-01T00:00', '2027-02-01T00:00'),
      w('2027-02-01T00:00', '2027-03-01T00:00'),
    ]);
  });

  it.each<[WindowUnit, string]>([
    ['hour', NY],
    ['hour', KOL],
    ['day', NY],
    ['day', KOL],
    ['week', LON],
    ['week', NY],
    ['month', NY],
    ['month', KOL],
  ])('%s windows in %s: continuous, counted exactly', (unit, tz) => {
    const list = windowsInRange('2025-11-20T13:17:00Z', '2027-02-03T00:00:00Z', unit, tz);
    expectContinuous(list);
    expect(countWindowsInRange('2025-11-20T13:17:00Z', '2027-02-03T00:00:00Z', unit, tz)).toBe(list.length);
    expect([...iterateWindowsInRange('2025-11-20T13:17:00Z', '2027-02-03T00:00:00Z', unit, tz)]).toEqual(
      list,
    );
  });

  it('pages with limit and after resume exactly where the previous page ended', () => {
    const all = windowsInRange(...YEAR_2026, 'day', NY);
    const pages: ExportWindow[] = [];
    let after: string | undefined;
    for (;;) {
      const page = windowsInRange(...YEAR_2026, 'day', NY, { limit: 50, after });
      if (page.length === 0) break;
      expect(page.length).toBeLessThanOrEqual(50);
      pages.push(...page);
      after = page[page.length - 1].start;
    }
    expect(pages).toEqual(all);
  });

  it('after: strictly after the given start; between boundaries; before the range', () => {
    const opts = (after: string) => ({ after, limit: 2 });
    expect(windowsInRange(...YEAR_2026, 'day', LON, opts('2026-03-29T00:00:00.000Z'))).toEqual([
      w('2026-03-29T23:00', '2026-03-30T23:00'),
      w('2026-03-30T23:00', '2026-03-31T23:00'),
    ]);
    // not a window start: the first window starting after it
    expect(windowsInRange(...YEAR_2026, 'day', LON, opts('2026-03-29T12:00:00.000Z'))).toEqual([
      w('2026-03-29T23:00', '2026-03-30T23:00'),
      w('2026-03-30T23:00', '2026-03-31T23:00'),
    ]);
    // before `from`: ignored
    expect(windowsInRange(...YEAR_2026, 'day', 'UTC', opts('2020-01-01T00:00:00.000Z'))).toEqual([
      w('2026-01-01T00:00', '2026-01-02T00:00'),
      w('2026-01-02T00:00', '2026-01-03T00:00'),
    ]);
    // the last window: nothing after it
    expect(windowsInRange(...YEAR_2026, 'day', 'UTC', opts('2026-12-31T00:00:00.000Z'))).toEqual([]);
    // at the fall-back: the second 01:00 hour follows the first
    expect(
      windowsInRange('2026-10-25T00:00:00Z', '2026-10-26T00:00:00Z', 'hour', LON, {
        after: '2026-10-25T00:00:00.000Z',
        limit: 2,
      }),
    ).toEqual([w('2026-10-25T01:00', '2026-10-25T02:00'), w('2026-10-25T02:00', '2026-10-25T03:00')]);
  });

  it('refuses a bad limit', () => {
    expect(() => windowsInRange(...YEAR_2026, 'day', 'UTC', { limit: 0 })).toThrow('limit');
    expect(() => windowsInRange(...YEAR_2026, 'day', 'UTC', { limit: 1.5 })).toThrow('limit');
  });

  it('counts five years of hourly windows (43,824) quickly', () => {
    const started = Date.now();
    // 2026-2030: 1826 days (2028 is a leap year) x 24
    expect(countWindowsInRange('2026-01-01T00:00:00Z', '2031-01-01T00:00:00Z', 'hour', LON)).toBe(43_824);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('localMidnight', () => {
  it.each([
    ['2026-03-29', LON, '2026-03-29T00:00:00.000Z'],
    ['2026-03-30', LON, '2026-03-29T23:00:00.000Z'],
    ['2026-10-25', LON, '2026-10-24T23:00:00.000Z'],
    ['2026-10-26', LON, '2026-10-26T00:00:00.000Z'],
    ['2026-11-01', NY, '2026-11-01T04:00:00.000Z'],
    ['2026-11-02', NY, '2026-11-02T05:00:00.000Z'],
    ['2026-01-01', KOL, '2025-12-31T18:30:00.000Z'],
    ['2028-02-29', 'UTC', '2028-02-29T00:00:00.000Z'],
  ])('%s in %s is %s', (date, tz, expected) => {
    expect(localMidnight(date, tz).toISOString()).toBe(expected);
  });

  it.each(['2026-02-30', '2027-02-29', '2026-3-1', '2026-03-01T00:00:00Z', ''])('refuses %p', (date) => {
    expect(() => localMidnight(date, 'UTC')).toThrow('date: must be a calendar date written YYYY-MM-DD');
  });

  it('refuses an unknown time zone', () => {
    expect(() => localMidnight('2026-01-01', 'Europe/Londn')).toThrow(RangeError);
  });
});

describe('isValidTimeZone', () => {
  it.each([
    'UTC',
    LON,
    NY,
    KOL,
    'Asia/Calcutta',
    'America/Argentina/Buenos_Aires',
    'Etc/GMT+5',
    'US/Eastern',
  ])('accepts %s', (tz) => expect(isValidTimeZone(tz)).toBe(true));
  it.each(['', ' ', 'Europe/Londn', 'Mars/Olympus', 'europe/london', 'utc', '+05:30', ' UTC', 'Local'])(
    'refuses %p',
    (tz) => expect(isValidTimeZone(tz)).toBe(false),
  );
  it('refuses non-strings', () => {
    expect(isValidTimeZone(undefined as unknown as string)).toBe(false);
    expect(isValidTimeZone(5 as unknown as string)).toBe(false);
  });
});
