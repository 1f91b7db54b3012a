// S3 storage against a REAL MinIO (test/support/minio.ts), the REAL Temporal dev server (jest global setup)
// and a REAL sandbox process: exports land in a bucket with matching checksums, corrupted parts are refused
// by the server and re-sent, failed attempts leave no multipart upload behind, identical content is not
// stored twice, and no credential or presigned URL reaches logs or history.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { M3terClient } from '../../../src/m3ter';
import type { AppLogger } from '../../../src/log/logger';
import { createS3Storage } from '../../../src/storage/s3';
import { FailureType } from '../../../src/contract/failures';
import type { ExportWorkerOverrides } from '../../../src/worker';
import type { Manifest } from '../../../src/storage/types';
import type { AdhocExportInput, AdhocExportResult } from '../../../workflows';
import { startMinio, type RunningMinio } from '../../support/minio';
import { startStack, type Stack } from '../../support/stack';

const MiB = 1024 * 1024;
const fastPoll = { fastPollMs: 200, slowPollMs: 2_000 };

interface SandboxJob {
  id: string;
  files: Array<{ fileId: string; name: string; bytes: number; sha256: string }>;
}

function usageRequest() {
  const end = new Date();
  end.setUTCHours(0, 0, 0, 0);
  end.setUTCDate(end.getUTCDate() + 1);
  const start = new Date(end.getTime() - 7 * 86_400_000);
  return { sourceType: 'USAGE' as const, startDate: start.toISOString(), endDate: end.toISOString() };
}

