// A local HTTP server standing in for Slack, a webhook receiver and PagerDuty: records every request's
// path, headers and raw body, and answers with a scripted status (default 200).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: unknown;
  at: number;
}

export interface AlertReceiver {
  url: string;
  received: ReceivedRequest[];
  /** Answers for the next requests, in order; then 200. */
  script: number[];
  on(path: string): ReceivedRequest[];
  close(): Promise<void>;
}

export async function startAlertReceiver(): Promise<AlertReceiver> {
  const received: ReceivedRequest[] = [];
  const script: number[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const status = script.shift() ?? 200;
      if (status >= 200 && status < 300) {
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        received.push({ path: req.url ?? '/', headers: req.headers, body, json, at: Date.now() });
      }
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status >= 200 && status < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    script,
    on: (p) => received.filter((r) => r.path === p),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
