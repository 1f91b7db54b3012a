import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createLocalStorage, sanitizeFileName } from '../../../src/storage/local';
import type { Manifest } from '../../../src/storage/types';
import { tempDirPerTest } from '../../support/temp-dir';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('local storage', () => {
  const dir = tempDirPerTest('m3ter-storage-');

  it('writes under a hidden temporary name, hashes while streaming and renames atomically', async () => {
    const storage = createLocalStorage({ dir: dir() });
    const data = Buffer.concat([Buffer.from('a,b\n1,2\n3,4\n'), randomBytes(3 * 1024 * 1024)]);
    const writer = await storage.openWriter('wf__job');
    await pipeline(Readable.from([data.subarray(0, 1000), data.subarray(1000)]), writer.createStream());
    expect(writer.bytesWritten).toBe(data.length);
    // Nothing visible under the final name before commit; only a dot-file.
    expect(await storage.exists('wf__job.csv')).toBe(false);
    expect((await fs.readdir(dir())).every((n) => n.startsWith('.'))).toBe(true);
    const committed = await writer.commit('wf__job.csv');
    expect(committed.sha256).toBe(sha(data));
    expect(committed.bytes).toBe(data.length);
    expect(committed.newlines).toBe(data.filter((b) => b === 0x0a).length);
    expect(await fs.readdir(dir())).toEqual(['wf__job.csv']);
    expect(sha(await fs.readFile(committed.path))).toBe(sha(data));
  });

  it('resumes a partial file by re-hashing the bytes already on disk', async () => {
    const storage = createLocalStorage({ dir: dir() });
    const data = randomBytes(1024 * 1024 + 17);
    const first = await storage.openWriter('part');
    await pipeline(Readable.from([data.subarray(0, 500_000)]), first.createStream());
    await first.close();

    const second = await storage.openWriter('part');
    expect(second.bytesWritten).toBe(500_000);
    await pipeline(Readable.from([data.subarray(500_000)]), second.createStream());
    const committed = await second.commit('part.bin');
    expect(committed.sha256).toBe(sha(data));
    expect(committed.bytes).toBe(data.length);
  });

  it('gathers socket-sized chunks into writes of 256 KiB instead of one per chunk', async () => {
    const storage = createLocalStorage({ dir: dir(), writeFromEventLoop: false });
    const chunks = Array.from({ length: 64 }, () => randomBytes(64 * 1024));
    const writer = await storage.openWriter('batched');
    const { handle } = writer as unknown as {
      handle: {
        write: (buf: Buffer, offset: number, length: number, position: number) => Promise<unknown>;
      };
    };
    const sizes: number[] = [];
    handle.write = ((real) => (buf: Buffer, offset: number, length: number, position: number) => {
      sizes.push(length);
      return real(buf, offset, length, position);
    })(handle.write.bind(handle));
    await pipeline(Readable.from(chunks), writer.createStream());
    const committed = await writer.commit('batched.bin');
    expect(committed.sha256).toBe(sha(Buffer.concat(chunks)));
    // 4 MiB in 64 KiB chunks: 64 writes unbatched; batched, 16 writes, none of the large ones that cost the
    // kernel more per byte.
    expect(sizes).toEqual(Array(16).fill(256 * 1024));
  });

  it('keeps the bytes a stream had accepted when the source fails mid-way, so a resume starts after them', async () => {
    const storage = createLocalStorage({ dir: dir() });
    const data = randomBytes(300_000);
    const writer = await storage.openWriter('cut');
    const source = new Readable({ read() {} });
    source.push(data.subarray(0, 100_000));
    source.push(data.subarray(100_000, 200_000));
    setImmediate(() => source.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })));
    await expect(pipeline(source, writer.createStream())).rejects.toThrow('socket hang up');
    await writer.settle();
    expect(writer.bytesWritten).toBe(200_000);
    await pipeline(Readable.from([data.subarray(200_000)]), writer.createStream());
    const committed = await writer.commit('cut.bin');
    expect(committed.sha256).toBe(sha(data));
  });

  it('flushes in the background on big files and still commits the exact bytes', async () => {
    const storage = createLocalStorage({ dir: dir() });
    const chunk = randomBytes(4 * 1024 * 1024);
    const chunks = Array.from({ length: 40 }, (_, i) =>
      Buffer.concat([chunk.subarray(i), chunk.subarray(0, i)]),
    );
    const writer = await storage.openWriter('big');
    const handle = (writer as unknown as { handle: { datasync: () => Promise<void> } }).handle;
    const realDatasync = handle.datasync.bind(handle);
    let datasyncs = 0;
    handle.datasync = () => {
      datasyncs++;
      return realDatasync();
    };
    await pipeline(Readable.from(chunks), writer.createStream());
    const committed = await writer.commit('big.bin');
    // 160 MiB with a flush every 64 MiB: at least one, at most two background flushes.
    expect(datasyncs).toBeGreaterThanOrEqual(1);
    expect(datasyncs).toBeLessThanOrEqual(2);
    expect(committed.sha256).toBe(sha(Buffer.concat(chunks)));
  });

  it('truncate restarts from zero (server ignored Range)', async () => {
    const storage = createLocalStorage({ dir: dir() });
    const writer = await storage.openWriter('t');
    await pipeline(Readable.from([Buffer.from('garbage')]), writer.createStream());
    await writer.truncate();
    await pipeline(Readable.from([Buffer.from('good\n')]), writer.createStream());
    const committed = await writer.commit('t.csv');
    expect(await fs.readFile(committed.path, 'utf8')).toBe('good\n');
    expect(committed.sha256).toBe(sha(Buffer.from('good\n')));
  });

  it('resume: false discards an earlier partial', async () => {
    const storage = createLocalStorage({ dir: dir() });
    const w1 = await storage.openWriter('x');
    await pipeline(Readable.from([Buffer.from('old')]), w1.createStream());
    await w1.close();
    const w2 = await storage.openWriter('x', { resume: false });
    expect(w2.bytesWritten).toBe(0);
    await w2.discard();
    expect(await fs.readdir(dir())).toEqual([]);
  });

  it('writes manifests atomically beside the file and finds them by base name', async () => {
    const storage = createLocalStorage({ dir: dir() });
    const w = await storage.openWriter('wf__job1');
    await pipeline(Readable.from([Buffer.from('h\nr\n')]), w.createStream());
    const c = await w.commit('wf__job1.csv');
    const manifest: Manifest = {
      workflowId: 'wf',
      jobId: 'job1',
      kind: 'usage',
      sourceType: 'USAGE',
      file: c.file,
      path: c.path,
      bytes: c.bytes,
      sha256: c.sha256,
      rows: 1,
      startedAt: new Date(0).toISOString(),
      completedAt: new Date(1).toISOString(),
    };
    const p = await storage.writeManifest(c.file, manifest);
    expect(path.basename(p)).toBe('wf__job1.csv.manifest.json');
    expect(await storage.readManifest(c.file)).toEqual(manifest);
    expect(await storage.findManifest('wf__job1')).toEqual(manifest);
    expect(await storage.findManifest('wf__job2')).toBeUndefined();
    expect((await fs.readdir(dir())).sort()).toEqual(['wf__job1.csv', 'wf__job1.csv.manifest.json']);
  });

  it('sanitizes names: no path traversal, no hidden files', () => {
    expect(sanitizeFileName('../../etc/passwd')).toBe('etc_passwd');
    expect(sanitizeFileName('export:usage:adhoc:2025-01-01T00:00:00Z:abc')).toBe(
      'export_usage_adhoc_2025-01-01T00_00_00Z_abc',
    );
    expect(() => sanitizeFileName('...')).toThrow('invalid storage file name "..."');
  });
});
