import { createHash } from 'node:crypto';
import { generatedSha256, generateRange, GENERATED_HEADER } from '../../../../tooling/sandbox/generated';

const all = (seed: number, size: number, start = 0, end = size - 1) =>
  Buffer.concat([...generateRange(seed, size, start, end)]);

describe('sandbox generated usage files', () => {
  it.each([0, 5, GENERATED_HEADER.length, GENERATED_HEADER.length + 3, 1000, 128 * 3 + 38, 1_048_576 + 7])(
    'is exactly %d bytes',
    (size) => {
      expect(all(1, size).length).toBe(size);
    },
  );

  it('is deterministic per seed and differs between seeds', () => {
    expect(all(1, 50_000).equals(all(1, 50_000))).toBe(true);
    expect(all(1, 50_000).equals(all(2, 50_000))).toBe(false);
  });

  it('produces any range consistent with the full content', () => {
    const size = 700_001;
    const full = all(9, size);
    for (const [a, b] of [
      [0, 0],
      [0, 37],
      [38, 38 + 127],
      [12_345, 400_000],
      [size - 200, size - 1],
      [size - 1, size - 1],
    ]) {
      expect(all(9, size, a, b).equals(full.subarray(a, b + 1))).toBe(true);
    }
  });

  it('is well-formed CSV: header, then rows with the same number of columns, ending in a newline', () => {
    const lines = all(1, 10_000).toString('latin1').split('\n');
    expect(lines[0] + '\n').toBe(GENERATED_HEADER);
    expect(lines[lines.length - 1]).toBe('');
    for (const l of lines.slice(1, -1)) expect(l.split(',')).toHaveLength(6);
  });

  it('hashes without holding the file, matching a direct hash', async () => {
    const size = 2_000_003;
    expect(await generatedSha256(4, size)).toBe(createHash('sha256').update(all(4, size)).digest('hex'));
  });
});
