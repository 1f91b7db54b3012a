import {
  parseWindowWorkflowId,
  windowId,
  windowIdPrefix,
  windowStartForId,
  windowWorkflowId,
} from '../../../src/contract/window-ids';

describe('window workflow ids', () => {
  it('export:<kind>:<name>:<window start in UTC, without milliseconds>', () => {
    expect(windowWorkflowId('usage', 'nightly-usage', '2026-03-29T00:00:00.000Z')).toBe(
      'export:usage:nightly-usage:2026-03-29T00:00:00Z',
    );
    expect(windowWorkflowId('operational', 'weekly-accounts', new Date('2026-12-27T18:30:00Z'))).toBe(
      'export:operational:weekly-accounts:2026-12-27T18:30:00Z',
    );
    expect(windowWorkflowId('bills', 'b', '2026-03-29T00:00:00Z')).toBe(
      'export:bills:b:2026-03-29T00:00:00Z',
    );
    expect(windowId).toBe(windowWorkflowId);
  });

  it('is the same for every spelling of the same instant', () => {
    const a = windowWorkflowId('usage', 'x', '2026-03-29T23:00:00.000Z');
    expect(windowWorkflowId('usage', 'x', '2026-03-29T23:00:00Z')).toBe(a);
    expect(windowWorkflowId('usage', 'x', new Date(Date.UTC(2026, 2, 29, 23)))).toBe(a);
  });

  it('keeps milliseconds when there are any, rather than collide', () => {
    expect(windowStartForId('2026-03-29T00:00:00.250Z')).toBe('2026-03-29T00:00:00.250Z');
  });

  it('refuses what would make ambiguous or host-dependent ids', () => {
    expect(() => windowWorkflowId('usage', 'has:colon', '2026-03-29T00:00:00Z')).toThrow('name');
    expect(() => windowWorkflowId('usage', 'Upper', '2026-03-29T00:00:00Z')).toThrow('name');
    expect(() => windowWorkflowId('csv' as 'usage', 'x', '2026-03-29T00:00:00Z')).toThrow('kind');
    // no zone: would be read in the host's time zone
    expect(() => windowWorkflowId('usage', 'x', '2026-03-29T00:00:00')).toThrow('windowStart');
    expect(() => windowWorkflowId('usage', 'x', '2026-03-29T01:00:00+01:00')).toThrow('windowStart');
    expect(() => windowWorkflowId('usage', 'x', new Date(NaN))).toThrow('windowStart');
  });

  it('parses window ids back and ignores ad-hoc ids', () => {
    expect(parseWindowWorkflowId('export:usage:nightly-usage:2026-03-29T00:00:00Z')).toEqual({
      kind: 'usage',
      name: 'nightly-usage',
      windowStart: '2026-03-29T00:00:00.000Z',
    });
    expect(parseWindowWorkflowId('export:usage:adhoc:2025-05-01T00-00-00Z:1f2e3d4c5b6a')).toBeUndefined();
    expect(parseWindowWorkflowId('export:usage:x:2026-03-29T00:00:00Z:extra')).toBeUndefined();
    expect(parseWindowWorkflowId('something-else')).toBeUndefined();
    expect(windowIdPrefix('usage', 'nightly-usage')).toBe('export:usage:nightly-usage:');
  });
});
