// Limits of a download: size per export, minimum throughput (a trickling server), concurrent downloads,
// and what is left behind when a download fails for good (nothing) or may still be retried (its partial).
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CancelledFailure } from '@temporalio/common';
import { streamDownloadToStorage, type DownloadHeartbeat } from '../../../activities/download';
import { DownloadSlots } from '../../../activities/download-slots';
import { createExportActivities } from '../../../activities/export-activities';
import { FailureType } from '../../../src/contract/failures';
import { createLocalStorage } from '../../../src/storage/local';
import { startFileServer, type FileServer } from '../../support/file-server';
import { fakeJobClaims, fakeM3ter, job, mockEnv, silentLog } from './fakes';
import { applicationFailure } from '../../support/workflow-failure';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('download limits', () => {
  let dir: string;
  let server: FileServer | undefined;
  const data = Buffer.alloc(3 * 1024 * 1024, 0x61);

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'm3ter-limits-'));
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await fs.rm(dir, { recursive: true, force: true });
  });

  const common = (s: FileServer) => ({
    storage: createLocalStorage({ dir }),
    base: 'wf__job',
    defaultExt: '.csv',
    fetchUrl: async () => s.issueUrl(),
    urlPolicy: { trustedOrigin: s.baseUrl },
    log: silentLog,
    clock: { now: Date.now },
    heartbeat: () => undefined,
    sleep: async () => undefined,
  });

  it('refuses a file whose announced size is over EXPORT_MAX_BYTES before storing a byte', async () => {
    server = await startFileServer({ data });
    const f = await applicationFailure(
      streamDownloadToStorage({ ...common(server), limits: { maxBytes: 1024 * 1024 } }),
    );
    expect(f.type).toBe(FailureType.ExportTooLarge);
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toBe(`the export file is ${data.length} bytes, more than EXPORT_MAX_BYTES (1048576)`);
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('stops a file that announces no size once it passes EXPORT_MAX_BYTES, and keeps nothing', async () => {
    server = await startFileServer({ data, chunked: true });
    const f = await applicationFailure(
      streamDownloadToStorage({ ...common(server), limits: { maxBytes: 1024 * 1024 } }),
    );
    expect(f.type).toBe(FailureType.ExportTooLarge);
    expect(f.message).toMatch(
      /^the export file is at least \d+ bytes, more than EXPORT_MAX_BYTES \(1048576\)$/,
    );
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('fails the attempt when a server trickles below the minimum throughput over the window', async () => {
    server = await startFileServer({ data, trickle: { bytes: 100, everyMs: 50 } });
    const beats: DownloadHeartbeat[] = [];
    const started = Date.now();
    const f = await applicationFailure(
      streamDownloadToStorage({
        ...common(server),
        heartbeat: (d) => beats.push(d),
        heartbeatEveryMs: 100,
        limits: { minBytesPerSecond: 10_000, throughputWindowMs: 1_500 },
      }),
    );
    expect(f.type).toBe(FailureType.ExportDownloadFailed);
    expect(f.nonRetryable).toBe(false);
    expect(f.message).toMatch(
      /^download slower than 10000 B\/s over the last \d+ s \(\d+ B\/s\); giving up this attempt$/,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    // Heartbeats said how fast bytes arrived, not just that the attempt was alive (the local writer
    // stores in batches, so bytesWritten stays 0 at this pace).
    const last = beats[beats.length - 1];
    expect(last.bytesPerSecond).toBeGreaterThan(0);
    expect(last.bytesPerSecond).toBeLessThan(10_000);
    // Retryable: the partial data stays for the next attempt's resume.
    expect((await fs.readdir(dir)).filter((n) => n.endsWith('.partial'))).toHaveLength(1);
  });

  it('runs at most MAX_CONCURRENT_DOWNLOADS at once; the others wait, heartbeating, then complete', async () => {
    server = await startFileServer({ data, trickle: { bytes: 512 * 1024, everyMs: 20 } });
    const slots = new DownloadSlots(1);
    let most = 0;
    const waitingBeats: DownloadHeartbeat[] = [];
    const run = (i: number) =>
      streamDownloadToStorage({
        ...common(server!),
        base: `f${i}`,
        slots,
        heartbeatEveryMs: 20,
        heartbeat: (d) => {
          most = Math.max(most, slots.stats.active);
          if (d.waiting) waitingBeats.push(d);
        },
      });
    const results = await Promise.all([run(1), run(2), run(3)]);
    expect(results.map((r) => r.committed.sha256)).toEqual([sha(data), sha(data), sha(data)]);
    expect(most).toBe(1);
    expect(waitingBeats.length).toBeGreaterThan(0);
    expect(slots.stats).toEqual({ active: 0, waiting: 0 });
  });

  it('a download cancelled while it waits for a slot gives the slot up and leaves nothing', async () => {
    const slots = new DownloadSlots(1);
    const held = await slots.acquire();
    const abort = new AbortController();
    server = await startFileServer({ data });
    const waiting = streamDownloadToStorage({ ...common(server), slots, signal: abort.signal });
    abort.abort();
    await expect(waiting).rejects.toBeInstanceOf(CancelledFailure);
    expect(slots.stats).toEqual({ active: 1, waiting: 0 });
    held();
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('deletes the partial file when the last attempt fails, and keeps it before that', async () => {
    server = await startFileServer({ data });
    const m3ter = fakeM3ter({
      getExportDownloadUrl: async () => ({ url: server!.issueUrl(), expirationTime: '2099-01-01T00:00:00Z' }),
      getExportJob: async (id) => job(id, { status: 'SUCCEEDED' }),
      // The file server stands in for the sandbox, which serves files on the API's own origin.
      apiOrigin: new URL(server.baseUrl).origin,
    });
    const activities = createExportActivities({
      m3ter,
      storage: createLocalStorage({ dir }),
      log: silentLog,
      jobClaims: fakeJobClaims(),
    });
    const input = { jobId: 'job-1', workflowId: 'wf', kind: 'usage' as const };
    const retryPolicy = { maximumAttempts: 3 };
    const partials = async () => (await fs.readdir(dir)).filter((n) => n.endsWith('.partial'));

    server.expireAfter(1_000_000);
    // Every URL fetched after the cut is refused: the attempt gives up with a retryable failure.
    const refuse = fakeM3ter({
      getExportDownloadUrl: async () => ({
        url: `${server!.baseUrl}/files/abc?sig=revoked`,
        expirationTime: '',
      }),
      apiOrigin: new URL(server.baseUrl).origin,
    });
    let first = true;
    const flaky = {
      ...m3ter,
      getExportDownloadUrl: (id: string) =>
        first ? ((first = false), m3ter.getExportDownloadUrl(id)) : refuse.getExportDownloadUrl(id),
    };
    const flakyActivities = createExportActivities({
      m3ter: flaky,
      storage: createLocalStorage({ dir }),
      log: silentLog,
      jobClaims: fakeJobClaims(),
    });
    const f1 = await applicationFailure(
      mockEnv({ attempt: 2, retryPolicy }).exec(() => flakyActivities.downloadExportFile(input)),
    );
    expect(f1.nonRetryable).toBe(false);
    expect(await partials()).toHaveLength(1);

    first = true;
    server.expireAfter(500_000);
    const f2 = await applicationFailure(
      mockEnv({ attempt: 3, retryPolicy }).exec(() => flakyActivities.downloadExportFile(input)),
    );
    expect(f2.type).toBe(FailureType.ExportDownloadFailed);
    expect(await partials()).toEqual([]);
    expect(await fs.readdir(dir)).toEqual([]);

    // And an unaffected export still succeeds in the same storage.
    const manifest = await mockEnv().exec(() => activities.downloadExportFile({ ...input, jobId: 'job-2' }));
    expect(manifest.sha256).toBe(sha(data));
  });
});
