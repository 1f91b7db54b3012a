// `ingest s3://bucket/prefix` against a REAL MinIO (test/support/minio.ts), the REAL dev server and a REAL
// sandbox process: every .csv and .jsonl object under the prefix is checked by the CLI and read in slices by
// the worker, with the S3 endpoint settings exports use; other objects are left alone.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { IngestProgress } from '../../../src/contract/ingest';
import { runCli } from '../../support/cli-process';
import { startMinio, type RunningMinio } from '../../support/minio';
import { startStack, type Stack } from '../../support/stack';

describe('ingest from S3 (MinIO + dev server + sandbox process)', () => {
  let minio: RunningMinio;
  let stack: Stack;
  let bucket: string;
  const savedEnv = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

  beforeAll(async () => {
    minio = await startMinio({ log: (m) => process.stderr.write(`[minio] ${m}\n`) });
    bucket = await minio.createBucket();
    const env = minio.env(bucket);
    // The in-process worker finds S3 credentials where the AWS SDK looks: the environment.
    process.env.AWS_ACCESS_KEY_ID = env.AWS_ACCESS_KEY_ID;
    process.env.AWS_SECRET_ACCESS_KEY = env.AWS_SECRET_ACCESS_KEY;
    stack = await startStack({ name: 'ingest-s3', env });
  }, 180_000);
  afterAll(async () => {
    if (savedEnv.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    else process.env.AWS_ACCESS_KEY_ID = savedEnv.id;
    if (savedEnv.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    else process.env.AWS_SECRET_ACCESS_KEY = savedEnv.secret;
    await Promise.allSettled([stack?.close(), minio?.stop()]);
  });

  it('ingests every measurement file under the prefix and nothing else', async () => {
    const put = (Key: string, Body: string) =>
      minio.client.send(new PutObjectCommand({ Bucket: bucket, Key, Body }));
    const csv = ['meter,account,ts,measure.quantity'];
    for (let i = 0; i < 1_500; i++) csv.push(`api-calls,acct-001,2026-01-03T00:00:00Z,${i}`);
    await put('drop/day-1.csv', csv.join('\n'));
    await put(
      'drop/day-2.jsonl',
      Array.from({ length: 700 }, (_, i) =>
        JSON.stringify({
          uid: `s3-${i}`,
          meter: 'storage-gb',
          account: 'acct-002',
          ts: '2026-01-03T00:00:00Z',
        }),
      ).join('\n'),
    );
    await put('drop/readme.txt', 'not measurements');
    await put('other/day-3.csv', 'this,is,not,checked');

    const r = await runCli(
      ['ingest', `s3://${bucket}/drop/`, '--wait', '--json', '--settle', '1s'],
      stack.env,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const runs = (JSON.parse(r.stdout) as { ingests: Array<{ file: string; progress: IngestProgress }> })
      .ingests;
    expect(runs.map((x) => [x.file, x.progress.rowsSent, x.progress.rejections?.rejected])).toEqual([
      [`s3://${bucket}/drop/day-1.csv`, 1_500, 0],
      [`s3://${bucket}/drop/day-2.jsonl`, 700, 0],
    ]);
    expect(
      ((await stack.sandbox.admin.get('/measurements?uidPrefix=s3-')) as { matching: number }).matching,
    ).toBe(700);
    expect(((await stack.sandbox.admin.get('/measurements')) as { count: number }).count).toBe(2_200);
  });
});
