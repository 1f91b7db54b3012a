// Row counting: the WebAssembly counter against a plain count of every byte.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import {
  countNewlines,
  countNewlinesByIndexOf,
  createSimdNewlineCounter,
} from '../../../src/storage/newlines';

/** The reference: one comparison per byte. */
function bytewise(buf: Uint8Array): number {
  let n = 0;
  for (const b of buf) if (b === 0x0a) n++;
  return n;
}

/** Random bytes with about one '\n' in `every`. */
function textLike(length: number, every: number): Buffer {
  const buf = randomBytes(length);
  for (let i = 0; i < length; i++) buf[i] = buf[i] % every === 0 ? 0x0a : 0x41 + (buf[i] % 26);
  return buf;
}

const simd = createSimdNewlineCounter();

describe('countNewlines', () => {
  it('is the WebAssembly counter on this runtime', () => {
    expect(simd).toBeDefined();
    expect(countNewlines).not.toBe(countNewlinesByIndexOf);
  });

  it('falls back to the indexOf count where WebAssembly cannot run (node --jitless)', () => {
    const root = path.resolve(__dirname, '../../..');
    const out = execFileSync(
      process.execPath,
      [
        '--jitless',
        '-r',
        '@swc-node/register',
        '-e',
        `const m = require('./src/storage/newlines.ts');
         console.log(JSON.stringify({
           simd: m.createSimdNewlineCounter() !== undefined,
           fallback: m.countNewlines === m.countNewlinesByIndexOf,
           rows: m.countNewlines(Buffer.from('a\\nb\\n\\n')),
         }));`,
      ],
      {
        cwd: root,
        env: { ...process.env, SWC_NODE_PROJECT: path.join(root, 'tsconfig.json') },
        // --jitless also turns WebAssembly off, and says so on stderr.
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    expect(JSON.parse(out.toString().trim().split('\n').pop()!)).toEqual({
      simd: false,
      fallback: true,
      rows: 3,
    });
  });

  it.each([
    ['empty', Buffer.alloc(0)],
    ['one newline', Buffer.from('\n')],
    ['no newline', Buffer.from('abc')],
    ['only newlines, not a multiple of 16', Buffer.alloc(37, 0x0a)],
    ['newlines at the first and last byte of 16-byte blocks', Buffer.from(`\n${'x'.repeat(14)}\n\n`)],
    ['bytes that differ from 0x0a in one bit', Buffer.from([0x0b, 0x08, 0x8a, 0x1a, 0x4a, 0x0e, 0x02])],
  ])('counts %s like a byte-by-byte count', (_name, buf) => {
    expect(simd!(buf)).toBe(bytewise(buf));
    expect(countNewlinesByIndexOf(buf)).toBe(bytewise(buf));
  });

  it('counts views that start and end anywhere in their buffer', () => {
    const buf = textLike(4096, 7);
    for (const [start, end] of [
      [1, 4096],
      [3, 19],
      [15, 17],
      [17, 4095],
      [100, 100],
    ]) {
      const view = buf.subarray(start, end);
      expect(simd!(view)).toBe(bytewise(view));
    }
    // A view over a plain Uint8Array, not a Buffer.
    const plain = new Uint8Array(buf.buffer, buf.byteOffset + 5, 1000);
    expect(simd!(plain)).toBe(bytewise(plain));
    expect(countNewlinesByIndexOf(plain)).toBe(bytewise(plain));
  });

  it('counts inputs larger than its memory, slice by slice', () => {
    const buf = textLike(2 * 2 ** 20 + 12_345, 50);
    expect(simd!(buf)).toBe(bytewise(buf));
    expect(countNewlines(buf)).toBe(countNewlinesByIndexOf(buf));
  });

  it('leaves nothing behind between calls: a later, shorter input is counted alone', () => {
    expect(simd!(Buffer.alloc(1000, 0x0a))).toBe(1000);
    expect(simd!(Buffer.from('ab\n'))).toBe(1);
  });
});
