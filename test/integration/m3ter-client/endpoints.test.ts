import {
  M3terRequestValidationError,
  M3terResponseValidationError,
  type M3terClientOptions,
  type M3terEvent,
} from '../../../src/m3ter';
import { ORG, ScriptedServer, json, type Recorded } from './scripted-server';

const server = new ScriptedServer();
const ingest = new ScriptedServer();

const client = (over: Partial<M3terClientOptions> = {}) => server.client(over);

/** Array query parameters in either form m3ter clients use: repeated or comma-joined (docs/m3ter-api.md). */
function ids(r: Recorded): string[] {
  return r.query
    .getAll('ids')
    .flatMap((v) => v.split(','))
    .filter(Boolean);
}

const event = (n: number): M3terEvent => ({
  id: `ev-${n}`,
  eventName: 'dataexport.job.failure',
  eventTime: new Date(Date.UTC(2025, 4, 20, 12, 0, 60 - n)).toISOString(),
  dtActioned: null,
  m3terEvent: { eventData: { n } },
});

beforeAll(async () => {
  await server.start();
  await ingest.start();
});
afterAll(async () => {
  await server.stop();
  await ingest.stop();
});
beforeEach(() => {
  server.reset();
  ingest.reset();
});

describe('pagination', () => {
  test('iterateExportJobs follows nextToken across 3 pages, keeping every filter', async () => {
    const pages: Record<string, { data: unknown[]; nextToken?: string | null }> = {
      '': {
        data: [
          { id: 'j5', status: 'FAILED' },
          { id: 'j4', status: 'SUCCEEDED' },
        ],
        nextToken: 't1',
      },
      t1: {
        data: [
          { id: 'j3', status: 'SUCCEEDED' },
          { id: 'j2', status: 'RUNNING' },
        ],
        nextToken: 't2',
      },
      t2: { data: [{ id: 'j1', status: 'PENDING' }], nextToken: null },
    };
    server.on('GET /dataexports/jobs', (r, res) => {
      const page = pages[r.query.get('nextToken') ?? ''];
      const wanted = new Set(ids(r));
      if (!page) return json(res, 400, { message: 'bad token' });
      json(res, 200, {
        ...page,
        data: page.data.filter((j) => wanted.size === 0 || wanted.has((j as { id: string }).id)),
      });
    });
    const want = ['j1', 'j2', 'j3', 'j4', 'j5'];
    const seen: string[] = [];
    for await (const j of client().iterateExportJobs({
      ids: want,
      status: undefined,
      pageSize: 2,
      dateCreatedStart: new Date('2025-05-01T00:00:00.500Z'),
    })) {
      seen.push(j.id);
    }
    expect(seen).toEqual(['j5', 'j4', 'j3', 'j2', 'j1']);
    const reqs = server.apiRequests('GET /dataexports/jobs');
    expect(reqs.map((r) => r.query.get('nextToken'))).toEqual([null, 't1', 't2']);
    for (const r of reqs) {
      expect(ids(r)).toEqual(want);
      expect(r.query.get('pageSize')).toBe('2');
      expect(r.query.get('dateCreatedStart')).toBe('2025-05-01T00:00:00Z');
    }
  });

  test('iterateEvents stops on a missing, null or empty nextToken', async () => {
    for (const last of [undefined, null, '']) {
      server.reset();
      server.on(
        'GET /events',
        (_r, res) => json(res, 200, { data: [event(1), event(2)], nextToken: 'n1' }),
        (_r, res) => json(res, 200, { data: [event(3)], nextToken: 'n2' }),
        (_r, res) =>
          json(res, 200, last === undefined ? { data: [event(4)] } : { data: [event(4)], nextToken: last }),
      );
      const got: string[] = [];
      for await (const e of client().iterateEvents({ eventType: 'DataExportJobFailure', pageSize: 2 }))
        got.push(e.id);
      expect(got).toEqual(['ev-1', 'ev-2', 'ev-3', 'ev-4']);
      const reqs = server.apiRequests('GET /events');
      expect(reqs).toHaveLength(3);
      expect(reqs.every((r) => r.query.get('eventType') === 'DataExportJobFailure')).toBe(true);
    }
  });

  test('a server repeating a page token is refused instead of looping forever', async () => {
    server.on('GET /events', (_r, res) => json(res, 200, { data: [event(1)], nextToken: 'same' }));
    const run = async () => {
      for await (const _e of client().iterateEvents()) void _e;
    };
    await expect(run()).rejects.toBeInstanceOf(M3terResponseValidationError);
    expect(server.apiRequests('GET /events').length).toBe(2);
  });

  test('listEvents refuses ids combined with another filter before any HTTP call', async () => {
    await expect(client().listEvents({ ids: ['a'], eventType: 'DataExportJobFailure' })).rejects.toThrow(
      'Invalid event list query: ids: cannot be combined with other filters (eventType)',
    );
    expect(() => client().iterateEvents({ ids: ['a'], accountId: 'acc' })).toThrow(
      M3terRequestValidationError,
    );
    expect(server.requests).toHaveLength(0);
  });
});

