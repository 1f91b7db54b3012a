import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createLocalStorage } from '../../../src/storage/local';
import { BatchBuffers } from '../../../src/storage/local/batch-buffers';
import { localBatchBuffers } from '../../../src/storage/local/writer';
import type { StorageWriter } from '../../../src/storage/types';
import { tempDirPerTest } from '../../support/temp-dir';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const KIB = 1024;

type Write = (buf: Buffer, offset: number, length: number, position: number) => Promise<unknown>;

/** Records the memory each write of `writer` came from, and lets a test hold writes back. */
function watchWrites(writer: StorageWriter, hold?: Promise<void>): ArrayBufferLike[] {
  const { handle } = writer as unknown as { handle: { write: Write } };
  const real = handle.write.bind(handle);
  const seen: ArrayBufferLike[] = [];
  handle.write = async (buf, offset, length, position) => {
    seen.push(buf.buffer);
    await hold;
    return real(buf, offset, length, position);
  };
  return seen;
}

describe('batch buffers', () => {
  const dir = tempDirPerTest('m3ter-batches-');

  it('hands back a given buffer and keeps no more than it was told to', () => {
    const pool = new BatchBuffers(16, 2);
    const [a, b, c] = [pool.take(), pool.take(), pool.take()];
    expect([a.length, b.length, c.length]).toEqual([16, 16, 16]);
    pool.give(a);
    pool.give(a);
    pool.give(Buffer.alloc(8));
    expect(pool.idle).toBe(1);
    expect(pool.take()).toBe(a);
    [a, b, c].forEach((buf) => pool.give(buf));
    expect(pool.idle).toBe(2);
  });

  it('lets the next download write from the buffers of the one before instead of new ones', async () => {
    const storage = createLocalStorage({ dir: dir() });
    const first = await storage.openWriter('first');
    const firstMemory = watchWrites(first);
    await pipeline(Readable.from([randomBytes(1536 * KIB)]), first.createStream());
    await first.commit('first.bin');
    expect(new Set(firstMemory).size).toBe(2);
    expect(localBatchBuffers.idle).toBeGreaterThanOrEqual(2);

    const second = await storage.openWriter('second');
    const secondMemory = watchWrites(second);
    const data = randomBytes(1536 * KIB);
    await pipeline(Readable.from([data]), second.createStream());
    const committed = await second.commit('second.bin');
    expect(new Set(secondMemory)).toEqual(new Set(firstMemory));
    expect(committed.sha256).toBe(sha(data));
  });

  it('takes one buffer for a file smaller than a batch', async () => {
    const storage = createLocalStorage({ dir: dir() });
    const idleBefore = localBatchBuffers.idle;
    const writer = await storage.openWriter('small');
    const memory = watchWrites(writer);
    await pipeline(Readable.from([Buffer.from('a,b\n1,2\n')]), writer.createStream());
    await writer.commit('small.csv');
    expect(memory).toHaveLength(1);
    expect(localBatchBuffers.idle).toBe(Math.max(idleBefore, 1));
  });

  it("keeps a cut stream's buffers until its last write settled, so another download cannot overwrite them", async () => {
    const storage = createLocalStorage({ dir: dir() });
    const cut = await storage.openWriter('cut');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const cutMemory = watchWrites(cut, held);
    const cutData = randomBytes(400 * KIB);
    const source = new Readable({ read() {} });
    source.push(cutData);
    setImmediate(() => source.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })));
    await expect(pipeline(source, cut.createStream())).rejects.toThrow('socket hang up');

    // While the cut stream's writes are held, a second download runs to the end in buffers of its own.
    const other = await storage.openWriter('other');
    const otherMemory = watchWrites(other);
    const otherData = randomBytes(1536 * KIB);
    await pipeline(Readable.from([otherData]), other.createStream());
    const otherFile = await other.commit('other.bin');
    expect(otherMemory.filter((m) => cutMemory.includes(m))).toEqual([]);

    release();
    await cut.settle();
    expect(cut.bytesWritten).toBe(cutData.length);
    const cutFile = await cut.commit('cut.bin');
    expect(sha(await fs.readFile(cutFile.path))).toBe(sha(cutData));
    expect(otherFile.sha256).toBe(sha(otherData));
    expect(sha(await fs.readFile(otherFile.path))).toBe(sha(otherData));
  });
});
