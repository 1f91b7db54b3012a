import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { SEEDED_METER_CODES } from './seed';

/**
 * Big usage files for benchmarks (`usageFileSizeBytes`). Content is a pure function of
 * (seed, size, byte offset): fixed-width CSV rows, so any byte range can be produced without
 * generating what comes before it, nothing is held in memory, and ranges always agree with a full
 * download. Rows are stamped from precomputed templates (digits patched in place) because the
 * generator must outpace the download benchmark it feeds.
 */
export const GENERATED_HEADER = 'uid,meter,account,ts,quantity,padding\n';
export const GENERATED_ROW_WIDTH = 128;
const BASE_TS = Date.UTC(2025, 0, 1);
const ACCOUNTS = ['acct-001', 'acct-002', 'acct-003', 'acct-004', 'acct-005'];
const ZERO = 0x30;

interface Template {
  bytes: Buffer; // a full-width row with placeholder digits
  prefixLen: number; // bytes before the padding column
  uidPos: number;
  tsPos: number;
  qtyPos: number;
}

// One template per (meter, account) combination; row i uses templates[i % templates.length].
const TEMPLATES: Template[] = [];
for (let k = 0; k < SEEDED_METER_CODES.length * ACCOUNTS.length; k++) {
  const meter = SEEDED_METER_CODES[k % SEEDED_METER_CODES.length];
  const account = ACCOUNTS[k % ACCOUNTS.length];
  const prefix = `g000000000000000,${meter},${account},2025-01-01T00:00:00Z,00000.00,`;
  const bytes = Buffer.alloc(GENERATED_ROW_WIDTH, 'x');
  bytes.write(prefix, 0, 'latin1');
  bytes[GENERATED_ROW_WIDTH - 1] = 0x0a;
  const tsPos = prefix.indexOf('2025-');
  TEMPLATES.push({ bytes, prefixLen: prefix.length, uidPos: 1, tsPos, qtyPos: tsPos + 21 });
}

interface Layout {
  headerLen: number;
  rows: number;
  lastRowWidth: number;
}

function layout(size: number): Layout {
  const headerLen = Math.min(size, GENERATED_HEADER.length);
  const body = size - headerLen;
  if (body <= 0) return { headerLen, rows: 0, lastRowWidth: 0 };
  const full = Math.floor(body / GENERATED_ROW_WIDTH);
  const rem = body - full * GENERATED_ROW_WIDTH;
  if (full === 0) return { headerLen, rows: 1, lastRowWidth: rem };
  // The remainder goes into the last row's padding column, so the file is exactly `size` bytes.
  return { headerLen, rows: full, lastRowWidth: GENERATED_ROW_WIDTH + rem };
}

function writeDigits(buf: Buffer, pos: number, value: number, width: number): void {
  for (let p = pos + width - 1; p >= pos; p--) {
    const next = (value / 10) | 0;
    buf[p] = ZERO + (value - next * 10);
    value = next;
  }
}

let cachedDay = -1;
let cachedDayBytes = Buffer.alloc(10);

/** Writes the full-width row i at buf[off..off+128). */
function stampRow(buf: Buffer, off: number, seed: number, i: number): void {
  const t = TEMPLATES[i % TEMPLATES.length];
  t.bytes.copy(buf, off);
  // The template already holds zeros: only the low digits need writing for realistic row counts.
  if (i < 100_000_000) writeDigits(buf, off + t.uidPos + 7, i, 8);
  else buf.write(String(i).padStart(15, '0'), off + t.uidPos, 'latin1');
  const day = Math.floor(i / 86_400);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedDayBytes = Buffer.from(new Date(BASE_TS + day * 86_400_000).toISOString().slice(0, 10), 'latin1');
  }
  cachedDayBytes.copy(buf, off + t.tsPos);
  const sec = i % 86_400;
  writeDigits(buf, off + t.tsPos + 11, Math.floor(sec / 3600), 2);
  writeDigits(buf, off + t.tsPos + 14, Math.floor(sec / 60) % 60, 2);
  writeDigits(buf, off + t.tsPos + 17, sec % 60, 2);
  // A cheap integer hash of (seed, i) for the quantity: 00000.00 .. 99999.99.
  let h = Math.imul(i ^ seed, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = (h ^ (h >>> 13)) >>> 0;
  const q = h % 10_000_000;
  writeDigits(buf, off + t.qtyPos, Math.floor(q / 100), 5);
  writeDigits(buf, off + t.qtyPos + 6, q % 100, 2);
}

/** Row i at an arbitrary width (only the last row differs): padding grows or the row is cut. */
function oddRow(seed: number, i: number, width: number): Buffer {
  const normal = Buffer.alloc(GENERATED_ROW_WIDTH);
  stampRow(normal, 0, seed, i);
  if (width <= GENERATED_ROW_WIDTH) return normal.subarray(0, width);
  const out = Buffer.alloc(width, 'x');
  normal.copy(out, 0, 0, GENERATED_ROW_WIDTH - 1);
  out[width - 1] = 0x0a;
  return out;
}

const ROWS_PER_CHUNK = 2048; // 256 KiB chunks

/** Yields Buffers covering bytes [start, endInclusive] of the generated file. */
export function* generateRange(
  seed: number,
  size: number,
  start: number,
  endInclusive: number,
): Generator<Buffer> {
  const l = layout(size);
  let pos = start;
  const end = Math.min(endInclusive, size - 1);
  if (pos <= end && pos < l.headerLen) {
    const stop = Math.min(end + 1, l.headerLen);
    yield Buffer.from(GENERATED_HEADER.slice(pos, stop), 'latin1');
    pos = stop;
  }
  while (pos <= end) {
    const first = Math.min(Math.floor((pos - l.headerLen) / GENERATED_ROW_WIDTH), l.rows - 1);
    const chunkStart = l.headerLen + first * GENERATED_ROW_WIDTH;
    let chunk: Buffer;
    if (first === l.rows - 1) {
      chunk = oddRow(seed, first, l.lastRowWidth);
    } else {
      // Full-width rows only; the odd last row gets its own chunk.
      const lastFull = l.rows - 2;
      const count = Math.min(
        ROWS_PER_CHUNK,
        lastFull - first + 1,
        Math.floor((end - chunkStart) / GENERATED_ROW_WIDTH) + 1,
      );
      chunk = Buffer.allocUnsafe(count * GENERATED_ROW_WIDTH);
      for (let r = 0; r < count; r++) stampRow(chunk, r * GENERATED_ROW_WIDTH, seed, first + r);
    }
    const from = pos - chunkStart;
    const to = Math.min(chunk.length, end + 1 - chunkStart);
    yield chunk.subarray(from, to);
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
        if (++n % 4 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      }
      return hash.digest('hex');
    })();
    shaCache.set(key, p);
  }
  return p;
}
