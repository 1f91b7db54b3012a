import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DefinitionsError,
  loadDefinitionsFile,
  parseDefinitions,
  type ExportDefinitions,
} from '../../../src/definitions';

const ENV = {
  SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T000/B000/slackTokenValue123',
  ALERT_HMAC_SECRET: 'hmac-secret-value-42-0123456789abcdef',
};

// The contract example.
const VALID = `
alerts:                      # named channels
  - name: ops
    type: slack
    url: \${SLACK_WEBHOOK_URL}
  - name: billing-hook
    type: webhook
    url: https://hooks.example.com/m3ter-exports
    secret: \${ALERT_HMAC_SECRET}
exports:
  - name: nightly-usage
    kind: usage
    request:
      aggregations: [{ meterId: m1, fieldCode: requests, fieldType: MEASURE, function: SUM }]
    window: day
    timezone: Europe/London
    schedule:
      cron: "0 2 * * *"
      catchupWindow: 3d
      overlap: buffer-one
      paused: false
    storage: local
    alerts: [ops]
    freshness: 30h
`;

/** A file with the two channels and the given export entries (YAML list items). */
const withExports = (entries: string) => `
alerts:
  - { name: ops, type: slack, url: "\${SLACK_WEBHOOK_URL}" }
exports:
${entries}`;

/** One usage export named `x` with `extra` lines appended (and `schedule` replaced when given). */
const usage = (extra = '', schedule = '    schedule: { cron: "0 2 * * *" }') => `
  - name: x
    kind: usage
    window: day
${schedule}
${extra}`;

function problemsOf(yaml: string, env: Record<string, string | undefined> = ENV): string[] {
  try {
    parseDefinitions(yaml, env);
  } catch (e) {
    expect(e).toBeInstanceOf(DefinitionsError);
    return (e as DefinitionsError).problems;
  }
  throw new Error('expected the definitions to be refused');
}

/** Asserts the file is refused with exactly these problems. */
function refused(yaml: string, expected: string[], env: Record<string, string | undefined> = ENV) {
  expect(() => parseDefinitions(yaml, env)).toThrow(DefinitionsError);
  expect(problemsOf(yaml, env)).toEqual(expected);
}

