// The routing `schedules apply` and `backfill` attach to each export: its channels as the file wrote them.
import { attachAlertRouting, DefinitionsError, parseDefinitions } from '../../../src/definitions';

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
