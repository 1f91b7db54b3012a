// The upload's hashing thread against node:crypto.
import { createHash, randomBytes } from 'node:crypto';
import { ThreadedSha256 } from '../../../src/storage/s3/hash';

const hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const base64 = (b: Buffer) => createHash('sha256').update(b).digest('base64');

describe('ThreadedSha256', () => {
  it("gives each part's SHA-256 and the whole file's, in posting order, as node:crypto does", async () => {
    for (const sizes of [[0], [1, 55, 56], [63, 64, 65], [119, 120, 128, 1000, 70_001]]) {
      const parts = sizes.map((n) => randomBytes(n));
      const hash = new ThreadedSha256();
      try {
        // Posted all at once: the replies must still come back for the right parts.
        const digests = await Promise.all(parts.map((p) => hash.part(p)));
        expect(digests).toEqual(parts.map(base64));
        expect(await hash.digestHex()).toBe(hex(Buffer.concat(parts)));
      } finally {
        await hash.close();
      }
    }
  });

  it('keeps hashing after a digest: the whole file so far, then more parts', async () => {
    const [a, b] = [randomBytes(1000), randomBytes(3000)];
    const hash = new ThreadedSha256();
    try {
      await hash.part(a);
      expect(await hash.digestHex()).toBe(hex(a));
      await hash.part(b);
      expect(await hash.digestHex()).toBe(hex(Buffer.concat([a, b])));
    } finally {
      await hash.close();
    }
  });

  it('reads a part in shared memory where it is, and leaves a posted copy with the caller', async () => {
    const data = randomBytes(1024 * 1024 + 64);
    const shared = Buffer.from(new SharedArrayBuffer(data.length));
    data.copy(shared);
    const plain = Buffer.from(data);
    const hash = new ThreadedSha256();
    try {
      expect(await hash.part(shared.subarray(0, 1024 * 1024))).toBe(base64(data.subarray(0, 1024 * 1024)));
      expect(await hash.part(plain.subarray(1024 * 1024))).toBe(base64(data.subarray(1024 * 1024)));
      expect(await hash.digestHex()).toBe(hex(data));
      // Still usable by the caller afterwards: nothing was transferred away.
      expect(shared.equals(data)).toBe(true);
      expect(plain.equals(data)).toBe(true);
    } finally {
      await hash.close();
    }
  });

  it('fails what is asked after it was closed', async () => {
    const hash = new ThreadedSha256();
    await hash.close();
    await expect(hash.part(Buffer.alloc(1))).rejects.toThrow('SHA-256 thread closed');
  });
});
