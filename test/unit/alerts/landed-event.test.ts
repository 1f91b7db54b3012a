// The landed event's payload matches its documented JSON Schema (docs/landed-event.schema.json), and the
// webhook channel sends it, signed, instead of an alert payload.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { createAlertRouter, type Alert } from '../../../src/alerts';
import { landedEvent } from '../../../src/alerts/landed';
import { alertReceiverPerBlock } from '../../support/alert-receiver';

const SCHEMA = JSON.parse(readFileSync(join(__dirname, '../../../docs/landed-event.schema.json'), 'utf8'));
const SECRET = 'whsec-landed-0123456789abcdef0123456789';

function validator() {
  const ajv = new Ajv({ allErrors: true, strict: true });
  addFormats(ajv);
  return ajv.compile(SCHEMA);
}

const landed: Alert & { landed: NonNullable<Alert['landed']> } = {
  kind: 'ExportLanded',
  message: 'export job job-1 landed',
  workflowId: 'export:usage:nightly-usage:2026-03-29T00:00:00Z',
  jobId: 'job-1',
  exportName: 'nightly-usage',
  exportKind: 'usage',
  window: { start: '2026-03-29T00:00:00.000Z', end: '2026-03-29T23:00:00.000Z' },
  landed: {
    location: 's3://bucket/exports/export=nightly-usage/usage-2026-03-29.csv',
    bytes: 1234,
    rows: 10,
    sha256: 'a'.repeat(64),
    contentType: 'text/csv',
    completedAt: '2026-03-30T02:01:00.000Z',
  },
};

describe('the landed event', () => {
  it('validates against docs/landed-event.schema.json, with and without the optional fields', () => {
    const validate = validator();
    const full = landedEvent(landed, new Date('2026-03-30T02:01:01Z'));
    expect(validate(full)).toBe(true);
    const { rows: _r, contentType: _c, ...bare } = landed.landed;
    const minimal = landedEvent({ kind: 'ExportLanded', message: 'x', landed: bare }, new Date());
    expect(validate(minimal)).toBe(true);
    expect(minimal.manifestLocation).toBe(`${bare.location}.manifest.json`);
  });

  it('is refused by the schema when it carries a field outside it (a URL, say)', () => {
    const validate = validator();
    const tampered = { ...landedEvent(landed, new Date()), url: 'https://files.example.com/x?sig=1' };
    expect(validate(tampered)).toBe(false);
    expect(validate.errors?.[0]).toMatchObject({ keyword: 'additionalProperties' });
  });

  describe('sent by the webhook channel', () => {
    const rx = alertReceiverPerBlock();

    it('goes to the onSuccess channels only, signed, as the landed payload', async () => {
      const router = createAlertRouter({
        defaultWebhookUrl: `${rx.url}/default`,
        env: { LANDING_URL: `${rx.url}/landing`, LANDING_SECRET: SECRET },
        post: { baseDelayMs: 1, maxDelayMs: 5 },
      });
      const results = await router.deliver({
        ...landed,
        routing: {
          channels: [],
          onSuccess: [
            { name: 'landing', type: 'webhook', url: '${LANDING_URL}', secret: '${LANDING_SECRET}' },
          ],
        },
      });
      expect(results.map((r) => [r.channel, r.ok])).toEqual([['landing', true]]);
      expect(rx.received.map((r) => r.path)).toEqual(['/landing']);
      const body = rx.received[0].json as Record<string, unknown>;
      expect(validator()(body)).toBe(true);
      expect(body).toMatchObject({ type: 'export.landed', jobId: 'job-1', bytes: 1234, rows: 10 });
      expect(rx.received[0].headers['x-m3ter-exports-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    });
  });
});