async function objectBytes(minio: RunningMinio, bucket: string, key: string): Promise<Buffer> {
  const res = await minio.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

async function listKeys(minio: RunningMinio, bucket: string): Promise<string[]> {
  const res = await minio.client.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (res.Contents ?? []).map((o) => o.Key!).sort();
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('S3 storage (MinIO + dev server + sandbox process)', () => {
  let minio: RunningMinio;
  let stack: Stack;
  let bucket: string;
  /** ApplicationFailure types thrown by activity attempts, in order, and what S3 held at that moment. */
  const attemptFailures: Array<{ activity: string; type?: string; uploadsLeft: number }> = [];
  /** Test hook state: which part checksums to corrupt. */
  let corrupt: (part: { partNumber: number; attempt: number }) => boolean = () => false;

  beforeAll(async () => {
    // MinIO starts while the stack's sandbox does; the worker needs its bucket.
    const minioStarted = startMinio({ log: (m) => process.stderr.write(`[minio] ${m}\n`) });
    minioStarted.then((m) => (minio = m)).catch(() => undefined);
    stack = await startStack({
      name: 's3-export',
      logLevel: 'debug',
      overrides: async ({ log }) => {
        bucket = await (await minioStarted).createBucket();
        return s3Overrides(log);
      },
    });
  }, 180_000);

  const s3Overrides = (log: AppLogger): ExportWorkerOverrides => ({
    deps: {
      s3Storage: createS3Storage({
        client: minio.client,
        bucket,
        prefix: 'exports',
        log,
        sleep: async () => undefined,
        partChecksum: ({ partNumber, attempt, sha256: right }) =>
          corrupt({ partNumber, attempt })
            ? createHash('sha256').update('not this part').digest('base64')
            : right,
      }),
    },
    // On both queues (the workflow's and the m3ter one, where the download runs).
    activityInterceptors: [
      (ctx) => ({
        inbound: {
          async execute(input, next) {
            try {
              return await next(input);
            } catch (err) {
              attemptFailures.push({
                activity: ctx.info.activityType,
                type: err instanceof ApplicationFailure ? (err.type ?? undefined) : undefined,
                uploadsLeft: (await minio.multipartUploads(bucket)).length,
              });
              throw err;
            }
          },
        },
      }),
    ],
  });

  afterAll(async () => {
    await Promise.allSettled([stack?.close(), minio?.stop()]);
  });

  beforeEach(async () => {
    corrupt = () => false;
    attemptFailures.length = 0;
    stack.logLines.length = 0;
    await stack.sandbox.admin.post('/reset');
    await stack.sandbox.admin.post('/config', {
      jobTiming: { pendingMs: 200, runningMs: 400 },
      nextJobOutcome: 'SUCCEEDED',
      usageFileSizeBytes: null,
    });
    await stack.sandbox.admin.post('/measurements/seed', { count: 500 });
  });

  const wfId = (what: string) => `s3-${what}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

  async function runExport(input: Partial<AdhocExportInput>, id = wfId('export')) {
    const handle: WorkflowHandle = await stack.client.workflow.start('adhocExportWorkflow', {
      taskQueue: stack.taskQueue,
      workflowId: id,
      args: [{ request: usageRequest(), poll: fastPoll, storage: 's3', ...input }],
    });
    const result = (await handle.result()) as AdhocExportResult;
    if (result.storage !== 's3') throw new Error(`expected an S3 result, got ${result.storage}`);
    const job = await stack.sandbox.admin.get<SandboxJob>(`/jobs/${result.jobId}`);
    return { handle, result, manifest: result.manifest, file: job.files[0] };
  }

  /**
   * The object, its manifest and how it got its key: uploaded straight there (S3's checksum of the parts it
   * verified, no metadata: nothing was copied) or copied from the temporary key (SHA-256 in metadata).
   */
  async function expectObjectMatches(
    manifest: Manifest,
    expected: { sha256: string; bytes: number },
    how: 'straight' | 'copied' = 'straight',
  ) {
    expect(manifest.location).toBe(`s3://${bucket}/${manifest.path}`);
    const body = await objectBytes(minio, bucket, manifest.path);
    expect(body.length).toBe(expected.bytes);
    expect(sha256(body)).toBe(expected.sha256);
    expect(manifest).toMatchObject({ sha256: expected.sha256, bytes: expected.bytes });
    const head = await minio.client.send(
      new HeadObjectCommand({ Bucket: bucket, Key: manifest.path, ChecksumMode: 'ENABLED' }),
    );
    if (how === 'copied') expect(head.Metadata?.sha256).toBe(expected.sha256);
    else {
      expect(head.Metadata?.sha256).toBeUndefined();
      expect(head.ChecksumSHA256).toMatch(/^[A-Za-z0-9+/]{43}=-[1-9][0-9]*$/);
    }
    const stored = JSON.parse(
      (await objectBytes(minio, bucket, `${manifest.path}.manifest.json`)).toString('utf8'),
    ) as Manifest;
    expect(stored).toEqual(manifest);
  }

  it('usage export to S3: Hive-partitioned key, object and manifest SHA-256 match the sandbox file', async () => {
    const request = usageRequest();
    const { result, manifest, file } = await runExport({ request, name: 'daily-usage' });
    const date = request.startDate.slice(0, 10);
    expect(manifest.path).toBe(`exports/export=daily-usage/date=${date}/${manifest.file}`);
    expect(manifest).toMatchObject({ jobId: result.jobId, kind: 'usage', sourceType: 'USAGE' });
    expect(manifest.rows).toBeGreaterThan(0);
    await expectObjectMatches(manifest, file);
    // Nothing else: no temporary object, no checkpoint, no upload in progress.
    expect(await listKeys(minio, bucket)).toEqual([manifest.path, `${manifest.path}.manifest.json`]);
    expect(await minio.multipartUploads(bucket)).toEqual([]);
    expect(attemptFailures).toEqual([]);
  });

  it('a bill CSV goes to S3 under its export name and start date, its SHA-256 matching the CSV m3ter serves', async () => {
    const day = 86_400_000;
    const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
    const request = {
      startDate: new Date(today - 60 * day).toISOString(),
      endDate: new Date(today + day).toISOString(),
      lineItemTypes: ['STANDING_CHARGE' as const, 'USAGE' as const],
    };
    const handle = await stack.client.workflow.start('billsCsvExportWorkflow', {
      taskQueue: stack.taskQueue,
      workflowId: wfId('bills'),
      args: [{ request, storage: 's3', name: 'monthly-bills' }],
    });
    const manifest = (await handle.result()) as Manifest;
    expect(manifest).toMatchObject({ kind: 'bills', sourceType: 'BILLS_CSV', workflowId: handle.workflowId });
    const date = request.startDate.slice(0, 10);
    expect(manifest.path).toBe(`exports/export=monthly-bills/date=${date}/${manifest.file}`);
    // The same request once more, straight from the sandbox: the same rows, so the same bytes.
    const { downloadUrl } = await new M3terClient(stack.sandbox.m3ter).downloadBillsCsv(request);
    const served = Buffer.from(await (await fetch(downloadUrl)).arrayBuffer());
    expect(served.toString('utf8').split('\n')[0]).toContain('billId');
    await expectObjectMatches(manifest, { sha256: sha256(served), bytes: served.length });
    expect(await minio.multipartUploads(bucket)).toEqual([]);
  });

  it('a part whose checksum does not match is refused by the server (XAmzContentChecksumMismatch) and re-sent', async () => {
    await stack.sandbox.admin.post('/config', { usageFileSizeBytes: 20 * MiB });
    corrupt = ({ partNumber, attempt }) => partNumber === 2 && attempt === 1;
    const { manifest, file } = await runExport({ name: 'corrupt-part' });
    await expectObjectMatches(manifest, file);
    const refusals = stack.logLines
      .map((l) => JSON.parse(l) as { msg?: string; part?: number; code?: string })
      .filter((l) => l.msg?.startsWith('part refused'));
    expect(refusals).toEqual([expect.objectContaining({ part: 2, code: 'XAmzContentChecksumMismatch' })]);
    // Re-sent inside the attempt: the activity itself never failed.
    expect(attemptFailures).toEqual([]);
  });

  it('an attempt that fails (StorageFailed) aborts its multipart upload; the retry stores the file', async () => {
    await stack.sandbox.admin.post('/config', { usageFileSizeBytes: 20 * MiB });
    // Every send of part 2 is refused until one attempt has failed.
    corrupt = ({ partNumber }) => partNumber === 2 && attemptFailures.length === 0;
    const { manifest, file } = await runExport({ name: 'failed-attempt' });
    expect(attemptFailures).toEqual([
      { activity: 'downloadExportFile', type: 'StorageFailed', uploadsLeft: 0 },
    ]);
    await expectObjectMatches(manifest, file);
    expect(await minio.multipartUploads(bucket)).toEqual([]);
  });

  it('identical content is not stored twice; different content gets a new version key, never an overwrite', async () => {
    const storage = createS3Storage({ client: minio.client, bucket, prefix: 'idempotency' }).within!({
      exportName: 'x',
      window: { start: '2025-05-01T10:00:00Z', end: '2025-05-01T11:00:00Z' },
    });
    const store = async (data: Buffer) => {
      const w = await storage.openWriter('wf__job');
      await pipeline(Readable.from([data]), w.createStream());
      return w.commit('wf__job.csv');
    };
    const data = randomBytes(6 * MiB + 100);
    const first = await store(data);
    expect(first.path).toBe('idempotency/export=x/date=2025-05-01/hour=10/wf__job.csv');
    const again = await store(data);
    expect(again).toMatchObject({ path: first.path, sha256: first.sha256, skipped: 'already-present' });
    const other = await store(data.subarray(1));
    expect(other.path).toBe(`${first.path}.v2`);
    expect(sha256(await objectBytes(minio, bucket, first.path))).toBe(first.sha256);
    expect(sha256(await objectBytes(minio, bucket, other.path))).toBe(sha256(data.subarray(1)));
    expect(await minio.multipartUploads(bucket)).toEqual([]);
  });

  /** Records the name of every command `minio.client` sends until the returned function is called. */
  function recordCommands(sent: string[]): () => void {
    const realSend = minio.client.send.bind(minio.client) as (...args: unknown[]) => unknown;
    const spy = jest.spyOn(minio.client, 'send').mockImplementation(((
      command: object,
      ...rest: unknown[]
    ) => {
      sent.push(command.constructor.name);
      return realSend(command, ...rest);
    }) as never);
    return () => spy.mockRestore();
  }

  it('a file named before its first part goes straight to its final key, with no temporary object or copy', async () => {
    const storage = createS3Storage({ client: minio.client, bucket, prefix: 'straight' }).within!({
      fallbackDate: '2025-05-01T00:00:00Z',
    });
    const store = async (data: Buffer) => {
      const w = await storage.openWriter('wf__job');
      w.intendName!('wf__job.csv');
      await pipeline(Readable.from([data]), w.createStream());
      return w.commit('wf__job.csv');
    };
    const data = randomBytes(20 * MiB + 7);
    const sent: string[] = [];
    const stopRecording = recordCommands(sent);
    let first, again, other;
    try {
      first = await store(data);
      expect(sent).not.toContain('CopyObjectCommand');
      expect(sent).not.toContain('UploadPartCopyCommand');
      // The key is taken now: the same bytes are recognised by S3's checksum of their parts.
      again = await store(data);
      // Other bytes cannot replace them: they go through the temporary key, copied to `.v2`.
      other = await store(data.subarray(1));
    } finally {
      stopRecording();
    }
    expect(first).toMatchObject({
      path: 'straight/export=adhoc/date=2025-05-01/wf__job.csv',
      sha256: sha256(data),
    });
    expect(again).toMatchObject({ path: first.path, sha256: sha256(data), skipped: 'already-present' });
    expect(other.path).toBe(`${first.path}.v2`);
    expect(sent.filter((c) => c === 'CopyObjectCommand')).toHaveLength(1);
    const head = await minio.client.send(
      new HeadObjectCommand({ Bucket: bucket, Key: first.path, ChecksumMode: 'ENABLED' }),
    );
    expect(head.Metadata?.sha256).toBeUndefined();
    expect(head.ChecksumSHA256).toMatch(/^[A-Za-z0-9+/]{43}=-3$/);
    expect(head.ContentType).toBe('text/csv');
    expect(sha256(await objectBytes(minio, bucket, first.path))).toBe(sha256(data));
    expect(sha256(await objectBytes(minio, bucket, other.path))).toBe(sha256(data.subarray(1)));
    expect((await listKeys(minio, bucket)).filter((k) => k.startsWith('straight/'))).toEqual([
      first.path,
      other.path,
    ]);
    expect(await minio.multipartUploads(bucket)).toEqual([]);
  });

  it('an object that appears at the final key during a straight upload is never replaced: StorageFailed', async () => {
    const storage = createS3Storage({ client: minio.client, bucket, prefix: 'race' }).within!({
      fallbackDate: '2025-05-01T00:00:00Z',
    });
    const data = randomBytes(12 * MiB);
    const w = await storage.openWriter('wf__job');
    w.intendName!('wf__job.csv');
    await pipeline(Readable.from([data]), w.createStream());
    const theirs = Buffer.from('written by someone else\n');
    const key = 'race/export=adhoc/date=2025-05-01/wf__job.csv';
    await minio.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: theirs }));
    const failed = await w.commit('wf__job.csv').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failed).toBeInstanceOf(ApplicationFailure);
    expect(failed).toMatchObject({ type: FailureType.StorageFailed });
    expect(sha256(await objectBytes(minio, bucket, key))).toBe(sha256(theirs));
    expect(await minio.multipartUploads(bucket)).toEqual([]);
    // The next attempt sees the key taken from the start and stores the file beside it.
    const retry = await storage.openWriter('wf__job');
    retry.intendName!('wf__job.csv');
    await pipeline(Readable.from([data]), retry.createStream());
    expect(await retry.commit('wf__job.csv')).toMatchObject({ path: `${key}.v2`, sha256: sha256(data) });
    expect((await listKeys(minio, bucket)).filter((k) => k.startsWith('race/'))).toEqual([key, `${key}.v2`]);
  });

  it('objects above the single-copy limit reach their final key by a multipart copy, with the metadata', async () => {
    const storage = createS3Storage({
      client: minio.client,
      bucket,
      prefix: 'multipart-copy',
      singleCopyMaxBytes: 1,
    }).within!({ fallbackDate: '2025-05-01T00:00:00Z' });
    const data = randomBytes(6 * MiB + 5);
    const w = await storage.openWriter('big');
    await pipeline(Readable.from([data]), w.createStream());
    const committed = await w.commit('big.jsonl');
    expect(committed).toMatchObject({ sha256: sha256(data), bytes: data.length });
    expect(sha256(await objectBytes(minio, bucket, committed.path))).toBe(sha256(data));
    const head = await minio.client.send(new HeadObjectCommand({ Bucket: bucket, Key: committed.path }));
    expect(head).toMatchObject({
      Metadata: { sha256: sha256(data), bytes: String(data.length) },
      ContentType: 'application/x-ndjson',
    });
    expect((await listKeys(minio, bucket)).filter((k) => k.startsWith('multipart-copy/'))).toEqual([
      committed.path,
    ]);
    expect(await minio.multipartUploads(bucket)).toEqual([]);
  });

  it('no S3 credential and no presigned URL in activity logs or workflow history', async () => {
    const { handle } = await runExport({ name: 'secrets' });
    const history = JSON.stringify(await handle.fetchHistory());
    for (const [where, text] of Object.entries({ history, logs: stack.logLines.join('\n') })) {
      expect({ where, secret: text.includes(minio.secretAccessKey) }).toEqual({ where, secret: false });
      expect({ where, signed: /[?&](sig|expires|X-Amz-Signature|X-Amz-Credential)=/.test(text) }).toEqual({
        where,
        signed: false,
      });
      expect({ where, apiSecret: text.includes(stack.sandbox.apiSecret) }).toEqual({
        where,
        apiSecret: false,
      });
    }
  });
});
