import {
  definitionHash,
  parseDefinitions,
  requestForWindow,
  type ExportDefinition,
} from '../../../src/definitions';
import { BillsCsvRequestSchema, parseAdhocExportRequest } from '../../../src/m3ter/schemas';

const WINDOW = { start: '2026-03-29T00:00:00.000Z', end: '2026-03-29T23:00:00.000Z' };
const AFTER_WINDOW = Date.parse('2026-03-30T02:00:00Z');

const def = (over: Partial<ExportDefinition>): ExportDefinition => ({
  name: 'x',
  kind: 'usage',
  request: {},
  window: 'day',
  timezone: 'Europe/London',
  storage: 'local',
  alerts: [],
  ...over,
});

describe('requestForWindow', () => {
  it('usage: sourceType, the request, and the window as startDate/endDate', () => {
    const request = {
      meterIds: ['m1'],
      aggregations: [{ meterId: 'm1', fieldCode: 'requests', fieldType: 'MEASURE', function: 'SUM' }],
    };
    const body = requestForWindow(def({ request }), WINDOW);
    expect(body).toEqual({ sourceType: 'USAGE', ...request, startDate: WINDOW.start, endDate: WINDOW.end });
    expect(parseAdhocExportRequest(body, AFTER_WINDOW)).toEqual(body);
  });

  it('operational with a window: startDate only (the window start); with none: no dates at all', () => {
    const request = { operationalDataTypes: ['ACCOUNTS'] };
    const dated = requestForWindow(def({ kind: 'operational', request }), WINDOW);
    expect(dated).toEqual({
      sourceType: 'OPERATIONAL',
      operationalDataTypes: ['ACCOUNTS'],
      startDate: WINDOW.start,
    });
    expect(parseAdhocExportRequest(dated, AFTER_WINDOW)).toEqual(dated);
    const snapshot = { sourceType: 'OPERATIONAL', operationalDataTypes: ['ACCOUNTS'] };
    expect(requestForWindow(def({ kind: 'operational', window: 'none', request }), undefined)).toEqual(
      snapshot,
    );
    expect(requestForWindow(def({ kind: 'operational', window: 'none', request }), WINDOW)).toEqual(snapshot);
  });

  it('bills: no sourceType, the window as startDate/endDate', () => {
    const body = requestForWindow(
      def({ kind: 'bills', window: 'month', request: { lineItemTypes: ['USAGE'] } }),
      WINDOW,
    );
    expect(body).toEqual({ lineItemTypes: ['USAGE'], startDate: WINDOW.start, endDate: WINDOW.end });
    expect(BillsCsvRequestSchema.parse(body)).toEqual(body);
  });

  it('usage and bills need a window', () => {
    expect(() => requestForWindow(def({}), undefined)).toThrow('needs a window');
    expect(() => requestForWindow(def({ kind: 'bills' }), undefined)).toThrow('needs a window');
  });

  it('does not share nested objects with the definition', () => {
    const d = def({ request: { meterIds: ['m1'] } });
    (requestForWindow(d, WINDOW).meterIds as string[]).push('m2');
    expect(d.request).toEqual({ meterIds: ['m1'] });
  });
});

describe('definitionHash', () => {
  const file = (meter: string) => `
alerts:
  - { name: hook, type: webhook, url: "https://hooks.example.com/x", secret: "\${HMAC}" }
exports:
  - { name: e, kind: usage, window: day, request: { meterIds: [${meter}] }, alerts: [hook], schedule: { cron: "0 2 * * *" } }
`;
  const parse = (env: Record<string, string>, meter = 'm1') => parseDefinitions(file(meter), env).exports;
  const ONE = 'one-secret-0123456789abcdef0123456789';
  const ANOTHER = 'another-secret-0123456789abcdef01234';

  it('is 16 hex characters, stable and independent of key order', () => {
    const [e] = parse({ HMAC: ONE });
    const h = definitionHash(e);
    expect(h).toMatch(/^[0-9a-f]{16}$/);
    const reordered = Object.fromEntries(Object.entries(e).reverse()) as unknown as ExportDefinition;
    expect(definitionHash(reordered)).toBe(h);
    expect(definitionHash(parse({ HMAC: ONE })[0])).toBe(h);
  });

  it('changes when a value changes, but not with channel secrets (not part of the definition)', () => {
    const [e] = parse({ HMAC: ONE });
    expect(definitionHash(parse({ HMAC: ONE }, 'm2')[0])).not.toBe(definitionHash(e));
    expect(definitionHash(parse({ HMAC: ANOTHER })[0])).toBe(definitionHash(e));
  });

  it('changes with any field of the definition', () => {
    const base = def({
      schedule: {
        cron: '0 2 * * *',
        catchupWindow: '1d',
        catchupWindowMs: 86_400_000,
        overlap: 'buffer-one',
        paused: false,
      },
    });
    const h = definitionHash(base);
    expect(definitionHash({ ...base, timezone: 'UTC' })).not.toBe(h);
    expect(definitionHash({ ...base, window: 'hour' })).not.toBe(h);
    expect(definitionHash({ ...base, schedule: { ...base.schedule!, overlap: 'skip' } })).not.toBe(h);
    expect(definitionHash({ ...base, alerts: ['ops'] })).not.toBe(h);
  });
});
