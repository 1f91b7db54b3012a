// Row counting while streaming: both storages count '\n' bytes as they write, so a manifest's `rows` costs
// no second pass over the file.
//
// The count runs on every byte of every export, on the thread that also hashes and parses HTTP. Buffer's
// indexOf costs one native call per row, which at short rows is a large share of a download's CPU; a
// WebAssembly loop comparing 16 bytes at a time costs a small fraction of that, copy into its memory
// included (docs/benchmarks.md, Download). Where WebAssembly SIMD is unavailable (a CPU without it, or
// node --jitless), the indexOf loop counts instead.
const NEWLINE = 0x0a;

/** The number of '\n' bytes in `buf`, one native search per byte found. */
export function countNewlinesByIndexOf(buf: Uint8Array): number {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let n = 0;
  let i = b.indexOf(NEWLINE);
  while (i !== -1) {
    n++;
    i = b.indexOf(NEWLINE, i + 1);
  }
  return n;
}

// The runtime's WebAssembly, in the few terms used here (the project's TypeScript libs do not declare it).
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: { memory: { buffer: ArrayBuffer }; count: unknown } };
};

/** WebAssembly memory pages (64 KiB each) the counter copies its input into, one slice at a time. */
const SCRATCH_PAGES = 16;

/**
 * A module exporting `memory` (SCRATCH_PAGES pages) and `count(len: i32) -> i32`: the number of 0x0a bytes
 * in memory[0, len). Hand-assembled; each line is one instruction or header, in the text format's terms.
 * Locals: 0 = len, 1 = i, 2 = n, 3 = end of the whole 16-byte blocks.
 */
const COUNTER_WASM = new Uint8Array([
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // magic, version 1
  ...[0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f], // type section: (func (param i32) (result i32))
  ...[0x03, 0x02, 0x01, 0x00], // function section: one function of type 0
  ...[0x05, 0x03, 0x01, 0x00, SCRATCH_PAGES], // memory section: (memory SCRATCH_PAGES)
  ...[0x07, 0x12, 0x02], // export section, two exports:
  ...[0x06, ...Buffer.from('memory'), 0x02, 0x00], //   "memory" = memory 0
  ...[0x05, ...Buffer.from('count'), 0x00, 0x00], //   "count" = func 0
  ...[0x0a, 0x5c, 0x01, 0x5a], // code section, one body of 90 bytes:
  ...[0x01, 0x03, 0x7f], // (local i32 i32 i32)
  ...[0x20, 0x00, 0x41, 0x70, 0x71, 0x21, 0x03], // end16 = len & -16
  ...[0x02, 0x40, 0x03, 0x40], // block loop
  ...[0x20, 0x01, 0x20, 0x03, 0x4f, 0x0d, 0x01], //   br_if out (i >= end16)
  ...[0x20, 0x02, 0x20, 0x01], //   n, i
  ...[0xfd, 0x00, 0x04, 0x00], //   v128.load (align 16)
  ...[0x41, 0x0a, 0xfd, 0x0f], //   i8x16.splat 0x0a
  ...[0xfd, 0x23, 0xfd, 0x64, 0x69], //   i8x16.eq, i8x16.bitmask, i32.popcnt
  ...[0x6a, 0x21, 0x02], //   n = n + that
  ...[0x20, 0x01, 0x41, 0x10, 0x6a, 0x21, 0x01], //   i = i + 16
  ...[0x0c, 0x00, 0x0b, 0x0b], //   br loop; end end
  ...[0x02, 0x40, 0x03, 0x40], // block loop (the last bytes, one at a time)
  ...[0x20, 0x01, 0x20, 0x00, 0x4f, 0x0d, 0x01], //   br_if out (i >= len)
  ...[0x20, 0x02, 0x20, 0x01, 0x2d, 0x00, 0x00], //   n, i32.load8_u i
  ...[0x41, 0x0a, 0x46, 0x6a, 0x21, 0x02], //   n = n + (byte == 0x0a)
  ...[0x20, 0x01, 0x41, 0x01, 0x6a, 0x21, 0x01], //   i = i + 1
  ...[0x0c, 0x00, 0x0b, 0x0b], //   br loop; end end
  ...[0x20, 0x02, 0x0b], // n; end
]);

/** The WebAssembly counter, or undefined where this runtime cannot compile it. */
export function createSimdNewlineCounter(): ((buf: Uint8Array) => number) | undefined {
  let instance;
  try {
    instance = new WebAssembly.Instance(new WebAssembly.Module(COUNTER_WASM));
  } catch {
    return undefined;
  }
  const memory = new Uint8Array(instance.exports.memory.buffer);
  const count = instance.exports.count as (len: number) => number;
  return (buf) => {
    let n = 0;
    for (let offset = 0; offset < buf.length; offset += memory.length) {
      const slice = buf.subarray(offset, offset + memory.length);
      memory.set(slice);
      n += count(slice.length);
    }
    return n;
  };
}

/** The number of '\n' bytes in `buf`. */
export const countNewlines: (buf: Uint8Array) => number =
  createSimdNewlineCounter() ?? countNewlinesByIndexOf;