describe('parseDefinitions: a valid file', () => {
  it('parses the contract example into typed values, ${VAR}s resolved and defaults filled in', () => {
    const defs: ExportDefinitions = parseDefinitions(VALID, ENV);
    expect(defs).toEqual({
      alerts: [
        { name: 'ops', type: 'slack', url: ENV.SLACK_WEBHOOK_URL },
        {
          name: 'billing-hook',
          type: 'webhook',
          url: 'https://hooks.example.com/m3ter-exports',
          secret: ENV.ALERT_HMAC_SECRET,
        },
      ],
      exports: [
        {
          name: 'nightly-usage',
          kind: 'usage',
          request: {
            aggregations: [{ meterId: 'm1', fieldCode: 'requests', fieldType: 'MEASURE', function: 'SUM' }],
          },
          window: 'day',
          timezone: 'Europe/London',
          schedule: {
            cron: '0 2 * * *',
            catchupWindow: '3d',
            catchupWindowMs: 3 * 86_400_000,
            overlap: 'buffer-one',
            paused: false,
          },
          storage: 'local',
          alerts: ['ops'],
          freshness: '30h',
          freshnessMs: 30 * 3_600_000,
        },
      ],
    });
  });

  it('fills in defaults: UTC, local storage, no alerts, catch-up 1d, buffer-one, not paused', () => {
    const defs = parseDefinitions(
      `exports:\n  - { name: e, kind: usage, window: hour, schedule: { every: 1h30m } }\n`,
      {},
    );
    expect(defs).toEqual({
      alerts: [],
      exports: [
        {
          name: 'e',
          kind: 'usage',
          request: {},
          window: 'hour',
          timezone: 'UTC',
          schedule: {
            every: '1h30m',
            everyMs: 5_400_000,
            catchupWindow: '1d',
            catchupWindowMs: 86_400_000,
            overlap: 'buffer-one',
            paused: false,
          },
          storage: 'local',
          alerts: [],
        },
      ],
    });
  });

  it('refuses storage none for bills exports, which always download', () => {
    let err: unknown;
    try {
      parseDefinitions(
        `exports:\n  - { name: mb, kind: bills, window: month, storage: none, request: { lineItemTypes: [USAGE] } }\n`,
        {},
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DefinitionsError);
    expect((err as DefinitionsError).problems).toEqual([
      'exports[0] (mb).storage: bills exports are always stored: must be local or s3',
    ]);
  });

  it('accepts local or S3 storage for bills exports', () => {
    for (const storage of ['local', 's3'] as const) {
      const defs = parseDefinitions(
        `exports:\n  - { name: mb, kind: bills, window: month, storage: ${storage}, request: { lineItemTypes: [USAGE] } }\n`,
        {},
      );
      expect(defs.exports[0]).toMatchObject({ name: 'mb', kind: 'bills', storage });
    }
  });

  it('operational exports may use window none (a snapshot) or a window', () => {
    const defs = parseDefinitions(
      `exports:
  - { name: snap, kind: operational, window: none, request: { operationalDataTypes: [ACCOUNTS] } }
  - { name: daily-plans, kind: operational, window: day, request: { operationalDataTypes: [PLANS] } }
`,
      {},
    );
    expect(defs.exports.map((e) => [e.name, e.window, e.schedule])).toEqual([
      ['snap', 'none', undefined],
      ['daily-plans', 'day', undefined],
    ]);
  });

  it('accepts bills exports, every overlap policy, paused schedules and empty sections', () => {
    const defs = parseDefinitions(
      `alerts:
exports:
  - name: monthly-bills
    kind: bills
    request: { lineItemTypes: [USAGE], limit: 100 }
    window: month
    timezone: America/New_York
    storage: local
    schedule: { cron: "0 4 2 * *", overlap: allow-all, paused: true, catchupWindow: 10s }
  - { name: a, kind: usage, window: week, schedule: { cron: "0 6 * * MON", overlap: skip } }
  - { name: b, kind: usage, window: hour, schedule: { cron: "*/15 9-17 * JAN-MAR,DEC 1-5", overlap: buffer-all } }
`,
      {},
    );
    expect(defs.alerts).toEqual([]);
    expect(defs.exports[0].schedule).toEqual({
      cron: '0 4 2 * *',
      catchupWindow: '10s',
      catchupWindowMs: 10_000,
      overlap: 'allow-all',
      paused: true,
    });
    expect(defs.exports.map((e) => e.schedule?.overlap)).toEqual(['allow-all', 'skip', 'buffer-all']);
  });

  it('resolves ${VAR} inside longer strings, and $${ is a literal ${', () => {
    const defs = parseDefinitions(
      `alerts:
  - { name: hook, type: webhook, url: "https://hooks.example.com/\${HOOK_PATH}?x=1", secret: "$\${not-a-var}-0123456789abcdef0123456789" }
exports: []
`,
      { HOOK_PATH: 'abc/def' },
    );
    expect(defs.alerts[0]).toEqual({
      name: 'hook',
      type: 'webhook',
      url: 'https://hooks.example.com/abc/def?x=1',
      secret: '${not-a-var}-0123456789abcdef0123456789',
    });
  });

  it('normalises the spacing of cron expressions', () => {
    const defs = parseDefinitions(withExports(usage('', '    schedule: { cron: "  0   2 * *  * " }')), ENV);
    expect(defs.exports[0].schedule?.cron).toBe('0 2 * * *');
  });
});

describe('parseDefinitions: malformed files are refused, naming the entry, the field and the rule', () => {
  it('refuses a 6-field cron', () => {
    refused(withExports(usage('', '    schedule: { cron: "0 0 2 * * *" }')), [
      'exports[0] (x).schedule.cron: 6 fields given, 5 expected',
    ]);
  });

  it('refuses a cron field out of range, and other bad field syntax', () => {
    refused(withExports(usage('', '    schedule: { cron: "0 25 * * *" }')), [
      'exports[0] (x).schedule.cron: field 2 (hour): 25 is out of range 0-23',
    ]);
    refused(withExports(usage('', '    schedule: { cron: "*/0 1-x 5-3 FOO SUN-MON/2,,8" }')), [
      'exports[0] (x).schedule.cron: field 1 (minute): step 0 must be a whole number from 1 to 59',
      'exports[0] (x).schedule.cron: field 2 (hour): x is not a number 0-23',
      'exports[0] (x).schedule.cron: field 3 (day-of-month): range 5-3 goes backwards',
      'exports[0] (x).schedule.cron: field 4 (month): FOO is not a number 1-12 or a name JAN-DEC',
      'exports[0] (x).schedule.cron: field 5 (day-of-week): has an empty list item',
      'exports[0] (x).schedule.cron: field 5 (day-of-week): 8 is out of range 0-7',
    ]);
    refused(withExports(usage('', '    schedule: { cron: "@daily" }')), [
      'exports[0] (x).schedule.cron: @-shortcuts (such as @daily) are not supported; write the 5 fields, e.g. 0 0 * * * for daily',
    ]);
  });

  it('refuses a schedule with both cron and every', () => {
    refused(withExports(usage('', '    schedule: { cron: "0 2 * * *", every: 1h }')), [
      'exports[0] (x).schedule: set either cron or every, not both',
    ]);
  });

  it('refuses a schedule with neither cron nor every', () => {
    refused(withExports(usage('', '    schedule: { catchupWindow: 1d }')), [
      'exports[0] (x).schedule: needs cron (e.g. "0 2 * * *") or every (e.g. 1h)',
    ]);
  });

  it('refuses a usage (or bills) export with window none', () => {
    refused(
      withExports(
        `  - { name: x, kind: usage, window: none }\n  - { name: y, kind: bills, window: none, request: { lineItemTypes: [USAGE] } }`,
      ),
      [
        'exports[0] (x).window: none is only allowed for operational exports; usage exports need hour, day, week or month',
        'exports[1] (y).window: none is only allowed for operational exports; bills exports need hour, day, week or month',
      ],
    );
  });

  it('refuses an unknown time zone (or one not spelled as in the tz database)', () => {
    const rule = 'must be an IANA time zone name such as Europe/London, America/New_York or UTC';
    refused(withExports(usage('    timezone: Europe/Londn')), [`exports[0] (x).timezone: ${rule}`]);
    refused(withExports(usage('    timezone: europe/london')), [`exports[0] (x).timezone: ${rule}`]);
    refused(withExports(usage('    timezone: "+05:30"')), [`exports[0] (x).timezone: ${rule}`]);
  });

  it('refuses duplicate export names and duplicate alert names', () => {
    refused(
      `alerts:
  - { name: ops, type: slack, url: "https://hooks.slack.com/a" }
  - { name: ops, type: pagerduty, routingKey: abc }
exports:
  - { name: x, kind: usage, window: day }
  - { name: y, kind: usage, window: day }
  - { name: x, kind: usage, window: hour }
`,
      [
        'alerts[1] (ops).name: duplicates the name of alerts[0]',
        'exports[2] (x).name: duplicates the name of exports[0]',
      ],
    );
  });

  it('refuses an alert reference to a channel that is not declared', () => {
    refused(withExports(usage('    alerts: [ops, pager, ops]')), [
      'exports[0] (x).alerts[1]: no alert channel named pager is declared under alerts (declared: ops)',
      'exports[0] (x).alerts[2]: repeats alerts[0]',
    ]);
  });

  it('refuses a bad request field, checked with the ad-hoc request schema', () => {
    refused(
      withExports(`  - name: x
    kind: usage
    window: day
    request:
      aggregations: [{ meterId: m1, fieldCode: requests, fieldType: MEASURE, function: BOGUS }]
      exportFileFormat: XML
      meterIds: m1`),
      [
        'exports[0] (x).request.meterIds: must be a list',
        'exports[0] (x).request.aggregations[0].function: must be one of SUM, MIN, MAX, COUNT, LATEST, MEAN, UNIQUE',
        'exports[0] (x).request.exportFileFormat: must be one of CSV, JSONL',
      ],
    );
  });

  it('refuses a request carrying its own dates or sourceType', () => {
    refused(
      withExports(`  - name: x
    kind: usage
    window: day
    request: { startDate: "2026-01-01T00:00:00Z", endDate: "2026-01-02T00:00:00Z", sourceType: USAGE }`),
      [
        "exports[0] (x).request.startDate: must not be set: an export's dates come from its window",
        "exports[0] (x).request.endDate: must not be set: an export's dates come from its window",
        'exports[0] (x).request.sourceType: must not be set: it comes from kind',
      ],
    );
  });

  it('refuses request fields that belong to another kind, or missing required ones', () => {
    refused(
      withExports(`  - { name: o, kind: operational, window: none, request: { meterIds: [m1] } }
  - { name: b, kind: bills, window: month, request: { lineItemTypes: [NOPE], limit: 5000 } }
  - { name: u, kind: usage, window: day, request: [1, 2] }`),
      [
        'exports[0] (o).request.operationalDataTypes: is required',
        'exports[0] (o).request.meterIds: is not a recognised field',
        'exports[1] (b).request.lineItemTypes[0]: must be one of ' +
          'STANDING_CHARGE, USAGE, COUNTER_RUNNING_TOTAL_CHARGE, COUNTER_ADJUSTMENT_DEBIT, COUNTER_ADJUSTMENT_CREDIT, ' +
          'USAGE_CREDIT, MINIMUM_SPEND, MINIMUM_SPEND_REFUND, CREDIT_DEDUCTION, MANUAL_ADJUSTMENT, CREDIT_MEMO, ' +
          'DEBIT_MEMO, COMMITMENT_CONSUMED, COMMITMENT_FEE, OVERAGE_SURCHARGE, OVERAGE_USAGE, BALANCE_CONSUMED, ' +
          'BALANCE_FEE, AD_HOC',
        'exports[1] (b).request.limit: must be <= 2000',
        'exports[2] (u).request: must be a mapping',
      ],
    );
  });

  it('reports a YAML syntax error with its line and column', () => {
    refused('exports:\n  - name: x\n    kind: usage\n   window: day\n', [
      'line 4, column 1: YAML syntax: Sequence item without - indicator',
    ]);
    refused('exports:\n  - { name: x, kind: usage\n', [
      expect.stringMatching(/^line 3, column 1: YAML syntax: /) as unknown as string,
    ]);
    refused('exports:\n  - name: x\n    name: y\n', [
      'line 3, column 5: YAML syntax: Map keys must be unique',
    ]);
  });

  it('reports an unquoted cron starting with * as a YAML error with a hint', () => {
    const p = problemsOf(withExports(usage('', '    schedule: { cron: * * * * * }')));
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^line 9, column 23: YAML syntax: .*must be quoted, e\.g\. cron: "\* \* \* \* \*"/);
  });

  it('refuses unknown fields at every level, suggesting a close one', () => {
    refused(
      `exports:
  - { name: x, kind: usage, windw: day, schedule: { cron: "0 2 * * *", overlaps: skip }, colour: blue }
alerts:
  - { name: ops, type: slack, url: "https://hooks.slack.com/a", room: "#ops" }
version: 2
`,
      [
        'version: is not a recognised field (allowed: alerts, exports)',
        'alerts[0] (ops).room: is not a recognised field (allowed: name, type, url, secret, routingKey, token, channel, description, when)',
        'exports[0] (x).window: is required',
        'exports[0] (x).schedule.overlaps: is not a recognised field (did you mean overlap?)',
        'exports[0] (x).windw: is not a recognised field (did you mean window?)',
        'exports[0] (x).colour: is not a recognised field (allowed: name, kind, description, request, window, timezone, schedule, storage, alerts, freshness, onSuccess, pauseAfter)',
      ],
    );
  });

  it('refuses bad names, kinds, enums and types', () => {
    refused(
      withExports(`  - name: Nightly Usage
    kind: csv
    window: fortnight
    storage: ftp
    alerts: ops
    schedule: { cron: "0 2 * * *", overlap: queue, paused: "no" }`),
      [
        'exports[0] (Nightly Usage).name: must match ^[a-z0-9-]{1,40}$ (lowercase letters, digits and dashes)',
        'exports[0] (Nightly Usage).kind: must be one of usage, operational, bills',
        'exports[0] (Nightly Usage).window: must be one of hour, day, week, month, none',
        'exports[0] (Nightly Usage).schedule.overlap: must be one of skip, buffer-one, buffer-all, allow-all',
        'exports[0] (Nightly Usage).schedule.paused: must be true or false',
        'exports[0] (Nightly Usage).storage: must be one of local, none, s3',
        'exports[0] (Nightly Usage).alerts: must be a list',
      ],
    );
  });

  it('refuses durations with bad syntax, zero, or below the Temporal minimums', () => {
    refused(
      withExports(`${usage('    freshness: 0h', '    schedule: { cron: "0 2 * * *", catchupWindow: 3 days }')}
  - { name: y, kind: usage, window: hour, schedule: { every: 500ms, catchupWindow: 5s } }
  - { name: z, kind: usage, window: hour, schedule: { every: 1s500ms }, freshness: 30 }`),
      [
        'exports[0] (x).schedule.catchupWindow: must be a duration such as 90s, 5m, 30h, 7d or 1h30m (units d, h, m, s, ms)',
        'exports[0] (x).freshness: must be greater than 0 (e.g. 90s, 5m, 30h, 7d or 1h30m)',
        "exports[1] (y).schedule.every: must be at least 1s (Temporal's minimum interval)",
        'exports[1] (y).schedule.every: must be a whole number of seconds (Temporal rounds intervals to seconds)',
        "exports[1] (y).schedule.catchupWindow: must be at least 10s (Temporal's minimum catch-up window)",
        'exports[2] (z).freshness: must be a duration such as 90s, 5m, 30h, 7d or 1h30m (units d, h, m, s, ms)',
        'exports[2] (z).schedule.every: must be a whole number of seconds (Temporal rounds intervals to seconds)',
      ],
    );
  });

  it('refuses alert channels missing a field of their type, carrying fields of another type, or with bad URLs', () => {
    refused(
      `alerts:
  - { name: a, type: slack }
  - { name: b, type: webhook, url: "https://hooks.example.com/x" }
  - { name: c, type: pagerduty, secret: s }
  - { name: d, type: email, url: "mailto:ops@example.com" }
  - { name: e, type: slack, url: "not a url", routingKey: k }
exports: []
`,
      [
        'alerts[0] (a).url: is required for a slack channel (its incoming-webhook URL), unless it has a bot token',
        'alerts[1] (b).secret: is required for a webhook channel (deliveries are HMAC-signed with it)',
        'alerts[2] (c).routingKey: is required for a pagerduty channel (its Events API v2 integration key)',
        'alerts[2] (c).secret: is only used by webhook channels',
        'alerts[3] (d).type: must be one of slack, webhook, pagerduty',
        'alerts[3] (d).url: must be an http(s) URL',
        'alerts[4] (e).routingKey: is only used by pagerduty channels',
        'alerts[4] (e).url: must be an http(s) URL',
      ],
    );
  });

  it('takes a slack channel with a bot token and a channel, and refuses the mixes that cannot work', () => {
    const env = { ...ENV, SLACK_BOT_TOKEN: 'xoxb-parse-test-0123456789' };
    const ok = parseDefinitions(
      `alerts:
  - { name: api, type: slack, token: "\${SLACK_BOT_TOKEN}", channel: C0123ABCD }
exports: []
`,
      env,
    );
    expect(ok.alerts[0]).toMatchObject({ type: 'slack', token: env.SLACK_BOT_TOKEN, channel: 'C0123ABCD' });
    refused(
      `alerts:
  - { name: a, type: slack, token: "\${SLACK_BOT_TOKEN}" }
  - { name: b, type: slack, url: "https://hooks.slack.com/x", token: "\${SLACK_BOT_TOKEN}", channel: "#ops" }
  - { name: c, type: slack, url: "https://hooks.slack.com/x", channel: "#ops" }
  - { name: d, type: slack, token: "\${SLACK_BOT_TOKEN}", channel: "ops room" }
  - { name: e, type: pagerduty, routingKey: k, channel: "#ops" }
exports: []
`,
      [
        'alerts[0] (a).channel: is required with a bot token (the Slack channel to post in)',
        'alerts[1] (b).token: set either url (incoming webhook) or token (Web API), not both',
        'alerts[2] (c).channel: is only used with a bot token (an incoming webhook has its own channel)',
        'alerts[3] (d).channel: must be a Slack channel id (e.g. C0123456789) or #name',
        'alerts[4] (e).channel: is only used by slack channels',
      ],
      env,
    );
  });

  it('refuses a file of the wrong shape: empty, not a mapping, exports missing or not a list, entries not mappings', () => {
    refused('', ['the file is empty: expected a mapping with an exports list (and optionally alerts)']);
    refused('# only a comment\n', [
      'the file is empty: expected a mapping with an exports list (and optionally alerts)',
    ]);
    refused('- a\n- b\n', ['the file must be a mapping with an exports list (and optionally alerts)']);
    refused('alerts: []\n', ['exports: is required']);
    refused('exports: nightly\n', ['exports: must be a list']);
    refused('exports:\n', ['exports: must be a list']);
    refused('exports:\n  - nightly\n  - 3\n', [
      'exports[0]: must be a mapping',
      'exports[1]: must be a mapping',
    ]);
  });

  it('refuses a YAML alias bomb instead of expanding it', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (const [prev, cur] of [
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'd'],
      ['d', 'e'],
      ['e', 'f'],
    ]) {
      levels.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    refused(`${levels.join('\n')}\nexports: []\n`, ['YAML: too many alias expansions (at most 100)']);
  });

  it('reports several problems in one file at once, in file order', () => {
    refused(
      `alerts:
  - { name: ops, type: slack, url: "\${SLACK_WEBHOOK_URL}" }
  - { name: pager, type: pagerduty, routingKey: "\${PD_ROUTING_KEY}" }
exports:
  - name: nightly-usage
    kind: usage
    request:
      aggregations: [{ meterId: m1, fieldCode: requests, fieldType: MEASURE, function: BOGUS }]
      startDate: "2026-01-01T00:00:00Z"
    window: none
    timezone: Mars/Olympus
    schedule: { cron: "0 2 * * * *", catchupWindow: 1x }
    alerts: [ops, oncall]
  - name: nightly-usage
    kind: operational
    window: day
    request: { operationalDataTypes: [] }
    schedule: { every: 1h, cron: "0 * * * *" }
`,
      [
        'alerts[1] (pager).routingKey: ${PD_ROUTING_KEY} is not set in the environment',
        'exports[0] (nightly-usage).timezone: must be an IANA time zone name such as Europe/London, America/New_York or UTC',
        'exports[0] (nightly-usage).schedule.catchupWindow: has an unknown unit (use d, h, m, s or ms; e.g. 90s, 5m, 30h, 7d or 1h30m)',
        'exports[0] (nightly-usage).window: none is only allowed for operational exports; usage exports need hour, day, week or month',
        'exports[0] (nightly-usage).schedule.cron: 6 fields given, 5 expected',
        'exports[0] (nightly-usage).alerts[1]: no alert channel named oncall is declared under alerts (declared: ops, pager)',
        "exports[0] (nightly-usage).request.startDate: must not be set: an export's dates come from its window",
        'exports[0] (nightly-usage).request.aggregations[0].function: must be one of SUM, MIN, MAX, COUNT, LATEST, MEAN, UNIQUE',
        'exports[1] (nightly-usage).schedule: set either cron or every, not both',
        'exports[1] (nightly-usage).request.operationalDataTypes: must contain at least 1 item',
        'exports[1] (nightly-usage).name: duplicates the name of exports[0]',
      ],
    );
  });

  it('the error message names the file and lists every problem on its own line', () => {
    let error: DefinitionsError | undefined;
    try {
      parseDefinitions(withExports(usage('    timezone: Nowhere/Place\n    storage: tape')), ENV, {
        file: 'x.yaml',
      });
    } catch (e) {
      error = e as DefinitionsError;
    }
    expect(error).toBeInstanceOf(DefinitionsError);
    expect(error?.file).toBe('x.yaml');
    expect(error?.message).toBe(
      'Invalid export definitions in x.yaml (2 problems):\n' +
        '  exports[0] (x).timezone: must be an IANA time zone name such as Europe/London, America/New_York or UTC\n' +
        '  exports[0] (x).storage: must be one of local, none, s3',
    );
  });
});

