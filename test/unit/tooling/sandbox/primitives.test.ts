import { parseRange } from '../../../../tooling/sandbox/files';
import { decodeToken, encodeToken, paginate } from '../../../../tooling/sandbox/pagination';
import { RateLimiter } from '../../../../tooling/sandbox/ratelimit';
import { isValidCode, queryArray } from '../../../../tooling/sandbox/validation';
import { timeBucket } from '../../../../tooling/sandbox/exportContent';

describe('sandbox primitives', () => {
  it('parses Range headers', () => {
    expect(parseRange(undefined, 100)).toBeNull();
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-1000', 100)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=50-1000', 100)).toEqual({ start: 50, end: 99 });
    expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-1,5-6', 100)).toBeNull();
    expect(parseRange('items=0-1', 100)).toBeNull();
  });

  it('paginates newest first with stable opaque tokens', () => {
    const items = Array.from({ length: 7 }, (_, i) => ({ t: 1000 + Math.floor(i / 2), s: i }));
    const p1 = paginate(items, (x) => x, 3, undefined);
    expect(p1.data.map((x) => x.s)).toEqual([6, 5, 4]);
    const p2 = paginate([...items, { t: 5000, s: 99 }], (x) => x, 3, p1.nextToken);
    expect(p2.data.map((x) => x.s)).toEqual([3, 2, 1]);
    const p3 = paginate(items, (x) => x, 3, p2.nextToken);
    expect(p3).toEqual({ data: [{ t: 1000, s: 0 }] });
    expect(decodeToken(encodeToken({ t: 1, s: 2 }))).toEqual({ t: 1, s: 2 });
    expect(() => decodeToken('bm9wZQ')).toThrow(/nextToken/);
  });

  it('refills token buckets at the configured rate', () => {
    const rl = new RateLimiter({
      config: { ratePerSec: 2, burst: 2 },
      dataExplorer: { ratePerSec: 1, burst: 10 },
      ingest: { ratePerSec: 50, burst: 50 },
    });
    expect(rl.take('o', 'config', 0).ok).toBe(true);
    expect(rl.take('o', 'config', 0).ok).toBe(true);
    expect(rl.take('o', 'config', 0)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(rl.take('other-org', 'config', 0).ok).toBe(true);
    expect(rl.take('o', 'config', 500).ok).toBe(true);
    for (let i = 0; i < 10; i++) expect(rl.take('o', 'dataExplorer', 0).ok).toBe(true);
    expect(rl.take('o', 'dataExplorer', 0).ok).toBe(false);
    expect(rl.take('o', 'dataExplorer', 1000).ok).toBe(true);
  });

  it('checks m3ter codes and splits array query parameters both ways', () => {
    expect(isValidCode('a b')).toBe(true);
    expect(isValidCode(' a')).toBe(false);
    expect(isValidCode('a\u00a0b')).toBe(false);
    expect(isValidCode('')).toBe(false);
    expect(queryArray(['a,b', 'c'])).toEqual(['a', 'b', 'c']);
    expect(queryArray('a')).toEqual(['a']);
    expect(queryArray(undefined)).toBeUndefined();
  });

  it('buckets time by UTC period (weeks start Monday)', () => {
    const t = Date.parse('2024-10-16T10:30:00Z'); // a Wednesday
    expect(new Date(timeBucket(t, 'HOUR')).toISOString()).toBe('2024-10-16T10:00:00.000Z');
    expect(new Date(timeBucket(t, 'DAY')).toISOString()).toBe('2024-10-16T00:00:00.000Z');
    expect(new Date(timeBucket(t, 'WEEK')).toISOString()).toBe('2024-10-14T00:00:00.000Z');
    expect(new Date(timeBucket(t, 'MONTH')).toISOString()).toBe('2024-10-01T00:00:00.000Z');
    expect(new Date(timeBucket(t, 'QUARTER')).toISOString()).toBe('2024-10-01T00:00:00.000Z');
    expect(new Date(timeBucket(Date.parse('2024-10-13T23:00:00Z'), 'WEEK')).toISOString()).toBe(
      '2024-10-07T00:00:00.000Z',
    );
  });
});
