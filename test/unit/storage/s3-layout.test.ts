// The S3 key layout (pure functions, no server).
import { partitionPrefix } from '../../../src/storage/s3';

describe('partitionPrefix', () => {
  it('partitions by export name and the window start (UTC date)', () => {
    expect(
      partitionPrefix('exports/', {
        exportName: 'daily-usage',
        window: { start: '2025-05-20T00:00:00Z', end: '2025-05-21T00:00:00Z' },
      }),
    ).toBe('exports/export=daily-usage/date=2025-05-20');
  });

  it('adds hour=HH for windows of at most one hour', () => {
    expect(
      partitionPrefix('p', { window: { start: '2025-05-20T07:00:00Z', end: '2025-05-20T08:00:00Z' } }),
    ).toBe('p/export=adhoc/date=2025-05-20/hour=07');
  });

  it("uses 'adhoc' without a name, the fallback date without a window, and no leading slash without a prefix", () => {
    expect(partitionPrefix('', { fallbackDate: '2025-01-02T03:04:05Z' })).toBe(
      'export=adhoc/date=2025-01-02',
    );
  });

  it('keeps partition values free of separators', () => {
    expect(partitionPrefix('', { exportName: 'a/b=c', fallbackDate: '2025-01-02T00:00:00Z' })).toBe(
      'export=a_b_c/date=2025-01-02',
    );
  });
});
