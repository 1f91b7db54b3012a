// A hostile m3ter hands the worker download URLs that point inside its network. Each case runs the real
// download activity against real loopback servers: a "metadata" server that must see no connection at all,
// and a file server on the configured API origin (where the sandbox serves its files) that redirects.
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createExportActivities } from '../../../activities/export-activities';
import { FailureType } from '../../../src/contract/failures';
import { createLocalStorage } from '../../../src/storage/local';
import { fakeJobClaims, fakeM3ter, job, mockEnv, silentLog } from './fakes';

interface Server {
  origin: string;
  port: number;
  connections: number;
  requests: string[];
  close(): Promise<void>;
}

async function serve(handler: http.RequestListener): Promise<Server> {
  const server = http.createServer(handler);
  const s: Server = { origin: '', port: 0, connections: 0, requests: [], close: async () => undefined };
  server.on('connection', () => s.connections++);
  server.on('request', (req) => s.requests.push(req.url ?? ''));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  s.port = (server.address() as AddressInfo).port;
  s.origin = `http://127.0.0.1:${s.port}`;
  s.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return s;
}

const input = {
  jobId: 'job-1',
  workflowId: 'export:usage:adhoc:2025-01-01:abc',
  kind: 'usage' as const,
  request: { sourceType: 'USAGE', startDate: '2025-01-01T00:00:00Z', endDate: '2025-01-02T00:00:00Z' },
};

describe('download URLs from m3ter are checked before and during the fetch', () => {
  let dir: string;
  let metadata: Server;
  let api: Server;
  let redirectTo: (req: http.IncomingMessage) => string | undefined;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'm3ter-ssrf-'));
    metadata = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"AccessKeyId":"AKIA-STOLEN"}');
    });
    redirectTo = () => undefined;
    api = await serve((req, res) => {
      const to = redirectTo(req);
      if (to) return void res.writeHead(302, { location: to }).end();
      res.writeHead(200, { 'content-type': 'text/csv' }).end('a,b\n1,2\n');
    });
  });
  afterEach(async () => {
    await metadata.close();
    await api.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function download(url: string) {
    const m3ter = fakeM3ter({
      getExportDownloadUrl: async () => ({ url }),
      getExportJob: async (id) => job(id, { status: 'SUCCEEDED' }),
      apiOrigin: api.origin,
    });
    const activities = createExportActivities({
      m3ter,
      storage: createLocalStorage({ dir }),
      log: silentLog,
      jobClaims: fakeJobClaims(),
    });
    return mockEnv().exec(() => activities.downloadExportFile(input));
  }

  async function refused(url: string): Promise<ApplicationFailure> {
    const err = await download(url).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    const f = err as ApplicationFailure;
    expect(f.type).toBe(FailureType.DownloadUrlRefused);
    expect(f.nonRetryable).toBe(true);
    // Nothing stored: no file, no manifest.
    expect((await fs.readdir(dir)).filter((n) => !n.startsWith('.'))).toEqual([]);
    return f;
  }

  it('a plain-http URL to a loopback metadata server is refused and the server sees no connection', async () => {
    const f = await refused(`http://127.0.0.1:${metadata.port}/latest/meta-data/iam?X-Amz-Signature=s3cr3t`);
    expect(f.message).toContain('rule https-only');
    expect(f.message).not.toContain('s3cr3t');
    expect(metadata.connections).toBe(0);
  });

  it('an https URL naming a loopback or metadata address literal is refused before connecting', async () => {
    for (const host of ['127.0.0.1', '[::1]', '[::ffff:127.0.0.1]', '169.254.169.254', '10.0.0.7']) {
      const f = await refused(`https://${host}:${metadata.port}/latest/meta-data/`);
      expect(f.message).toContain('rule public-address-only');
    }
    expect(metadata.connections).toBe(0);
  });

  it('an https URL whose name resolves to loopback is refused when the socket connects', async () => {
    const f = await refused(`https://localhost:${metadata.port}/latest/meta-data/?sig=abc`);
    expect(f.message).toContain('rule public-address-only');
    expect(f.message).not.toContain('sig=abc');
    expect(metadata.connections).toBe(0);
  });

  it('a 302 from the file server to the metadata server is refused', async () => {
    redirectTo = () => `http://127.0.0.1:${metadata.port}/latest/meta-data/`;
    const f = await refused(`${api.origin}/files/job-1?sig=1`);
    expect(f.message).toContain('rule https-only');
    redirectTo = () => `https://localhost:${metadata.port}/latest/meta-data/`;
    expect((await refused(`${api.origin}/files/job-1?sig=1`)).message).toContain('rule public-address-only');
    expect(metadata.connections).toBe(0);
  });

  it('a redirect loop ends at the redirect limit', async () => {
    redirectTo = (req) => req.url;
    const f = await refused(`${api.origin}/loop`);
    expect(f.message).toContain('rule redirect-limit');
    expect(api.requests).toHaveLength(6);
  });

  it('data: and file: URLs are refused without being read', async () => {
    expect((await refused('data:text/csv;base64,YSxiCjEsMgo=')).message).toContain('a data: URL');
    expect((await refused('file:///etc/passwd')).message).toContain('rule https-only');
    expect((await refused('not a url')).message).toContain('rule malformed');
  });

  it('a redirect within the API origin is followed and the file stored', async () => {
    redirectTo = (req) => (req.url?.startsWith('/files/') ? '/blob/job-1.csv' : undefined);
    const manifest = await download(`${api.origin}/files/job-1?sig=1`);
    expect(manifest.bytes).toBe(8);
    expect(api.requests).toEqual(['/files/job-1?sig=1', '/blob/job-1.csv']);
  });
});
