/**
 * A real HTTP server on 127.0.0.1:0 that tests script request by request: it records every request,
 * issues and checks OAuth tokens like m3ter (docs/m3ter-api.md, Access token), and answers each API
 * route from a queue of handlers (the last handler repeats). No mocking of axios or node:http.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { M3terClient, type M3terClientOptions } from '../../../src/m3ter';

export interface Recorded {
  method: string;
  url: string;
  pathname: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

export type Handler = (req: Recorded, res: ServerResponse) => void | Promise<void>;

export const ORG = 'org-0000-test';
export const ACCESS_KEY_ID = 'test-access-key-id';
export const API_SECRET = 'Sup3r-S3cret/Value+With=Symbols';

export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function b64url(obj: unknown): string {
  return Buffer.from(JSON.stringify(obj)).toString('base64url');
}

export class ScriptedServer {
  readonly requests: Recorded[] = [];
  /** Status codes the API routes answered with, in order (token route excluded). */
  readonly apiStatuses: number[] = [];
  private readonly server: http.Server;
  private readonly routes = new Map<string, Handler[]>();
  private readonly clients: M3terClient[] = [];
  private readonly validTokens = new Map<string, number>(); // token -> expiry (server clock)
  private tokenScript: Handler[] = [];
  port = 0;
  /** Lifetime of issued tokens, seconds. */
  expiresIn = 18_000;
  /** Server clock; tests that control time share it with the client. */
  now: () => number = Date.now;
  issued: string[] = [];
  /** Delay before the token endpoint answers. */
  tokenDelayMs = 0;

  constructor() {
    this.server = http.createServer((req, res) => {
      void this.handle(req, res);
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Stops listening and drops every open connection (clients then see ECONNREFUSED). */
  /**
   * A client of this server with the test credentials and short retry delays; `over` replaces any option.
   * Closed by the next `reset()` or by `stop()`, so a test's clients never outlive it.
   */
  client(over: Partial<M3terClientOptions> = {}): M3terClient {
    const c = new M3terClient({
      orgId: ORG,
      accessKeyId: ACCESS_KEY_ID,
      apiSecret: API_SECRET,
      apiUrl: this.url,
      baseDelayMs: 5,
      ...over,
    });
    this.clients.push(c);
    return c;
  }

  private closeClients(): void {
    for (const c of this.clients.splice(0)) c.close();
  }

  async stop(): Promise<void> {
    this.closeClients();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  reset(): void {
    this.closeClients();
    this.requests.length = 0;
    this.apiStatuses.length = 0;
    this.routes.clear();
    this.tokenScript = [];
    this.validTokens.clear();
    this.issued = [];
    this.expiresIn = 18_000;
    this.tokenDelayMs = 0;
    this.now = Date.now;
  }

  /** Scripts `METHOD /path-after-org` (e.g. `GET /dataexports/jobs/j1`); handlers are used in order, the last repeats. */
  on(route: string, ...handlers: Handler[]): this {
    this.routes.set(route, handlers);
    return this;
  }

  /** Overrides the token endpoint for the next requests (then it falls back to issuing tokens). */
  scriptToken(...handlers: Handler[]): this {
    this.tokenScript = handlers;
    return this;
  }

  /** Accepts a token issued elsewhere (e.g. an ingest server trusting the config server's tokens). */
  acceptToken(token: string, ttlMs = 60_000): void {
    this.validTokens.set(token, this.now() + ttlMs);
  }

  revokeAll(): void {
    this.validTokens.clear();
  }

  tokenRequests(): Recorded[] {
    return this.requests.filter((r) => r.pathname === '/oauth/token');
  }

  apiRequests(route?: string): Recorded[] {
    return this.requests.filter((r) => r.pathname !== '/oauth/token' && (!route || routeOf(r) === route));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const u = new URL(req.url ?? '/', 'http://x');
    const rec: Recorded = {
      method: req.method ?? '',
      url: req.url ?? '',
      pathname: u.pathname,
      query: u.searchParams,
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      at: Date.now(),
    };
    this.requests.push(rec);

    if (rec.pathname === '/oauth/token') {
      const scripted = this.tokenScript.shift();
      if (scripted) return void (await scripted(rec, res));
      if (this.tokenDelayMs > 0) await delay(this.tokenDelayMs);
      return this.issueToken(rec, res);
    }

    const origWriteHead = res.writeHead.bind(res);
    res.writeHead = ((status: number, ...rest: unknown[]) => {
      this.apiStatuses.push(status);
      return (origWriteHead as (...a: unknown[]) => ServerResponse)(status, ...rest);
    }) as typeof res.writeHead;

    const auth = req.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    const exp = this.validTokens.get(token);
    if (exp === undefined || this.now() >= exp) {
      return json(res, 401, { message: 'Unauthorized: missing or expired token' });
    }
    const route = routeOf(rec);
    const handlers = this.routes.get(route);
    if (!handlers || handlers.length === 0) return json(res, 404, { message: `no scripted route ${route}` });
    const h = handlers.length > 1 ? handlers.shift()! : handlers[0]!;
    await h(rec, res);
  }

  private issueToken(rec: Recorded, res: ServerResponse): void {
    const expected = `Basic ${Buffer.from(`${ACCESS_KEY_ID}:${API_SECRET}`).toString('base64')}`;
    if (rec.headers.authorization !== expected) return json(res, 401, { message: 'Bad credentials' });
    const form = new URLSearchParams(rec.body);
    if (
      !String(rec.headers['content-type']).startsWith('application/x-www-form-urlencoded') ||
      form.get('grant_type') !== 'client_credentials'
    ) {
      return json(res, 400, { message: 'grant_type must be client_credentials' });
    }
    const iat = Math.floor(this.now() / 1000);
    const token = `${b64url({ typ: 'JWT', alg: 'RS256' })}.${b64url({ orgId: ORG, iat, n: this.issued.length })}.${randomBytes(24).toString('base64url')}`;
    this.issued.push(token);
    this.validTokens.set(token, this.now() + this.expiresIn * 1000);
    json(res, 200, { access_token: token, token_type: 'Bearer', expires_in: this.expiresIn, scope: null });
  }
}

export function routeOf(r: Recorded): string {
  const prefix = `/organizations/${ORG}`;
  const p = r.pathname.startsWith(prefix) ? r.pathname.slice(prefix.length) : r.pathname;
  return `${r.method} ${p}`;
}

/** Captures everything a pino-compatible logger receives. */
export function captureLogger(): {
  logger: { debug(o: object, m?: string): void; warn(o: object, m?: string): void };
  text(): string;
} {
  const lines: string[] = [];
  const push = (level: string) => (o: object, m?: string) => {
    lines.push(JSON.stringify({ level, ...o, msg: m }));
  };
  return { logger: { debug: push('debug'), warn: push('warn') }, text: () => lines.join('\n') };
}

/**
 * A server for the calling describe block: started before its tests, stopped after them, and reset
 * before each, so each test scripts it afresh.
 */
export function scriptedServerPerBlock(): ScriptedServer {
  const server = new ScriptedServer();
  beforeAll(() => server.start());
  afterAll(() => server.stop());
  beforeEach(() => server.reset());
  return server;
}
