// `backfill` input: dates are midnights in the export's time zone, instants are taken as given, every
// problem is named by flag and rule at once, and the workflow id is a function of the request.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { backfillWorkflowId, prepareBackfill } from '../../../src/cli/backfill-command';
import { CliInputError } from '../../../src/cli/exit-codes';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'backfill-cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const file = path.join(dir, 'm3ter-exports.yaml');
fs.writeFileSync(
  file,
  [
    'exports:',
    '  - name: ny-daily',
    '    kind: usage',
    '    request: { meterIds: [m1] }',
    '    window: day',
    '    timezone: America/New_York',
    '  - name: snapshot',
    '    kind: operational',
    '    request: { operationalDataTypes: [ACCOUNTS] }',
    '    window: none',
  ].join('\n'),
);

const NOW = Date.parse('2026-06-01T12:00:00Z');

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof CliInputError) return err.problems;
    throw err;
  }
  throw new Error('expected a CliInputError');
}

describe('prepareBackfill', () => {
  it('reads dates as midnights in the export time zone and derives the workflow id', () => {
    const p = prepareBackfill('ny-daily', { file, from: '2026-03-07', to: '2026-03-10' }, {}, NOW);
    // New York: EST until 8 March 2026, EDT after.
    expect(p.input.from).toBe('2026-03-07T05:00:00.000Z');
    expect(p.input.to).toBe('2026-03-10T04:00:00.000Z');
    expect(p.windows).toBe(3);
    expect(p.input).toMatchObject({ concurrency: 4, reprocess: 'failed' });
    expect(p.input.definition).toEqual({
      name: 'ny-daily',
      kind: 'usage',
      request: { meterIds: ['m1'] },
      window: 'day',
      timezone: 'America/New_York',
      storage: 'local',
      // No channels of its own: the default channel, whatever file the worker has.
      alerting: { channels: [] },
    });
    expect(p.workflowId).toBe('backfill:ny-daily:2026-03-07T05:00:00Z:2026-03-10T04:00:00Z:failed');
    expect(p.workflowId).toBe(backfillWorkflowId('ny-daily', p.input.from, p.input.to, 'failed'));
  });

  it('takes ISO instants as given, and the flags', () => {
    const p = prepareBackfill(
      'ny-daily',
      {
        file,
        from: '2026-03-07T05:00:00Z',
        to: '2026-03-09T00:00:00-04:00',
        concurrency: '10',
        reprocess: 'all',
        newestFirst: true,
      },
      {},
      NOW,
    );
    expect(p.input).toMatchObject({
      from: '2026-03-07T05:00:00.000Z',
      to: '2026-03-09T04:00:00.000Z',
      concurrency: 10,
      reprocess: 'all',
      newestFirst: true,
    });
    expect(p.workflowId.endsWith(':all')).toBe(true);
  });

  it('names every problem at once', () => {
    expect(
      problemsOf(() =>
        prepareBackfill('ny-daily', { file, from: '03/07/2026', concurrency: '51', reprocess: 'x' }, {}, NOW),
      ),
    ).toEqual([
      "--from: must be a date YYYY-MM-DD (midnight in the export's time zone) or an ISO 8601 instant with Z or an offset",
      '--to: is required (YYYY-MM-DD or an ISO 8601 instant)',
      '--concurrency: must be a whole number from 1 to 50',
      '--reprocess: must be one of none, failed, all',
    ]);
    expect(
      problemsOf(() => prepareBackfill('ny-daily', { file, from: '2026-03-10', to: '2026-03-10' }, {}, NOW)),
    ).toEqual(['--to: must be after --from']);
  });

  it('refuses unknown exports, snapshots, unfinished windows and a missing file', () => {
    expect(
      problemsOf(() => prepareBackfill('nope', { file, from: '2026-01-01', to: '2026-01-02' }, {}, NOW))[0],
    ).toBe(`<name>: no export named "nope" in ${file} (exports: ny-daily, snapshot)`);
    expect(
      problemsOf(() =>
        prepareBackfill('snapshot', { file, from: '2026-01-01', to: '2026-01-02' }, {}, NOW),
      )[0],
    ).toMatch(/window none/);
    expect(
      problemsOf(() => prepareBackfill('ny-daily', { file, from: '2026-05-30', to: '2026-06-02' }, {}, NOW)),
    ).toEqual([
      '--to: the last window [2026-06-01T04:00:00.000Z, 2026-06-02T04:00:00.000Z) has not ended yet; backfills export finished windows only',
    ]);
    expect(
      problemsOf(() =>
        prepareBackfill(
          'ny-daily',
          { file: path.join(dir, 'missing.yaml'), from: '2026-01-01', to: '2026-01-02' },
          {},
          NOW,
        ),
      )[0],
    ).toContain('file not found');
  });

  it('ad-hoc form: a definition from --kind, --step, --timezone, --request and --storage, checked by the same rules', () => {
    const p = prepareBackfill(
      'ops-hourly',
      {
        kind: 'usage',
        step: 'hour',
        timezone: 'Asia/Kolkata',
        request: '{"meterIds":["m1"]}',
        from: '2026-01-01',
        to: '2026-01-02',
      },
      {},
      NOW,
    );
    expect(p.input.definition).toEqual({
      name: 'ops-hourly',
      kind: 'usage',
      request: { meterIds: ['m1'] },
      window: 'hour',
      timezone: 'Asia/Kolkata',
      storage: 'local',
    });
    // Midnight in Kolkata is 18:30 UTC the day before; 24 hourly windows.
    expect(p.input.from).toBe('2025-12-31T18:30:00.000Z');
    expect(p.windows).toBe(24);
    expect(
      problemsOf(() =>
        prepareBackfill(
          'Bad Name',
          {
            kind: 'usage',
            step: 'fortnight',
            timezone: 'Mars/Olympus',
            storage: 'tape',
            from: '2026-01-01',
            to: '2026-01-02',
          },
          {},
          NOW,
        ),
      ),
    ).toEqual([
      '<name>: must match ^[a-z0-9-]{1,40}$ (lowercase letters, digits and dashes)',
      '--step: must be one of hour, day, week, month',
      '--timezone: must be an IANA time zone name such as Europe/London or UTC',
      '--storage: must be one of local, none, s3',
    ]);
    expect(
      problemsOf(() =>
        prepareBackfill(
          'x',
          {
            kind: 'usage',
            step: 'day',
            request: '{"startDate":"2026-01-01"}',
            from: '2026-01-01',
            to: '2026-01-02',
          },
          {},
          NOW,
        ),
      ),
    ).toEqual(["--request: startDate: must not be set: an export's dates come from its window"]);
    expect(
      problemsOf(() =>
        prepareBackfill('ny-daily', { file, step: 'day', from: '2026-01-01', to: '2026-01-02' }, {}, NOW),
      ),
    ).toEqual(['--step: only with --kind (the ad-hoc form)']);
  });
});
