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

/** Listens on a free loopback port until `close()`. */
export async function startAlertReceiver(): Promise<AlertReceiver> {
  const rx = createAlertReceiver();
  await rx.listen();
  return rx;
}

/**
 * A receiver for the calling describe block: listening for its tests and emptied (requests and script)
 * before each, so a test sees only what it caused.
 */
export function alertReceiverPerBlock(): AlertReceiver {
  const rx = createAlertReceiver();
  beforeAll(() => rx.listen());
  afterAll(() => rx.close());
  beforeEach(() => {
    rx.received.length = 0;
    rx.script.length = 0;
  });
  return rx;
}

/** A receiver not yet listening; its `url` is known once `listen()` has resolved. */
function createAlertReceiver(): AlertReceiver & { listen(): Promise<void> } {
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
  let port: number | undefined;
  return {
    get url() {
      if (port === undefined) throw new Error('the alert receiver has not started listening');
      return `http://127.0.0.1:${port}`;
    },
    received,
    script,
    on: (p) => received.filter((r) => r.path === p),
    listen: () =>
      new Promise<void>((r) =>
        server.listen(0, '127.0.0.1', () => {
          port = (server.address() as AddressInfo).port;
          r();
        }),
      ),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
