// Worker health over HTTP, for orchestrators (compose health checks, Kubernetes probes):
//   GET /healthz  200 while the process serves requests at all (liveness: restart it when this fails)
//   GET /readyz   200 when the worker is connected to Temporal and polling its task queues, else 503 with
//                 the reasons (readiness: do not count this replica as serving)
// A separate port from the metrics: the Prometheus endpoint belongs to the SDK's runtime, which serves
// nothing else. Plain node:http: two routes need no framework.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Readiness {
  ready: boolean;
  /** What is not ready (empty when ready). */
  reasons: string[];
  [detail: string]: unknown;
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export interface HealthServerOptions {
  port: number;
  /** Default 0.0.0.0: probes come from outside the container. */
  host?: string;
  readiness(): Promise<Readiness>;
}

export async function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const send = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'GET only' });
    if (url === '/healthz') return send(res, 200, { status: 'ok', pid: process.pid });
    if (url === '/readyz') {
      opts.readiness().then(
        (r) => send(res, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not ready', ...r }),
        (err: unknown) =>
          send(res, 503, { status: 'not ready', ready: false, reasons: [(err as Error).message] }),
      );
      return;
    }
    send(res, 404, { error: 'not found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
