// The workflows' input contract: the schemas the CLI validates with are the ones each workflow parses its
// input with, and a refusal is a non-retryable InvalidExportRequest naming every problem.
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../../src/contract/failures';
import {
  checkInput,
  createAdhocExportInputSchema,
  createBillsCsvExportInputSchema,
  parseWorkflowInput,
} from '../../../src/contract/inputs';

const NOW = Date.parse('2025-06-01T12:00:00Z');
const adhocSchema = createAdhocExportInputSchema(() => NOW);
const validateAdhocExportInput = (input: unknown) => parseWorkflowInput(adhocSchema, input);
const validateBillsCsvExportInput = (input: unknown) =>
  parseWorkflowInput(createBillsCsvExportInputSchema(), input);

/** The failure `fn` throws; fails the test unless it is an ApplicationFailure. */
function refusal(fn: () => unknown): ApplicationFailure {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

const usage = { sourceType: 'USAGE', startDate: '2025-01-01T00:00:00Z', endDate: '2025-01-02T00:00:00Z' };

const badAdhoc: Array<[string, unknown, string]> = [
  ['no input', undefined, '(input): is required'],
  ['no request', {}, 'request: is required'],
  ['request not an object', { request: 'x' }, 'request: must be an object'],
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
    'request.startDate: must be an ISO 8601 date-time with a timezone',
  ],
  [
    'usage end before start',
    { request: { ...usage, endDate: '2024-12-31T00:00:00Z' } },
    'request.endDate: must be after startDate',
  ],
  [
    'operational without types',
    { request: { sourceType: 'OPERATIONAL' } },
    'request.operationalDataTypes: is required',
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
  ['bad storage', { request: usage, storage: 'ftp' }, 'storage: must be one of local, none, s3'],
  ['bad deadline', { request: usage, deadlineMs: 5 }, 'deadlineMs: must be >= 10000'],
  ['bad poll', { request: usage, poll: { fastPollMs: -1 } }, 'poll.fastPollMs: must be > 0'],
  ['unknown field', { request: usage, colour: 'red' }, 'colour: is not a recognised field'],
  [
    'usage ending after tomorrow',
    { request: { ...usage, endDate: '2025-06-03T00:00:00Z' } },
    'request.endDate: must be <= tomorrow 00:00:00.000 UTC (2025-06-02T00:00:00.000Z)',
  ],
  ['bad name', { request: usage, name: 7 }, 'name: must be a string'],
];

describe('adhocExportWorkflow input checks', () => {
  it.each(badAdhoc)(
    '%s: refused with a non-retryable InvalidExportRequest naming the problem',
    (_name, input, message) => {
      const f = refusal(() => validateAdhocExportInput(input));
      expect(f).toMatchObject({ type: FailureType.InvalidExportRequest, nonRetryable: true });
      expect(f.message).toContain(message);
    },
  );

  it('names every problem of one input at once', () => {
    const r = checkInput(adhocSchema, { request: { sourceType: 'USAGE' }, deadlineMs: 1 });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems).toEqual([
      'request.startDate: is required',
      'request.endDate: is required',
      'deadlineMs: must be >= 10000',
    ]);
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
  ])('refuses %j with a non-retryable InvalidExportRequest naming the problem', (input, message) => {
    const f = refusal(() => validateBillsCsvExportInput(input));
    expect(f).toMatchObject({ type: FailureType.InvalidExportRequest, nonRetryable: true });
    expect(f.message).toContain(message);
  });
  it('accepts a valid request', () =>
    expect(() => validateBillsCsvExportInput({ request: ok })).not.toThrow());
});