describe('parseDefinitions: environment variables', () => {
  it('a missing variable is named with its field, and nothing else is said about that field', () => {
    refused(VALID, ['alerts[0] (ops).url: ${SLACK_WEBHOOK_URL} is not set in the environment'], {
      ALERT_HMAC_SECRET: ENV.ALERT_HMAC_SECRET,
    });
    refused(
      VALID,
      [
        'alerts[0] (ops).url: ${SLACK_WEBHOOK_URL} is not set in the environment',
        'alerts[1] (billing-hook).secret: ${ALERT_HMAC_SECRET} is not set in the environment',
      ],
      {},
    );
  });

  it('empty variables and malformed references are refused too', () => {
    refused(
      VALID,
      ['alerts[1] (billing-hook).secret: ${ALERT_HMAC_SECRET} is set but empty in the environment'],
      {
        ...ENV,
        ALERT_HMAC_SECRET: '',
      },
    );
    refused(
      `alerts:
  - { name: a, type: webhook, url: "https://h.example.com/\${1BAD}", secret: "\${OPEN" }
exports: []
`,
      [
        'alerts[0] (a).url: ${1BAD} is not a valid variable reference (letters, digits and _, not starting with a digit)',
        'alerts[0] (a).secret: has a ${ without a closing } (write $${ for a literal ${)',
      ],
    );
  });

  it('never prints a variable value, whichever field it lands in and whatever is wrong with it', () => {
    const secrets = {
      SLACK_WEBHOOK_URL: 'xoxb-not-a-url-SECRET1',
      ALERT_HMAC_SECRET: 'SECRET2-hmac',
      PD_KEY: 'SECRET3-routing',
      HOOK_URL: 'ftp://SECRET4.example/Zone4',
      HOOK_KEY: 'SECRET5-short',
    };
    const file = `
alerts:
  - { name: ops, type: slack, url: "\${SLACK_WEBHOOK_URL}", secret: "\${ALERT_HMAC_SECRET}" }
  - { name: pd, type: pagerduty, routingKey: "\${PD_KEY}", secret: "\${PD_KEY}" }
  - { name: hook, type: webhook, url: "\${HOOK_URL}", secret: "\${HOOK_KEY}" }
exports: []
`;
    let error: DefinitionsError | undefined;
    try {
      parseDefinitions(file, secrets, { file: 'defs.yaml' });
    } catch (e) {
      error = e as DefinitionsError;
    }
    expect(error).toBeInstanceOf(DefinitionsError);
    const text = [error!.message, ...error!.problems].join('\n');
    for (const value of Object.values(secrets)) expect(text).not.toContain(value);
    for (const fragment of ['SECRET', 'xoxb', 'Zone4']) expect(text).not.toContain(fragment);
    expect(error!.problems).toEqual([
      'alerts[0] (ops).secret: is only used by webhook channels',
      'alerts[0] (ops).url: must be an http(s) URL',
      'alerts[1] (pd).secret: is only used by webhook channels',
      'alerts[2] (hook).secret: must be at least 32 characters (e.g. openssl rand -hex 32)',
      'alerts[2] (hook).url: must be an http(s) URL',
    ]);
  });
});

