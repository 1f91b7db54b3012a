// /healthz answers while the process is up; /readyz says ready only when the worker says so, with reasons.
import { startHealthServer, type HealthServer, type Readiness } from '../../../src/runtime/health';

describe('health server', () => {
  let server: HealthServer;
  let readiness: Readiness | Error = { ready: true, reasons: [] };
  beforeAll(async () => {
    server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      readiness: async () => {
        if (readiness instanceof Error) throw readiness;
        return readiness;
      },
    });
  });
  afterAll(() => server.close());
  const get = async (p: string) => {
    const res = await fetch(`http://127.0.0.1:${server.port}${p}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('serves liveness and readiness', async () => {
    expect(await get('/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await get('/readyz')).toMatchObject({ status: 200, body: { status: 'ready', ready: true } });
    readiness = { ready: false, reasons: ['m3ter worker is STOPPING'] };
    expect(await get('/readyz')).toMatchObject({
      status: 503,
      body: { ready: false, reasons: ['m3ter worker is STOPPING'] },
    });
    readiness = new Error('deadline exceeded');
    expect(await get('/readyz')).toMatchObject({ status: 503, body: { reasons: ['deadline exceeded'] } });
    // Liveness does not depend on readiness.
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/nope')).status).toBe(404);
  });
});
