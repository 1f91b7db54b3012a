import { prepareExport, workflowTypeOf } from '../../../src/cli/export-command';
import { CliInputError } from '../../../src/cli/exit-codes';
import {
  billsRequestFromFlags,
  normaliseDate,
  operationalRequestFromFlags,
  usageRequestFromFlags,
} from '../../../src/cli/request-flags';

const NOW = Date.parse('2025-05-20T12:00:00Z');

describe('CLI flags to m3ter request bodies', () => {
  it('expands YYYY-MM-DD to midnight UTC and leaves full date-times alone', () => {
    expect(normaliseDate('2025-05-01')).toBe('2025-05-01T00:00:00.000Z');
    expect(normaliseDate('2025-05-01T10:00:00+02:00')).toBe('2025-05-01T10:00:00+02:00');
  });

  it('builds a usage body with lists, aggregations and groups', () => {
    const body = usageRequestFromFlags({
      start: '2025-05-01',
      end: '2025-05-02',
      meter: ['m1,m2', 'm3'],
      aggregation: ['m1:calls:measure:sum'],
      group: ['account', 'time:day', 'dimension:m1:region'],
    });
    expect(body).toEqual({
      sourceType: 'USAGE',
      startDate: '2025-05-01T00:00:00.000Z',
      endDate: '2025-05-02T00:00:00.000Z',
      meterIds: ['m1', 'm2', 'm3'],
      aggregations: [{ meterId: 'm1', fieldCode: 'calls', fieldType: 'MEASURE', function: 'SUM' }],
      groups: [
        { groupType: 'ACCOUNT' },
        { groupType: 'TIME', frequency: 'DAY' },
        { groupType: 'DIMENSION', meterId: 'm1', fieldCode: 'region' },
      ],
    });
  });

  it('lets flags override fields of --request', () => {
    const body = operationalRequestFromFlags({
      request: '{"operationalDataTypes":["BILLS"],"exportFileFormat":"CSV"}',
      types: ['accounts'],
    });
    expect(body).toEqual({
      sourceType: 'OPERATIONAL',
      operationalDataTypes: ['ACCOUNTS'],
      exportFileFormat: 'CSV',
    });
  });

  it('passes a non-numeric --limit through for the schema to reject by name', () => {
    expect(billsRequestFromFlags({ limit: 'lots' }).limit).toBe('lots');
    expect(billsRequestFromFlags({ limit: '20' }).limit).toBe(20);
  });
});

describe('prepareExport', () => {
  const usage = { sourceType: 'USAGE', startDate: '2025-05-01T00:00:00Z', endDate: '2025-05-02T00:00:00Z' };

  it('derives the same workflow id for the same request, whatever the key order', () => {
    const a = prepareExport('usage', usage, { name: 'nightly' }, NOW);
    const b = prepareExport(
      'usage',
      { endDate: usage.endDate, sourceType: 'USAGE', startDate: usage.startDate },
      { name: 'nightly' },
      NOW,
    );
    expect(a.workflowId).toBe(b.workflowId);
    expect(a.workflowId).toMatch(/^export:usage:nightly:/);
    expect(
      prepareExport('usage', { ...usage, meterIds: ['m1'] }, { name: 'nightly' }, NOW).workflowId,
    ).not.toBe(a.workflowId);
  });

  it('honours --id and picks the workflow type per kind', () => {
    const usageExport = prepareExport('usage', usage, { id: 'mine' }, NOW);
    expect(usageExport.workflowId).toBe('mine');
    expect(workflowTypeOf(usageExport)).toBe('adhocExportWorkflow');
    const bills = prepareExport(
      'bills',
      { startDate: usage.startDate, endDate: usage.endDate, lineItemTypes: ['USAGE'] },
      {},
      NOW,
    );
    expect(workflowTypeOf(bills)).toBe('billsCsvExportWorkflow');
  });

  it('sends a bill CSV to S3 with --storage s3, and refuses --storage none for it', () => {
    const bills = { startDate: usage.startDate, endDate: usage.endDate, lineItemTypes: ['USAGE'] };
    const toS3 = prepareExport('bills', bills, { storage: 's3', name: 'monthly-bills' }, NOW);
    expect(toS3).toMatchObject({ kind: 'bills', input: { storage: 's3', name: 'monthly-bills' } });
    let err: unknown;
    try {
      prepareExport('bills', bills, { storage: 'none' }, NOW);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CliInputError);
    expect((err as CliInputError).problems).toEqual([
      '--storage: bills exports are always stored: must be local or s3',
    ]);
  });

  it('collects every problem, flags and body alike, in one error', () => {
    let err: unknown;
    try {
      prepareExport(
        'usage',
        { sourceType: 'USAGE', endDate: '2025-05-02T00:00:00Z' },
        { storage: 'ftp', name: '../x' },
        NOW,
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CliInputError);
    const problems = (err as CliInputError).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^--name: /),
        expect.stringMatching(/^--storage: /),
        'startDate: is required',
      ]),
    );
  });
});
