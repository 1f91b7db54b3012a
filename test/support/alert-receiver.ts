// A local HTTP server standing in for Slack, a webhook receiver and PagerDuty: records every request's
// path, headers and raw body, and answers with a scripted status (default 200). Under any path ending in
// /chat.postMessage or /chat.update it answers as Slack's Web API does: a posted message's channel and ts,
// `message_not_found` for an edit of a message it never posted, and `is_archived` for channel C0ARCHIVED.
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
      const slack = /\/(chat\.postMessage|chat\.update)$/.exec(req.url ?? '');
      if (slack && status >= 200 && status < 300) {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(slackAnswer(slack[1], received.at(-1)?.json)));
        return;
      }
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status >= 200 && status < 300 ? 'ok' : 'no');
    });
  });
  // Slack's messages: ts -> channel.
  const posted = new Map<string, string>();
  const slackAnswer = (method: string, json: unknown) => {
    const body = (json ?? {}) as { channel?: string; ts?: string };
    const channel = /^[A-Z0-9]+$/.test(body.channel ?? '') ? (body.channel as string) : 'C0RECEIVER';
    if (channel === 'C0ARCHIVED') return { ok: false, error: 'is_archived' };
    if (method === 'chat.update')
      return body.ts && posted.has(body.ts)
        ? { ok: true, channel, ts: body.ts }
        : { ok: false, error: 'message_not_found' };
    const ts = `${1_700_000_000 + posted.size}.${String(posted.size + 1).padStart(6, '0')}`;
    posted.set(ts, channel);
    return { ok: true, channel, ts };
  };
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
