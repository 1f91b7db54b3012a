// Malformed export requests are refused by the CLI before anything happens: exit code 2, a message naming
// the field and the rule, no API call (the sandbox's counters stay at zero) and no workflow started.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { main } from '../../../src/cli';
import { startStack, type Stack } from '../../support/stack';

const ROOT = path.resolve(__dirname, '../../..');
const tomorrowPlus = (days: number) => {
  const d = new Date();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1 + days)).toISOString();
};

// A valid range, so each case below fails on what it adds.
const USAGE = ['usage', '--start', '2025-05-01', '--end', '2025-05-02'];
const BILLS = ['bills', '--start', '2025-05-01', '--end', '2025-05-02'];

// [argv after `export`, the text the error must contain (field and rule)]
const CASES: [string[], RegExp][] = [
  [['usage', '--end', '2025-05-02'], /startDate: is required/],
  [['usage', '--start', '2025-05-01'], /endDate: is required/],
  [['usage', '--start', '2025-05-02', '--end', '2025-05-01'], /endDate: .*after startDate/],
  [['usage', '--start', '2025-05-01', '--end', '2025-05-01'], /endDate: .*after startDate/],
  [['usage', '--start', '2025-05-01', '--end', tomorrowPlus(1)], /endDate: .*tomorrow/i],
  [['usage', '--start', 'yesterday', '--end', '2025-05-02'], /startDate: must be an ISO 8601 date-time/],
  [[...USAGE, '--format', 'XML'], /exportFileFormat: must be one of CSV, JSONL/],
  [[...USAGE, '--group', 'time:DAY'], /groups: .*aggregations/],
  [[...USAGE, '--aggregation', 'm1:f1:DIMENSION:SUM'], /aggregations\[0\]\.function: /],
  [
    [...USAGE, '--aggregation', 'm1:f1:MEASURE:SUM', '--group', 'time:YEAR'],
    /groups\[0\]\.frequency: must be one of/,
  ],
  [[...USAGE, '--aggregation', 'nonsense'], /--aggregation: .* must be meterId:fieldCode/],
  [['operational'], /operationalDataTypes: is required/],
  [['operational', '--types', 'INVOICES'], /operationalDataTypes\[0\]: must be one of/],
  [
    ['operational', '--types', 'ACCOUNTS', '--start', '05/01/2025'],
    /startDate: must be an ISO 8601 date-time/,
  ],
  [['operational', '--types', 'ACCOUNTS', '--storage', 'ftp'], /--storage: must be one of local, none, s3/],
  [['operational', '--types', 'ACCOUNTS', '--name', 'has spaces'], /--name: must match/],
  [['operational', '--request', '{not json'], /--request: must be a JSON object/],
  [BILLS, /lineItemTypes: is required/],
  [[...BILLS, '--line-item-types', 'TIPS'], /lineItemTypes\[0\]: must be one of/],
  [[...BILLS, '--line-item-types', 'USAGE', '--limit', '0'], /limit: must be >= 1/],
  [[...BILLS, '--line-item-types', 'USAGE', '--limit', '2001'], /limit: must be <= 2000/],
  [['bills', '--end', '2025-05-02', '--line-item-types', 'USAGE'], /startDate: is required/],
  [
    [...BILLS, '--line-item-types', 'USAGE', '--dimension', 'account='],
    /dimensions\[0\]\.filter: must contain at least 1 item/,
  ],
];

describe('CLI input validation (before any API call)', () => {
  let stack: Stack;
  const saved = { ...process.env };

  beforeAll(async () => {
    stack = await startStack({ name: 'cli-validation', worker: false });
    Object.assign(process.env, stack.env);
  });
  afterAll(async () => {
    process.env = saved;
    await stack?.close();
  });

  it.each(CASES)(
    'refuses export %j with exit code 2, before any API call or workflow',
    async (args, expected) => {
      const lines: string[] = [];
      const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
        lines.push(String(chunk));
        return true;
      });
      let code: number;
      try {
        code = await main(['node', 'm3ter-exports', 'export', ...args]);
      } finally {
        spy.mockRestore();
      }
      expect({ code, stderr: lines.join('') }).toEqual({ code: 2, stderr: expect.stringMatching(expected) });
      // No case so far called the API or started a workflow.
      const counters = await stack.sandbox.admin.get<{ total: number }>('/counters');
      expect(counters.total).toBe(0);
      const { count } = await stack.client.workflow.count(`TaskQueue = '${stack.taskQueue}'`);
      expect(count).toBe(0);
    },
  );

  it('exits 2 on bad input from the installed binary too (a real process)', () => {
    const res = spawnSync(
      process.execPath,
      [path.join(ROOT, 'bin/m3ter-exports.js'), 'export', 'operational', '--types', 'NOPE'],
      {
        env: { ...process.env },
        encoding: 'utf8',
      },
    );
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/operationalDataTypes\[0\]: must be one of/);
  });
});
