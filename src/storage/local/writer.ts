// One local file's writer: a partial file of its own, SHA-256 and newline count while writing, commit
// without ever replacing a file.
//
// Hashing: from the event loop, a batch is hashed and its newlines counted once it is written. Through the
// thread pool, both are computed while the thread writes the same buffer (the two overlap instead of taking
// turns); if that write fails, the hash already holds bytes that are not on disk, so it is marked stale and
// rebuilt from the file before anything else happens. Either way, after `settle()` the counters always
// describe exactly the bytes on disk. A resumed writer re-reads and re-hashes the partial file
// (streaming, constant memory) instead of trusting persisted hash state, so a partial file is never trusted
// beyond what is in it.
//
// Writing: on a local filesystem each batch is written from the event loop. Copying a batch into the page
// cache takes less than handing it to the thread pool, and with the write on another thread the kernel's
// share of the same copy rose and swung from download to download (docs/benchmarks.md, Download). A
// writer whose consecutive writes hold the event loop longer than LOOP_WRITE_LIMIT_MS together (the kernel
// throttling writers while it flushes to a slow disk) writes through the thread pool from then on, as do
// writers on network and FUSE filesystems from the start (./filesystems.ts).
//
// Flushing: every FLUSH_EVERY_BYTES the writer starts an fdatasync in the background (one at a time), so
// disk writeback overlaps the download and the commit's fsync finds little left to flush (docs/benchmarks.md,
// Download).
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, writeSync } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Writable } from 'node:stream';
import { failure, FailureType } from '../../contract/failures';
import { countNewlines } from '../newlines';
import { sanitizeFileName } from '../names';
import type { CommittedFile, StorageWriter } from '../types';
import { fsyncDir, writeFailure } from './files';
import { placeFile } from './place';
import { ensureRoom, freeBytes } from './space';

/** How much a rehash reads at once. */
const READ_CHUNK_BYTES = 4 * 1024 * 1024;
// What the stream buffers while both batch buffers are busy: little, because a socket chunk that waits
// outlives V8's young-generation collections (see createStream); the bytes wait in the kernel instead.
const WRITE_HIGH_WATER_MARK = 256 * 1024;
// The batch size `createStream` gathers before each write, hash update and row count. Through the thread
// pool, smaller batches cost more thread wake-ups.
const WRITE_BATCH_BYTES = 256 * 1024;
// From the event loop a batch is written in pieces of this size. The kernel caches a write in folios as large
// as the write, and on a VM whose host takes back the guest's free memory in large blocks, large folios are
// the ones the host must fault in again, at several times the cost per byte; where that starts moves with the
// guest's free memory (docs/benchmarks.md, Download). curl writes pieces of this size and does not pay it.
export const LOOP_WRITE_PIECE_BYTES = 16 * 1024;
const FLUSH_EVERY_BYTES = 64 * 1024 * 1024;
/**
 * The longest LOOP_WRITE_WINDOW consecutive writes from the event loop may take together before the writer
 * moves to the thread pool: far above a page-cache copy of that many batches, so that one write slowed by
 * the scheduler does not move it, and reached within a few writes the kernel throttles.
 */
export const LOOP_WRITE_LIMIT_MS = 50;
const LOOP_WRITE_WINDOW = 3;

export class LocalWriter implements StorageWriter {
  private hash: Hash = createHash('sha256');
  private newlines = 0;
  private bytes = 0;
  private pending: Promise<void> = Promise.resolve();
  private closed = false;
  /** True while the hash may include bytes a failed write did not put on disk. */
  private hashStale = false;
  private flushedUpTo = 0;
  private flushing: Promise<void> | undefined;
  private flushError: unknown;
  /** How long the last LOOP_WRITE_WINDOW writes from the event loop took (ms). */
  private readonly loopWriteMs: number[] = [];

  constructor(
    private readonly dir: string,
    readonly name: string,
    private readonly tempPath: string,
    private handle: FileHandle,
    /** Free bytes a write must leave in the directory (EXPORT_DIR_MIN_FREE_BYTES). */
    private readonly keepFree: number,
    /** Write from the event loop until consecutive writes take longer than LOOP_WRITE_LIMIT_MS. */
    private writeFromEventLoop: boolean,
  ) {}

  /** Whether the next batch is written from the event loop (else through the thread pool). */
  get writesFromEventLoop(): boolean {
    return this.writeFromEventLoop;
  }

  get bytesWritten(): number {
    return this.bytes;
  }

  /** Re-hashes what an earlier attempt left in the temporary file. */
  async loadExisting(): Promise<void> {
    await this.rehash(Number.POSITIVE_INFINITY);
  }

