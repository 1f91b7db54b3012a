// `schedules apply` refuses a malformed definitions file before connecting anywhere: exit code 2, every
// problem named by export, field and rule, and no schedule created.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../../src/cli';
import { managedSchedules } from '../../../src/schedules/apply';
import { connectTestTemporal, type TestTemporal } from '../../support/temporal-harness';

const ok = {
  name: 'nightly-usage',
  kind: 'usage',
  window: 'day',
  timezone: 'Europe/London',
  request: '{ meterIds: [m1] }',
  schedule: 'cron: "0 2 * * *"',
};

function file(over: Partial<Record<keyof typeof ok, string | undefined>> = {}, extra = ''): string {
  const e = { ...ok, ...over };
  const lines = ['exports:', `  - name: ${e.name}`, `    kind: ${e.kind}`];
  if (e.window !== undefined) lines.push(`    window: ${e.window}`);
  if (e.timezone !== undefined) lines.push(`    timezone: ${e.timezone}`);
  if (e.request !== undefined) lines.push(`    request: ${e.request}`);
  if (e.schedule !== undefined)
    lines.push('    schedule:', ...e.schedule.split('\n').map((l) => `      ${l}`));
  return lines.join('\n') + extra;
}

// [file text, a problem line the error must contain]
const CASES: [string, string][] = [
  [
    file({ schedule: 'cron: "0 0 2 * * *"' }),
    'exports[0] (nightly-usage).schedule.cron: 6 fields given, 5 expected',
  ],
  [file({ schedule: 'cron: "0 25 * * *"' }), 'exports[0] (nightly-usage).schedule.cron: field 2 (hour)'],
  [file({ timezone: 'Mars/Olympus' }), 'exports[0] (nightly-usage).timezone'],
  [file({ kind: 'invoices' }), 'exports[0] (nightly-usage).kind: must be one of usage, operational, bills'],
  [file({ window: 'none' }), 'exports[0] (nightly-usage).window'],
  [file({ window: 'fortnight' }), 'exports[0] (nightly-usage).window'],
  [file({ name: 'Nightly_Usage' }), 'exports[0] (Nightly_Usage).name'],
  [file({ schedule: 'every: 1h\ncron: "0 2 * * *"' }), 'exports[0] (nightly-usage).schedule'],
  [file({ schedule: 'every: soon' }), 'exports[0] (nightly-usage).schedule.every'],
  [
    file({ schedule: 'cron: "0 2 * * *"\ncatchupWindow: forever' }),
    'exports[0] (nightly-usage).schedule.catchupWindow',
  ],
  [
    file({ schedule: 'cron: "0 2 * * *"\noverlap: sometimes' }),
    'exports[0] (nightly-usage).schedule.overlap',
  ],
  [
    file({
      request: '{ aggregations: [{ meterId: m1, fieldCode: f, fieldType: MEASURE, function: BOGUS }] }',
    }),
    'exports[0] (nightly-usage).request.aggregations[0].function',
  ],
  [
    file({ request: '{ startDate: "2026-01-01T00:00:00Z" }' }),
    'exports[0] (nightly-usage).request.startDate',
  ],
  [file({}, '\n    alerts: [nobody]'), 'exports[0] (nightly-usage).alerts[0]'],
  [file({}, '\n    storage: ftp'), 'exports[0] (nightly-usage).storage'],
  [file({}, '\n    colour: blue'), 'exports[0] (nightly-usage).colour'],
  [
    file({}, '\n  - name: nightly-usage\n    kind: operational\n    window: none'),
    'exports[1] (nightly-usage).name',
  ],
  [
    file({}, '\nalerts:\n  - name: ops\n    type: slack\n    url: ${EXPORTS_TEST_UNSET_WEBHOOK}'),
    'EXPORTS_TEST_UNSET_WEBHOOK',
  ],
  ['exports: [\n  - name: x', 'line'],
];

describe('schedules apply with a malformed definitions file', () => {
  let t: TestTemporal;
  let dir: string;
  const env = { ...process.env };
  beforeAll(async () => {
    t = await connectTestTemporal();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm3ter-bad-defs-'));
    process.env.TEMPORAL_ADDRESS = t.address;
    process.env.TEMPORAL_NAMESPACE = t.namespace;
    delete process.env.EXPORTS_TEST_UNSET_WEBHOOK;
  });
  afterAll(async () => {
    process.env = env;
    await t?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each(CASES.map((c, i) => [i, ...c] as const))(
    'case %i is refused with exit code 2 naming the field, and creates no schedule',
    async (i, text, problem) => {
      const before = await managedSchedules(t.client);
      const f = path.join(dir, `bad-${i}.yaml`);
      fs.writeFileSync(f, text);
      let stderr = '';
      const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
        stderr += String(chunk);
        return true;
      });
      let code: number;
      try {
        code = await main(['node', 'm3ter-exports', 'schedules', 'apply', '--file', f]);
      } finally {
        spy.mockRestore();
      }
      expect(code).toBe(2);
      expect(stderr).toContain(problem);
      expect([...(await managedSchedules(t.client)).keys()].sort()).toEqual([...before.keys()].sort());
    },
  );

  it('reports every problem of one file at once', async () => {
    const f = path.join(dir, 'many.yaml');
    fs.writeFileSync(
      f,
      file({ timezone: 'Mars/Olympus', schedule: 'cron: "0 0 2 * * *"', kind: 'invoices' }),
    );
    let stderr = '';
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    });
    try {
      expect(await main(['node', 'm3ter-exports', 'schedules', 'apply', '--file', f])).toBe(2);
    } finally {
      spy.mockRestore();
    }
    expect(stderr).toContain('.timezone');
    expect(stderr).toContain('.schedule.cron: 6 fields given, 5 expected');
    expect(stderr).toContain('.kind: must be one of');
  });
});
