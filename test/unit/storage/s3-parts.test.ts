// The part pipeline against an in-memory stand-in for S3's multipart calls: which parts it uploads, which
// checkpoints it writes, and what a resumed pipeline uploads again. The real MinIO runs in
// test/integration/storage (s3-export, s3-resume).
import { createHash, randomBytes } from 'node:crypto';
import {
  CreateMultipartUploadCommand,
  UploadPartCommand,
  type S3Client,
  type UploadPartCommandInput,
} from '@aws-sdk/client-s3';
import type { S3Checkpoint } from '../../../src/storage/s3/checkpoint';
import { silentLog, type Ctx } from '../../../src/storage/s3/context';
import { PartPipeline } from '../../../src/storage/s3/parts';

const PART = 64 * 1024;
const hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Records every UploadPart; ETags are the part's checksum, as a server's would differ per content. */
function fakeS3() {
  const uploads: Array<{ n: number; sha256: string }> = [];
  const client = {
    send: (command: unknown) => {
      if (command instanceof CreateMultipartUploadCommand) return Promise.resolve({ UploadId: 'upload-1' });
      if (command instanceof UploadPartCommand) {
        const input = command.input as UploadPartCommandInput;
        uploads.push({ n: input.PartNumber!, sha256: input.ChecksumSHA256! });
        return Promise.resolve({ ETag: `"${input.ChecksumSHA256}"` });
      }
      return Promise.reject(new Error(`unexpected command ${(command as object).constructor.name}`));
    },
  } as unknown as S3Client;
  const ctx: Ctx = {
    client,
    bucket: 'bucket',
    partSize: PART,
    concurrentParts: 3,
    partAttempts: 1,
    singleCopyMaxBytes: 5 * 1024 ** 3,
    log: silentLog,
    sleep: () => Promise.resolve(),
  };
  return { ctx, uploads };
}

/** Streams `data` through a pipeline in uneven chunks; resolves to the whole-file digest. */
async function run(pipeline: PartPipeline, data: Buffer): Promise<string> {
  for (let at = 0; at < data.length; at += 10_007) await pipeline.append([data.subarray(at, at + 10_007)]);
  return pipeline.finish();
}

describe('PartPipeline', () => {
  it('uploads every part with its SHA-256 and checkpoints only whole, contiguous parts', async () => {
    const { ctx, uploads } = fakeS3();
    const data = randomBytes(4 * PART + 100);
    const checkpoints: S3Checkpoint[] = [];
    const pipeline = new PartPipeline(
      ctx,
      () => Promise.resolve('key'),
      { partSize: PART, uploaded: [] },
      (c) => checkpoints.push(c),
    );
    expect(await run(pipeline, data)).toBe(hex(data));
    expect(uploads.map((u) => u.n).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(pipeline.accepted).toBe(data.length);
    expect(pipeline.reusedParts).toBe(0);
    const last = checkpoints[checkpoints.length - 1];
    // The short fifth part is never in a checkpoint: the commit follows it.
    expect(last).toMatchObject({ v: 3, key: 'key', uploadId: 'upload-1', partSize: PART });
    expect(last.parts.map((p) => p.n)).toEqual([1, 2, 3, 4]);
    expect(last.parts.every((p) => p.size === PART)).toBe(true);
  });

  it('resumed, uploads again only the parts whose re-read bytes differ from those S3 holds', async () => {
    const first = fakeS3();
    const data = randomBytes(4 * PART + 100);
    let held: S3Checkpoint | undefined;
    await run(
      new PartPipeline(
        first.ctx,
        () => Promise.resolve('key'),
        { partSize: PART, uploaded: [] },
        (c) => {
          if (c.parts.length === 3) held = c;
        },
      ),
      data,
    );
    // The file served again differs in its second part (it changed at the source).
    const again = Buffer.from(data);
    again[PART + 5] ^= 0xff;
    const second = fakeS3();
    const checkpoints: S3Checkpoint[] = [];
    const resumed = new PartPipeline(
      second.ctx,
      () => Promise.reject(new Error('a resumed upload must not start another')),
      { partSize: PART, key: held!.key, uploadId: held!.uploadId, uploaded: held!.parts },
      (c) => checkpoints.push(c),
    );
    expect(await run(resumed, again)).toBe(hex(again));
    expect(second.uploads.map((u) => u.n).sort()).toEqual([2, 4, 5]);
    expect(resumed.reusedParts).toBe(2);
    const parts = resumed.uploadedParts().sort((a, b) => a.n - b.n);
    expect(parts.map((p) => p.n)).toEqual([1, 2, 3, 4, 5]);
    expect(parts[0]).toEqual(held!.parts[0]);
    expect(parts[1].etag).not.toBe(held!.parts[1].etag);
    // No checkpoint covering less than the resumed one replaces it.
    expect(checkpoints.map((c) => c.parts.length)).toEqual([4]);
  });
});
