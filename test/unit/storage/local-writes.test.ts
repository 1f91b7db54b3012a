// Where a local writer's batches are written: from the event loop on a local filesystem, through the thread
// pool elsewhere and after a write that held the event loop too long.
import { createHash, randomBytes } from 'node:crypto';
import nodeFs from 'node:fs';
import fs from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../../src/contract/failures';
import { createLocalStorage } from '../../../src/storage/local';
import { isLocalFilesystem } from '../../../src/storage/local/filesystems';
import {
  LOOP_WRITE_LIMIT_MS,
  LOOP_WRITE_PIECE_BYTES,
  type LocalWriter,
} from '../../../src/storage/local/writer';
import { failNextWrite } from '../../support/failing-write';
import { tempDirPerTest } from '../../support/temp-dir';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const BATCH = 256 * 1024;
const PIECES_PER_BATCH = BATCH / LOOP_WRITE_PIECE_BYTES;
const onLinux = process.platform === 'linux' ? it : it.skip;

/** Blocks this thread for `ms`, as a write that waits on the disk does. */
const blockFor = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Slows each of the writer's first `slowed` batches written from the event loop by `ms`. */
const slowWrites = (slowed: number, ms: number) => {
  const real = nodeFs.writeSync.bind(nodeFs) as (...args: unknown[]) => number;
  let pieces = 0;
  jest.spyOn(nodeFs, 'writeSync').mockImplementation((...args: unknown[]) => {
    if (pieces++ < slowed * PIECES_PER_BATCH && pieces % PIECES_PER_BATCH === 1) blockFor(ms);
    return real(...args);
  });
};

/** Records the length of every write the writer hands to the thread pool. */
function threadPoolWrites(writer: LocalWriter): number[] {
  const { handle } = writer as unknown as {
    handle: { write: (buf: Buffer, offset: number, length: number, position: number) => Promise<unknown> };
  };
  const lengths: number[] = [];
  const real = handle.write.bind(handle);
  handle.write = (buf, offset, length, position) => {
    lengths.push(length);
    return real(buf, offset, length, position);
  };
  return lengths;
}

describe('where local writes run', () => {
  const dir = tempDirPerTest('m3ter-local-writes-');

  afterEach(() => jest.restoreAllMocks());

  onLinux(
    'treats a directory on this Linux machine’s own disk as local and writes there from the event loop',
    async () => {
      expect(await isLocalFilesystem(dir())).toBe(true);
      const writer = (await createLocalStorage({ dir: dir() }).openWriter('local')) as LocalWriter;
      try {
        expect(writer.writesFromEventLoop).toBe(true);
      } finally {
        await writer.discard();
      }
    },
  );

  it('treats a directory it cannot stat as not local', async () => {
    expect(await isLocalFilesystem(`${dir()}/missing`)).toBe(false);
  });

  it('writes every batch from the event loop in pieces of 16 KiB, none through the thread pool', async () => {
    const storage = createLocalStorage({ dir: dir(), writeFromEventLoop: true });
    const data = randomBytes(4 * BATCH + 100);
    const writer = (await storage.openWriter('loop')) as LocalWriter;
    const pooled = threadPoolWrites(writer);
    const fromLoop = jest.spyOn(nodeFs, 'writeSync');
    await pipeline(Readable.from([data.subarray(0, 70_000), data.subarray(70_000)]), writer.createStream());
    const committed = await writer.commit('loop.bin');
    expect(LOOP_WRITE_PIECE_BYTES).toBe(16 * 1024);
    const calls = fromLoop.mock.calls as unknown as Array<[number, Buffer, number, number, number]>;
    expect(calls.map(([, , , length]) => length)).toEqual([
      ...Array<number>(4 * PIECES_PER_BATCH).fill(LOOP_WRITE_PIECE_BYTES),
      100,
    ]);
    // Each piece lands right after the one before it.
    expect(calls.map(([, , , , position]) => position)).toEqual(
      calls.map((_, i) => i * LOOP_WRITE_PIECE_BYTES),
    );
    expect(pooled).toEqual([]);
    expect(committed.sha256).toBe(sha(data));
    expect(sha(await fs.readFile(committed.path))).toBe(sha(data));
  });

  it('keeps writing from the event loop through one write the scheduler slowed', async () => {
    const storage = createLocalStorage({ dir: dir(), writeFromEventLoop: true });
    const data = randomBytes(4 * BATCH);
    const writer = (await storage.openWriter('one-slow')) as LocalWriter;
    const pooled = threadPoolWrites(writer);
    slowWrites(1, LOOP_WRITE_LIMIT_MS / 2);
    await pipeline(Readable.from([data]), writer.createStream());
    expect(writer.writesFromEventLoop).toBe(true);
    expect(pooled).toEqual([]);
    expect((await writer.commit('one-slow.bin')).sha256).toBe(sha(data));
  });

  it('moves to the thread pool once consecutive slow writes add up to the limit', async () => {
    const storage = createLocalStorage({ dir: dir(), writeFromEventLoop: true });
    const data = randomBytes(5 * BATCH);
    const writer = (await storage.openWriter('throttled')) as LocalWriter;
    const pooled = threadPoolWrites(writer);
    slowWrites(3, LOOP_WRITE_LIMIT_MS / 3 + 5);
    await pipeline(Readable.from([data]), writer.createStream());
    expect(writer.writesFromEventLoop).toBe(false);
    expect(pooled).toEqual([BATCH, BATCH]);
    expect((await writer.commit('throttled.bin')).sha256).toBe(sha(data));
  });

  it('moves to the thread pool for good after one write holds the event loop too long', async () => {
    const storage = createLocalStorage({ dir: dir(), writeFromEventLoop: true });
    const data = randomBytes(4 * BATCH);
    const writer = (await storage.openWriter('slow')) as LocalWriter;
    const pooled = threadPoolWrites(writer);
    slowWrites(1, LOOP_WRITE_LIMIT_MS + 10);
    await pipeline(Readable.from([data]), writer.createStream());
    expect(writer.writesFromEventLoop).toBe(false);
    const committed = await writer.commit('slow.bin');
    expect(pooled).toEqual([BATCH, BATCH, BATCH]);
    expect(committed.sha256).toBe(sha(data));
    expect(sha(await fs.readFile(committed.path))).toBe(sha(data));
  });

  it.each([
    ['from the event loop', true],
    ['through the thread pool, which hashes while the write runs', false],
  ])(
    'a failed write %s fails the stream and leaves the hash describing the bytes on disk',
    async (_how, writeFromEventLoop) => {
      const storage = createLocalStorage({ dir: dir(), writeFromEventLoop });
      const a = randomBytes(200_000);
      const b = randomBytes(300_000);
      const c = randomBytes(100_000);
      const writer = await storage.openWriter('failing');
      await pipeline(Readable.from([a]), writer.createStream());
      failNextWrite(
        writer,
        writeFromEventLoop,
        Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }),
      );
      const failed = await pipeline(Readable.from([b]), writer.createStream()).catch((err: unknown) => err);
      expect(failed).toBeInstanceOf(ApplicationFailure);
      expect((failed as ApplicationFailure).type).toBe(FailureType.StorageInsufficientSpace);
      await writer.settle();
      expect(writer.bytesWritten).toBe(a.length);
      await pipeline(Readable.from([c]), writer.createStream());
      const committed = await writer.commit('failing.bin');
      const expected = Buffer.concat([a, c]);
      expect(committed.bytes).toBe(expected.length);
      expect(committed.sha256).toBe(sha(expected));
      expect(sha(await fs.readFile(committed.path))).toBe(sha(expected));
    },
  );
});
