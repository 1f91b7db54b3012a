// The resumable SHA-256 against node:crypto, and the S3 key layout (pure functions, no server).
import { createHash, randomBytes } from 'node:crypto';
import { partitionPrefix } from '../../../src/storage/s3';
import { canContinue, digestOf, ThreadedSha256 } from '../../../src/storage/s3/hash';

const native = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('ThreadedSha256', () => {
  it('hashes on its thread in posting order, with checkpoints a new thread can continue from', async () => {
    const data = randomBytes(2 * 1024 * 1024 + 3);
    const first = new ThreadedSha256();
    try {
      const at = first.update(data.subarray(0, 1024 * 1024), true);
      const rest = first.update(data.subarray(1024 * 1024), false);
      const [checkpoint] = await Promise.all([at, rest]);
      expect(await first.digestHex()).toBe(native(data));
      const second = new ThreadedSha256(checkpoint);
      try {
        await second.update(data.subarray(1024 * 1024), false);
        expect(await second.digestHex()).toBe(native(data));
      } finally {
        await second.close();
      }
    } finally {
      await first.close();
    }
  });

  it('matches node:crypto for every padding case, and a saved state finishes in another thread', async () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 70_001]) {
      const data = randomBytes(n);
      const hash = new ThreadedSha256();
      try {
        const half = Math.floor(n / 2);
        const saved = await hash.update(data.subarray(0, half), true);
        await hash.update(data.subarray(half), false);
        expect(await hash.digestHex()).toBe(native(data));
        expect(saved?.bytes).toBe(half);
        // The main thread finishes a state saved on the hashing thread (nothing more hashed).
        expect(await digestOf(saved)).toBe(native(data.subarray(0, half)));
      } finally {
        await hash.close();
      }
    }
    expect(await digestOf(undefined)).toBe(native(Buffer.alloc(0)));
  });

  it('refuses states it cannot continue from', async () => {
    const hash = new ThreadedSha256();
    try {
      const saved = (await hash.update(Buffer.alloc(64), true))!;
      expect(await canContinue(saved)).toBe(true);
      // A checkpoint of the earlier, hand-written hash: 32 bytes of chaining value, not hash-wasm's state.
      expect(await canContinue({ bytes: 64, state: Buffer.alloc(32).toString('base64') })).toBe(false);
      const tampered = Buffer.from(saved.state, 'base64');
      tampered[0] ^= 0xff;
      expect(await canContinue({ bytes: 64, state: tampered.toString('base64') })).toBe(false);
    } finally {
      await hash.close();
    }
  });

  it('reads a part in shared memory where it is, without a copy', async () => {
    const data = randomBytes(1024 * 1024 + 64);
    const shared = Buffer.from(new SharedArrayBuffer(data.length));
    data.copy(shared);
    const hash = new ThreadedSha256();
    try {
      const checkpoint = await hash.update(shared.subarray(0, 1024 * 1024), true);
      expect(checkpoint?.bytes).toBe(1024 * 1024);
      await hash.update(shared.subarray(1024 * 1024), false);
      expect(await hash.digestHex()).toBe(native(data));
      // Still usable by the caller afterwards: nothing was transferred away.
      expect(shared.equals(data)).toBe(true);
    } finally {
      await hash.close();
    }
  });
});

describe('partitionPrefix', () => {
  it('partitions by export name and the window start (UTC date)', () => {
    expect(
      partitionPrefix('exports/', {
        exportName: 'daily-usage',
        window: { start: '2025-05-20T00:00:00Z', end: '2025-05-21T00:00:00Z' },
      }),
    ).toBe('exports/export=daily-usage/date=2025-05-20');
  });

  it('adds hour=HH for windows of at most one hour', () => {
    expect(
      partitionPrefix('p', { window: { start: '2025-05-20T07:00:00Z', end: '2025-05-20T08:00:00Z' } }),
    ).toBe('p/export=adhoc/date=2025-05-20/hour=07');
  });

  it("uses 'adhoc' without a name, the fallback date without a window, and no leading slash without a prefix", () => {
    expect(partitionPrefix('', { fallbackDate: '2025-01-02T03:04:05Z' })).toBe(
      'export=adhoc/date=2025-01-02',
    );
  });

  it('keeps partition values free of separators', () => {
    expect(partitionPrefix('', { exportName: 'a/b=c', fallbackDate: '2025-01-02T00:00:00Z' })).toBe(
      'export=a_b_c/date=2025-01-02',
    );
  });
});