describe('loadDefinitionsFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'defs-'));

  it('reads and parses a file, naming it in errors', () => {
    const good = join(dir, 'good.yaml');
    writeFileSync(good, VALID);
    expect(loadDefinitionsFile(good, ENV).exports[0].name).toBe('nightly-usage');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, withExports(usage('    storage: tape')));
    expect(() => loadDefinitionsFile(bad, ENV)).toThrow(`Invalid export definitions in ${bad} (1 problem):`);
  });

  it('a missing file or a directory is a DefinitionsError naming the path', () => {
    const missing = join(dir, 'nope.yaml');
    expect(() => loadDefinitionsFile(missing, ENV)).toThrow(DefinitionsError);
    try {
      loadDefinitionsFile(missing, ENV);
    } catch (e) {
      expect((e as DefinitionsError).problems).toEqual([`${missing}: file not found`]);
    }
    try {
      loadDefinitionsFile(dir, ENV);
    } catch (e) {
      expect((e as DefinitionsError).problems).toEqual([`${dir}: is a directory, not a file`]);
    }
  });

  it('reads the environment of the process by default', () => {
    const file = join(dir, 'env.yaml');
    writeFileSync(file, `alerts:\n  - { name: s, type: slack, url: "\${DEFS_TEST_HOOK}" }\nexports: []\n`);
    process.env.DEFS_TEST_HOOK = 'https://hooks.example.com/from-the-environment';
    try {
      expect(loadDefinitionsFile(file).alerts[0].url).toBe('https://hooks.example.com/from-the-environment');
    } finally {
      delete process.env.DEFS_TEST_HOOK;
    }
  });
});
