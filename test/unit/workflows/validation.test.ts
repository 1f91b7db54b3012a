// The workflows' own input checks (structural; the CLI runs the full zod validation before starting).
import { ApplicationFailure } from '@temporalio/common';
import { validateAdhocExportInput } from '../../../workflows/adhoc-export';
import { validateBillsCsvExportInput } from '../../../workflows/bills-csv-export';

const usage = { sourceType: 'USAGE', startDate: '2025-01-01T00:00:00Z', endDate: '2025-01-02T00:00:00Z' };

const badAdhoc: Array<[string, unknown, string]> = [
  ['no input', undefined, 'input: must be an object'],
  ['no request', {}, 'request: is required'],
  ['request not an object', { request: 'x' }, 'request: is required'],
  ['no sourceType', { request: {} }, 'request.sourceType: must be one of USAGE, OPERATIONAL'],
  ['bad sourceType', { request: { sourceType: 'BILLS' } }, 'request.sourceType'],
  [
    'usage without startDate',
    { request: { sourceType: 'USAGE', endDate: usage.endDate } },
    'request.startDate: is required',
  ],
  [
    'usage without endDate',
    { request: { sourceType: 'USAGE', startDate: usage.startDate } },
    'request.endDate: is required',
  ],
  [
    'usage bad date',
    { request: { ...usage, startDate: 'yesterday' } },
    'request.startDate: must be an ISO 8601 date-time',
  ],
  [
    'usage end before start',
    { request: { ...usage, endDate: '2024-12-31T00:00:00Z' } },
    'request.endDate: must be after startDate',
  ],
  [
    'operational without types',
    { request: { sourceType: 'OPERATIONAL' } },
    'request.operationalDataTypes: must contain at least 1 item',
  ],
  [
    'operational empty types',
    { request: { sourceType: 'OPERATIONAL', operationalDataTypes: [] } },
    'request.operationalDataTypes',
  ],
  [
    'operational bad type item',
    { request: { sourceType: 'OPERATIONAL', operationalDataTypes: [''] } },
    'request.operationalDataTypes[0]',
  ],
  [
    'operational bad startDate',
    { request: { sourceType: 'OPERATIONAL', operationalDataTypes: ['BILLS'], startDate: 5 } },
    'request.startDate',
  ],
  ['bad storage', { request: usage, storage: 's3' }, "storage: must be 'local' or 'none'"],
  ['bad deadline', { request: usage, deadlineMs: 5 }, 'deadlineMs: must be a number >= 10000'],
  ['bad poll', { request: usage, poll: { fastPollMs: -1 } }, 'poll.fastPollMs: must be a positive number'],
  ['bad name', { request: usage, name: 7 }, 'name: must be a string'],
];

describe('adhocExportWorkflow input checks', () => {
  it.each(badAdhoc)('%s', (_name, input, message) => {
    let err: unknown;
    try {
      validateAdhocExportInput(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('InvalidExportRequest');
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as ApplicationFailure).message).toContain(message);
  });

  it('accepts valid usage and operational requests', () => {
    expect(() => validateAdhocExportInput({ request: usage })).not.toThrow();
    expect(() =>
      validateAdhocExportInput({
        request: { sourceType: 'OPERATIONAL', operationalDataTypes: ['BILLS'] },
        storage: 'none',
      }),
    ).not.toThrow();
  });
});

describe('billsCsvExportWorkflow input checks', () => {
  const ok = { startDate: '2025-01-01T00:00:00Z', endDate: '2025-02-01T00:00:00Z', lineItemTypes: ['USAGE'] };
  it.each([
    [{ request: { ...ok, lineItemTypes: [] } }, 'request.lineItemTypes'],
    [{ request: { ...ok, startDate: undefined } }, 'request.startDate: is required'],
    [{ request: { ...ok, endDate: '2024-01-01T00:00:00Z' } }, 'request.endDate: must be after startDate'],
    [{ request: { ...ok, limit: 5000 } }, 'request.limit'],
  ])('refuses %j', (input, message) => {
    expect(() => validateBillsCsvExportInput(input)).toThrow(message);
  });
  it('accepts a valid request', () =>
    expect(() => validateBillsCsvExportInput({ request: ok })).not.toThrow());
});
