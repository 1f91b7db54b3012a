import { DurationError, formatDuration, parseDuration } from '../../../src/config/durations';

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['5m', 300_000],
    ['30h', 108_000_000],
    ['7d', 604_800_000],
    ['1h30m', 5_400_000],
    ['1d12h', 129_600_000],
    ['250ms', 250],
    ['1m30s500ms', 90_500],
    [' 10s ', 10_000],
  ])('%s = %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['0s', 'must be greater than 0'],
    ['0h0m', 'must be greater than 0'],
    ['-5m', 'must be positive'],
    ['5', 'needs a unit'],
    ['5y', 'has an unknown unit (use d, h, m, s or ms'],
    ['5M', 'has an unknown unit'],
    ['1.5h', 'must use whole numbers'],
    ['30m1h', 'units must go from largest to smallest, each at most once'],
    ['1h1h', 'units must go from largest to smallest, each at most once'],
    ['1h 30m', 'must be a duration such as 90s, 5m, 30h, 7d or 1h30m'],
    ['', 'must be a duration such as'],
    ['soon', 'must be a duration such as'],
    ['99999999999999999d', 'is too large'],
  ])('refuses %p: %s', (text, rule) => {
    expect(() => parseDuration(text)).toThrow(DurationError);
    expect(() => parseDuration(text)).toThrow(rule);
  });

  it('never echoes the input (it may come from a secret variable)', () => {
    for (const text of ['s3cr3t-value', 'hunter2h', '-secretish', '12.5xyz']) {
      try {
        parseDuration(text);
        throw new Error('expected a DurationError');
      } catch (e) {
        expect(e).toBeInstanceOf(DurationError);
        expect((e as Error).message).not.toContain(text);
      }
    }
  });

  it('refuses non-strings', () => {
    expect(() => parseDuration(5 as unknown as string)).toThrow(DurationError);
  });
});

describe('formatDuration', () => {
  it.each([
    [90_000, '1m30s'],
    [5_400_000, '1h30m'],
    [86_400_000, '1d'],
    [250, '250ms'],
  ])('%d ms = %s, and parses back', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });

  it('refuses zero, negatives and fractions', () => {
    expect(() => formatDuration(0)).toThrow(RangeError);
    expect(() => formatDuration(-1)).toThrow(RangeError);
    expect(() => formatDuration(1.5)).toThrow(RangeError);
  });
});
