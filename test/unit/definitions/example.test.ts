import { join } from 'node:path';
import {
  DefinitionsError,
  loadDefinitionsFile,
  loadRoutedDefinitionsFile,
  requestForWindow,
} from '../../../src/definitions';
import { windowForNominalTime } from '../../../src/windows';

const EXAMPLE = join(__dirname, '../../../examples/m3ter-exports.yaml');

describe('examples/m3ter-exports.yaml', () => {
  const env = {
    SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T000/B000/example',
    ALERT_HMAC_SECRET: 'example-hmac-secret-0123456789abcdef',
    BILLING_HOOK_URL: 'https://hooks.example.com/m3ter-exports',
  };

  it('parses with the variables it references set', () => {
    const defs = loadDefinitionsFile(EXAMPLE, env);
    expect(defs.alerts.map((a) => [a.name, a.type])).toEqual([
      ['ops', 'slack'],
      ['billing-hook', 'webhook'],
    ]);
    expect(defs.exports.map((e) => [e.name, e.kind, e.window, e.timezone, e.schedule?.cron])).toEqual([
      ['nightly-usage', 'usage', 'day', 'Europe/London', '0 2 * * *'],
      ['hourly-usage', 'usage', 'hour', 'UTC', '15 * * * *'],
      ['weekly-accounts', 'operational', 'week', 'America/New_York', '0 6 * * MON'],
      ['monthly-bills', 'bills', 'month', 'UTC', '0 4 2 * *'],
    ]);
    // The nightly export at 02:00 London on 30 March exports 29 March (23 hours long).
    const nightly = defs.exports[0];
    const window = windowForNominalTime('2026-03-30T01:00:00Z', 'day', nightly.timezone);
    expect(requestForWindow(nightly, window)).toMatchObject({
      sourceType: 'USAGE',
      startDate: '2026-03-29T00:00:00.000Z',
      endDate: '2026-03-29T23:00:00.000Z',
    });
  });

  it('is accepted by schedules apply: every channel an export uses is written with references', () => {
    const defs = loadRoutedDefinitionsFile(EXAMPLE, env);
    expect(defs.exports[0].alerting).toEqual({
      channels: [{ name: 'ops', type: 'slack', url: '${SLACK_WEBHOOK_URL}' }],
      onSuccess: [
        { name: 'billing-hook', type: 'webhook', url: '${BILLING_HOOK_URL}', secret: '${ALERT_HMAC_SECRET}' },
      ],
    });
  });

  it('names the variables it needs when they are missing', () => {
    expect(() => loadDefinitionsFile(EXAMPLE, {})).toThrow(DefinitionsError);
    try {
      loadDefinitionsFile(EXAMPLE, {});
    } catch (e) {
      expect((e as DefinitionsError).problems).toEqual([
        'alerts[0] (ops).url: ${SLACK_WEBHOOK_URL} is not set in the environment',
        'alerts[1] (billing-hook).url: ${BILLING_HOOK_URL} is not set in the environment',
        'alerts[1] (billing-hook).secret: ${ALERT_HMAC_SECRET} is not set in the environment',
      ]);
    }
  });
});
