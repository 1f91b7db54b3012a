// Worker health over HTTP, for orchestrators (compose health checks, Kubernetes probes):
//   GET /healthz  200 while the worker runs (liveness: restart the process when this fails), else 503
//   GET /readyz   200 when the worker is connected to Temporal and polling its task queues, else 503 with
//                 the reasons (readiness: do not count this replica as serving)
// A separate port from the metrics: the Prometheus endpoint belongs to the SDK's runtime, which serves
// nothing else. Plain node:http: two routes need no framework. Anyone who can reach the port reads the
// answers, so they name states, never addresses or raw error text.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Readiness {
  ready: boolean;
  /** What is not ready (empty when ready). */
  reasons: string[];
}

export interface Liveness {
  live: boolean;
  /** Why not (empty when live). */
  reasons: string[];
}

export interface HealthServer {
  port: number;
  /** The address it listens on. */
  host: string;
  close(): Promise<void>;
}

/** What `/readyz` says when the readiness check itself throws; the error goes to `onError`. */
export const READINESS_CHECK_FAILED = 'readiness check failed (see the worker log)';

export interface HealthServerOptions {
  port: number;
  /** Interface to listen on. Default `127.0.0.1`; the image sets `HEALTH_HOST=0.0.0.0` for probes from outside. */
  host?: string;
  readiness(): Promise<Readiness>;
  /** Default: always live (the process answers). The worker says live only while its workers run. */
  liveness?(): Liveness;
  /** Where a throwing readiness check is reported. Default: nowhere. */
  onError?(err: unknown): void;
}

export async function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const send = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'GET only' });
    if (url === '/healthz') {
      const l = opts.liveness?.() ?? { live: true, reasons: [] };
      return send(res, l.live ? 200 : 503, { status: l.live ? 'ok' : 'not live', ...l });
    }
    if (url === '/readyz') {
      opts.readiness().then(
        (r) => send(res, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not ready', ...r }),
        (err: unknown) => {
          opts.onError?.(err);
          send(res, 503, { status: 'not ready', ready: false, reasons: [READINESS_CHECK_FAILED] });
        },
      );
      return;
    }
    send(res, 404, { error: 'not found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    host: (server.address() as AddressInfo).address,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
