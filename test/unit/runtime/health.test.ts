// /healthz says live only while the worker says so; /readyz says ready only when the worker says so, with
// reasons that never carry an error's own text; the server listens on loopback unless told otherwise.
import net from 'node:net';
import os from 'node:os';
import {
  READINESS_CHECK_FAILED,
  startHealthServer,
  type HealthServer,
  type Liveness,
  type Readiness,
} from '../../../src/runtime/health';

describe('health server', () => {
  let server: HealthServer;
  let readiness: Readiness | Error = { ready: true, reasons: [] };
  let liveness: Liveness = { live: true, reasons: [] };
  const errors: unknown[] = [];
  beforeAll(async () => {
    server = await startHealthServer({
      port: 0,
      readiness: async () => {
        if (readiness instanceof Error) throw readiness;
        return readiness;
      },
      liveness: () => liveness,
      onError: (err) => errors.push(err),
    });
  });
  afterAll(() => server.close());
  const get = async (p: string, host = '127.0.0.1') => {
    const res = await fetch(`http://${host}:${server.port}${p}`);
    return {
      status: res.status,
      text: await res.clone().text(),
      body: (await res.json()) as Record<string, unknown>,
    };
  };

  it('serves readiness with the worker reasons, 503 when not ready', async () => {
    readiness = { ready: true, reasons: [] };
    expect(await get('/readyz')).toMatchObject({ status: 200, body: { status: 'ready', ready: true } });
    readiness = { ready: false, reasons: ['m3ter worker is STOPPING'] };
    expect(await get('/readyz')).toMatchObject({
      status: 503,
      body: { ready: false, reasons: ['m3ter worker is STOPPING'] },
    });
    expect((await get('/nope')).status).toBe(404);
  });

  it('answers a throwing readiness check with a fixed reason and hands the error to onError', async () => {
    const err = new Error('connect ECONNREFUSED 10.1.2.3:7233');
    readiness = err;
    const r = await get('/readyz');
    expect(r).toMatchObject({ status: 503, body: { ready: false, reasons: [READINESS_CHECK_FAILED] } });
    expect(r.text).not.toContain('10.1.2.3');
    expect(errors).toContain(err);
  });

  it('says live only while the worker does, independently of readiness', async () => {
    readiness = { ready: false, reasons: ['not connected: x'] };
    liveness = { live: true, reasons: [] };
    expect(await get('/healthz')).toMatchObject({ status: 200, body: { status: 'ok', live: true } });
    liveness = { live: false, reasons: ['workflow worker is FAILED'] };
    expect(await get('/healthz')).toMatchObject({
      status: 503,
      body: { status: 'not live', reasons: ['workflow worker is FAILED'] },
    });
  });

  it('listens on loopback only by default', async () => {
    expect(server.host).toBe('127.0.0.1');
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (!external) return; // nothing but loopback to try on this machine
    const code = await new Promise<string | undefined>((resolve) => {
      const socket = net.connect(server.port, external);
      socket.once('connect', () => (socket.destroy(), resolve(undefined)));
      socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code));
    });
    expect(code).toBe('ECONNREFUSED');
  });
});
