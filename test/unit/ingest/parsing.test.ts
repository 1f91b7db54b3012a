import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { checkFile } from '../../../src/ingest/check-file';
import { parseCsvHeader, splitCsvLine, csvRecord } from '../../../src/ingest/csv';
import { NotUtf8Error, readLines } from '../../../src/ingest/lines';
import { parseRow } from '../../../src/ingest/rows';
import { planBatches, readBatch } from '../../../src/ingest/slices';
import { derivedUid, lineOfDerivedUid } from '../../../src/ingest/uid';
import { IngestSourceKind } from '../../../src/contract/ingest';

const SHA = 'ab'.repeat(32);

async function lines(bytes: Buffer, chunk = 3) {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) parts.push(bytes.subarray(i, i + chunk));
  const out = [];
  for await (const l of readLines(Readable.from(parts))) out.push(l);
  return out;
}

describe('reading lines with their byte offsets', () => {
  it('gives every line its number, offsets and text, CRLF and a missing last line ending included', async () => {
    const out = await lines(Buffer.from('a,b\r\nc\n\nd', 'utf8'));
    expect(out).toEqual([
      { line: 1, start: 0, end: 5, text: 'a,b' },
      { line: 2, start: 5, end: 7, text: 'c' },
      { line: 3, start: 7, end: 8, text: '' },
      { line: 4, start: 8, end: 9, text: 'd' },
    ]);
  });

  it('drops a UTF-8 byte order mark at the start of the file', async () => {
    const out = await lines(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('x\n')]));
    expect(out[0].text).toBe('x');
  });

  it('refuses bytes that are not UTF-8, naming the line', async () => {
    await expect(lines(Buffer.from([0x61, 0x0a, 0xff, 0xfe, 0x0a]))).rejects.toThrow(NotUtf8Error);
    await expect(lines(Buffer.from([0x61, 0x0a, 0xff, 0xfe, 0x0a]))).rejects.toThrow('line 2');
  });
});

describe('CSV columns and cells', () => {
  it('splits quoted fields with doubled quotes and commas', () => {
    expect(splitCsvLine('a,"b,""c""",,d')).toEqual(['a', 'b,"c"', '', 'd']);
    expect(splitCsvLine('"open')).toBeUndefined();
  });

  it('maps the header to the Measurement fields and refuses unknown and repeated columns all at once', () => {
    const ok = parseCsvHeader('uid,meter,account,ts,ets,measure.quantity,who.user,metadata.note');
    expect('columns' in ok && ok.columns).toHaveLength(8);
    const bad = parseCsvHeader('meter,meter,colour,measure.');
    expect('issues' in bad && bad.issues.map((i) => i.message)).toEqual([
      'repeats the column meter',
      expect.stringContaining('"colour" is not a column'),
      expect.stringContaining('"measure." is not a column'),
      'must have a account column',
      'must have a ts column',
    ]);
  });

  it('turns number-map cells into numbers and leaves empty cells out', () => {
    const h = parseCsvHeader('meter,account,ts,measure.q,where.region');
    if (!('columns' in h)) throw new Error('header');
    expect(csvRecord(h.columns, 'm,a,2025-01-01T00:00:00Z,1.5e2,')).toEqual({
      record: { meter: 'm', account: 'a', ts: '2025-01-01T00:00:00Z', measure: { q: 150 } },
      issues: [],
    });
    expect(csvRecord(h.columns, 'm,a,2025-01-01T00:00:00Z,12abc,').issues).toEqual([
      { field: 'measure.q', message: 'must be a number' },
    ]);
  });
});

describe('a row as a measurement', () => {
  const jsonl = { format: 'jsonl' as const, fileSha256: SHA };

  it("keeps the row's own uid and derives one from the file hash and line otherwise", () => {
    const own = parseRow(jsonl, 3, '{"uid":"u-1","meter":"m","account":"a","ts":"2025-01-01T00:00:00Z"}');
    expect('measurement' in own && own.measurement.uid).toBe('u-1');
    const derived = parseRow(jsonl, 7, '{"meter":"m","account":"a","ts":"2025-01-01T00:00:00Z"}');
    expect('measurement' in derived && derived.measurement.uid).toBe(derivedUid(SHA, 7));
  });

  it('names every broken field with its rule', () => {
    const r = parseRow(jsonl, 1, '{"meter":" m","ts":"yesterday","measure":{"q":"1"},"colour":1}');
    expect('issues' in r && r.issues.map((i) => i.field).sort()).toEqual(
      ['account', 'colour', 'measure.q', 'meter', 'ts'].sort(),
    );
  });

  it('refuses a uid over 50 characters and a row too large for any request', () => {
    const long = parseRow(
      jsonl,
      1,
      JSON.stringify({ uid: 'u'.repeat(51), meter: 'm', account: 'a', ts: '2025-01-01T00:00:00Z' }),
    );
    expect('issues' in long && long.issues[0].field).toBe('uid');
    const who = Object.fromEntries(Array.from({ length: 6000 }, (_, i) => [`k${i}`, 'v'.repeat(80)]));
    const huge = parseRow(
      jsonl,
      1,
      JSON.stringify({ meter: 'm', account: 'a', ts: '2025-01-01T00:00:00Z', who }),
    );
    expect('issues' in huge && huge.issues[0].message).toMatch(/can never be sent/);
  });
});

