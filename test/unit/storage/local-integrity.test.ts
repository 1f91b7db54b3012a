// Local storage never loses or silently replaces a file: each writer owns its partial file, commit never
// replaces, a reused manifest must match its file, and stale partial files are swept.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../../src/contract/failures';
import { createLocalStorage } from '../../../src/storage/local';
import type { Manifest, StorageWriter } from '../../../src/storage/types';
import { failNextWrite } from '../../support/failing-write';
import { tempDirPerTest } from '../../support/temp-dir';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const write = (w: StorageWriter, ...chunks: Buffer[]) => pipeline(Readable.from(chunks), w.createStream());

describe('local storage integrity', () => {
  const dir = tempDirPerTest('m3ter-integrity-');
  afterEach(() => jest.restoreAllMocks());

  it('never replaces a committed file: other content becomes .v2, the same content is skipped', async () => {
    const storage = createLocalStorage({ dir: dir() });
    const first = randomBytes(10_000);
    const other = randomBytes(10_000);
    const w1 = await storage.openWriter('f');
    await write(w1, first);
    expect((await w1.commit('f.csv')).file).toBe('f.csv');

    const w2 = await storage.openWriter('f');
    await write(w2, other);
    const c2 = await w2.commit('f.csv');
    expect(c2).toMatchObject({ file: 'f.csv.v2', sha256: sha(other) });
    expect(c2.skipped).toBeUndefined();

    const w3 = await storage.openWriter('f');
    await write(w3, first);
    const c3 = await w3.commit('f.csv');
    expect(c3).toMatchObject({ file: 'f.csv', skipped: 'already-present', sha256: sha(first) });

    expect(sha(await fs.readFile(path.join(dir(), 'f.csv')))).toBe(sha(first));
    expect(sha(await fs.readFile(path.join(dir(), 'f.csv.v2')))).toBe(sha(other));
    expect((await fs.readdir(dir())).sort()).toEqual(['f.csv', 'f.csv.v2']);
  });

  it('gives two attempts on one file their own partial files; the stale one cannot commit over the new one', async () => {
    const storage = createLocalStorage({ dir: dir() });
    const data = randomBytes(2 * 1024 * 1024 + 5);
    const stale = await storage.openWriter('job');
    await write(stale, data.subarray(0, 1_000_000));

    // The retry after a heartbeat timeout, while the stale attempt still runs.
    const retry = await storage.openWriter('job');
    expect(retry.bytesWritten).toBe(1_000_000);
    const partials = (await fs.readdir(dir())).filter((n) => n.endsWith('.partial'));
    expect(partials).toHaveLength(1);

    // The stale attempt keeps writing, but into a file nobody reads any more.
    await write(stale, Buffer.alloc(500_000, 0x58));
    await write(retry, data.subarray(1_000_000));
    const committed = await retry.commit('job.bin');
    expect(committed.sha256).toBe(sha(data));
    expect(sha(await fs.readFile(committed.path))).toBe(sha(data));

    const err = await stale.commit('job.bin').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe(FailureType.StorageFailed);
    expect((err as ApplicationFailure).message).toMatch(/taken over by a later attempt/);
    await stale.discard();
    expect(await fs.readdir(dir())).toEqual(['job.bin']);
    expect(sha(await fs.readFile(path.join(dir(), 'job.bin')))).toBe(sha(data));
  });

  it.each([
    ['from the event loop', true],
    ['through the thread pool', false],
  ])(
    "writes none of a stream's later batches once one failed, so a failed write leaves no hole in the file (%s)",
    async (_how, writeFromEventLoop) => {
      const storage = createLocalStorage({ dir: dir(), writeFromEventLoop });
      const head = randomBytes(100_000);
      const tail = randomBytes(2 * 1024 * 1024);
      const writer = await storage.openWriter('hole');
      await write(writer, head);
      // The disk refuses the first batch of the next stream while its later batches are already queued.
      const offsets = failNextWrite(
        writer,
        writeFromEventLoop,
        Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }),
      );
      const err = await write(writer, tail).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApplicationFailure);
      await writer.settle();
      expect(offsets).toEqual([head.length]);
      expect(writer.bytesWritten).toBe(head.length);

      // The resume starts after the bytes on disk and the file ends up whole.
      await write(writer, tail);
      const committed = await writer.commit('hole.bin');
      expect(sha(await fs.readFile(committed.path))).toBe(sha(Buffer.concat([head, tail])));
    },
  );

  it('resumes from a partial file named the way earlier versions named it', async () => {
    const data = randomBytes(300_000);
    await fs.writeFile(path.join(dir(), '.old.partial'), data.subarray(0, 100_000));
    const w = await createLocalStorage({ dir: dir() }).openWriter('old');
    expect(w.bytesWritten).toBe(100_000);
    await write(w, data.subarray(100_000));
    expect((await w.commit('old.bin')).sha256).toBe(sha(data));
    expect(await fs.readdir(dir())).toEqual(['old.bin']);
  });

  it('does not trust a manifest whose file no longer has the recorded size and SHA-256', async () => {
    const storage = createLocalStorage({ dir: dir() });
    const w = await storage.openWriter('m');
    await write(w, Buffer.from('a\nb\n'));
    const c = await w.commit('m.csv');
    const manifest: Manifest = {
      workflowId: 'wf',
      kind: 'usage',
      sourceType: 'USAGE',
      file: c.file,
      path: c.path,
      bytes: c.bytes,
      sha256: c.sha256,
      startedAt: new Date(0).toISOString(),
      completedAt: new Date(1).toISOString(),
    };
    await storage.writeManifest(c.file, manifest);
    expect(await storage.findManifest('m')).toEqual(manifest);
    await fs.writeFile(c.path, 'a\nX\n'); // same size, other bytes
    expect(await storage.findManifest('m')).toBeUndefined();
  });

  it('sweeps partial and temporary files nobody touched for a day, and keeps recent ones', async () => {
    const now = Date.now();
    await fs.writeFile(path.join(dir(), '.gone.0123abcd.partial'), 'x');
    await fs.writeFile(path.join(dir(), '.m.csv.manifest.json.1.2.tmp'), 'x');
    await fs.writeFile(path.join(dir(), '.fresh.89abcdef.partial'), 'x');
    await fs.writeFile(path.join(dir(), 'kept.csv'), 'x');
    const old = new Date(now - 25 * 3600_000);
    await fs.utimes(path.join(dir(), '.gone.0123abcd.partial'), old, old);
    await fs.utimes(path.join(dir(), '.m.csv.manifest.json.1.2.tmp'), old, old);
    await fs.utimes(path.join(dir(), 'kept.csv'), old, old);
    const storage = createLocalStorage({ dir: dir(), now: () => now });
    expect(await storage.findManifest('nothing')).toBeUndefined(); // first use sweeps
    expect((await fs.readdir(dir())).sort()).toEqual(['.fresh.89abcdef.partial', 'kept.csv']);
  });

  it('refuses a file that would leave less than the configured free space', async () => {
    const storage = createLocalStorage({ dir: dir(), minFreeBytes: Number.MAX_SAFE_INTEGER / 2 });
    const w = await storage.openWriter('big');
    const err = await w.ensureRoom!(1024).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe(FailureType.StorageInsufficientSpace);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as ApplicationFailure).message).toMatch(/^not enough free space in EXPORT_DIR for this file/);
    await w.discard();
    expect(await fs.readdir(dir())).toEqual([]);
  });
});
