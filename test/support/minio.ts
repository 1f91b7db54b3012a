// A real MinIO server for the S3 storage tests (test-only: MinIO is AGPLv3 and never shipped or imported by
// product code). The binary is found or built like the Temporal CLI (tooling/devserver/find-cli.ts):
//   1. MINIO_PATH            an explicit binary
//   2. the cache folder      <cache>/minio/<version>/minio (same cache dir as the Temporal CLI)
//   3. `go install github.com/minio/minio@<version>` into that folder (~2.5 min cold, 144 MiB)
// The Go module proxy refuses MinIO's RELEASE tags, hence the pinned pseudo-version (its go.mod has no
// `replace`, which `go install pkg@version` would refuse).
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CreateBucketCommand,
  ListMultipartUploadsCommand,
  S3Client,
  type MultipartUpload,
} from '@aws-sdk/client-s3';
import { cacheDir, freePort, isExecutable, stopChild } from '../../tooling/devserver';
import { shellQuote, startReaper } from './reaper';

export const MINIO_VERSION = 'v0.0.0-20260212201848-7aac2a2c5b7c';
export const MINIO_MODULE = 'github.com/minio/minio';

export function cachedMinioPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheDir(env), 'minio', MINIO_VERSION, 'minio');
}

/** The MinIO binary, built with Go into the cache on first use. */
export async function findMinio(
  opts: { env?: NodeJS.ProcessEnv; log?: (m: string) => void } = {},
): Promise<string> {
  const env = opts.env ?? process.env;
  if (env.MINIO_PATH) {
    if (!isExecutable(env.MINIO_PATH))
      throw new Error(`MINIO_PATH: ${env.MINIO_PATH} is not an executable file`);
    return env.MINIO_PATH;
  }
  const cached = cachedMinioPath(env);
  if (isExecutable(cached)) return cached;
  if (spawnSync('go', ['version'], { env, stdio: 'ignore' }).status !== 0)
    throw new Error(`no MinIO at ${cached} and no Go toolchain to build it (set MINIO_PATH)`);
  opts.log?.(`building MinIO ${MINIO_VERSION} with go install (first run only; ~2.5 min) ...`);
  const started = Date.now();
  const gobin = path.dirname(cached);
  fs.mkdirSync(gobin, { recursive: true });
  await new Promise<void>((resolve, reject) => {
    execFile(
      'go',
      ['install', `${MINIO_MODULE}@${MINIO_VERSION}`],
      { env: { ...env, GOBIN: gobin, CGO_ENABLED: '0', GOFLAGS: '-trimpath' }, maxBuffer: 64 * 1024 * 1024 },
      (err, _stdout, stderr) =>
        err
          ? reject(new Error(`go install ${MINIO_MODULE}@${MINIO_VERSION} failed: ${stderr.slice(-2000)}`))
          : resolve(),
    );
  });
  if (!isExecutable(cached)) throw new Error(`go install finished but ${cached} is missing`);
  opts.log?.(`built ${cached} in ${Math.round((Date.now() - started) / 1000)} s`);
  return cached;
}

export interface RunningMinio {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** A client with the root credentials (path-style, as MinIO needs). */
  client: S3Client;
  /** Env for a worker process pointed at this server and `bucket`. */
  env(bucket: string, prefix?: string): Record<string, string>;
  createBucket(name?: string): Promise<string>;
  /** Multipart uploads in progress in `bucket` (all pages). */
  multipartUploads(bucket: string): Promise<MultipartUpload[]>;
  stop(): Promise<void>;
}

export async function startMinio(opts: { log?: (m: string) => void } = {}): Promise<RunningMinio> {
  const bin = await findMinio({ log: opts.log });
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'm3ter-minio-'));
  const accessKeyId = `test-${randomBytes(6).toString('hex')}`;
  const secretAccessKey = randomBytes(24).toString('hex');
  const child: ChildProcess = spawn(bin, ['server', '--quiet', '--address', `127.0.0.1:${port}`, dataDir], {
    env: {
      ...process.env,
      MINIO_ROOT_USER: accessKeyId,
      MINIO_ROOT_PASSWORD: secretAccessKey,
      MINIO_BROWSER: 'off',
      MINIO_UPDATE: 'off',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  // A test process killed outright runs no exit handler: the reaper stops MinIO and removes its data then.
  const reaper = startReaper(`kill -9 ${child.pid} 2>/dev/null\nrm -rf ${shellQuote(dataDir)}`);
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await stopChild(child, 5_000);
    process.removeListener('exit', killOnExit);
    fs.rmSync(dataDir, { recursive: true, force: true });
    reaper.cancel();
  };
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`minio exited with ${child.exitCode}: ${stderr}`);
      const ok = await fetch(`${endpoint}/minio/health/ready`)
        .then((r) => r.status === 200)
        .catch(() => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`minio not ready in 30 s: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const region = 'us-east-1';
  const client = new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
  });
  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    region,
    client,
    env: (bucket, prefix = '') => ({
      EXPORT_S3_BUCKET: bucket,
      EXPORT_S3_PREFIX: prefix,
      EXPORT_S3_ENDPOINT: endpoint,
      EXPORT_S3_REGION: region,
      EXPORT_S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: secretAccessKey,
    }),
    async createBucket(name = `b-${randomBytes(5).toString('hex')}`) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
      return name;
    },
    async multipartUploads(bucket) {
      const out: MultipartUpload[] = [];
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      for (;;) {
        const res = await client.send(
          new ListMultipartUploadsCommand({
            Bucket: bucket,
            ...(keyMarker ? { KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker } : {}),
          }),
        );
        out.push(...(res.Uploads ?? []));
        if (!res.IsTruncated) return out;
        keyMarker = res.NextKeyMarker;
        uploadIdMarker = res.NextUploadIdMarker;
      }
    },
    async stop() {
      client.destroy();
      await stop();
    },
  };
}