describe('derived uids', () => {
  it('are at most 50 characters and lead back to their line, salt included', () => {
    const uid = derivedUid(SHA, 2_000_000_000, 'abcd1234');
    expect(uid.length).toBeLessThanOrEqual(50);
    expect(lineOfDerivedUid(uid, SHA, 'abcd1234')).toBe(2_000_000_000);
    expect(lineOfDerivedUid(uid, SHA)).toBeUndefined();
    expect(lineOfDerivedUid(derivedUid('cd'.repeat(32), 5), SHA)).toBeUndefined();
  });
});

describe('checking a whole file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ingest-check-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const file = async (name: string, content: string | Buffer) => {
    const p = path.join(dir, name);
    await writeFile(p, content);
    return { kind: IngestSourceKind.local, path: p };
  };

  it('reports every problem by line and field, lists the first ones and counts them all', async () => {
    const rows = ['meter,account,ts,measure.q'];
    for (let i = 0; i < 120; i++) rows.push(i % 2 ? `m,a,2025-01-01T00:00:00Z,${i}` : 'm,a,nope,x');
    const r = await checkFile(await file('x.csv', rows.join('\n')), { maxListedIssues: 5 });
    expect(r.file).toBeUndefined();
    expect(r.issueCount).toBe(120); // 60 bad rows, two problems each
    expect(r.issues).toHaveLength(5);
    expect(r.issues[0]).toMatchObject({ line: 2, field: 'measure.q' });
  });

  it('hashes and counts a valid file and finds its first data line', async () => {
    const r = await checkFile(
      await file('x.csv', 'meter,account,ts\nm,a,2025-01-01T00:00:00Z\n\nm,a,2025-01-01T00:00:00Z\n'),
    );
    expect(r.file).toMatchObject({ rows: 2, dataOffset: 17, dataLine: 2, format: 'csv' });
    expect(r.file?.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ['empty', 'e.jsonl', '', /is empty/],
    ['only a header', 'h.csv', 'meter,account,ts\n', /has no measurements/],
    ['not UTF-8', 'b.jsonl', Buffer.from([0xff, 0x0a]), /not valid UTF-8/],
    ['of an unknown kind', 'x.txt', 'x', /no known extension/],
  ])('refuses a file that is %s', async (_what, name, content, message) => {
    const r = await checkFile(await file(name, content));
    expect(r.file).toBeUndefined();
    expect(r.issues[0].message).toMatch(message);
  });

  it('refuses a file that cannot be read', async () => {
    const r = await checkFile({ kind: IngestSourceKind.local, path: path.join(dir, 'missing.csv') });
    expect(r.issues[0].message).toMatch(/cannot be read \(ENOENT\)/);
  });
});

describe('laying out batches and reading them back', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ingest-plan-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('packs batches under the count and byte limits and reads each back as the same measurements', async () => {
    const p = path.join(dir, 'm.jsonl');
    const rows = Array.from({ length: 250 }, (_, i) =>
      JSON.stringify({
        meter: 'm',
        account: 'a',
        ts: '2025-01-01T00:00:00Z',
        who: { pad: 'x'.repeat(i % 50) },
      }),
    );
    await writeFile(p, rows.join('\n') + '\n');
    const ctx = {
      source: { kind: IngestSourceKind.local, path: p },
      format: 'jsonl' as const,
      sha256: SHA,
      limits: { maxCount: 40, maxBytes: 5_000 },
    };
    const first = await planBatches(ctx, { offset: 0, line: 1 }, 3);
    expect(first.batches).toHaveLength(3);
    expect(first.next).toEqual({
      offset: first.batches[2].end,
      line: first.batches[2].line + first.batches[2].rows,
    });
    let all = [...first.batches];
    const rest = await planBatches(ctx, first.next!, 1000);
    expect(rest.next).toBeUndefined();
    all = [...all, ...rest.batches];
    expect(all.reduce((a, b) => a + b.rows, 0)).toBe(250);
    for (const b of all) {
      expect(b.rows).toBeLessThanOrEqual(40);
      expect(b.bytes).toBeLessThan(5_000);
      const ms = await readBatch(ctx, b);
      expect(Buffer.byteLength(JSON.stringify({ measurements: ms }))).toBe(b.bytes);
      expect(ms[0].uid).toBe(derivedUid(SHA, b.line));
    }
  });
});
