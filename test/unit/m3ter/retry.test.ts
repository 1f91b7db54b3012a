import { computeBackoffMs, parseRetryAfterMs } from '../../../src/m3ter/retry';

describe('computeBackoffMs', () => {
  const base = { baseDelayMs: 500, maxDelayMs: 8_000 };
  it('doubles per retry and caps at maxDelayMs (no jitter draw)', () => {
    const noJitter = { ...base, jitter: 'partial' as const, random: () => 0 };
    expect([0, 1, 2, 3, 4, 5, 10].map((n) => computeBackoffMs(n, noJitter))).toEqual([
      500, 1000, 2000, 4000, 8000, 8000, 8000,
    ]);
  });
  it('partial jitter removes at most 25 %', () => {
    const maxJitter = { ...base, jitter: 'partial' as const, random: () => 0.999999 };
    expect(computeBackoffMs(0, maxJitter)).toBe(375);
    expect(computeBackoffMs(4, maxJitter)).toBe(6000);
    for (let i = 0; i < 200; i++) {
      const d = computeBackoffMs(2, { ...base, jitter: 'partial' });
      expect(d).toBeGreaterThanOrEqual(1500);
      expect(d).toBeLessThanOrEqual(2000);
    }
  });
  it('full jitter draws from [0, value)', () => {
    expect(computeBackoffMs(3, { ...base, jitter: 'full', random: () => 0 })).toBe(0);
    expect(computeBackoffMs(3, { ...base, jitter: 'full', random: () => 0.5 })).toBe(2000);
    expect(computeBackoffMs(3, { ...base, jitter: 'full', random: () => 0.999999 })).toBe(3999);
  });
  it('does not overflow for large retry counts', () => {
    expect(computeBackoffMs(5000, { ...base, jitter: 'partial', random: () => 0 })).toBe(8000);
  });
});

describe('parseRetryAfterMs', () => {
  const now = Date.UTC(2025, 4, 20, 12, 0, 0);
  it('prefers retry-after-ms', () => {
    expect(parseRetryAfterMs({ 'retry-after-ms': '250', 'retry-after': '9' }, now)).toBe(250);
  });
  it('reads delta-seconds, including fractions', () => {
    expect(parseRetryAfterMs({ 'retry-after': '3' }, now)).toBe(3000);
    expect(parseRetryAfterMs({ 'retry-after': '0.5' }, now)).toBe(500);
    expect(parseRetryAfterMs({ 'retry-after': '0' }, now)).toBe(0);
  });
  it('reads an HTTP-date relative to now, and a past date as 0', () => {
    expect(parseRetryAfterMs({ 'retry-after': new Date(now + 7000).toUTCString() }, now)).toBe(7000);
    expect(parseRetryAfterMs({ 'retry-after': new Date(now - 7000).toUTCString() }, now)).toBe(0);
  });
  it('ignores absent, negative and garbage values', () => {
    expect(parseRetryAfterMs({}, now)).toBeUndefined();
    expect(parseRetryAfterMs({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(parseRetryAfterMs({ 'retry-after': '-5' }, now)).toBeUndefined();
    expect(parseRetryAfterMs({ 'retry-after-ms': 'x', 'retry-after': '2' }, now)).toBe(2000);
  });
});
