// SHA-256 (FIPS 180-4) whose running state can be saved and restored.
//
// Why not node:crypto: its Hash object cannot be serialised, and a multipart upload that resumes in another
// process (the worker was killed) must continue the whole-file digest from the end of the last uploaded
// part without the bytes before it: parts of an unfinished multipart upload cannot be read back from S3.
// The state after a whole number of 64-byte blocks is just eight 32-bit words plus the byte count, so a
// checkpoint taken at a part boundary (part sizes are multiples of 64) is 40 bytes.
//
// Written for throughput: the message schedule lives in one preallocated Int32Array, blocks are read
// straight from the caller's Buffer (no copy unless a block straddles two updates), and the 64 rounds use
// local variables only.

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);

const INITIAL = [
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/** A checkpoint: the chaining value after `bytes` bytes (a multiple of 64), as 64 hex characters. */
export interface Sha256Checkpoint {
  bytes: number;
  state: string;
}

export class ResumableSha256 {
  private readonly h = new Int32Array(8);
  private readonly w = new Int32Array(64);
  /** Bytes of an incomplete block carried over to the next update. */
  private readonly pending = Buffer.alloc(64);
  private pendingLength = 0;
  private total = 0;

  constructor(from?: Sha256Checkpoint) {
    if (!from) {
      this.h.set(INITIAL);
      return;
    }
    if (!Number.isSafeInteger(from.bytes) || from.bytes < 0 || from.bytes % 64 !== 0)
      throw new Error('SHA-256 checkpoint must cover a whole number of 64-byte blocks');
    if (!/^[0-9a-f]{64}$/.test(from.state)) throw new Error('SHA-256 checkpoint state must be 64 hex digits');
    const raw = Buffer.from(from.state, 'hex');
    for (let i = 0; i < 8; i++) this.h[i] = raw.readInt32BE(i * 4);
    this.total = from.bytes;
  }

  /** Bytes hashed so far. */
  get bytes(): number {
    return this.total;
  }

  update(data: Buffer): this {
    let offset = 0;
    const length = data.length;
    this.total += length;
    if (this.pendingLength > 0) {
      const take = Math.min(64 - this.pendingLength, length);
      data.copy(this.pending, this.pendingLength, 0, take);
      this.pendingLength += take;
      offset = take;
      if (this.pendingLength < 64) return this;
      this.compress(this.pending, 0);
      this.pendingLength = 0;
    }
    while (offset + 64 <= length) {
      this.compress(data, offset);
      offset += 64;
    }
    if (offset < length) {
      data.copy(this.pending, 0, offset, length);
      this.pendingLength = length - offset;
    }
    return this;
  }

  /** The state at a block boundary; throws if the bytes hashed so far end mid-block. */
  checkpoint(): Sha256Checkpoint {
    if (this.pendingLength !== 0) throw new Error('SHA-256 checkpoint requested mid-block');
    const raw = Buffer.alloc(32);
    for (let i = 0; i < 8; i++) raw.writeInt32BE(this.h[i], i * 4);
    return { bytes: this.total, state: raw.toString('hex') };
  }

  /** Finishes on a copy, so the running state stays usable. */
  digestHex(): string {
    const copy = new ResumableSha256();
    copy.h.set(this.h);
    copy.total = this.total;
    this.pending.copy(copy.pending, 0, 0, this.pendingLength);
    copy.pendingLength = this.pendingLength;
    return copy.finish();
  }

  private finish(): string {
    const bits = this.total * 8;
    const padLength = this.pendingLength < 56 ? 56 - this.pendingLength : 120 - this.pendingLength;
    const tail = Buffer.alloc(padLength + 8);
    tail[0] = 0x80;
    // The bit length as a 64-bit big-endian integer (exact for any file under 2^53 bytes).
    tail.writeUInt32BE(Math.floor(bits / 0x100000000), padLength);
    tail.writeUInt32BE(bits >>> 0, padLength + 4);
    const total = this.total;
    this.update(tail);
    this.total = total;
    const out = Buffer.alloc(32);
    for (let i = 0; i < 8; i++) out.writeInt32BE(this.h[i], i * 4);
    return out.toString('hex');
  }

  private compress(block: Uint8Array, at: number): void {
    const w = this.w;
    for (let i = 0; i < 16; i++) {
      const j = at + i * 4;
      w[i] = (block[j] << 24) | (block[j + 1] << 16) | (block[j + 2] << 8) | block[j + 3];
    }
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15];
      const y = w[i - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    const h = this.h;
    let a = h[0];
    let b = h[1];
    let c = h[2];
    let d = h[3];
    let e = h[4];
    let f = h[5];
    let g = h[6];
    let hh = h[7];
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = g ^ (e & (f ^ g));
      const t1 = (hh + S1 + ch + K[i] + w[i]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) | (c & (a | b));
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + S0 + maj) | 0;
    }
    h[0] = (h[0] + a) | 0;
    h[1] = (h[1] + b) | 0;
    h[2] = (h[2] + c) | 0;
    h[3] = (h[3] + d) | 0;
    h[4] = (h[4] + e) | 0;
    h[5] = (h[5] + f) | 0;
    h[6] = (h[6] + g) | 0;
    h[7] = (h[7] + hh) | 0;
  }
}