describe('response validation', () => {
  test('a schema violation names the path', async () => {
    server.on('GET /dataexports/schedules', (_r, res) =>
      json(res, 200, {
        data: [0, 1, 2, 3].map((i) => ({ id: `s${i}`, sourceType: i === 3 ? 'DONE' : 'USAGE' })),
      }),
    );
    const err = await client()
      .listExportSchedules()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(M3terResponseValidationError);
    const e = err as M3terResponseValidationError;
    expect(e.issues).toEqual([
      { path: 'data[3].sourceType', message: expect.stringContaining('must be one of') },
    ]);
    expect(e.message).toContain('data[3].sourceType');
    expect(e).toMatchObject({
      status: 200,
      method: 'GET',
      path: `/organizations/${ORG}/dataexports/schedules`,
      retryable: false,
    });
  });

  test('a job list drops and counts a malformed job, so the others are still read', async () => {
    server.on('GET /dataexports/jobs', (_r, res) =>
      json(res, 200, {
        data: [0, 1, 2, 3].map((i) => ({ id: `j${i}`, status: i === 3 ? 'DONE' : 'RUNNING' })),
      }),
    );
    const page = await client().listExportJobs();
    expect(page.data.map((j) => j.id)).toEqual(['j0', 'j1', 'j2']);
    expect(page.rejected).toBe(1);
  });

  test('unknown response fields pass through', async () => {
    const body = {
      id: 'j1',
      status: 'SUCCEEDED',
      sourceType: 'OPERATIONAL',
      completedAt: '2025-05-20T00:00:00Z',
      files: [{ n: 1 }],
    };
    server.on('GET /dataexports/jobs/j1', (_r, res) => json(res, 200, body));
    await expect(client().getExportJob('j1')).resolves.toEqual(body);
  });

  test('getExportDownloadUrl requires url', async () => {
    server.on('GET /dataexports/jobs/j1/getdownloadurl', (_r, res) =>
      json(res, 200, { expirationTime: '2025-05-20T00:15:00Z' }),
    );
    const err = await client()
      .getExportDownloadUrl('j1')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(M3terResponseValidationError);
    expect((err as M3terResponseValidationError).issues).toEqual([{ path: 'url', message: 'is required' }]);
  });

  test('a non-JSON 200 body is a response validation error', async () => {
    server.on('GET /events/e1', (_r, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('hello');
    });
    await expect(client().getEvent('e1')).rejects.toBeInstanceOf(M3terResponseValidationError);
  });
});

