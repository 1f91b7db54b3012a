// A ~200 MiB export to S3 (real MinIO) by a REAL worker process that is SIGKILLed half way: the next worker
// resumes the multipart upload: it fetches the file again to hash it, uploads none of the parts the
// checkpoint lists again, and the stored object's SHA-256 still matches the sandbox file.
import { createHash, randomUUID } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { startMinio, type RunningMinio } from '../../support/minio';
import { startStack, type Stack } from '../../support/stack';
import { waitFor } from '../../support/wait-for';
import { spawnWorkerProcess, type WorkerProcess } from '../../support/worker-process';

const MiB = 1024 * 1024;
const FILE_BYTES = 200 * MiB;
/** temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_HEARTBEAT */
const TIMEOUT_TYPE_HEARTBEAT = 4;

interface Counters {
  fileBytesServed: number;
}
interface Checkpoint {
  key: string;
  uploadId: string;
  partSize: number;
  parts: Array<{ size: number }>;
}
const covered = (c: Checkpoint) => c.parts.reduce((sum, p) => sum + p.size, 0);

describe('S3 upload resumed after the worker process is SIGKILLed', () => {
  let minio: RunningMinio;
  let stack: Stack;
  let temporal: Stack['temporal'];
  let sandbox: Stack['sandbox'];
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    [minio, stack] = await Promise.all([
      startMinio({ log: (m) => process.stderr.write(`[minio] ${m}\n`) }),
      startStack({ name: 's3-resume', worker: false }),
    ]);
    ({ temporal, sandbox } = stack);
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled(workers.map((w) => w.kill('SIGKILL')));
    await Promise.allSettled([stack?.close(), minio?.stop()]);
  });

  it('resumes the upload: no checkpointed part uploaded again, matching SHA-256, nothing left over', async () => {
    const bucket = await minio.createBucket();
    const taskQueue = stack.taskQueue;
    const env = {
      ...stack.env,
      ...minio.env(bucket, 'exports'),
      EXPORT_DIR: '/nonexistent-local-dir-unused',
    };
    await sandbox.admin.post('/config', {
      jobTiming: { pendingMs: 200, runningMs: 400 },
      usageFileSizeBytes: FILE_BYTES,
    });
    workers.push(await spawnWorkerProcess(env));

    const end = new Date();
    end.setUTCHours(0, 0, 0, 0);
    const start = new Date(end.getTime() - 86_400_000);
    const handle = await temporal.client.workflow.start('adhocExportWorkflow', {
      taskQueue,
      workflowId: `s3-resume-${randomUUID()}`,
      args: [
        {
          request: { sourceType: 'USAGE', startDate: start.toISOString(), endDate: end.toISOString() },
          storage: 's3',
          name: 'resume',
          poll: { fastPollMs: 200 },
        },
      ],
    });

    // Kill the worker once the upload's checkpoint covers about half the file.
    const partition = `exports/export=resume/date=${start.toISOString().slice(0, 10)}/`;
    const readCheckpoint = async (): Promise<Checkpoint | undefined> => {
      const list = await minio.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: partition }));
      const key = list.Contents?.find((o) => o.Key?.endsWith('.partial.checkpoint.json'))?.Key;
      if (!key) return undefined;
      const res = await minio.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return JSON.parse(await res.Body!.transformToString()) as Checkpoint;
    };
    const atKill = await waitFor(
      async () => {
        const cp = await readCheckpoint();
        return cp && covered(cp) >= 0.45 * FILE_BYTES ? cp : undefined;
      },
      'a checkpoint at ~50 %',
      { timeoutMs: 120_000, intervalMs: 25 },
    );
    await workers[0].kill('SIGKILL');
    const servedAtKill = (await sandbox.admin.get<Counters>('/counters')).fileBytesServed;
    expect(covered(atKill)).toBeLessThan(FILE_BYTES);
    expect(await minio.multipartUploads(bucket)).toHaveLength(1); // the dead attempt could not clean up

    workers.push(await spawnWorkerProcess(env));
    // The killed attempt is declared dead by its heartbeat timeout, then retried on the new worker.
    const lastFailure = await waitFor(
      async () => {
        const pending = (await handle.describe()).raw.pendingActivities?.[0];
        return (pending?.attempt ?? 0) >= 2 ? (pending?.lastFailure ?? undefined) : undefined;
      },
      'the retry after the heartbeat timeout',
      { timeoutMs: 120_000, intervalMs: 25 },
    );
    expect(lastFailure.timeoutFailureInfo?.timeoutType).toBe(TIMEOUT_TYPE_HEARTBEAT);

    const result = (await handle.result()) as {
      storage: string;
      jobId: string;
      manifest: { path: string; sha256: string; bytes: number };
    };
    expect(result.storage).toBe('s3');
    const job = await sandbox.admin.get<{ files: Array<{ sha256: string; bytes: number }> }>(
      `/jobs/${result.jobId}`,
    );
    expect(result.manifest).toMatchObject({ sha256: job.files[0].sha256, bytes: FILE_BYTES });
    // The upload went straight to the final key, and the retry completed that same upload there.
    expect(atKill.key).toBe(result.manifest.path);
    const body = await minio.client.send(new GetObjectCommand({ Bucket: bucket, Key: result.manifest.path }));
    const hash = createHash('sha256');
    for await (const chunk of body.Body as AsyncIterable<Buffer>) hash.update(chunk);
    expect(hash.digest('hex')).toBe(job.files[0].sha256);

    // The second attempt fetched the whole file again (to hash it natively) and uploaded none of the parts
    // the checkpoint lists again: S3 already held them with the same SHA-256.
    const servedAfter = (await sandbox.admin.get<Counters>('/counters')).fileBytesServed - servedAtKill;
    const logs = workers.map((w) => w.output()).join('\n');
    expect(logs).toMatch(/resuming the multipart upload of an earlier attempt/);
    const reused = /"reusedParts":(\d+)/.exec(logs);
    process.stderr.write(
      `[s3-resume] killed at checkpoint ${covered(atKill)} B (${atKill.parts.length} parts); resumed attempt fetched ${servedAfter} of ${FILE_BYTES} B and reused ${reused?.[1]} parts\n`,
    );
    expect(servedAfter).toBeGreaterThanOrEqual(FILE_BYTES);
    expect(Number(reused?.[1])).toBeGreaterThanOrEqual(atKill.parts.length);

    // Nothing left behind: no upload in progress, no temporary object or checkpoint.
    expect(await minio.multipartUploads(bucket)).toEqual([]);
    const keys = (await minio.client.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents?.map(
      (o) => o.Key,
    );
    expect(keys?.sort()).toEqual([result.manifest.path, `${result.manifest.path}.manifest.json`]);

    // Credentials and presigned URLs stay out of the worker's logs and the workflow's history.
    const history = JSON.stringify(await handle.fetchHistory());
    for (const [where, text] of Object.entries({ history, logs })) {
      expect({ where, secret: text.includes(minio.secretAccessKey) }).toEqual({ where, secret: false });
      expect({ where, signed: /[?&](sig|expires|X-Amz-Signature|X-Amz-Credential)=/.test(text) }).toEqual({
        where,
        signed: false,
      });
    }
  }, 300_000);
});
