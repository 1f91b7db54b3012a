// Export file names: readable, unique per export, never truncated into a collision.
import { exportFileBase, sanitizeFileName } from '../../../src/storage/names';

describe('export file names', () => {
  it('gives ids that sanitize to the same text different names', () => {
    const names = ['a b', 'a/b', 'a_b', 'a:b'].map((id) => exportFileBase(id, 'bills'));
    expect(new Set(names).size).toBe(4);
    for (const n of names) expect(n).toMatch(/^a_b__bills-[0-9a-f]{12}$/);
  });

  it('tells apart the workflow id and the suffix even where their join is the same', () => {
    expect(exportFileBase('a__b', 'c')).not.toBe(exportFileBase('a', 'b__c'));
  });

  it('is deterministic, so a retry finds the same partial file and manifest', () => {
    expect(exportFileBase('export:usage:adhoc:abc', 'job-1')).toBe(
      exportFileBase('export:usage:adhoc:abc', 'job-1'),
    );
  });

  it('keeps the job id readable when the workflow id is long', () => {
    expect(exportFileBase('w'.repeat(300), 'job-123')).toMatch(/^w+__job-123-[0-9a-f]{12}$/);
  });

  it('keeps a 255-character id short enough for its extension and versions, and still unique', () => {
    const long = 'x'.repeat(255);
    const a = exportFileBase(long, 'job-1');
    const b = exportFileBase(`${long.slice(0, 254)}y`, 'job-1');
    expect(a).not.toBe(b);
    const file = sanitizeFileName(`${a}.csv.gz`);
    expect(file.endsWith('.csv.gz')).toBe(true);
    expect(`.${file}.v99.manifest.json`.length).toBeLessThan(255);
  });

  it('refuses a name it would have to truncate instead of cutting it', () => {
    expect(() => sanitizeFileName(`${'y'.repeat(300)}.csv`)).toThrow(/longer than 200/);
  });

  it('never yields a hidden file or a path', () => {
    expect(exportFileBase('../../etc', 'passwd')).toMatch(/^etc__passwd-[0-9a-f]{12}$/);
    expect(exportFileBase('...', '')).toMatch(/^export-[0-9a-f]{12}$/);
  });
});
