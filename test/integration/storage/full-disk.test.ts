// EXPORT_DIR on a real, small filesystem (a 2 MiB tmpfs): a file too big for it fails the export at once
// with StorageInsufficientSpace when its size is announced, and cleanly when it is not (ENOSPC while
// writing): non-retryable, nothing left behind, and the same storage keeps serving other exports.
// Mounting needs root; without it the tests are skipped, saying why.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { streamDownloadToStorage } from '../../../activities/download';
import { FailureType } from '../../../src/contract/failures';
import { createLocalStorage } from '../../../src/storage/local';
import { startFileServer, type FileServer } from '../../support/file-server';
import { applicationFailure } from '../../support/workflow-failure';

const isRoot = process.getuid?.() === 0;
const describeAsRoot = isRoot ? describe : describe.skip;
if (!isRoot) process.stderr.write('[full-disk] skipped: mounting a small tmpfs for EXPORT_DIR needs root\n');

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const lines: Array<{ obj: object; msg?: string }> = [];
const log = {
  debug() {},
  info() {},
  warn() {},
  error: (obj: object, msg?: string) => void lines.push({ obj, msg }),
};

describeAsRoot('EXPORT_DIR on a full filesystem', () => {
  let mount: string;
  const servers: FileServer[] = [];

  beforeEach(async () => {
    mount = await fs.mkdtemp(path.join(os.tmpdir(), 'm3ter-small-fs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mount]);
  });
  afterEach(async () => {
    try {
      await Promise.all(servers.splice(0).map((s) => s.close()));
    } finally {
      execFileSync('umount', [mount]);
      await fs.rmdir(mount);
    }
  });

  const download = async (server: FileServer, base: string, minFreeBytes = 0) =>
    streamDownloadToStorage({
      storage: createLocalStorage({ dir: mount, minFreeBytes }),
      base,
      defaultExt: '.csv',
      fetchUrl: async () => server.issueUrl(),
      urlPolicy: { trustedOrigin: server.baseUrl },
      log,
      clock: { now: Date.now },
      heartbeat: () => undefined,
      sleep: async () => undefined,
    });

  it('refuses an announced file larger than the free space before writing it', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 0x62);
    const server = await startFileServer({ data: big });
    servers.push(server);
    const f = await applicationFailure(download(server, 'big'));
    expect(f.type).toBe(FailureType.StorageInsufficientSpace);
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toMatch(
      /^not enough free space in EXPORT_DIR for this file: it needs 3145728 more bytes, \d+ are free and 0 must stay free \(EXPORT_DIR_MIN_FREE_BYTES\); free space and re-run the export$/,
    );
    expect(await fs.readdir(mount)).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('fails cleanly when the disk fills mid-write, leaves nothing behind, and serves the next export', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 0x63);
    const unsized = await startFileServer({ data: big, chunked: true });
    servers.push(unsized);
    const f = await applicationFailure(download(unsized, 'unsized'));
    expect(f.type).toBe(FailureType.StorageInsufficientSpace);
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toMatch(
      /^EXPORT_DIR ran out of space \(ENOSPC\) while writing at byte \d+; free space and re-run the export$/,
    );
    // What the operator finds in the worker's log.
    expect(lines.at(-1)).toEqual({
      obj: { file: 'unsized', failureType: 'StorageInsufficientSpace' },
      msg: `download failed for good, partial data deleted: ${f.message}`,
    });
    expect(await fs.readdir(mount)).toEqual([]);

    const small = Buffer.from('a,b\n1,2\n');
    const ok = await startFileServer({ data: small });
    servers.push(ok);
    const res = await download(ok, 'small');
    expect(res.committed.sha256).toBe(sha(small));
    expect(await fs.readdir(mount)).toEqual(['small.csv']);
  });

  it('treats a write the full disk takes only in part as a full disk, not as an interrupted download', async () => {
    // Leave about 100 KiB free: the first 1 MiB write batch is taken in part (a short write, no ENOSPC).
    const filler = path.join(mount, 'filler');
    await fs.writeFile(filler, Buffer.alloc(2 * 1024 * 1024 - 100 * 1024));
    const server = await startFileServer({ data: Buffer.alloc(1536 * 1024, 0x65), chunked: true });
    servers.push(server);
    const f = await applicationFailure(download(server, 'short'));
    expect(f.type).toBe(FailureType.StorageInsufficientSpace);
    expect(f.message).toMatch(/^EXPORT_DIR ran out of space \(ENOSPC\) while writing at byte 0;/);
    // One request: the failure was not taken for an interruption to resume from.
    expect(server.requests).toHaveLength(1);
    expect(await fs.readdir(mount)).toEqual(['filler']);
  });

  it('keeps the configured free space: a file that fits the disk but not the margin is refused', async () => {
    const data = Buffer.alloc(1024 * 1024, 0x64);
    const server = await startFileServer({ data });
    servers.push(server);
    const f = await applicationFailure(download(server, 'margin', 1536 * 1024));
    expect(f.type).toBe(FailureType.StorageInsufficientSpace);
    expect(await fs.readdir(mount)).toEqual([]);
  });
});