  /** Rebuilds bytes, hash and newline count from the first `limit` bytes of the temporary file. */
  private async rehash(limit: number): Promise<void> {
    this.hash = createHash('sha256');
    this.newlines = 0;
    this.bytes = 0;
    if (limit > 0) {
      const stream = createReadStream(this.tempPath, {
        highWaterMark: READ_CHUNK_BYTES,
        ...(Number.isFinite(limit) ? { end: limit - 1 } : {}),
      });
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        this.hash.update(chunk);
        this.newlines += countNewlines(chunk);
        this.bytes += chunk.length;
      }
    }
    this.hashStale = false;
  }

  private repairIfStale(): Promise<void> {
    return this.hashStale ? this.rehash(this.bytes) : Promise.resolve();
  }

  /** Starts a background fdatasync when enough has been written since the last one. */
  private flushInBackground(): void {
    if (this.flushing || this.bytes - this.flushedUpTo < FLUSH_EVERY_BYTES) return;
    this.flushedUpTo = this.bytes;
    this.flushing = this.handle
      .datasync()
      .catch((err: unknown) => {
        this.flushError ??= err;
      })
      .finally(() => {
        this.flushing = undefined;
      });
  }

  private async flushed(): Promise<void> {
    await this.flushing;
    if (this.flushError) throw writeFailure(this.flushError, 'flushing the partial file');
  }

  async ensureRoom(bytes: number): Promise<void> {
    await ensureRoom(this.dir, bytes, this.keepFree);
  }

  /**
   * Appends `batch` at `bytes`. `stream` is the state the batches of one stream share: once one of them
   * failed, the later ones fail too instead of writing, as their bytes would land where the failed batch's
   * belonged and leave a hole in the file.
   */
  private append(batch: Buffer, stream: { failure?: unknown } = {}): Promise<void> {
    // Serialised through `pending` so a destroyed stream's last write is accounted before the next stream
    // (after a resume) appends at `bytes`.
    const run = this.pending.then(async () => {
      if (stream.failure !== undefined) throw stream.failure;
      try {
        await this.appendNow(batch);
      } catch (err) {
        stream.failure = err;
        throw err;
      }
    });
    this.pending = run.catch(() => undefined);
    return run;
  }

  private async appendNow(batch: Buffer): Promise<void> {
    if (this.closed) throw new Error('storage writer is closed');
    await this.repairIfStale();
    if (this.writeFromEventLoop) return this.appendFromEventLoop(batch);
    const writing = this.handle.write(batch, 0, batch.length, this.bytes);
    // Hash while the thread pool writes; if the write then fails the hash is rebuilt (see the header).
    this.hashStale = true;
    this.hash.update(batch);
    this.newlines += countNewlines(batch);
    const { bytesWritten } = await writing.catch((err: unknown) => {
      throw writeFailure(err, `writing at byte ${this.bytes}`);
    });
    if (bytesWritten !== batch.length) throw await this.shortWrite(bytesWritten, batch.length);
    this.hashStale = false;
    this.bytes += batch.length;
    this.flushInBackground();
  }

  /** Writes `batch` before hashing it: a failed write leaves the hash as it was. */
  private async appendFromEventLoop(batch: Buffer): Promise<void> {
    const started = performance.now();
    let written = 0;
    try {
      while (written < batch.length) {
        const length = Math.min(LOOP_WRITE_PIECE_BYTES, batch.length - written);
        const piece = writeSync(this.handle.fd, batch, written, length, this.bytes + written);
        if (piece === 0) break;
        written += piece;
      }
    } catch (err) {
      throw writeFailure(err, `writing at byte ${this.bytes}`);
    } finally {
      this.timeLoopWrite(performance.now() - started);
    }
    if (written !== batch.length) throw await this.shortWrite(written, batch.length);
    this.hash.update(batch);
    this.newlines += countNewlines(batch);
    this.bytes += batch.length;
    this.flushInBackground();
  }

  private timeLoopWrite(ms: number): void {
    this.loopWriteMs.push(ms);
    if (this.loopWriteMs.length > LOOP_WRITE_WINDOW) this.loopWriteMs.shift();
    const held = this.loopWriteMs.reduce((sum, each) => sum + each, 0);
    if (held > LOOP_WRITE_LIMIT_MS) this.writeFromEventLoop = false;
  }

  /** A regular file takes fewer bytes than asked when the filesystem is full: then it is a full disk. */
  private async shortWrite(written: number, total: number): Promise<Error> {
    const free = await freeBytes(this.dir).catch(() => undefined);
    const err = new Error(`short write: ${written} of ${total} bytes`);
    if (free !== undefined && free < total - written)
      return writeFailure(Object.assign(err, { code: 'ENOSPC' }), `writing at byte ${this.bytes}`);
    return err;
  }

  createStream(): Writable {
    // Socket chunks (<= 64 KiB) are copied into batches of WRITE_BATCH_BYTES, each batch one hash update,
    // one row count and one write through the thread pool (or LOOP_WRITE_PIECE_BYTES pieces from the event
    // loop): handing a write to the thread pool costs a thread wake-up on both sides, and at one write per
    // chunk that cost more than the copy into the page cache. Copied, not kept: a chunk held until its batch
    // is written outlives V8's young-generation collections, and the memory of such Buffers comes back only
    // with full mark-compacts, which then cost more CPU than the download itself. Two batch buffers take
    // turns, so chunks keep being copied while the other batch is written.
    // A stream destroyed mid-download (the connection dropped) still writes the batch it had accepted: those
    // bytes are good, and keeping them lets the resume start after them. `settle()` waits for that write.
    const batches = [Buffer.allocUnsafeSlow(WRITE_BATCH_BYTES), Buffer.allocUnsafeSlow(WRITE_BATCH_BYTES)];
    /** Each batch buffer's last write: the buffer is refilled only once it has settled. */
    const written: Array<Promise<void>> = [Promise.resolve(), Promise.resolve()];
    let filling = 0;
    let used = 0;
    /** What this stream's batches share: the first failure among them. */
    const shared: { failure?: unknown } = {};
    const writeBatch = (): Promise<void> => {
      const write = this.append(batches[filling].subarray(0, used), shared);
      write.catch(() => undefined); // awaited when the buffer is next filled, or at the end
      written[filling] = write;
      filling = 1 - filling;
      used = 0;
      return write;
    };
    const take = async (chunks: Buffer[]): Promise<void> => {
      for (const c of chunks) {
        for (let offset = 0; offset < c.length;) {
          if (used === 0) await written[filling];
          const copied = c.copy(batches[filling], used, offset);
          used += copied;
          offset += copied;
          if (used === WRITE_BATCH_BYTES) void writeBatch();
        }
      }
    };
    return new Writable({
      highWaterMark: WRITE_HIGH_WATER_MARK,
      write: (chunk: Buffer, _enc, cb) => take([chunk]).then(() => cb(), cb),
      writev: (chunks, cb) => take(chunks.map((c) => c.chunk as Buffer)).then(() => cb(), cb),
      final: (cb) => {
        if (used > 0) void writeBatch();
        Promise.all(written).then(() => cb(), cb);
      },
      destroy: (err, cb) => {
        // append() joins the writer's queue at once, so a settle() after the pipeline rejects includes it.
        if (used > 0) void writeBatch();
        cb(err);
      },
    });
  }

  settle(): Promise<void> {
    const run = this.pending.then(() => this.repairIfStale());
    this.pending = run.catch(() => undefined);
    return this.pending;
  }

  async truncate(): Promise<void> {
    await this.settle();
    await this.flushing;
    await this.handle.truncate(0);
    this.hash = createHash('sha256');
    this.newlines = 0;
    this.bytes = 0;
    this.hashStale = false;
    this.flushedUpTo = 0;
  }

  async commit(finalName?: string): Promise<CommittedFile> {
    await this.settle();
    if (this.hashStale)
      throw new Error('cannot commit: the partial file could not be re-read after a failed write');
    await this.flushed();
    const file = sanitizeFileName(finalName ?? this.name);
    await this.handle.sync().catch((err: unknown) => {
      throw writeFailure(err, 'syncing the partial file');
    });
    await this.checkStillMine();
    await this.handle.close();
    this.closed = true;
    const sha256 = this.hash.digest('hex');
    const { target, present } = await placeFile(this.dir, this.tempPath, file, sha256);
    await fsyncDir(this.dir);
    const finalPath = path.join(this.dir, target);
    return {
      file: target,
      path: finalPath,
      location: pathToFileURL(finalPath).href,
      bytes: this.bytes,
      sha256,
      newlines: this.newlines,
      ...(present ? { skipped: 'already-present' as const } : {}),
    };
  }

  /**
   * The partial file is still this writer's and holds exactly the bytes it hashed: the name still points
   * at the file it wrote (a later attempt has not taken over) and the size matches.
   */
  private async checkStillMine(): Promise<void> {
    const [open, named] = await Promise.all([
      this.handle.stat(),
      fs.stat(this.tempPath).catch(() => undefined),
    ]);
    if (named?.ino === open.ino && open.size === this.bytes) return;
    throw failure(
      FailureType.StorageFailed,
      named
        ? `the partial file holds ${open.size} bytes, not the ${this.bytes} this writer wrote`
        : 'the partial file was taken over by a later attempt of this download',
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.settle();
    await this.flushing;
    this.closed = true;
    await this.handle.close();
  }

  async discard(): Promise<void> {
    await this.close();
    await fs.rm(this.tempPath, { force: true });
  }
}
