import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { streamDownloadToStorage } from '../../../activities/download';
import { createExportActivities } from '../../../activities/export-activities';
import { FailureType } from '../../../src/contract/failures';
import { M3terNotFoundError } from '../../../src/m3ter/errors';
import { createLocalStorage } from '../../../src/storage/local';
import { generatedChunk, startFileServer, type FileServer } from '../../support/file-server';
import { fakeJobClaims, fakeM3ter, job, mockEnv, silentLog } from './fakes';
import { applicationFailure } from '../../support/workflow-failure';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function csv(lines: number): Buffer {
  const rows = ['account,meter,ts,value'];
  for (let i = 0; i < lines; i++)
    rows.push(`acc-${i % 97},meter-${i % 7},2025-01-01T00:00:${String(i % 60).padStart(2, '0')}Z,${i}`);
  return Buffer.from(`${rows.join('\n')}\n`);
}

describe('export file download', () => {
  let dir: string;
  let server: FileServer | undefined;
  const data = csv(60_000); // ~3 MB
  const noSleep = async () => undefined;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'm3ter-dl-'));
    silentLog.lines.length = 0;
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await fs.rm(dir, { recursive: true, force: true });
  });

  function activitiesFor(s: FileServer) {
    const m3ter = fakeM3ter({
      getExportDownloadUrl: async () => ({ url: s.issueUrl(), expirationTime: '2099-01-01T00:00:00Z' }),
      getExportJob: async (id) => job(id, { status: 'SUCCEEDED' }),
      // The file server stands in for the sandbox, which serves files on the API's own origin.
      apiOrigin: new URL(s.baseUrl).origin,
    });
    const storage = createLocalStorage({ dir });
    return {
      m3ter,
      storage,
      activities: createExportActivities({ m3ter, storage, log: silentLog, jobClaims: fakeJobClaims() }),
    };
  }

  const input = {
    jobId: 'job-1',
    workflowId: 'export:usage:adhoc:2025-01-01:abc',
    kind: 'usage' as const,
    sourceType: 'USAGE',
    window: { start: '2025-01-01T00:00:00Z', end: '2025-01-02T00:00:00Z' },
    request: {
      sourceType: 'USAGE',
      startDate: '2025-01-01T00:00:00Z',
      endDate: '2025-01-02T00:00:00Z',
      version: 3,
    },
  };

  it('streams the file to storage with a manifest beside it', async () => {
    server = await startFileServer({ data });
    const { activities } = activitiesFor(server);
    const env = mockEnv();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const manifest = await env.exec(() => activities.downloadExportFile(input));
    expect(manifest).toMatchObject({
      workflowId: input.workflowId,
      jobId: 'job-1',
      kind: 'usage',
      sourceType: 'USAGE',
      window: input.window,
      file: expect.stringMatching(/^export_usage_adhoc_2025-01-01_abc__job-1-[0-9a-f]{12}\.csv$/),
      bytes: data.length,
      sha256: sha(data),
      rows: 60_000,
      contentType: 'text/csv; charset=utf-8',
      request: { sourceType: 'USAGE', startDate: '2025-01-01T00:00:00Z', endDate: '2025-01-02T00:00:00Z' },
    });
    expect(manifest.request).not.toHaveProperty('version');
    expect(sha(await fs.readFile(manifest.path))).toBe(sha(data));
    expect((await fs.readdir(dir)).sort()).toEqual([manifest.file, `${manifest.file}.manifest.json`]);
    expect(JSON.parse(await fs.readFile(path.join(dir, `${manifest.file}.manifest.json`), 'utf8'))).toEqual(
      manifest,
    );
    expect(beats[beats.length - 1]).toMatchObject({ bytesWritten: data.length });
  });

  it('re-fetches an URL that expires mid-stream and resumes with Range; the URL never reaches logs or results', async () => {
    server = await startFileServer({ data });
    const { activities, m3ter } = activitiesFor(server);
    server.expireAfter(1_000_000);
    const manifest = await mockEnv().exec(() => activities.downloadExportFile(input));
    expect(manifest.sha256).toBe(sha(data));
    expect(manifest.bytes).toBe(data.length);
    expect(m3ter.calls.getExportDownloadUrl).toHaveLength(2);
    const statuses = server.requests.map((r) => r.status);
    expect(statuses[0]).toBe(200);
    expect(statuses).toContain(403); // the dead URL was tried once for the resume, then replaced
    const last = server.requests[server.requests.length - 1];
    expect(last.status).toBe(206);
    expect(Number(/bytes=(\d+)-/.exec(last.range ?? '')?.[1])).toBeGreaterThan(0);
    const logged = JSON.stringify(silentLog.lines);
    expect(logged).not.toMatch(/sig=|secret/);
    expect(JSON.stringify(manifest)).not.toMatch(/sig=|secret/);
  });

  it('restarts from zero when the server ignores Range (200 instead of 206)', async () => {
    server = await startFileServer({ data, ignoreRange: true });
    const { activities } = activitiesFor(server);
    server.expireAfter(700_000);
    const manifest = await mockEnv().exec(() => activities.downloadExportFile(input));
    expect(manifest.sha256).toBe(sha(data));
    expect(manifest.bytes).toBe(data.length);
    expect(sha(await fs.readFile(manifest.path))).toBe(sha(data));
  });

  it('resumes across activity attempts from the partial file (re-hashed)', async () => {
    server = await startFileServer({ data });
    const storage = createLocalStorage({ dir });
    let calls = 0;
    const fetchUrl = async () => {
      calls++;
      if (calls === 2) throw new Error('worker lost its network');
      return server!.issueUrl();
    };
    const common = {
      storage,
      base: 'wf__job',
      defaultExt: '.csv',
      log: silentLog,
      clock: { now: Date.now },
      heartbeat: () => undefined,
      sleep: noSleep,
      urlPolicy: { trustedOrigin: server.baseUrl },
    };
    server.expireAfter(1_234_567);
    await expect(streamDownloadToStorage({ ...common, fetchUrl })).rejects.toThrow('worker lost its network');
    // The server cuts the connection after 1,234,567 bytes; bytes still in flight when the socket is torn
    // down may be lost, so the partial file holds at most that many (how many depends on timing).
    // The attempt's own partial file: `.<base>.<owner>.partial`.
    const partials = (await fs.readdir(dir)).filter((n) => /^\.wf__job\.[0-9a-f]{8}\.partial$/.test(n));
    expect(partials).toHaveLength(1);
    const partial = await fs.stat(path.join(dir, partials[0]));
    expect(partial.size).toBeGreaterThan(0);
    expect(partial.size).toBeLessThanOrEqual(1_234_567);

    const res = await streamDownloadToStorage({ ...common, fetchUrl });
    expect(res.committed.sha256).toBe(sha(data));
    const last = server.requests[server.requests.length - 1];
    expect(last).toMatchObject({ status: 206, range: `bytes=${partial.size}-` });
    expect(await fs.readdir(dir)).toEqual(['wf__job.csv']);
  });

  it('a retried activity returns the manifest already committed instead of downloading again', async () => {
    server = await startFileServer({ data });
    const { activities, m3ter } = activitiesFor(server);
    const first = await mockEnv().exec(() => activities.downloadExportFile(input));
    const second = await mockEnv({ attempt: 2 }).exec(() => activities.downloadExportFile(input));
    expect(second).toEqual(first);
    expect(m3ter.calls.getExportDownloadUrl).toHaveLength(1);
  });

  it('a SUCCEEDED job whose URL endpoint answers 404 is past the 24 h window: non-retryable', async () => {
    const m3ter = fakeM3ter({
      getExportDownloadUrl: async () => {
        throw new M3terNotFoundError('HTTP 404', {
          status: 404,
          m3terMessage: 'export file no longer available',
        });
      },
      getExportJob: async (id) =>
        job(id, { status: 'SUCCEEDED', startedAt: new Date(Date.now() - 25 * 3600_000).toISOString() }),
    });
    const activities = createExportActivities({
      m3ter,
      storage: createLocalStorage({ dir }),
      log: silentLog,
      jobClaims: fakeJobClaims(),
    });
    const f = await applicationFailure(mockEnv().exec(() => activities.downloadExportFile(input)));
    expect(f.type).toBe(FailureType.ExportDownloadWindowExpired);
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toBe('job job-1 finished more than 24 h ago; its file is gone; re-export needed');
  });

  it('resolveDownloadUrl returns the URL without its signed query', async () => {
    server = await startFileServer({ data });
    const { activities } = activitiesFor(server);
    const res = await mockEnv().exec(() => activities.resolveDownloadUrl({ jobId: 'job-1' }));
    expect(res).toEqual({
      jobId: 'job-1',
      expirationTime: '2099-01-01T00:00:00Z',
      urlWithoutQuery: `${server.baseUrl}/files/abc`,
    });
  });

  it('keeps memory flat while streaming a large file', async () => {
    const size = 160 * 1024 * 1024;
    server = await startFileServer({
      generatedSize: size,
      fileName: 'big.bin',
      contentType: 'application/octet-stream',
    });
    const storage = createLocalStorage({ dir });
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const t0 = Date.now();
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    try {
      const res = await streamDownloadToStorage({
        storage,
        base: 'big',
        defaultExt: '.bin',
        fetchUrl: async () => server!.issueUrl(),
        urlPolicy: { trustedOrigin: server.baseUrl },
        log: silentLog,
        clock: { now: Date.now },
        heartbeat: () => undefined,
      });
      expect(res.committed.bytes).toBe(size);
      const expected = createHash('sha256');
      for (let off = 0; off < size; off += 1024 * 1024)
        expected.update(generatedChunk(off, Math.min(1024 * 1024, size - off)));
      expect(res.committed.sha256).toBe(expected.digest('hex'));
      const secs = (Date.now() - t0) / 1000;
      process.stderr.write(`[download] 160 MiB in ${secs.toFixed(2)} s (${(160 / secs).toFixed(0)} MiB/s)\n`);
    } finally {
      clearInterval(sampler);
    }
    expect(peak - before).toBeLessThan(100 * 1024 * 1024);
  }, 120_000);
});
