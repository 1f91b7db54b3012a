import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { SEEDED_METER_CODES } from './seed';
import { mixSeed } from './rng';

/**
 * Big usage files for benchmarks (`usageFileSizeBytes`). Content is a pure function of
 * (seed, size, byte offset): fixed-width CSV rows, so any byte range can be produced without
 * generating what comes before it, nothing is held in memory, and ranges always agree with a full
 * download.
 */
export const GENERATED_HEADER = 'uid,meter,account,ts,quantity,padding\n';
export const GENERATED_ROW_WIDTH = 128;
const BASE_TS = Date.UTC(2025, 0, 1);

interface Layout {
  size: number;
  headerLen: number;
  rows: number;
  lastRowWidth: number;
}

function layout(size: number): Layout {
  const headerLen = Math.min(size, GENERATED_HEADER.length);
  const body = size - headerLen;
  if (body <= 0) return { size, headerLen, rows: 0, lastRowWidth: 0 };
  const full = Math.floor(body / GENERATED_ROW_WIDTH);
  const rem = body - full * GENERATED_ROW_WIDTH;
  if (full === 0) return { size, headerLen, rows: 1, lastRowWidth: rem };
  // The remainder goes into the last row's padding column, so the file is exactly `size` bytes.
  return { size, headerLen, rows: full, lastRowWidth: GENERATED_ROW_WIDTH + rem };
}

function row(seed: number, i: number, width: number): string {
  const uid = `g${String(i).padStart(15, '0')}`;
  const meter = SEEDED_METER_CODES[i % SEEDED_METER_CODES.length];
  const account = `acct-${String((i % 5) + 1).padStart(3, '0')}`;
  const ts = new Date(BASE_TS + i * 1000).toISOString();
  const qty = (mixSeed(seed, i) % 100_000) / 100;
  const prefix = `${uid},${meter},${account},${ts},${qty},`;
  const padLen = width - prefix.length - 1;
  if (padLen < 0) return (prefix + '\n').slice(0, width);
  return prefix + 'x'.repeat(padLen) + '\n';
}

/** Yields Buffers covering bytes [start, endInclusive] of the generated file. */
export function* generateRange(seed: number, size: number, start: number, endInclusive: number): Generator<Buffer> {
  const l = layout(size);
  let pos = start;
  const end = Math.min(endInclusive, size - 1);
  if (pos <= end && pos < l.headerLen) {
    const stop = Math.min(end + 1, l.headerLen);
    yield Buffer.from(GENERATED_HEADER.slice(pos, stop), 'latin1');
    pos = stop;
  }
  const TARGET = 256 * 1024;
  while (pos <= end) {
    const rel = pos - l.headerLen;
    let r = Math.min(Math.floor(rel / GENERATED_ROW_WIDTH), l.rows - 1);
    let rowStart = l.headerLen + r * GENERATED_ROW_WIDTH;
    const parts: string[] = [];
    const chunkStart = rowStart;
    let len = 0;
    while (len < TARGET && rowStart <= end) {
      const width = r === l.rows - 1 ? l.lastRowWidth : GENERATED_ROW_WIDTH;
      parts.push(row(seed, r, width));
      len += width;
      rowStart += width;
      r += 1;
      if (r >= l.rows) break;
    }
    const buf = Buffer.from(parts.join(''), 'latin1');
    const from = pos - chunkStart;
    const to = Math.min(buf.length, end + 1 - chunkStart);
    yield buf.subarray(from, to);
    pos = chunkStart + to;
  }
}

export function generatedStream(seed: number, size: number, start: number, endInclusive: number): Readable {
  return Readable.from(generateRange(seed, size, start, endInclusive), { objectMode: false });
}

const shaCache = new Map<string, Promise<string>>();

/**
 * SHA-256 of a generated file, computed by streaming the generator (never the whole file in
 * memory) and yielding to the event loop between chunks so the server stays responsive.
 * Cached per (seed, size): a thousand benchmark jobs of one size hash once.
 */
export function generatedSha256(seed: number, size: number): Promise<string> {
  const key = `${seed}:${size}`;
  let p = shaCache.get(key);
  if (!p) {
    p = (async () => {
      const hash = createHash('sha256');
      let n = 0;
      for (const chunk of generateRange(seed, size, 0, size - 1)) {
        hash.update(chunk);
        if (++n % 8 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      }
      return hash.digest('hex');
    })();
    shaCache.set(key, p);
  }
  return p;
}
