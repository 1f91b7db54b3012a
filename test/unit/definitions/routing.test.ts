// The routing `schedules apply` and `backfill` attach to each export, and `ingest --alert` to a file: channels
// as the definitions file wrote them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { attachAlertRouting, DefinitionsError, parseDefinitions } from '../../../src/definitions';
import { namedChannelRouting } from '../../../src/definitions/routing';

const FILE = (hookUrl = '${HOOK_URL}') =>
  [
    'alerts:',
    '  - name: ops',
    '    type: slack',
    '    url: ${SLACK_URL}',
    '  - name: barhook',
    '    type: webhook',
    `    url: ${hookUrl}`,
    '    secret: ${HOOK_SECRET}',
    '  - name: unused',
    '    type: webhook',
    '    url: https://hooks.example.com/literal',
    '    secret: ${HOOK_SECRET}',
    'exports:',
    '  - name: bar',
    '    kind: operational',
    '    request: { operationalDataTypes: [ACCOUNTS] }',
    '    window: day',
    '    alerts: [barhook]',
    '  - name: quiet',
    '    kind: operational',
    '    request: { operationalDataTypes: [ACCOUNTS] }',
    '    window: day',
  ].join('\n');
const ENV = {
  SLACK_URL: 'https://hooks.slack.com/services/T/B/tok',
  HOOK_URL: 'https://hooks.example.com/h/tok',
  HOOK_SECRET: 'x'.repeat(40),
};

describe('onSuccess', () => {
  const withOnSuccess = (refs: string, extra = '') =>
    FILE().replace('    alerts: [barhook]', `    alerts: [barhook]\n    onSuccess: ${refs}${extra}`);

  it('carries the landed-event channels as written', () => {
    const text = withOnSuccess('[barhook]');
    const routed = attachAlertRouting(parseDefinitions(text, ENV), text);
    expect(routed.exports[0].onSuccess).toEqual(['barhook']);
    expect(routed.exports[0].alerting?.onSuccess).toEqual([
      { name: 'barhook', type: 'webhook', url: '${HOOK_URL}', secret: '${HOOK_SECRET}' },
    ]);
  });

  it('refuses a channel that is not a webhook, one not declared, and storage none', () => {
    let err: unknown;
    try {
      parseDefinitions(withOnSuccess('[ops, nobody]', '\n    storage: none'), ENV);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DefinitionsError);
    expect((err as DefinitionsError).problems).toEqual([
      expect.stringContaining('exports[0] (bar).onSuccess[1]: no alert channel named nobody'),
      'exports[0] (bar).onSuccess[0]: ops is not a webhook channel (the landed event goes to signed webhooks only)',
      'exports[0] (bar).onSuccess: needs a stored ExportJob file: not for bills exports or storage none',
    ]);
  });
});

describe('attachAlertRouting', () => {
  it('attaches the channels each export names with their ${VAR} references unresolved', () => {
    const text = FILE();
    const routed = attachAlertRouting(parseDefinitions(text, ENV), text);
    expect(routed.exports.map((e) => [e.name, e.alerting])).toEqual([
      [
        'bar',
        { channels: [{ name: 'barhook', type: 'webhook', url: '${HOOK_URL}', secret: '${HOOK_SECRET}' }] },
      ],
      ['quiet', { channels: [] }],
    ]);
    expect(JSON.stringify(routed.exports)).not.toContain(ENV.HOOK_SECRET);
  });

  it('refuses a used channel whose url is written literally, naming the channel and field', () => {
    const text = FILE('https://hooks.example.com/h/literal-token');
    let err: unknown;
    try {
      attachAlertRouting(parseDefinitions(text, ENV), text, 'm3ter-exports.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DefinitionsError);
    expect((err as DefinitionsError).problems).toEqual([
      expect.stringMatching(/^alerts\[1\] \(barhook\)\.url: must use a \$\{VAR\} reference/),
    ]);
  });
});

describe("an export's own routing rule for a channel", () => {
  const withEntries = (entries: string, channelRule = '') =>
    FILE()
      .replace(
        '    secret: ${HOOK_SECRET}\n  - name: unused',
        `    secret: \${HOOK_SECRET}${channelRule}\n  - name: unused`,
      )
      .replace('    alerts: [barhook]', `    alerts: ${entries}`);

  it('travels as that channel’s rule for this export only, the channel itself unchanged', () => {
    const text = withEntries(`[ops, { name: barhook, when: "sourceType == 'USAGE'" }]`);
    const defs = parseDefinitions(text, ENV);
    expect(defs.exports[0].alerts).toEqual(['ops', 'barhook']);
    expect(defs.alerts.find((a) => a.name === 'barhook')?.when).toBeUndefined();
    const routed = attachAlertRouting(defs, text);
    expect(routed.exports[0].alerting?.channels).toEqual([
      { name: 'ops', type: 'slack', url: '${SLACK_URL}' },
      {
        name: 'barhook',
        type: 'webhook',
        url: '${HOOK_URL}',
        secret: '${HOOK_SECRET}',
        when: "sourceType == 'USAGE'",
      },
    ]);
  });

  it('refuses a rule on an entry whose channel has its own, an entry without a name, and an undeclared one', () => {
    const text = withEntries(
      `[{ name: barhook, when: "a == 1" }, { when: "b == 2" }, { name: nobody, when: "c == 3" }]`,
      `\n    when: "sourceType == 'USAGE'"`,
    );
    let err: unknown;
    try {
      parseDefinitions(text, ENV);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DefinitionsError);
    expect((err as DefinitionsError).problems).toEqual([
      'exports[0] (bar).alerts[1]: must be a channel name, or { name, when } to give this export a routing rule for that channel',
      expect.stringContaining('exports[0] (bar).alerts[2]: no alert channel named nobody'),
      'exports[0] (bar).alerts[0].when: channel barhook has a when: rule of its own: put the rule on the channel or on this entry, not both',
    ]);
  });
});

describe('namedChannelRouting (ingest --alert)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'named-routing-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (text: string) => {
    const file = path.join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
    fs.writeFileSync(file, text);
    return file;
  };

  it('carries the named channels as written, and default alone as the worker’s channel without a file', () => {
    const file = write(FILE());
    expect(namedChannelRouting(['barhook', 'ops'], file, ENV)).toEqual({
      channels: [
        { name: 'barhook', type: 'webhook', url: '${HOOK_URL}', secret: '${HOOK_SECRET}' },
        { name: 'ops', type: 'slack', url: '${SLACK_URL}' },
      ],
    });
    expect(namedChannelRouting(['default'], path.join(dir, 'absent.yaml'), ENV)).toEqual({ channels: [] });
  });

  it('refuses, all at once, an undeclared channel and one whose secret is written literally', () => {
    const file = write(FILE());
    let err: unknown;
    try {
      namedChannelRouting(['nobody', 'unused'], file, ENV);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DefinitionsError);
    expect((err as DefinitionsError).problems).toEqual([
      'no alert channel named nobody is declared under alerts (declared: ops, barhook, unused)',
      expect.stringMatching(/^alerts\[2\] \(unused\)\.url: must use a \$\{VAR\} reference/),
    ]);
  });

  it('refuses a definitions file that is missing, naming it', () => {
    expect(() => namedChannelRouting(['ops'], path.join(dir, 'missing.yaml'), ENV)).toThrow(
      `${path.join(dir, 'missing.yaml')}: file not found`,
    );
  });
});