describe('endpoints', () => {
  test('createAdhocExport validates, posts JSON and returns the job id', async () => {
    const now = Date.UTC(2025, 4, 20, 12);
    server.on('POST /dataexports/adhoc', (_r, res) => json(res, 200, { jobId: 'job-1', extra: true }));
    const c = client({ now: () => now });
    const req = {
      sourceType: 'USAGE' as const,
      startDate: '2025-05-19T00:00:00Z',
      endDate: '2025-05-21T00:00:00Z',
      meterIds: ['m1'],
    };
    await expect(c.createAdhocExport(req)).resolves.toEqual({ jobId: 'job-1' });
    const [r] = server.apiRequests('POST /dataexports/adhoc');
    expect(r?.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(r!.body)).toEqual(req);
    // The client's clock decides "tomorrow": one ms later is refused, without a request.
    await expect(c.createAdhocExport({ ...req, endDate: '2025-05-21T00:00:00.001Z' })).rejects.toBeInstanceOf(
      M3terRequestValidationError,
    );
    expect(server.apiRequests('POST /dataexports/adhoc')).toHaveLength(1);
  });

  test('invalid requests are refused before any HTTP call, naming the field', async () => {
    const c = client();
    await expect(
      c.createAdhocExport({ sourceType: 'OPERATIONAL', operationalDataTypes: [] }),
    ).rejects.toThrow('Invalid adhoc export request: operationalDataTypes: must contain at least 1 item');
    await expect(
      c.downloadBillsCsv({
        startDate: '2025-05-01T00:00:00Z',
        endDate: '2025-06-01T00:00:00Z',
        lineItemTypes: ['USAGE'],
        limit: 0,
      }),
    ).rejects.toThrow('limit: must be >= 1');
    await expect(c.submitMeasurements({ measurements: [] })).rejects.toThrow(
      'measurements: must contain at least 1 item',
    );
    // The size rule is checked on the JSON text the client would send: exactly 512,000 bytes is refused.
    const one = { meter: 'm', account: 'a', ts: '2025-05-20T10:00:00Z', other: { pad: '' } };
    const pad = 512_000 - JSON.stringify({ measurements: [one] }).length;
    const oversized = c.submitMeasurements({ measurements: [{ ...one, other: { pad: 'x'.repeat(pad) } }] });
    await expect(oversized).rejects.toBeInstanceOf(M3terRequestValidationError);
    await expect(oversized).rejects.toThrow('measurements: JSON payload must be < 512000 bytes (is 512000)');
    await expect(c.getExportJob('')).rejects.toBeInstanceOf(M3terRequestValidationError);
    await expect(c.listExportJobs({ pageSize: 500 })).rejects.toThrow('pageSize: must be <= 100');
    expect(server.requests).toHaveLength(0);
  });

  test('getExportDownloadUrl, schedules, events, bills and evaluate hit their documented paths', async () => {
    server
      .on('GET /dataexports/jobs/j%201/getdownloadurl', (_r, res) =>
        json(res, 200, { url: 'http://files.local/f.csv?sig=abc', expirationTime: 'soon' }),
      )
      .on('GET /dataexports/schedules', (_r, res) =>
        json(res, 200, { data: [{ id: 's1', name: 'daily', scheduleType: 'DAY', period: 1 }] }),
      )
      .on('GET /dataexports/schedules/s1', (_r, res) =>
        json(res, 200, { id: 's1', sourceType: 'USAGE', timePeriod: 'YESTERDAY' }),
      )
      .on('GET /events/ev-1', (_r, res) => json(res, 200, event(1)))
      .on('POST /dataexplorer/bills/download/csv', (_r, res) =>
        json(res, 200, { downloadUrl: 'http://files.local/bills.csv' }),
      )
      .on('POST /notifications/evaluate', (_r, res) =>
        json(res, 200, { success: false, errorMessage: 'unknown field new.x' }),
      );
    const c = client();
    expect(await c.getExportDownloadUrl('j 1')).toEqual({
      url: 'http://files.local/f.csv?sig=abc',
      expirationTime: 'soon',
    });
    expect(await c.listExportSchedules({ ids: ['s1', 's2'], pageSize: 10 })).toEqual({
      data: [{ id: 's1', name: 'daily', scheduleType: 'DAY', period: 1 }],
    });
    expect(ids(server.apiRequests('GET /dataexports/schedules')[0]!)).toEqual(['s1', 's2']);
    expect(await c.getExportSchedule('s1')).toEqual({
      id: 's1',
      sourceType: 'USAGE',
      timePeriod: 'YESTERDAY',
    });
    expect(await c.getEvent('ev-1')).toEqual(event(1));
    const bills = {
      startDate: '2025-05-01T00:00:00Z',
      endDate: '2025-06-01T00:00:00Z',
      lineItemTypes: ['USAGE' as const],
      dimensions: [{ name: 'account', filter: ['*'] }],
      limit: 100,
    };
    expect(await c.downloadBillsCsv(bills)).toEqual({ downloadUrl: 'http://files.local/bills.csv' });
    expect(JSON.parse(server.apiRequests('POST /dataexplorer/bills/download/csv')[0]!.body)).toEqual(bills);
    expect(
      await c.evaluateNotification({ calculation: 'new.x > 1', eventName: 'dataexport.job.failure' }),
    ).toEqual({
      success: false,
      errorMessage: 'unknown field new.x',
    });
  });

  test('submitMeasurements goes to ingestUrl, with the same token', async () => {
    ingest.on('POST /measurements', (_r, res) => json(res, 200, { result: 'accepted' }));
    // The ingest server checks its own token store, so share the one issued by the config server.
    const c = client({ ingestUrl: ingest.url });
    server.on('GET /dataexports/jobs/j1', (_r, res) => json(res, 200, { id: 'j1', status: 'RUNNING' }));
    await c.getExportJob('j1');
    ingest.acceptToken(server.issued[0]!);
    const measurements = [
      { meter: 'api_calls', account: 'acme', ts: '2025-05-20T10:00:00Z', measure: { calls: 3 }, uid: 'u-1' },
    ];
    await expect(c.submitMeasurements({ measurements })).resolves.toEqual({ result: 'accepted' });
    const [r] = ingest.apiRequests('POST /measurements');
    expect(JSON.parse(r!.body)).toEqual({ measurements });
    expect(r?.headers.authorization).toBe(`Bearer ${server.issued[0]}`);
    expect(server.apiRequests('POST /measurements')).toHaveLength(0);
    expect(ingest.tokenRequests()).toHaveLength(0);
  });

  test('without ingestUrl a non-api host is used for measurements too (like the official SDK)', async () => {
    server.on('POST /measurements', (_r, res) => json(res, 200, { result: 'accepted' }));
    await client().submitMeasurements({
      measurements: [{ meter: 'm', account: 'a', ts: '2025-05-20T10:00:00Z' }],
    });
    expect(server.apiRequests('POST /measurements')).toHaveLength(1);
  });
});
